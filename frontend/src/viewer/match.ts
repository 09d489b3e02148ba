/**
 * Where a passage is on a PDF page: which pieces of pdf.js's text layer hold its words. Pure DOM
 * reading, apart from pdf.js, so that it is tested without a browser.
 */
import { plainWords } from './text';

interface Span {
  start: number;
  end: number;
}

/**
 * The page's text as one string of plain words, and where each piece is in it; a word the page
 * hyphenated at a line's end (`exam-` then `ple`, lower-case on both sides) is one word again,
 * as in the stored passage.
 */
function pageText(pieces: readonly HTMLElement[]): { text: string; spans: (Span | null)[] } {
  let text = '';
  let previous = '';
  const spans: (Span | null)[] = [];
  for (const piece of pieces) {
    const raw = piece.textContent ?? '';
    const words = plainWords(raw);
    if (!words) {
      spans.push(null);
      continue;
    }
    if (/\p{Ll}-\s*$/u.test(previous) && /^\s*\p{Ll}/u.test(raw)) text = text.slice(0, -1);
    else if (text) text += ' ';
    spans.push({ start: text.length, end: text.length + words.length });
    text += words;
    previous = raw;
  }
  return { text, spans };
}

/**
 * The text-layer pieces that hold `passage`: found by the first run of its words that is on the
 * page (a passage may begin on the page before, or start mid-sentence), then as much of it as the
 * page holds. None when its words are not on this page.
 */
export function piecesOf(pieces: readonly HTMLElement[], passage: string): HTMLElement[] {
  const target = plainWords(passage);
  if (!target) return [];
  const { text, spans } = pageText(pieces);
  const probe = Math.min(40, target.length);
  for (let offset = 0; offset + probe <= target.length; offset += probe) {
    const at = text.indexOf(target.slice(offset, offset + probe));
    if (at < 0) continue;
    const start = at - offset;
    const end = start + target.length;
    return pieces.filter((_, i) => {
      const span = spans[i];
      return span !== null && span.end > start && span.start < end;
    });
  }
  return [];
}
