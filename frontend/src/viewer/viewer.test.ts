// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import type { Citation, StoredPassage } from '../lib/types';
import { locate, markerBefore, readingOrder } from './citations';
import { piecesOf } from './match';
import { isMarkdownDocument, joinLines, passageHtml, plainWords, withoutOverlap } from './text';

function cite(n: number, doc: string, text = `text ${n}`, page: number | null = null): Citation {
  return { n, doc_id: doc, filename: `${doc}.pdf`, page, score: 0.5, text, legs: [], locator: null };
}

function passage(position: number, text: string, page: number | null = null, locator: string | null = null): StoredPassage {
  return { position, text, page, locator };
}

describe('joinLines', () => {
  it('joins the hard line breaks of a PDF paragraph and keeps paragraphs apart', () => {
    expect(joinLines('The feed pump is\nprimed by hand\nbefore the start.\n\nThen the valve.')).toBe(
      'The feed pump is primed by hand before the start.\n\nThen the valve.',
    );
  });

  it('joins a word hyphenated at a line end, not a real hyphen', () => {
    expect(joinLines('the exam-\nple shows a self-\nService desk')).toBe('the example shows a self- Service desk');
  });

  it('keeps Markdown structure and code fences line by line', () => {
    const md = '# Pumps\nThe pump\nis primed.\n- one\n- two\n```\na\nb\n```';
    expect(joinLines(md)).toBe('# Pumps\nThe pump is primed.\n- one\n- two\n```\na\nb\n```');
  });
});

describe('passageHtml', () => {
  it('renders Markdown: no raw # or ** reaches the reader', () => {
    const html = passageHtml('## Priming\nThe **feed** pump is primed.', true);
    expect(html).toContain('<h2');
    expect(html).toContain('<strong>feed</strong>');
    expect(html).not.toContain('**');
    expect(html).not.toContain('##');
  });

  it('shows a document’s markup as text, never as markup', () => {
    const html = passageHtml('<img src=x onerror=alert(1)> <script>x()</script>', false);
    const root = document.createElement('div');
    root.innerHTML = html;
    expect(root.querySelector('img, script')).toBeNull();
    expect(root.textContent).toContain('<img src=x');
  });

  it('turns a PDF’s line breaks into one paragraph', () => {
    const root = document.createElement('div');
    root.innerHTML = passageHtml('The feed pump is\nprimed by hand.', false);
    expect(root.querySelectorAll('br')).toHaveLength(0);
    expect(root.textContent?.trim()).toBe('The feed pump is primed by hand.');
  });
});

describe('isMarkdownDocument', () => {
  it('knows a Markdown file by its name or type', () => {
    expect(isMarkdownDocument('guide.md')).toBe(true);
    expect(isMarkdownDocument('guide.txt', 'text/markdown')).toBe(true);
    expect(isMarkdownDocument('manual.pdf', 'application/pdf')).toBe(false);
  });
});

describe('withoutOverlap', () => {
  it('drops the words a passage repeats from the end of the one before', () => {
    expect(withoutOverlap('The pump is primed by hand before the first start.', 'by hand before the first start. Then the valve opens.'))
      .toBe('Then the valve opens.');
  });

  it('leaves a passage that repeats nothing, or too little, as it is', () => {
    expect(withoutOverlap('Alpha beta.', 'Gamma delta.')).toBe('Gamma delta.');
    expect(withoutOverlap('It ends in a.', 'a new start')).toBe('a new start');
  });

  it('never cuts inside a word', () => {
    expect(withoutOverlap('xx the pumping station', 'pumping stations are many')).toBe('pumping stations are many');
  });
});

describe('readingOrder', () => {
  it('reads one document’s citations through before the next document’s', () => {
    const order = readingOrder([cite(1, 'a'), cite(2, 'b'), cite(3, 'a'), cite(4, 'c'), cite(5, 'b')]);
    expect(order.map((c) => c.n)).toEqual([1, 3, 2, 5, 4]);
  });
});

describe('locate', () => {
  const passages = [passage(0, 'Intro text.', 1), passage(1, 'The feed pump\nis primed by hand.', 2), passage(2, 'Valves.', 3)];

  it('finds a passage by its exact text', () => {
    expect(locate(passages, cite(1, 'a', 'The feed pump\nis primed by hand.'))).toBe(1);
  });

  it('finds it by its words when the whitespace differs, then by its page', () => {
    expect(locate(passages, cite(1, 'a', 'The  feed pump is primed by hand.'))).toBe(1);
    expect(locate(passages, cite(1, 'a', 'Something else entirely', 3))).toBe(2);
    expect(locate(passages, cite(1, 'a', 'Something else entirely'))).toBe(-1);
  });
});

describe('markerBefore', () => {
  it('marks a new page, slide or section, once', () => {
    expect(markerBefore(passage(0, 'a', 1), null)).toBe('Page 1');
    expect(markerBefore(passage(1, 'b', 1), passage(0, 'a', 1))).toBeNull();
    expect(markerBefore(passage(2, 'c', 2), passage(1, 'b', 1))).toBe('Page 2');
    expect(markerBefore(passage(3, 'd', null, 'slide 4'), passage(2, 'c', null, 'slide 3'))).toBe('slide 4');
    expect(markerBefore(passage(4, 'e'), null)).toBeNull();
  });
});

describe('piecesOf', () => {
  function pieces(...texts: string[]): HTMLElement[] {
    return texts.map((t) => {
      const span = document.createElement('span');
      span.textContent = t;
      return span;
    });
  }

  it('marks the text-layer pieces that hold the passage, not the rest of the page', () => {
    const page = pieces('Chapter 2', 'The feed pump is primed', 'by hand before the first start.', 'Valves are next.');
    const hit = piecesOf(page, 'The feed pump is primed by hand before the first start.');
    expect(hit.map((p) => p.textContent)).toEqual(['The feed pump is primed', 'by hand before the first start.']);
  });

  it('finds a passage that began on the page before, and a word hyphenated at a line end', () => {
    const page = pieces('continued from before.', 'The backwash pump runs for seven min-', 'utes until the glass is clear.', 'Next.');
    const hit = piecesOf(page, 'Chapter two begins on page one and is continued from before. The backwash pump runs for seven minutes until the glass is clear.');
    expect(hit.map((p) => p.textContent)).toEqual([
      'continued from before.',
      'The backwash pump runs for seven min-',
      'utes until the glass is clear.',
    ]);
  });

  it('marks nothing when the passage is not on the page', () => {
    expect(piecesOf(pieces('Chapter 2', 'Valves are next.'), 'The feed pump is primed by hand.')).toEqual([]);
  });
});

describe('plainWords', () => {
  it('is the words only, lower-case, one space apart', () => {
    expect(plainWords('## The **Feed**\n  pump')).toBe('the feed pump');
  });
});
