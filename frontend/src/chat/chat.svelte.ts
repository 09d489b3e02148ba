/**
 * The conversation: its turns, the streaming answer, the session id kept in localStorage, and
 * the history reloaded from the server after a page reload.
 */
import { ApiError, getSession, streamChat } from '../lib/api';
import { load, save } from '../lib/storage';
import type { AnswerScope, ChatEvent, ChatRequest, Citation, RetrievalMode, SessionMessage, Timings } from '../lib/types';

export interface TurnError {
  title: string;
  message: string;
}

export interface Turn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  citations: Citation[];
  cacheHit: boolean;
  timings: Timings | null;
  error: TurnError | null;
  streaming: boolean;
  stopped: boolean;
  /** false: no passage was close enough, the answer says so and the citations are the closest ones. */
  grounded: boolean | null;
  /** The best passage's similarity (0..1), when the server said. */
  bestScore: number | null;
  /** The retrieval mode that found the sources, when the server said. */
  retrieval: string | null;
  /** `document`: the answer read one whole document. */
  scope: AnswerScope | null;
}

/** What narrows one question: the retrieval mode (none: the server's) and the documents asked. */
export interface AskOptions {
  retrieval?: RetrievalMode | null;
  docIds?: string[];
}

let nextId = 1;

function turn(role: Turn['role'], content = '', extra: Partial<Turn> = {}): Turn {
  const base = {
    citations: [], cacheHit: false, timings: null, error: null, streaming: false, stopped: false,
    grounded: null, bestScore: null, retrieval: null, scope: null,
  };
  return { id: nextId++, role, content, ...base, ...extra };
}

function fromSession(m: SessionMessage): Turn {
  // The RAG service writes only these two roles; its schema leaves room for more.
  const extra = { citations: m.citations ?? [], cacheHit: m.cache_hit ?? false, grounded: m.grounded ?? null };
  return turn(m.role as Turn['role'], m.content, extra);
}

/** The request for one question: `retrieval` and `filter` only when the user chose them. */
export function chatRequest(
  message: string,
  collection: string,
  sessionId: string | null,
  options: AskOptions = {},
): ChatRequest {
  const request: ChatRequest = { message, collection, session_id: sessionId ?? undefined };
  if (options.retrieval) request.retrieval = options.retrieval;
  if (options.docIds?.length) request.filter = { doc_ids: options.docIds };
  return request;
}

/** A sentence for any failure; a 404 before the stream means the collection has no documents yet. */
export function describeError(error: unknown): TurnError {
  if (error instanceof ApiError) {
    if (error.status === 404) return { title: 'Upload a document first', message: error.message };
    // A session is bound to its collection; the view starts a new chat when the collection changes.
    if (error.status === 409) return { title: 'Start a new chat to ask this collection', message: error.message };
    if (error.code === 'unreachable') return { title: 'The gateway is not answering', message: error.message };
    return { title: 'The answer failed', message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { title: 'Something went wrong', message };
}

export class Chat {
  turns = $state<Turn[]>([]);
  sessionId = $state<string | null>(load('ragis.session'));
  streaming = $state(false);
  restoring = $state(false);
  /** A failure that belongs to no turn (loading the history). */
  error = $state<TurnError | null>(null);
  #controller: AbortController | null = null;

  /** Reload the stored session's messages; an expired session just starts a fresh chat. */
  async restore(): Promise<void> {
    const id = this.sessionId;
    if (!id) return;
    this.restoring = true;
    try {
      const session = await getSession(id);
      if (this.sessionId !== id || this.turns.length > 0) return; // the user moved on meanwhile
      if (session) this.turns = session.messages.map(fromSession);
      else this.#setSession(null);
    } catch (error) {
      const { message } = describeError(error);
      this.error = { title: 'Could not load the previous conversation', message };
    } finally {
      this.restoring = false;
    }
  }

  async send(text: string, collection: string, options: AskOptions = {}): Promise<void> {
    const message = text.trim();
    if (!message || this.streaming) return;
    this.error = null;
    this.turns.push(turn('user', message), turn('assistant', '', { streaming: true }));
    const answer = this.turns[this.turns.length - 1]; // the reactive proxy, not the plain object
    const controller = new AbortController();
    this.#controller = controller;
    this.streaming = true;
    try {
      const request = chatRequest(message, collection, this.sessionId, options);
      for await (const event of streamChat(request, controller.signal)) this.#apply(answer, event);
      answer.stopped = controller.signal.aborted;
    } catch (error) {
      answer.error = describeError(error);
    } finally {
      answer.streaming = false;
      this.streaming = false;
      this.#controller = null;
    }
  }

  /** Abort the answer being streamed; the server then cancels its LLM call. */
  stop(): void {
    this.#controller?.abort();
  }

  /** Forget this conversation here (the server's copy expires by itself). */
  newChat(): void {
    this.stop();
    this.turns = [];
    this.error = null;
    this.#setSession(null);
  }

  #setSession(id: string | null): void {
    this.sessionId = id;
    save('ragis.session', id);
  }

  #apply(answer: Turn, event: ChatEvent): void {
    switch (event.type) {
      case 'meta':
        if (event.session_id && event.session_id !== this.sessionId) this.#setSession(event.session_id);
        answer.cacheHit = event.cache_hit;
        answer.grounded = event.grounded ?? null;
        answer.bestScore = event.best_score ?? null;
        answer.retrieval = event.retrieval ?? null;
        answer.scope = event.scope ?? null;
        break;
      case 'citations':
        answer.citations = event.citations;
        break;
      case 'token':
        answer.content += event.text;
        break;
      case 'done':
        answer.timings = event.timings;
        answer.cacheHit = event.cache_hit || answer.cacheHit;
        break;
      case 'error':
        answer.error = { title: 'The answer failed', message: event.message };
        break;
    }
  }
}
