/**
 * Stepping through an answer's citations in the viewer, and finding each in its document.
 *
 * The order is the reader's: all citations of the first document cited, in order, then those of
 * the next document, so "Next" reads one document through before it moves to another.
 * A citation names its document and carries its passage's text; the stored passages of the
 * document are the same texts, so the passage is found by its text (then by its first words,
 * then by its page, for a passage stored differently).
 */
import type { Citation, StoredPassage } from '../lib/types';
import { plainWords } from './text';

/** The citations in reading order: grouped by document (first cited first), by number within. */
export function readingOrder(citations: readonly Citation[]): Citation[] {
  const documents: string[] = [];
  for (const c of citations) if (!documents.includes(c.doc_id)) documents.push(c.doc_id);
  return documents.flatMap((doc) => citations.filter((c) => c.doc_id === doc).sort((a, b) => a.n - b.n));
}

/** The index in `passages` of the citation's passage, or -1. */
export function locate(passages: readonly StoredPassage[], citation: Pick<Citation, 'text' | 'page'>): number {
  const exact = passages.findIndex((p) => p.text === citation.text);
  if (exact >= 0) return exact;
  const words = plainWords(citation.text);
  if (words) {
    const head = words.slice(0, 80);
    const byWords = passages.findIndex((p) => plainWords(p.text).includes(head));
    if (byWords >= 0) return byWords;
  }
  return citation.page != null ? passages.findIndex((p) => p.page === citation.page) : -1;
}

/** What separates a passage from the one before it for a reader: a new page, slide or section. */
export function markerBefore(passage: StoredPassage, previous: StoredPassage | null): string | null {
  if (passage.locator && passage.locator !== previous?.locator) return passage.locator;
  if (passage.page != null && passage.page !== previous?.page) return `Page ${passage.page}`;
  return null;
}
