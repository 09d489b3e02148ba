/**
 * The document the chat is restricted to, picked in the documents list ("Ask about this
 * document"), and a question waiting to be asked about it ("Summarize"). The documents panel sets
 * it, the chat reads it; picking another collection or workspace clears it.
 */
export interface ScopedDocument {
  id: string;
  filename: string;
}

export const SUMMARY_QUESTION = 'Summarize this document.';

export class DocumentScope {
  doc = $state<ScopedDocument | null>(null);
  /** A question the chat should send as soon as it can (then `take` it). */
  pending = $state<string | null>(null);

  ask(doc: ScopedDocument): void {
    this.doc = { id: doc.id, filename: doc.filename };
  }

  summarize(doc: ScopedDocument): void {
    this.ask(doc);
    this.pending = SUMMARY_QUESTION;
  }

  /** The waiting question, once: the chat sends it. */
  take(): string | null {
    const question = this.pending;
    this.pending = null;
    return question;
  }

  clear(): void {
    this.doc = null;
    this.pending = null;
  }

  /** A document is gone (deleted): the chat can no longer be restricted to it. */
  forget(id: string): void {
    if (this.doc?.id === id) this.clear();
  }
}
