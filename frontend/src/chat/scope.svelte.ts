/**
 * What the next question is restricted to: documents and tags of the chat's collection, picked in
 * the ask bar, or one document picked in the documents list ("Ask about this document", `doc`),
 * and a question waiting to be asked about it ("Summarize"). The documents panel and the picker
 * set it, the chat reads `askOptions()`; picking another collection or workspace clears it.
 *
 * The server's filter takes documents AND tags (a passage must be in one of the documents and
 * carry one of the tags). A user who picks "manual.pdf" and the tag "pumps" means either, so
 * `askOptions` sends, for both, the picked documents plus those carrying a picked tag (as the
 * picker last saw the collection); tags alone go as tags, which the server matches at once after
 * a tag edit.
 */
export interface ScopedDocument {
  id: string;
  filename: string;
}

/** A document as the picker knows it: with its tags. */
export interface KnownDocument extends ScopedDocument {
  tags: string[];
}

/** What a question is restricted to, in the chat's `AskOptions` terms; empty: everything. */
export interface ScopeOptions {
  docIds?: string[];
  tags?: string[];
}

export const SUMMARY_QUESTION = 'Summarize this document.';

/** The server's limit on a filter's document ids (ChatFilter.doc_ids). */
export const MAX_DOC_IDS = 100;

const scoped = (doc: ScopedDocument): ScopedDocument => ({ id: doc.id, filename: doc.filename });

export class DocumentScope {
  /** The one document picked in the list (Ask about / Summarize); null once the pick changes. */
  doc = $state<ScopedDocument | null>(null);
  /** The documents picked (the list's one, or several in the picker). */
  docs = $state<ScopedDocument[]>([]);
  /** The tags picked: passages of documents carrying any of them. */
  tags = $state<string[]>([]);
  /** A question the chat should send as soon as it can (then `take` it). */
  pending = $state<string | null>(null);
  /** The collection's documents with their tags, as the picker last listed them. */
  known = $state<KnownDocument[]>([]);

  get empty(): boolean {
    return this.docs.length === 0 && this.tags.length === 0;
  }

  /** From the documents list: the chat is about `doc` alone. */
  ask(doc: ScopedDocument): void {
    this.doc = scoped(doc);
    this.docs = [scoped(doc)];
    this.tags = [];
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

  hasDoc(id: string): boolean {
    return this.docs.some((d) => d.id === id);
  }

  /** Pick or unpick a document in the picker. */
  toggleDoc(doc: ScopedDocument): void {
    this.docs = this.hasDoc(doc.id) ? this.docs.filter((d) => d.id !== doc.id) : [...this.docs, scoped(doc)];
    this.doc = null;
  }

  /** Pick or unpick a tag in the picker. */
  toggleTag(tag: string): void {
    this.tags = this.tags.includes(tag) ? this.tags.filter((t) => t !== tag) : [...this.tags, tag];
    this.doc = null;
  }

  /**
   * The picker listed the collection: remember its documents' tags. Picks are kept (a deleted
   * document is `forget`-ten; a tag no document carries any more still shows, to be unpicked).
   */
  learn(documents: KnownDocument[]): void {
    this.known = documents.map((d) => ({ id: d.id, filename: d.filename, tags: [...d.tags] }));
  }

  /** What the next question is restricted to. */
  askOptions(): ScopeOptions {
    const ids = this.docs.map((d) => d.id);
    if (this.tags.length === 0) return ids.length ? { docIds: ids } : {};
    if (ids.length === 0) return { tags: [...this.tags] };
    const tagged = this.known.filter((d) => d.tags.some((t) => this.tags.includes(t))).map((d) => d.id);
    const either = [...new Set([...ids, ...tagged])];
    // Over the server's limit the union cannot travel as ids: the picked documents go, not more.
    return { docIds: either.length <= MAX_DOC_IDS ? either : ids.slice(0, MAX_DOC_IDS) };
  }

  clear(): void {
    this.doc = null;
    this.docs = [];
    this.tags = [];
    this.pending = null;
  }

  /** A document is gone (deleted): the chat can no longer be restricted to it. */
  forget(id: string): void {
    if (this.doc?.id === id) this.doc = null;
    this.docs = this.docs.filter((d) => d.id !== id);
    this.known = this.known.filter((d) => d.id !== id);
    if (this.empty) this.pending = null;
  }
}
