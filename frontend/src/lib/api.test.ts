import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  getSession,
  listDocuments,
  onUnauthenticated,
  parseSSE,
  retryAfterSeconds,
  streamChat,
  updateCollection,
  uploadFile,
  uploadOutcome,
  useWorkspace,
  type SSEMessage,
} from './api';
import type { ChatEvent } from './types';

const encoder = new TextEncoder();

/** A body that delivers `bytes` cut at the given offsets, one chunk per read. */
function chunked(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i + 1 >= bounds.length) return controller.close();
      controller.enqueue(bytes.slice(bounds[i], bounds[i + 1]));
      i += 1;
    },
  });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function sse(type: string, data: object): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

const META = { session_id: 's1', collection: 'default', provider: 'openai', model: 'm', cache_hit: false, query: 'q' };
const STREAM =
  ': keep-alive\n\n' +
  sse('meta', META) +
  sse('citations', { citations: [{ n: 1, doc_id: 'd', filename: 'ä.pdf', page: 2, score: 0.9, text: 'Grüße' }] }) +
  sse('token', { text: 'Héllo 👋 ' }) +
  ': keep-alive\n\n' +
  sse('token', { text: 'wörld — 日本 [1]' }) +
  sse('done', { timings: { embed: 1, total: 9 }, cache_hit: false });

