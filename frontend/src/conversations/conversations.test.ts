// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanTitle, Conversations, TITLE_MAX, updatedLabel } from './conversations.svelte';

const item = (id: string, title = `chat ${id}`) => ({
  session_id: id, title, collection: 'default', created: 1, updated: 2, messages: 2, ttl: 100,
});

afterEach(() => vi.unstubAllGlobals());

describe('titles', () => {
  it('collapses whitespace, trims, cuts at the limit and refuses an empty one', () => {
    expect(cleanTitle('  Pump \n\t maintenance  ')).toBe('Pump maintenance');
    expect(cleanTitle('x'.repeat(500))).toHaveLength(TITLE_MAX);
    expect(cleanTitle(' \n\t ')).toBeNull();
    expect(cleanTitle('a\u0000b\u0007')).toBe('ab');
  });

  it('says when a conversation last changed', () => {
    const now = 1_000_000 * 1000;
    expect(updatedLabel(1_000_000 - 5, now)).toBe('just now');
    expect(updatedLabel(1_000_000 + 30, now)).toBe('just now'); // a clock slightly ahead
    expect(updatedLabel(1_000_000 - 300, now)).toBe('5 min ago');
    expect(updatedLabel(1_000_000 - 7200, now)).toBe('2 h ago');
    expect(updatedLabel(1_000_000 - 3 * 86400, now)).toMatch(/\d/);
  });
});

describe('Conversations', () => {
  it('lists with the search text and keeps only the answer of the last call', async () => {
    const urls: string[] = [];
    let release: (r: Response) => void = () => {};
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
      urls.push(url);
      if (urls.length === 1) {
        // the first (slower) answer arrives after the second call: it must be dropped
        return new Promise<Response>((resolve, reject) => {
          release = resolve;
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        });
      }
      return Response.json({ conversations: [item('b', 'pumps')] });
    }));
    const list = new Conversations();
    const first = list.refresh();
    list.query = ' pumps ';
    await list.refresh();
    release(Response.json({ conversations: [item('a')] }));
    await first;
    expect(urls).toEqual(['/api/sessions', '/api/sessions?q=pumps']);
    expect(list.items.map((c) => c.session_id)).toEqual(['b']);
    expect(list).toMatchObject({ loading: false, loaded: true, error: null });
  });

  it('renames and deletes, and says why the server refused', async () => {
    const calls: [string, string, unknown][] = [];
    const answers = [
      () => Response.json({ conversations: [item('a'), item('b')] }),
      () => Response.json(item('a', 'Pumps')),
      () => Response.json({ error: { code: 'validation_error', message: 'The title is too long.' } }, { status: 422 }),
      () => Response.json({ session_id: 'b', deleted: true }),
    ];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
      calls.push([init.method ?? 'GET', url, init.body ? JSON.parse(String(init.body)) : undefined]);
      return answers.shift()!();
    }));
    const list = new Conversations();
    await list.refresh();
    expect(await list.rename('a', '  Pumps  ')).toBe(true);
    expect(list.items[0].title).toBe('Pumps');
    expect(await list.rename('a', ' ')).toBe(false); // nothing sent
    expect(await list.rename('b', 'y')).toBe(false);
    expect(list.error).toBe('The title is too long.');
    expect(await list.remove('b')).toBe(true);
    expect(list.items.map((c) => c.session_id)).toEqual(['a']);
    expect(calls.slice(1)).toEqual([
      ['PATCH', '/api/sessions/a', { title: 'Pumps' }],
      ['PATCH', '/api/sessions/b', { title: 'y' }],
      ['DELETE', '/api/sessions/b', undefined],
    ]);
  });
});
