/**
 * What the sources panel says of an answer's passages: which of them the answer cites (its `[n]`
 * markers, the same that ../lib/markdown turns into links) and how close each is to the
 * question, in words a reader understands rather than a cosine.
 */
import type { Citation } from '../lib/types';

const CITES = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()/g;

/** The numbers the answer's text cites, among `known` (a `[7]` with no source 7 is not a citation). */
export function citedIn(content: string, known: Iterable<number>): Set<number> {
  const exists = new Set(known);
  const cited = new Set<number>();
  for (const match of content.matchAll(CITES)) {
    for (const part of match[1].split(',')) {
      const n = Number(part.trim());
      if (exists.has(n)) cited.add(n);
    }
  }
  return cited;
}

export interface SourceGroups {
  cited: Citation[];
  retrieved: Citation[];
}

/** The citations the answer refers to, then the ones only found (each in the server's order). */
export function groupSources(citations: readonly Citation[], content: string): SourceGroups {
  const cited = citedIn(content, citations.map((c) => c.n));
  return {
    cited: citations.filter((c) => cited.has(c.n)),
    retrieved: citations.filter((c) => !cited.has(c.n)),
  };
}

export interface Relevance {
  /** A word or two for the reader. */
  label: string;
  /** 1 (distant) to 4 (very close): the bar's colour. */
  level: 1 | 2 | 3 | 4;
}

/**
 * Similarity as words. The score is VSIM's `(1 + cosine) / 2` (0.5: unrelated), and the steps fit
 * the embedding model's scale (all-MiniLM-L6-v2): the grounded gate's default, 0.66, is where
 * the documents stop holding an answer (rag/grounding.py); a passage that answers the question
 * usually scores above 0.8.
 */
export function relevance(score: number): Relevance {
  if (score >= 0.8) return { label: 'Very close match', level: 4 };
  if (score >= 0.72) return { label: 'Close match', level: 3 };
  if (score >= 0.66) return { label: 'Related', level: 2 };
  return { label: 'Loosely related', level: 1 };
}

/** The bar's scale: from unrelated (0.5) to identical (1). */
export const BAR = { min: 0.5, max: 1, low: 0.66, high: 0.8 } as const;

/** Where a passage is, for a reader: its locator, else its page. */
export function placeOf(citation: Pick<Citation, 'locator' | 'page'>): string | null {
  return citation.locator ?? (citation.page != null ? `page ${citation.page}` : null);
}