function fakeFetch(respond: (init: RequestInit) => Response | Promise<Response>) {
  const fn = vi.fn(async (_url: string, init: RequestInit = {}) => {
    if (init.signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
    return respond(init);
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

function eventStream(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('parseSSE', () => {
  const bytes = encoder.encode(STREAM);
  const expected = STREAM.split('\n\n')
    .filter((block) => block.startsWith('event:'))
    .map((block) => {
      const [event, data] = block.split('\n');
      return { event: event.slice(7), data: data.slice(6), id: undefined };
    });

  it('reads every event whatever single chunk boundary the network picks', async () => {
    for (let cut = 1; cut < bytes.length; cut += 1) {
      expect(await collect(parseSSE(chunked(bytes, [cut])))).toEqual(expected);
    }
  });

  it('reads every event when the body arrives one byte at a time', async () => {
    const cuts = Array.from({ length: bytes.length }, (_, i) => i);
    expect(await collect(parseSSE(chunked(bytes, cuts)))).toEqual(expected);
  });

  it('keeps a multi-byte character intact when a chunk ends inside it', async () => {
    const text = 'data: {"text":"👋"}\n\n';
    const raw = encoder.encode(text);
    const inside = raw.indexOf(0xf0) + 2; // two bytes into the four-byte emoji
    const [message] = await collect(parseSSE(chunked(raw, [inside])));
    expect(JSON.parse(message.data)).toEqual({ text: '👋' });
  });

  it('accepts CRLF and lone CR line endings, even with CR and LF in different chunks', async () => {
    const crlf = STREAM.replace(/\n/g, '\r\n');
    const raw = encoder.encode(crlf);
    for (let cut = 1; cut < raw.length; cut += 1) {
      expect(await collect(parseSSE(chunked(raw, [cut])))).toEqual(expected);
    }
    const cr = encoder.encode(STREAM.replace(/\n/g, '\r'));
    expect(await collect(parseSSE(chunked(cr, [7, 40])))).toEqual(expected);
  });

  it('joins data lines, skips comments and unknown fields, and drops an unfinished event', async () => {
    const text = ': hello\nretry: 10\nid: 7\nevent: x\ndata: a\ndata:b\nfoo: bar\n\ndata: lost';
    const messages: SSEMessage[] = await collect(parseSSE(chunked(encoder.encode(text), [3, 20])));
    expect(messages).toEqual([{ event: 'x', data: 'a\nb', id: '7' }]);
  });

  it('ignores a stream made only of heartbeats', async () => {
    const text = ': keep-alive\n\n: keep-alive\r\n\r\n';
    expect(await collect(parseSSE(chunked(encoder.encode(text), [5])))).toEqual([]);
  });
});

describe('streamChat', () => {
  it('posts the question as JSON and yields the typed events in order', async () => {
    const fetchMock = fakeFetch(() => eventStream(chunked(encoder.encode(STREAM), [10, 200, 201, 330])));
    const events = await collect(streamChat({ message: 'hi?', collection: 'default', session_id: 's1' }));
    expect(events.map((e) => e.type)).toEqual(['meta', 'citations', 'token', 'token', 'done']);
    const text = events.flatMap((e) => (e.type === 'token' ? [e.text] : [])).join('');
    expect(text).toBe('Héllo 👋 wörld — 日本 [1]');
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/chat/stream');
    expect(init?.method).toBe('POST');
    expect(JSON.parse(String(init?.body))).toEqual({ message: 'hi?', collection: 'default', session_id: 's1' });
  });

  it('yields an error event as the last event and reads no further', async () => {
    const body = sse('meta', META) + sse('error', { code: 'llm_unavailable', message: 'Ollama is down.' }) +
      sse('token', { text: 'never' });
    fakeFetch(() => eventStream(chunked(encoder.encode(body), [])));
    const events = await collect(streamChat({ message: 'q' }));
    expect(events.at(-1)).toEqual({ type: 'error', code: 'llm_unavailable', message: 'Ollama is down.' });
    expect(events).toHaveLength(2);
  });

  it('throws the JSON error body the gateway sends before streaming', async () => {
    const body = { error: { code: 'not_found', message: "There is no collection 'default'." } };
    fakeFetch(() => new Response(JSON.stringify(body), { status: 404 }));
    const error = await collect(streamChat({ message: 'q' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'not_found', status: 404, message: "There is no collection 'default'." });
  });

  it('turns a proxy error page or a refused connection into a readable sentence', async () => {
    fakeFetch(() => new Response('<html>Bad Gateway</html>', { status: 502 }));
    await expect(collect(streamChat({ message: 'q' }))).rejects.toMatchObject({ code: 'unreachable' });
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('fetch failed')));
    await expect(collect(streamChat({ message: 'q' }))).rejects.toThrow(/Cannot reach the ragis gateway/);
  });

  it('stops quietly when aborted mid-stream and closes the connection', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(sse('meta', META) + sse('token', { text: 'partial' })));
      },
      cancel() {
        cancelled = true;
      },
    }); // never closes, like an LLM that is still thinking
    fakeFetch(() => eventStream(body));
    const controller = new AbortController();
    const seen: ChatEvent[] = [];
    for await (const event of streamChat({ message: 'q' }, controller.signal)) {
      seen.push(event);
      if (event.type === 'token') controller.abort();
    }
    expect(seen.map((e) => e.type)).toEqual(['meta', 'token']);
    expect(cancelled).toBe(true);
  });

  it('ends without an error when aborted while waiting for the server', async () => {
    const controller = new AbortController();
    let release: () => void = () => {};
    fakeFetch(
      (init) =>
        new Promise((_resolve, reject) => {
          release = () => reject(new DOMException('aborted', 'AbortError'));
          init.signal?.addEventListener('abort', () => release());
        }),
    );
    const pending = collect(streamChat({ message: 'q' }, controller.signal));
    controller.abort();
    expect(await pending).toEqual([]);
  });

  it('throws when the stream ends before done or error', async () => {
    fakeFetch(() => eventStream(chunked(encoder.encode(sse('token', { text: 'a' })), [])));
    await expect(collect(streamChat({ message: 'q' }))).rejects.toMatchObject({ code: 'stream_incomplete' });
  });

  it('throws when the connection breaks mid-stream', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(sse('token', { text: 'a' })));
        controller.error(new TypeError('network error'));
      },
    });
    fakeFetch(() => eventStream(body));
    await expect(collect(streamChat({ message: 'q' }))).rejects.toMatchObject({ code: 'stream_broken' });
  });
});

describe('JSON calls', () => {
  it('encodes the collection in the query string', async () => {
    const fetchMock = fakeFetch(() => Response.json({ collection: 'a b', documents: [] }));
    expect(await listDocuments('a b')).toEqual([]);
    expect(fetchMock.mock.calls[0][0]).toBe('/api/documents?collection=a%20b');
  });

  it("patches a collection's threshold and answers the collection", async () => {
    const collection = { name: 'a b', min_score: null, effective_min_score: 0.63, keyword_index: 'ready' };
    const fetchMock = fakeFetch(() => Response.json(collection));
    expect(await updateCollection('a b', { min_score: null })).toEqual(collection);
    const [path, init] = fetchMock.mock.calls[0];
    expect([path, init?.method, init?.body]).toEqual(['/api/collections/a%20b', 'PATCH', '{"min_score":null}']);
  });

  it('answers null for a session the server no longer knows', async () => {
    fakeFetch(() => Response.json({ error: { code: 'not_found', message: 'gone' } }, { status: 404 }));
    expect(await getSession('s1')).toBeNull();
  });
});

