/**
 * Markdown for model answers, made safe to put in the page with `{@html}`.
 *
 * Model output and document text are untrusted (a document can carry a prompt injection), so:
 * raw HTML in the Markdown is shown as text, images become their alt text (a remote image would
 * leak data by its URL), links keep only http(s)/mailto/#fragment targets and open in a new tab
 * with `rel="noopener noreferrer"`, and DOMPurify cleans the result again as a second line.
 * Citations like `[2]` or `[1, 3]` that match a known source become `citation-link` anchors that
 * carry `data-cite`; the view opens the sources panel when one is clicked.
 * Code blocks come in a `.code-block` with a head naming the language (the view adds a copy
 * button there), coloured when ./highlight has been loaded.
 */
import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';
import { highlighter } from './highlight';

const ALLOWED_URI = /^(?:(?:https?|mailto):|#)/i;
const CITE = /^\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()/;
/** A fence's language as a class name may carry it: anything else is no language. */
const LANGUAGE = /^[A-Za-z0-9_+#.-]{1,32}$/;

let known: ReadonlySet<number> | null = null; // set for the duration of one synchronous parse

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function citeAnchor(n: number): string {
  return (
    `<a class="cite" href="#source-${n}" data-cite="${n}" data-testid="citation-link"` +
    ` aria-label="Source ${n}">${n}</a>`
  );
}

function codeBlock({ text, lang }: Tokens.Code): string {
  const word = (lang ?? '').trim().split(/\s+/)[0].toLowerCase();
  const language = LANGUAGE.test(word) ? word : null;
  const coloured = highlighter()?.(text, language) ?? null;
  const body = coloured ?? escapeHtml(text);
  const label = language ? `<span class="code-lang">${escapeHtml(language)}</span>` : '<span class="code-lang">code</span>';
  const cls = `hljs${language ? ` language-${escapeHtml(language)}` : ''}`;
  return `<div class="code-block"><div class="code-head">${label}</div><pre><code class="${cls}">${body}</code></pre></div>`;
}

function build(): Marked {
  return new Marked({
    gfm: true,
    breaks: true,
    async: false,
    renderer: {
      html: ({ text }) => escapeHtml(text),
      code: codeBlock,
      image: ({ text }) => (text ? `<span class="md-image">[image: ${escapeHtml(text)}]</span>` : ''),
    },
    extensions: [
      {
        name: 'cite',
        level: 'inline',
        start: (src: string) => src.match(/\[\d/)?.index,
        tokenizer(src: string) {
          const match = CITE.exec(src);
          if (!match || !known) return undefined;
          const nums = match[1].split(',').map((s) => Number(s.trim()));
          if (!nums.every((n) => known?.has(n))) return undefined;
          return { type: 'cite', raw: match[0], nums };
        },
        renderer(token) {
          const nums = (token as Tokens.Generic & { nums: number[] }).nums;
          return `<span class="cites">${nums.map(citeAnchor).join('')}</span>`;
        },
      },
    ],
  });
}

let marked: Marked | null = null;
let purifierReady = false;

function purify(html: string): string {
  if (!purifierReady) {
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName !== 'A') return;
      const href = node.getAttribute('href');
      if (href && !href.startsWith('#')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
    purifierReady = true;
  }
  return DOMPurify.sanitize(html, {
    ALLOWED_URI_REGEXP: ALLOWED_URI,
    FORBID_TAGS: ['style', 'img', 'svg', 'math', 'form', 'input', 'button', 'textarea', 'select',
      'iframe', 'object', 'embed', 'video', 'audio', 'source', 'picture', 'link', 'meta', 'base'],
    FORBID_ATTR: ['style', 'srcset', 'formaction'],
  });
}

/**
 * Safe HTML for a Markdown answer. `citations` are the source numbers that exist for it; a `[n]`
 * whose n is not among them stays plain text.
 */
export function renderMarkdown(source: string, citations: Iterable<number> = []): string {
  marked ??= build();
  known = new Set(citations);
  try {
    return purify(marked.parse(source) as string);
  } finally {
    known = null;
  }
}
