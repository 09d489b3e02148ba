/**
 * The upload queue of the whole page: one request per file, two at a time, each with its progress
 * (bytes sent, then the server's stages and embedded chunks) and result, and a Cancel.
 *
 * One queue for the page, not one per upload zone: a file dropped anywhere in the window joins
 * it, and it lives on while the documents panel is closed or shows another collection. Each item
 * keeps where it goes (workspace and collection), and each view shows only the items of the place
 * it shows (an upload into `manuals` is not "Added" in `default`).
 */
import { WORKSPACE_HEADER, workspaceHeaders } from '../lib/api';
import { uploadStreamed, type UploadEvent } from '../lib/api/documents';
import type { UploadResult } from '../lib/types';
import { announceDocumentsChanged } from './events';
import { parseTags } from './tags';

/** queued → sending (bytes) → reading (parse, chunk) → embedding (chunks) → done. */
export type UploadPhase = 'queued' | 'sending' | 'reading' | 'embedding' | 'done';

export interface Upload {
  key: number;
  name: string;
  size: number;
  /** The place it goes to: see `placeOf`. */
  place: string;
  collection: string;
  phase: UploadPhase;
  /** 0..1 of the bytes sent. */
  sent: number;
  /** Chunks embedded so far, of `total` (0 until the server says). */
  embedded: number;
  total: number;
  /** The server's estimate of the time left, in milliseconds. */
  etaMs: number | null;
  result: UploadResult | null;
}

interface Job {
  file: File;
  item: Upload;
  tags: string[];
  headers: Record<string, string>;
  abort: AbortController;
}

const PARALLEL = 2;

/** The place (workspace and collection) an upload goes to, as a key to compare. */
export function placeOf(collection: string): string {
  return `${workspaceHeaders()[WORKSPACE_HEADER] ?? ''}\n${collection}`;
}

export function cancelledResult(name: string): UploadResult {
  return { filename: name, ok: false, error: { code: 'cancelled', message: 'Cancelled.' } };
}

export function isCancelled(result: UploadResult | null): boolean {
  return result !== null && !result.ok && result.error.code === 'cancelled';
}

/** The item's state after a server event. */
export function advance(item: Upload, event: UploadEvent): void {
  if (event.type === 'stage') {
    if (event.stage === 'embed') item.phase = 'embedding';
    else if (event.stage !== 'done') item.phase = 'reading';
  } else if (event.type === 'progress') {
    item.phase = 'embedding';
    item.embedded = event.embedded;
    item.total = event.total;
    item.etaMs = event.eta_ms;
  }
}

export class Uploads {
  items = $state<Upload[]>([]);
  /** The tags of the next uploads, as typed (comma-separated). */
  tagsText = $state('');
  /** A note about the last files picked (some skipped, tags refused), for one place. */
  notice = $state<{ place: string; text: string; error: boolean } | null>(null);
  #queue: Job[] = [];
  #jobs = new Map<number, Job>();
  #running = 0;
  #nextKey = 1;

  readonly tags = $derived(parseTags(this.tagsText));

  /** The items going to `collection` of the current workspace, oldest first. */
  of(collection: string): Upload[] {
    const place = placeOf(collection);
    return this.items.filter((i) => i.place === place);
  }

  busyIn(collection: string): boolean {
    return this.of(collection).some((i) => i.phase !== 'done');
  }

  /**
   * Queue `files` for `collection` with the tags typed; false (and a notice) when the tags are
   * refused. `skipped` files (of types ragis cannot read) are only counted in the notice.
   */
  add(files: Iterable<File>, collection: string, skipped = 0): boolean {
    const place = placeOf(collection);
    const tags = this.tags;
    if (!tags.ok) {
      this.notice = { place, text: `Tags: ${tags.error}`, error: true };
      return false;
    }
    const headers = workspaceHeaders();
    let added = 0;
    for (const file of files) {
      const item: Upload = {
        key: this.#nextKey++, name: file.name, size: file.size, place, collection, phase: 'queued',
        sent: 0, embedded: 0, total: 0, etaMs: null, result: null,
      };
      this.items.push(item);
      // The proxy, not `item`: changes must reach the views.
      const job = { file, item: this.items[this.items.length - 1], tags: tags.tags, headers, abort: new AbortController() };
      this.#jobs.set(item.key, job);
      this.#queue.push(job);
      added += 1;
    }
    this.notice = skipped > 0 ? { place, text: skippedNote(added, skipped), error: false } : null;
    this.#pump();
    return true;
  }

  /** Stop an upload: a queued one is never sent; a running one's request is aborted (the server stores nothing). */
  cancel(key: number): void {
    const job = this.#jobs.get(key);
    if (!job || job.item.phase === 'done') return;
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#finish(job, cancelledResult(job.item.name));
    } else {
      job.abort.abort();
    }
  }

  /** Forget the finished items of `collection` (of this workspace). */
  clearFinished(collection: string): void {
    const place = placeOf(collection);
    this.items = this.items.filter((i) => i.place !== place || i.phase !== 'done');
    if (this.notice?.place === place) this.notice = null;
  }

  #pump(): void {
    while (this.#running < PARALLEL && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running += 1;
      void this.#run(job).finally(() => {
        this.#running -= 1;
        this.#pump();
      });
    }
  }

  async #run(job: Job): Promise<void> {
    const { file, item } = job;
    item.phase = 'sending';
    const result = await uploadStreamed(file, {
      collection: item.collection,
      tags: job.tags,
      headers: job.headers,
      signal: job.abort.signal,
      onSent: (fraction) => {
        item.sent = fraction;
        if (fraction >= 1 && item.phase === 'sending') item.phase = 'reading'; // sent: the server reads it now
      },
      onEvent: (event) => advance(item, event),
    });
    this.#finish(job, result);
  }

  #finish(job: Job, result: UploadResult): void {
    const { item } = job;
    item.result = result;
    item.phase = 'done';
    this.#jobs.delete(item.key);
    // A cancel that raced the end of the work may still have stored the document: let the list look.
    if (result.ok || isCancelled(result)) announceDocumentsChanged(item.collection);
  }
}

function skippedNote(added: number, skipped: number): string {
  const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
  const what = `${files(skipped)} skipped: not a type ragis reads, or hidden`;
  return added > 0 ? `${files(added)} added to the queue; ${what}.` : `Nothing to upload: ${what}.`;
}

/** The page's one upload queue. */
export const uploads = new Uploads();
