/** The documents panel's pure parts: tags as typed, the files of a folder worth sending, what an upload's row says. */
import { describe, expect, it } from 'vitest';
import { toUploadEvent } from '../lib/api/documents';
import { pickReadable, readable } from './files';
import { outcome, percent, stateLabel, summary, timeLeft } from './progress';
import { MAX_TAGS, parseTags } from './tags';
import { advance, cancelledResult, isCancelled, type Upload } from './uploads.svelte';

describe('parseTags', () => {
  it('trims, drops empties and repeats', () => {
    expect(parseTags(' manuals, 2026 ,,manuals ,')).toEqual({ ok: true, tags: ['manuals', '2026'] });
    expect(parseTags('')).toEqual({ ok: true, tags: [] });
  });

  it('refuses what the gateway refuses: too many, too long, control characters', () => {
    const many = Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`).join(',');
    expect(parseTags(many)).toMatchObject({ ok: false, error: expect.stringMatching(/33 tags/) });
    expect(parseTags('x'.repeat(65))).toMatchObject({ ok: false, error: expect.stringMatching(/64 characters/) });
    expect(parseTags('x'.repeat(64)).ok).toBe(true);
    expect(parseTags('a\u0007b')).toMatchObject({ ok: false });
    expect(parseTags('a\u0085b')).toMatchObject({ ok: false }); // a C1 control too
    expect(parseTags('a\\b')).toMatchObject({ ok: false, error: expect.stringMatching(/backslash/) });
  });
});

describe('the files of a folder', () => {
  const file = (name: string) => new File(['x'], name);

  it('keeps the types ragis reads, whatever the case of the suffix', () => {
    expect(readable('a.PDF')).toBe(true);
    expect(readable('b.eml')).toBe(true);
    expect(readable('c.exe')).toBe(false);
    expect(readable('.md')).toBe(false); // a hidden file named like a suffix
    expect(readable('README')).toBe(false);
  });

  it('leaves out other types and hidden files or folders, and counts them', () => {
    const paths = new Map<File, string>();
    const at = (path: string) => {
      const f = file(path.split('/').at(-1)!);
      paths.set(f, path);
      return f;
    };
    const files = [at('docs/a.md'), at('docs/b.png'), at('docs/.git/c.txt'), at('docs/sub/d.pdf'), at('docs/.hidden.md')];
    const picked = pickReadable(files, (f) => paths.get(f)!);
    expect(picked.files.map((f) => f.name)).toEqual(['a.md', 'd.pdf']);
    expect(picked.skipped).toBe(3);
  });
});

describe('an upload stream event', () => {
  it('is read when the UI knows it, skipped otherwise', () => {
    expect(toUploadEvent('stage', '{"file":"a.pdf","stage":"embed"}')).toEqual({
      type: 'stage', index: 0, file: 'a.pdf', stage: 'embed',
    });
    expect(toUploadEvent('stage', '{"index":2,"file":"b.md","stage":"parse","type":"stage"}')).toMatchObject({ index: 2 });
    expect(toUploadEvent('progress', '{"file":"a.pdf","embedded":64,"total":480,"eta_ms":40000}')).toEqual({
      type: 'progress', index: 0, file: 'a.pdf', embedded: 64, total: 480, eta_ms: 40000,
    });
    expect(toUploadEvent('progress', '{"embedded":1,"total":2,"eta_ms":null}')).toMatchObject({ eta_ms: null });
    const result = { filename: 'a.pdf', ok: false, error: { code: 'x', message: 'y' } };
    expect(toUploadEvent('file', JSON.stringify({ result }))).toEqual({ type: 'file', index: 0, result });
    expect(toUploadEvent('stage', '{"stage":"teleport"}')).toBeNull();
    expect(toUploadEvent('progress', '{"embedded":"1","total":2}')).toBeNull();
    expect(toUploadEvent('newer', '{}')).toBeNull();
    expect(toUploadEvent('stage', 'not json')).toBeNull();
    expect(toUploadEvent('file', '{"result":null}')).toBeNull();
    expect(toUploadEvent('file', '[1]')).toBeNull();
  });
});

function item(over: Partial<Upload> = {}): Upload {
  return {
    key: 1, name: 'a.pdf', size: 10, place: '\ndefault', collection: 'default', phase: 'queued',
    sent: 0, embedded: 0, total: 0, etaMs: null, result: null, ...over,
  };
}

describe('an upload row', () => {
  it('says where the file is', () => {
    expect(stateLabel(item())).toBe('waiting');
    expect(stateLabel(item({ phase: 'sending', sent: 0.456 }))).toBe('uploading 46%');
    expect(stateLabel(item({ phase: 'reading' }))).toBe('reading');
    expect(stateLabel(item({ phase: 'embedding' }))).toBe('embedding');
    expect(stateLabel(item({ phase: 'embedding', embedded: 120, total: 480, etaMs: 40_200 }))).toBe(
      'embedding 120 / 480 chunks, about 40 s left',
    );
    expect(stateLabel(item({ phase: 'embedding', embedded: 120, total: 480, etaMs: null }))).toBe('embedding 120 / 480 chunks');
  });

  it('estimates in seconds, then minutes', () => {
    expect(timeLeft(null)).toBe('');
    expect(timeLeft(0)).toBe('');
    expect(timeLeft(300)).toBe('about 1 s left');
    expect(timeLeft(89_000)).toBe('about 89 s left');
    expect(timeLeft(180_000)).toBe('about 3 min left');
  });

  it('fills its bar with bytes, then chunks; unknown in between', () => {
    expect(percent(item({ phase: 'sending', sent: 0.5 }))).toBe(50);
    expect(percent(item({ phase: 'reading' }))).toBeNull();
    expect(percent(item({ phase: 'embedding', embedded: 1, total: 4 }))).toBe(25);
  });

  it('follows the server’s events', () => {
    const row = item({ phase: 'reading' });
    advance(row, { type: 'stage', index: 0, file: 'a.pdf', stage: 'parse' });
    expect(row.phase).toBe('reading');
    advance(row, { type: 'stage', index: 0, file: 'a.pdf', stage: 'embed' });
    expect(row.phase).toBe('embedding');
    advance(row, { type: 'progress', index: 0, file: 'a.pdf', embedded: 32, total: 64, eta_ms: 1000 });
    expect(row).toMatchObject({ embedded: 32, total: 64, etaMs: 1000 });
  });

  it('ends as added, a duplicate, cancelled or failed', () => {
    const ok = { filename: 'a', ok: true, document_id: 'x', chunks: 3, pages: 2, duplicate: false } as never;
    expect(summary(ok)).toBe('Added · 3 chunks · 2 pages');
    expect(outcome(ok)).toBe('ok');
    expect(summary(cancelledResult('a'))).toBe('Cancelled');
    expect(outcome(cancelledResult('a'))).toBe('cancelled');
    expect(isCancelled(cancelledResult('a'))).toBe(true);
    const failed = { filename: 'a', ok: false as const, error: { code: 'unsupported', message: 'Not a type.' } };
    expect(summary(failed)).toBe('Not a type.');
    expect(outcome(failed)).toBe('failed');
    expect(isCancelled(failed)).toBe(false);
  });
});
