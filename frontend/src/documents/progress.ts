/** What an upload's row says: where the file is, in words a user reads at a glance. */
import { plural } from '../lib/format';
import type { UploadResult } from '../lib/types';
import type { Upload } from './uploads.svelte';

/** "about 40 s left", "about 3 min left"; nothing for an unknown or spent estimate. */
export function timeLeft(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms <= 0) return '';
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 90) return `about ${seconds} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

/** An unfinished upload's state: waiting, uploading 45%, reading, embedding 120 / 480 chunks, about 40 s left. */
export function stateLabel(item: Upload): string {
  switch (item.phase) {
    case 'queued':
      return 'waiting';
    case 'sending':
      return `uploading ${Math.round(item.sent * 100)}%`;
    case 'reading':
      return 'reading';
    case 'embedding': {
      if (item.total <= 0) return 'embedding';
      const left = timeLeft(item.etaMs);
      return `embedding ${item.embedded} / ${item.total} chunks${left ? `, ${left}` : ''}`;
    }
    default:
      return '';
  }
}

/** 0..100 for the bar: the bytes while sending, the chunks while embedding; null when unknown. */
export function percent(item: Upload): number | null {
  if (item.phase === 'sending') return Math.round(item.sent * 100);
  if (item.phase === 'embedding' && item.total > 0) return Math.round((item.embedded / item.total) * 100);
  return null;
}

/** A finished upload's outcome. */
export function summary(result: UploadResult): string {
  if (!result.ok) return result.error.code === 'cancelled' ? 'Cancelled' : result.error.message;
  const pages = result.pages != null ? ` · ${plural(result.pages, 'page')}` : '';
  return `${result.duplicate ? 'Already in the collection' : 'Added'} · ${plural(result.chunks, 'chunk')}${pages}`;
}

/** `data-status` of a finished upload, for tests and styles. */
export function outcome(result: UploadResult): 'ok' | 'duplicate' | 'cancelled' | 'failed' {
  if (result.ok) return result.duplicate ? 'duplicate' : 'ok';
  return result.error.code === 'cancelled' ? 'cancelled' : 'failed';
}
