import { describe, expect, it } from 'vitest';
import { DocumentScope, SUMMARY_QUESTION } from './scope.svelte';

const DOC = { id: 'd1', filename: 'manual.pdf' };

describe('DocumentScope', () => {
  it('restricts the chat to the picked document, without a question', () => {
    const scope = new DocumentScope();
    scope.ask({ ...DOC, size: 3 } as typeof DOC);
    expect(scope.doc).toEqual(DOC); // only what the chip and the filter need
    expect(scope.pending).toBeNull();
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
    expect(scope.pending).toBeNull();
    scope.ask(DOC);
    scope.clear();
    expect(scope.doc).toBeNull();
  });
});
