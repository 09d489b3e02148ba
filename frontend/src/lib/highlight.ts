/**
 * Syntax colouring of code blocks in answers, with highlight.js and its common languages.
 *
 * The library is loaded on the first answer that has a code block (a dynamic import: its own
 * chunk, not in the app's first download). It gets the code as plain text and returns it escaped,
 * wrapped in `<span class="hljs-…">`; markdown.ts puts that through DOMPurify with the rest of the
 * answer, so colouring adds spans and nothing else can get in.
 */
import type { HLJSApi } from 'highlight.js';

/** The code's HTML (escaped text in spans), or null when it is left plain. */
export type Highlighter = (code: string, language: string | null) => string | null;

/** Larger blocks stay plain: colouring is per render, and a streamed answer re-renders per token. */
const MAX_CODE_CHARS = 20_000;
/** Below this, highlight.js's guess of an untagged block's language is mostly noise. */
const MIN_AUTO_RELEVANCE = 5;

let current: Highlighter | null = null;
let loading: Promise<Highlighter> | null = null;

function highlighterOf(hljs: HLJSApi): Highlighter {
  return (code, language) => {
    if (code.length > MAX_CODE_CHARS) return null;
    if (language) {
      return hljs.getLanguage(language) ? hljs.highlight(code, { language, ignoreIllegals: true }).value : null;
    }
    const guess = hljs.highlightAuto(code);
    return guess.relevance >= MIN_AUTO_RELEVANCE ? guess.value : null;
  };
}

/** The highlighter once loaded, else null (see `loadHighlighter`). */
export function highlighter(): Highlighter | null {
  return current;
}

/** Load highlight.js (once); resolves with the highlighter. */
export function loadHighlighter(): Promise<Highlighter> {
  loading ??= import('highlight.js/lib/common').then((module) => (current = highlighterOf(module.default)));
  return loading;
}

/** Whether Markdown `source` has a code block (fenced or indented), so colouring is worth loading. */
export function hasCodeBlock(source: string): boolean {
  return /^ {0,3}(```|~~~)|^(?: {4}|\t)\S/m.test(source);
}
