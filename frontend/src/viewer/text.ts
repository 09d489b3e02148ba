/**
 * A stored passage as a reader should see it: the hard line breaks of a PDF's text layer joined
 * into paragraphs (and a word hyphenated at a line's end joined again), Markdown rendered, never
 * raw `#` or `**`. Pure functions, so that the sources panel and the viewer show the same text.
 */
import { renderMarkdown } from '../lib/markdown';

/** A line that is Markdown structure (a heading, a list item, a quote, a table row, a fence). */
const BLOCK_LINE = /^\s*(?:#{1,6}\s|[-*+]\s|\d{1,3}[.)]\s|>|\||```|~~~)/;
/** A word broken at a line's end: `exam-` + `ple` (lower-case on both sides, not `self-\nService`). */
const HYPHENATED = /(\p{Ll})-\n[ \t]*(\p{Ll})/gu;

/** Whether a document's passages are Markdown to keep line by line (a `.md` file). */
export function isMarkdownDocument(filename: string, contentType?: string | null): boolean {
  return contentType === 'text/markdown' || /\.(md|markdown|mdown|mkd)$/i.test(filename);
}

/**
 * The text with soft line breaks joined: inside a paragraph a newline becomes a space, a word
 * hyphenated at a line's end becomes one word again; blank lines (paragraphs) stay, and so do
 * lines that are Markdown structure and everything inside a code fence.
 */
export function joinLines(text: string): string {
  const unhyphenated = text.replace(/\r\n?/g, '\n').replace(HYPHENATED, '$1$2');
  const out: string[] = [];
  let fenced = false;
  for (const line of unhyphenated.split('\n')) {
    const fence = /^\s*(```|~~~)/.test(line);
    const previous = out.length ? out[out.length - 1] : null;
    const joinable =
      !fenced && !fence && previous !== null && previous.trim() !== '' && line.trim() !== '' &&
      !BLOCK_LINE.test(line) && !/^\s*(```|~~~)/.test(previous) && !/^\s*\|/.test(previous) &&
      !/^#{1,6}\s/.test(previous.trimStart());
    if (joinable) out[out.length - 1] = `${previous.trimEnd()} ${line.trim()}`;
    else out.push(fenced ? line : line.trimEnd());
    if (fence) fenced = !fenced;
  }
  return out.join('\n').trim();
}

/** Safe HTML for one passage: a Markdown document's lines kept, any other's joined. */
export function passageHtml(text: string, markdown: boolean): string {
  return renderMarkdown(markdown ? text : joinLines(text));
}

/** The passage as one line of plain words (for matching it on a PDF page). */
export function plainWords(text: string): string {
  return text
    .replace(HYPHENATED, '$1$2')
    .replace(/[#*_`>|]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/**
 * `next` without the words it repeats from the end of `previous` (consecutive passages overlap
 * by a few words, so the document reads once through). Only a repeat of at least 12 characters
 * that starts `next` counts.
 */
export function withoutOverlap(previous: string, next: string, longest = 600): string {
  const max = Math.min(previous.length, next.length, longest);
  const last = previous.charCodeAt(previous.length - 1);
  for (let size = max; size >= 12; size--) {
    if (next.charCodeAt(size - 1) === last && previous.endsWith(next.slice(0, size))) {
      const rest = next.slice(size);
      // A cut mid-word would leave half a word: only at a word's edge.
      if (rest === '' || /^\W/u.test(rest) || /\W$/u.test(next.slice(0, size))) return rest.trimStart();
    }
  }
  return next;
}