describe('uploads', () => {
  it('reads a success, a refused file and a body that is not JSON', () => {
    const ok = { filename: 'a.pdf', ok: true, document_id: 'd1', chunks: 3, pages: 1, size: 10, content_type: 'application/pdf', duplicate: false };
    expect(uploadOutcome('a.pdf', 200, JSON.stringify({ collection: 'c', results: [ok] }))).toEqual(ok);
    const refused = { filename: 'a.exe', ok: false, error: { code: 'unsupported_file', message: 'Not a document.' } };
    const body = JSON.stringify({ error: refused.error, results: [refused] });
    expect(uploadOutcome('a.exe', 415, body)).toEqual(refused);
    expect(uploadOutcome('big.pdf', 413, 'Request Entity Too Large')).toMatchObject({ ok: false, error: { code: 'too_large' } });
  });

  it('sends one multipart request per file and reports progress', async () => {
    const sent: FormData[] = [];
    const headers: Record<string, string> = {};
    class FakeXHR {
      status = 0;
      responseText = '';
      upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null };
      onload: (() => void) | null = null;
      onerror: (() => void) | null = null;
      onabort: (() => void) | null = null;
      open(method: string, url: string) {
        expect([method, url]).toEqual(['POST', '/api/documents/upload']);
      }
      setRequestHeader(name: string, value: string) {
        headers[name] = value;
      }
      abort() {
        this.onabort?.();
      }
      send(form: FormData) {
        sent.push(form);
        this.upload.onprogress?.({ lengthComputable: true, loaded: 5, total: 10 } as ProgressEvent);
        this.status = 200;
        this.responseText = JSON.stringify({ results: [{ filename: 'n.txt', ok: true, chunks: 1 }] });
        this.onload?.();
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXHR);
    const progress: number[] = [];
    const file = new File(['hello'], 'n.txt', { type: 'text/plain' });
    const result = await uploadFile(file, { collection: 'c', tags: 'x,y', onProgress: (f) => progress.push(f) });
    expect(result).toMatchObject({ ok: true, chunks: 1 });
    expect(progress).toEqual([0.5]);
    expect(sent[0].get('collection')).toBe('c');
    expect(sent[0].get('tags')).toBe('x,y');
    expect((sent[0].get('file') as File).name).toBe('n.txt');
    expect(headers['X-Ragis-Workspace']).toBeUndefined();
    useWorkspace('team');
    await uploadFile(file, { collection: 'c' });
    useWorkspace(null);
    expect(headers['X-Ragis-Workspace']).toBe('team');
  });
});

describe('credentials, workspace and a lost session', () => {
  afterEach(() => {
    useWorkspace(null);
    onUnauthenticated(null);
  });

  it('sends the cookie and the chosen workspace with every call, the chat stream included', async () => {
    useWorkspace('team');
    const chat = fakeFetch(() => eventStream(chunked(encoder.encode(STREAM), [])));
    await collect(streamChat({ message: 'hi?', collection: 'default' }));
    const json = fakeFetch(() => Response.json({ collection: 'c', documents: [] }));
    await listDocuments('c');
    for (const [, init] of [chat.mock.calls[0], json.mock.calls[0]]) {
      expect(init?.credentials).toBe('same-origin');
      expect(new Headers(init?.headers).get('X-Ragis-Workspace')).toBe('team');
    }
  });

  it('tells the listener of a 401 from a call or the chat stream, and keeps the wait of a 429', async () => {
    const lost = vi.fn();
    onUnauthenticated(lost);
    const body = JSON.stringify({ error: { code: 'unauthenticated', message: 'Sign in.' } });
    fakeFetch(() => new Response(body, { status: 401 }));
    await expect(listDocuments('c')).rejects.toMatchObject({ status: 401 });
    await expect(collect(streamChat({ message: 'q', collection: 'c' }))).rejects.toMatchObject({ status: 401 });
    expect(lost).toHaveBeenCalledTimes(2);
    const slow = JSON.stringify({ error: { code: 'too_many_attempts', message: 'Wait.' } });
    fakeFetch(() => new Response(slow, { status: 429, headers: { 'Retry-After': '42' } }));
    await expect(listDocuments('c')).rejects.toMatchObject({ status: 429, retryAfter: 42 });
    expect(lost).toHaveBeenCalledTimes(2);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterSeconds('120')).toBe(120);
    expect(retryAfterSeconds(new Date(61_000).toUTCString(), 0)).toBe(61);
    expect(retryAfterSeconds(null)).toBeNull();
    expect(retryAfterSeconds('soon')).toBeNull();
  });
});
