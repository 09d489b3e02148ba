import { describe, expect, it } from 'vitest';
import { DocumentScope, MAX_DOC_IDS, SUMMARY_QUESTION } from './scope.svelte';

const DOC = { id: 'd1', filename: 'manual.pdf' };
const OTHER = { id: 'd2', filename: 'notes.md' };

describe('DocumentScope', () => {
  it('restricts the chat to the picked document, without a question', () => {
    const scope = new DocumentScope();
    scope.ask({ ...DOC, size: 3 } as typeof DOC);
    expect(scope.doc).toEqual(DOC); // only what the chip and the filter need
    expect(scope.docs).toEqual([DOC]);
    expect(scope.pending).toBeNull();
    expect(scope.askOptions()).toEqual({ docIds: ['d1'] });
  });

  it('asks for a summary once', () => {
    const scope = new DocumentScope();
    scope.summarize(DOC);
    expect(scope.doc).toEqual(DOC);
    expect(scope.take()).toBe(SUMMARY_QUESTION);
    expect(scope.take()).toBeNull();
    expect(scope.doc).toEqual(DOC); // the chip stays for the follow-up questions
  });

  it('is cleared, and forgets only its own document when one is deleted', () => {
    const scope = new DocumentScope();
    scope.summarize(DOC);
    scope.forget('d2');
    expect(scope.doc).toEqual(DOC);
    scope.forget('d1');
    expect(scope.doc).toBeNull();
    expect(scope.docs).toEqual([]);
    expect(scope.pending).toBeNull();
    scope.ask(DOC);
    scope.clear();
    expect(scope.doc).toBeNull();
    expect(scope.askOptions()).toEqual({});
  });

  it('asks everything when nothing is picked', () => {
    expect(new DocumentScope().askOptions()).toEqual({});
  });

  it('picks and unpicks documents and tags; a pick in the picker is no longer the list’s one document', () => {
    const scope = new DocumentScope();
    scope.ask(DOC);
    scope.toggleDoc(OTHER);
    expect(scope.doc).toBeNull(); // the chat's "Ask about manual.pdf" no longer says it all
    expect(scope.askOptions()).toEqual({ docIds: ['d1', 'd2'] });
    scope.toggleDoc(DOC);
    expect(scope.askOptions()).toEqual({ docIds: ['d2'] });
    scope.toggleDoc(OTHER);
    scope.toggleTag('pumps');
    scope.toggleTag('2026');
    expect(scope.askOptions()).toEqual({ tags: ['pumps', '2026'] }); // the server matches tags as they are now
    scope.toggleTag('pumps');
    expect(scope.tags).toEqual(['2026']);
  });

  it('sends documents and tags as either: the picked documents plus those carrying a picked tag', () => {
    const scope = new DocumentScope();
    scope.learn([
      { ...DOC, tags: [] },
      { ...OTHER, tags: ['pumps'] },
      { id: 'd3', filename: 'c.txt', tags: ['valves', 'pumps'] },
      { id: 'd4', filename: 'd.txt', tags: ['other'] },
    ]);
    scope.toggleDoc(DOC);
    scope.toggleTag('pumps');
    expect(scope.askOptions()).toEqual({ docIds: ['d1', 'd2', 'd3'] });
  });

  it('keeps the union under the server’s limit of document ids', () => {
    const scope = new DocumentScope();
    const many = Array.from({ length: MAX_DOC_IDS + 5 }, (_, i) => ({ id: `t${i}`, filename: `${i}.txt`, tags: ['x'] }));
    scope.learn(many);
    scope.toggleDoc(DOC);
    scope.toggleTag('x');
    const ids = scope.askOptions().docIds ?? [];
    expect(ids.length).toBeLessThanOrEqual(MAX_DOC_IDS);
    expect(ids).toContain('d1');
  });

  it('forgets a deleted document among several, and the waiting question only when nothing is left', () => {
    const scope = new DocumentScope();
    scope.summarize(DOC);
    scope.toggleDoc(OTHER);
    scope.forget('d1');
    expect(scope.docs).toEqual([OTHER]);
    expect(scope.pending).toBe(SUMMARY_QUESTION);
  });
});
