/**
 * Where a passage is on a PDF page: which pieces of pdf.js's text layer hold its words. Pure DOM
 * reading, apart from pdf.js, so that it is tested without a browser.
 */
import { plainWords } from './text';

/**
 * The text-layer pieces that hold `passage`: where the passage's first words start in the page's
 * text, through as much of it as the page holds. None when its words are not on this page.
 */
export function piecesOf(pieces: readonly HTMLElement[], passage: string): HTMLElement[] {
  const target = plainWords(passage);
  if (!target) return [];
  // The page's text as one string of plain words, and where each piece starts in it.
  let page = '';
  const starts: number[] = [];
  for (const piece of pieces) {
    const words = plainWords(piece.textContent ?? '');
    starts.push(page.length + (page && words ? 1 : 0));
    if (words) page += (page ? ' ' : '') + words;
  }
  for (const size of [80, 40, 20]) {
    const head = target.slice(0, size);
    if (head.length < Math.min(size, target.length)) continue;
    const at = page.indexOf(head);
    if (at < 0) continue;
    const end = at + target.length;
    return pieces.filter((piece, i) => {
      const length = plainWords(piece.textContent ?? '').length;
      return length > 0 && starts[i] + length > at && starts[i] < end;
    });
  }
  return [];
}
