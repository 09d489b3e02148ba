// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Chat, chatRequest, keepBefore, lastQuestion } from './chat.svelte';

const encoder = new TextEncoder();
const sse = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const META = {
  session_id: 's42', collection: 'c', provider: 'openai', model: 'm', cache_hit: false, query: 'q', partial: false,
  retrieval: 'hybrid', grounded: true, best_score: 0.8, scope: 'passages',
};
const CITATION = { n: 1, doc_id: 'd1', filename: 'a.pdf', page: 1, score: 0.8, text: 'passage', legs: ['lexical', 'vector'] };

/** fetch that answers each request with the next scripted Response. */
function script(...responses: (() => Response)[]) {
  const fn = vi.fn(async (_url: string, init: RequestInit = {}) => {
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    return responses.shift()!();
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

function stream(text: string, keepOpen = false): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(text));
      if (!keepOpen) controller.close();
    },
  });
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
}

beforeEach(() => localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe('Chat', () => {
  it('streams an answer into the last turn and remembers the session', async () => {
    script(() =>
      stream(
        sse('meta', { ...META, cache_hit: true }) + sse('citations', { citations: [CITATION] }) +
          sse('token', { text: 'Hello ' }) + sse('token', { text: 'there [1]' }) +
          sse('done', { timings: { total: 5 }, cache_hit: true }),
      ),
    );
    const chat = new Chat();
    await chat.send('  Hi?  ', 'c');
    const [user, answer] = chat.turns;
    expect(user).toMatchObject({ role: 'user', content: 'Hi?' });
    expect(answer).toMatchObject({ role: 'assistant', content: 'Hello there [1]', cacheHit: true, streaming: false, error: null });
    expect(answer.citations).toEqual([CITATION]);
    expect(answer.timings).toEqual({ total: 5 });
    expect(chat.sessionId).toBe('s42');
    expect(localStorage.getItem('ragis.session')).toBe('s42');
  });

  it('sends the session id with the next question', async () => {
    localStorage.setItem('ragis.session', 's42');
    const fetchMock = script(() => stream(sse('done', { timings: {}, cache_hit: false })));
    await new Chat().send('again', 'c');
    expect(JSON.parse(String(fetchMock.mock.calls[0][1]?.body))).toEqual({ message: 'again', collection: 'c', session_id: 's42' });
  });

  it('keeps what meta says of the answer: grounded, best score, mode and scope', async () => {
    script(() =>
      stream(
        sse('meta', { ...META, grounded: false, best_score: 0.21, retrieval: 'vector', scope: 'passages' }) +
          sse('citations', { citations: [CITATION] }) + sse('token', { text: 'Not in your documents.' }) +
          sse('done', { timings: { total: 5 }, cache_hit: false }),
      ),
    );
    const chat = new Chat();
    await chat.send('What is the capital of Australia?', 'c');
    expect(chat.turns[1]).toMatchObject({ grounded: false, bestScore: 0.21, retrieval: 'vector', scope: 'passages' });
    expect(chat.turns[1].citations[0].legs).toEqual(['lexical', 'vector']);
    expect(chat.turns[0]).toMatchObject({ grounded: null, bestScore: null, scope: null });
  });

  it('marks a whole-document answer', async () => {
    script(() => stream(sse('meta', { ...META, scope: 'document' }) + sse('done', { timings: {}, cache_hit: false })));
    const chat = new Chat();
    await chat.send('Summarize this document.', 'c', { docIds: ['d1'] });
    expect(chat.turns[1].scope).toBe('document');
  });

  it('sends the chosen retrieval mode and the picked document, and nothing when none was chosen', async () => {
    const fetchMock = script(
      () => stream(sse('done', { timings: {}, cache_hit: false })),
      () => stream(sse('done', { timings: {}, cache_hit: false })),
    );
    const chat = new Chat();
    await chat.send('E44-4471?', 'c', { retrieval: 'lexical', docIds: ['d1'] });
    await chat.send('and then?', 'c', { retrieval: null, docIds: [] });
    const bodies = fetchMock.mock.calls.map((call) => JSON.parse(String(call[1]?.body)));
    expect(bodies[0]).toEqual({ message: 'E44-4471?', collection: 'c', retrieval: 'lexical', filter: { doc_ids: ['d1'] } });
    expect(bodies[1]).toEqual({ message: 'and then?', collection: 'c' });
  });

  it('builds a request with only what was chosen', () => {
    expect(chatRequest('q', 'c', null)).toEqual({ message: 'q', collection: 'c', session_id: undefined });
    expect(chatRequest('q', 'c', 's1', { retrieval: 'hybrid' })).toEqual({
      message: 'q', collection: 'c', session_id: 's1', retrieval: 'hybrid',
    });
    expect(chatRequest('q', 'c', null, { docIds: ['a'] }).filter).toEqual({ doc_ids: ['a'] });
  });

  it('maps every ask option to the request, and leaves out what was not chosen', () => {
    const options = { retrieval: 'vector' as const, docIds: ['a', 'b'], tags: ['hr'], topK: 3, model: 'gpt-x', maxTokens: 300 };
    expect(chatRequest('q', 'c', 's1', options)).toEqual({
      message: 'q', collection: 'c', session_id: 's1', retrieval: 'vector',
      filter: { doc_ids: ['a', 'b'], tags: ['hr'] }, top_k: 3, model: 'gpt-x', max_tokens: 300,
    });
    expect(chatRequest('q', 'c', null, { tags: ['hr'] }).filter).toEqual({ tags: ['hr'] });
    const none = { retrieval: null, docIds: [], tags: [], topK: null, model: null, maxTokens: null };
    expect(chatRequest('q', 'c', null, none)).toEqual({ message: 'q', collection: 'c', session_id: undefined });
  });

  it('asks for a document first when the collection does not exist', async () => {
    script(() => Response.json({ error: { code: 'not_found', message: "There is no collection 'c'." } }, { status: 404 }));
    const chat = new Chat();
    await chat.send('q', 'c');
    expect(chat.turns[1].error).toEqual({ title: 'Upload a document first', message: "There is no collection 'c'." });
  });

  it('says to start a new chat when the session belongs to another collection', async () => {
    const message = "This session belongs to another collection, not 'c': start a new conversation.";
    script(() => Response.json({ error: { code: 'session_collection_mismatch', message } }, { status: 409 }));
    const chat = new Chat();
    await chat.send('q', 'c');
    expect(chat.turns[1].error).toEqual({ title: 'Start a new chat to ask this collection', message });
  });

  it('shows an error event as the answer error', async () => {
    script(() => stream(sse('meta', META) + sse('error', { code: 'llm_unavailable', message: 'Ollama is down.' })));
    const chat = new Chat();
    await chat.send('q', 'c');
    expect(chat.turns[1].error?.message).toBe('Ollama is down.');
    expect(chat.streaming).toBe(false);
  });

  it('stops on request, keeps the partial answer and shows no error', async () => {
    script(() => stream(sse('meta', META) + sse('token', { text: 'part' }), true));
    const chat = new Chat();
    const pending = chat.send('q', 'c');
    await vi.waitFor(() => expect(chat.turns[1].content).toBe('part'));
    chat.stop();
    await pending;
    expect(chat.turns[1]).toMatchObject({ content: 'part', stopped: true, error: null, streaming: false });
  });

  it('reloads the history of the stored session, and forgets an expired one', async () => {
    localStorage.setItem('ragis.session', 's42');
    const messages = [
      { role: 'user', content: 'q', time: 1 },
      { role: 'assistant', content: 'a [1]', time: 2, citations: [CITATION], cache_hit: true, grounded: true },
      { role: 'user', content: 'capital?', time: 3, grounded: null },
      { role: 'assistant', content: 'Not found.', time: 4, citations: [CITATION], grounded: false },
    ];
    script(() => Response.json({ session_id: 's42', messages, ttl: 100 }));
    const chat = new Chat();
    await chat.restore();
    expect(chat.turns.map((t) => [t.role, t.content, t.cacheHit, t.grounded])).toEqual([
      ['user', 'q', false, null],
      ['assistant', 'a [1]', true, true],
      ['user', 'capital?', false, null],
      ['assistant', 'Not found.', false, false],
    ]);

    script(() => Response.json({ error: { code: 'not_found', message: 'expired' } }, { status: 404 }));
    const fresh = new Chat();
    await fresh.restore();
    expect(fresh.turns).toEqual([]);
    expect(fresh.sessionId).toBeNull();
    expect(localStorage.getItem('ragis.session')).toBeNull();
  });

  it('starts a new chat without the old session', () => {
    localStorage.setItem('ragis.session', 's42');
    const chat = new Chat();
    chat.newChat();
    expect(chat.sessionId).toBeNull();
    expect(localStorage.getItem('ragis.session')).toBeNull();
  });

  it('starts a new chat in another collection: the old stream is stopped and nothing of it stays', async () => {
    script(() => stream(sse('token', { text: 'part' }) + sse('meta', META), true));
    const chat = new Chat('c');
    const pending = chat.send('q', 'c');
    await vi.waitFor(() => expect(chat.turns[1]?.content).toBe('part'));
    chat.newChat('tea');
    await pending;
    expect(chat).toMatchObject({ collection: 'tea', sessionId: null, streaming: false, turns: [] });
    expect(localStorage.getItem('ragis.session')).toBeNull();
  });
});

/** A JSON answer for the next request. */
const json = (body: object, status = 200) => () => Response.json(body, { status });
const CONVERSATION = { session_id: 's42', title: 'q', collection: 'c', created: 1, updated: 2, messages: 2, ttl: 100 };

describe('stored answers', () => {
  it('come back with their stopped badge, error, details and model', async () => {
    localStorage.setItem('ragis.session', 's42');
    const messages = [
      { role: 'user', content: 'first', time: 1 },
      { role: 'assistant', content: 'par', time: 2, stopped: true },
      { role: 'user', content: 'second', time: 3 },
      { role: 'assistant', content: '', time: 4, error: { code: 'llm_unavailable', message: 'The LLM is down.' } },
      { role: 'user', content: 'third', time: 5 },
      {
        role: 'assistant', content: 'Yes [1].', time: 6, citations: [CITATION], timings: { total: 12, search: 3 },
        retrieval: 'hybrid', best_score: 0.7, scope: 'passages', model: 'gpt-x',
      },
    ];
    script(json({ session_id: 's42', messages, ttl: 100 }));
    const chat = new Chat('c');
    await chat.restore();
    const answers = chat.turns.filter((t) => t.role === 'assistant');
    expect(answers[0]).toMatchObject({ content: 'par', stopped: true, error: null });
    expect(answers[1]).toMatchObject({ stopped: false, error: { title: 'The answer failed', message: 'The LLM is down.' } });
    expect(answers[2]).toMatchObject({
      timings: { total: 12, search: 3 }, retrieval: 'hybrid', bestScore: 0.7, scope: 'passages', model: 'gpt-x',
    });
    expect(chat.turns.every((t) => t.stored)).toBe(true);
  });
});

describe('asking again', () => {
  it('counts only the turns the server stored before a question', () => {
    const turns = [{ stored: true }, { stored: true }, { stored: false }, { stored: false }, { stored: true }];
    expect(keepBefore(turns, 0)).toBe(0);
    expect(keepBefore(turns, 2)).toBe(2);
    expect(keepBefore(turns, 4)).toBe(2);
    expect(keepBefore(turns, 5)).toBe(3);
    expect(lastQuestion([{ role: 'user' }, { role: 'assistant' }, { role: 'user' }, { role: 'assistant' }])).toBe(2);
    expect(lastQuestion([])).toBe(-1);
  });

  async function twoTurns() {
    const messages = [
      { role: 'user', content: 'one', time: 1 },
      { role: 'assistant', content: 'A1', time: 2 },
      { role: 'user', content: 'two', time: 3 },
      { role: 'assistant', content: 'A2', time: 4 },
    ];
    localStorage.setItem('ragis.session', 's42');
    script(json({ session_id: 's42', messages, ttl: 100 }));
    const chat = new Chat('c');
    await chat.restore();
    return chat;
  }

  it('retries the last answer: cuts the conversation before its question, then asks it again', async () => {
    const chat = await twoTurns();
    const fetchMock = script(json({ ...CONVERSATION, messages: 2 }), () => stream(sse('meta', META) + sse('token', { text: 'A2 again' }) + sse('done', { timings: {}, cache_hit: false })));
    const changes = chat.changes;
    await chat.retry({ topK: 4 });
    const [truncate, ask] = fetchMock.mock.calls;
    expect(truncate[0]).toBe('/api/sessions/s42/truncate');
    expect(truncate[1]?.method).toBe('POST');
    expect(JSON.parse(String(truncate[1]?.body))).toEqual({ keep: 2 });
    expect(JSON.parse(String(ask[1]?.body))).toEqual({ message: 'two', collection: 'c', session_id: 's42', top_k: 4, fresh: true });
    expect(chat.turns.map((t) => t.content)).toEqual(['one', 'A1', 'two', 'A2 again']);
    expect(chat.changes).toBeGreaterThan(changes);
  });

  it('edits a question: cuts before it and asks the new text', async () => {
    const chat = await twoTurns();
    const fetchMock = script(json({ ...CONVERSATION, messages: 0 }), () => stream(sse('meta', META) + sse('token', { text: 'B' }) + sse('done', { timings: {}, cache_hit: false })));
    await chat.edit(chat.turns[0].id, '  one, edited ');
    expect(JSON.parse(String(fetchMock.mock.calls[0][1]?.body))).toEqual({ keep: 0 });
    expect(JSON.parse(String(fetchMock.mock.calls[1][1]?.body)).message).toBe('one, edited');
    expect(chat.turns.map((t) => t.content)).toEqual(['one, edited', 'B']);
  });

  it('does not count a question refused before its stream', async () => {
    const chat = await twoTurns();
    script(json({ error: { code: 'too_long', message: 'Too long.' } }, 422));
    await chat.send('three', 'c');
    expect(chat.turns[5].error?.message).toBe('Too long.');
    const fetchMock = script(json({ ...CONVERSATION, messages: 4 }), () => stream(sse('meta', META) + sse('done', { timings: {}, cache_hit: false })));
    await chat.retry();
    expect(JSON.parse(String(fetchMock.mock.calls[0][1]?.body))).toEqual({ keep: 4 });
    expect(chat.turns.map((t) => t.content)).toEqual(['one', 'A1', 'two', 'A2', 'three', '']);
  });

  it('asks again as a new conversation when the server no longer knows it, and keeps the turns on another failure', async () => {
    const chat = await twoTurns();
    script(json({ error: { code: 'internal', message: 'Redis is down.' } }, 503));
    await chat.retry();
    expect(chat.error?.title).toBe('Could not ask again');
    expect(chat.turns).toHaveLength(4);

    const fetchMock = script(json({ error: { code: 'not_found', message: 'gone' } }, 404), () => stream(sse('done', { timings: {}, cache_hit: false })));
    await chat.retry();
    expect(JSON.parse(String(fetchMock.mock.calls[1][1]?.body))).toEqual({ message: 'two', collection: 'c', fresh: true });
  });
});

describe('opening a conversation', () => {
  it('shows its messages and asks its collection; a conversation gone is said so', async () => {
    const messages = [{ role: 'user', content: 'old question', time: 1 }, { role: 'assistant', content: 'old answer', time: 2 }];
    script(json({ session_id: 's7', messages, ttl: 100 }));
    const chat = new Chat('c');
    await chat.open('s7', 'manuals');
    expect(chat).toMatchObject({ sessionId: 's7', collection: 'manuals', restoring: false });
    expect(chat.turns.map((t) => t.content)).toEqual(['old question', 'old answer']);
    expect(localStorage.getItem('ragis.session')).toBe('s7');

    script(json({ error: { code: 'not_found', message: 'gone' } }, 404));
    await chat.open('s8', 'c');
    expect(chat).toMatchObject({ sessionId: null, collection: 'c', turns: [] });
  });
});
