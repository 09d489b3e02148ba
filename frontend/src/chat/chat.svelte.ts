/**
 * The conversation: its turns, the streaming answer, the session id kept in localStorage, the
 * history reloaded from the server (after a page reload, or when a conversation is opened from the
 * list), and asking again from an earlier point (retry the last answer, edit a question).
 *
 * A conversation belongs to one collection (the server refuses its session in another, so that no
 * history of one collection reaches another): `collection` is the one it asks.
 */
import { ApiError, getSession, streamChat } from '../lib/api';
import { truncateConversation } from '../lib/api/conversations';
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
  /** The LLM model that wrote the answer, when the server said. */
  model: string | null;
  /**
   * The server keeps this turn in the session: loaded from it, or its question was accepted (the
   * stream began). A question refused before its stream is only here, so it is not counted when
   * the conversation is cut back on the server.
   */
  stored: boolean;
}

/** What narrows one question; every field left out is the server's default. */
export interface AskOptions {
  /** The retrieval mode (none: the server's). */
  retrieval?: RetrievalMode | null;
  /** Only these documents. */
  docIds?: string[];
  /** Only documents with one of these tags. */
  tags?: string[];
  /** Passages per answer. */
  topK?: number | null;
  /** The LLM model of the answer (one the provider lists). */
  model?: string | null;
  /** At most this many answer tokens. */
  maxTokens?: number | null;
  /** Not from the semantic cache: a retry wants another answer. */
  fresh?: boolean;
}

let nextId = 1;

function turn(role: Turn['role'], content = '', extra: Partial<Turn> = {}): Turn {
  const base = {
    citations: [], cacheHit: false, timings: null, error: null, streaming: false, stopped: false,
    grounded: null, bestScore: null, retrieval: null, scope: null, model: null, stored: false,
  };
  return { id: nextId++, role, content, ...base, ...extra };
}

export const FAILED = 'The answer failed';

/** A stored message as a turn, with what the server kept of an answer (stopped, its error, details). */
export function fromSession(m: SessionMessage): Turn {
  // The RAG service writes only these two roles; its schema leaves room for more.
  return turn(m.role as Turn['role'], m.content, {
    citations: m.citations ?? [],
    cacheHit: m.cache_hit ?? false,
    grounded: m.grounded ?? null,
    stopped: m.stopped ?? false,
    error: m.error ? { title: FAILED, message: m.error.message } : null,
    timings: m.timings ?? null,
    retrieval: m.retrieval ?? null,
    bestScore: m.best_score ?? null,
    scope: m.scope ?? null,
    model: m.model ?? null,
    stored: true,
  });
}

/** The request for one question: every option only when it was chosen. */
export function chatRequest(
  message: string,
  collection: string,
  sessionId: string | null,
  options: AskOptions = {},
): ChatRequest {
  const request: ChatRequest = { message, collection, session_id: sessionId ?? undefined };
  if (options.retrieval) request.retrieval = options.retrieval;
  const filter: NonNullable<ChatRequest['filter']> = {};
  if (options.docIds?.length) filter.doc_ids = options.docIds;
  if (options.tags?.length) filter.tags = options.tags;
  if (filter.doc_ids || filter.tags) request.filter = filter;
  if (options.topK != null) request.top_k = options.topK;
  if (options.model) request.model = options.model;
  if (options.maxTokens != null) request.max_tokens = options.maxTokens;
  if (options.fresh) request.fresh = true;
  return request;
}

/**
 * How many of the server's messages come before `turns[index]`: the `keep` of a truncate that
 * asks again from that question. Turns the server never stored are not counted.
 */
export function keepBefore(turns: readonly Pick<Turn, 'stored'>[], index: number): number {
  return turns.slice(0, index).filter((t) => t.stored).length;
}

/** The index of the last question, or -1. */
export function lastQuestion(turns: readonly Pick<Turn, 'role'>[]): number {
  for (let i = turns.length - 1; i >= 0; i--) if (turns[i].role === 'user') return i;
  return -1;
}

/** A sentence for any failure; a 404 before the stream means the collection has no documents yet. */
export function describeError(error: unknown): TurnError {
  if (error instanceof ApiError) {
    if (error.status === 404) return { title: 'Upload a document first', message: error.message };
    // A session is bound to its collection; the view starts a new chat when the collection changes.
    if (error.status === 409) return { title: 'Start a new chat to ask this collection', message: error.message };
    if (error.code === 'unreachable') return { title: 'The gateway is not answering', message: error.message };
    return { title: FAILED, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { title: 'Something went wrong', message };
}

export class Chat {
  turns = $state<Turn[]>([]);
  sessionId = $state<string | null>(load('ragis.session'));
  /** The collection this conversation asks. */
  collection = $state<string | null>(null);
  streaming = $state(false);
  restoring = $state(false);
  /** A failure that belongs to no turn (loading a conversation, cutting it back). */
  error = $state<TurnError | null>(null);
  /** Counts changes of the server's copy (an answer stored, a truncate): the list refreshes on it. */
  changes = $state(0);
  #controller: AbortController | null = null;
  /** Bumped by every new or opened conversation: a stream or a load for an older one must not write here. */
  generation = $state(0);

  constructor(collection: string | null = null) {
    this.collection = collection;
  }

  /** Reload the stored session's messages; an expired session just starts a fresh chat. */
  async restore(): Promise<void> {
    const id = this.sessionId;
    if (!id) return;
    await this.#load(id, 'Could not load the previous conversation');
  }

  /** Show a conversation from the list (it asks `collection` from now on). */
  async open(id: string, collection: string): Promise<void> {
    this.newChat(collection);
    this.#setSession(id);
    await this.#load(id, 'Could not open the conversation');
  }

  async #load(id: string, failure: string): Promise<void> {
    const generation = this.generation;
    this.restoring = true;
    try {
      const session = await getSession(id);
      if (generation !== this.generation || this.turns.length > 0) return; // the user moved on meanwhile
      if (session) this.turns = session.messages.map(fromSession);
      else {
        this.#setSession(null);
        this.changes++; // the list still shows it
      }
    } catch (error) {
      if (generation !== this.generation) return;
      this.error = { title: failure, message: describeError(error).message };
    } finally {
      if (generation === this.generation) this.restoring = false;
    }
  }

  async send(text: string, collection: string, options: AskOptions = {}): Promise<void> {
    const message = text.trim();
    if (!message || this.streaming) return;
    this.error = null;
    this.collection = collection;
    this.turns.push(turn('user', message), turn('assistant', '', { streaming: true }));
    const question = this.turns[this.turns.length - 2]; // the reactive proxies, not the plain objects
    const answer = this.turns[this.turns.length - 1];
    const generation = this.generation;
    const controller = new AbortController();
    this.#controller = controller;
    this.streaming = true;
    try {
      const request = chatRequest(message, collection, this.sessionId, options);
      for await (const event of streamChat(request, controller.signal)) {
        if (event.type === 'meta') question.stored = answer.stored = true;
        this.#apply(answer, event, generation);
      }
      answer.stopped = controller.signal.aborted;
    } catch (error) {
      answer.error = describeError(error);
    } finally {
      answer.streaming = false;
      if (generation === this.generation) {
        this.streaming = false;
        this.#controller = null;
        if (answer.stored) this.changes++;
      }
    }
  }

  /** Ask the last question again, in place of its answer. */
  async retry(options: AskOptions = {}): Promise<void> {
    const index = lastQuestion(this.turns);
    if (index < 0) return;
    // The same question again wants another answer, not the cached one.
    await this.#askAgain(index, this.turns[index].content, { ...options, fresh: true });
  }

  /** Ask `text` in place of the question `turnId` and everything after it. */
  async edit(turnId: number, text: string, options: AskOptions = {}): Promise<void> {
    const index = this.turns.findIndex((t) => t.id === turnId && t.role === 'user');
    if (index < 0 || !text.trim()) return;
    await this.#askAgain(index, text, options);
  }

  async #askAgain(index: number, text: string, options: AskOptions): Promise<void> {
    const collection = this.collection;
    if (this.streaming || !collection) return;
    const id = this.sessionId;
    const generation = this.generation;
    if (id) {
      try {
        await truncateConversation(id, keepBefore(this.turns, index));
      } catch (error) {
        if (generation !== this.generation) return;
        // A conversation the server no longer knows: ask again as a new one.
        if (error instanceof ApiError && error.status === 404) this.#setSession(null);
        else {
          this.error = { title: 'Could not ask again', message: describeError(error).message };
          return;
        }
      }
      if (generation !== this.generation) return;
    }
    this.turns = this.turns.slice(0, index);
    await this.send(text, collection, options);
  }

  /** Abort the answer being streamed; the server then cancels its LLM call (and keeps the part). */
  stop(): void {
    this.#controller?.abort();
  }

  /** Start afresh (in `collection`, when given); the old conversation stays on the server and in the list. */
  newChat(collection?: string): void {
    this.stop();
    this.generation++;
    this.#controller = null;
    this.streaming = false;
    this.restoring = false;
    this.turns = [];
    this.error = null;
    if (collection !== undefined) this.collection = collection;
    this.#setSession(null);
  }

  #setSession(id: string | null): void {
    this.sessionId = id;
    save('ragis.session', id);
  }

  #apply(answer: Turn, event: ChatEvent, generation: number): void {
    switch (event.type) {
      case 'meta':
        if (generation === this.generation && event.session_id && event.session_id !== this.sessionId) {
          this.#setSession(event.session_id);
        }
        answer.cacheHit = event.cache_hit;
        answer.grounded = event.grounded ?? null;
        answer.bestScore = event.best_score ?? null;
        answer.retrieval = event.retrieval ?? null;
        answer.scope = event.scope ?? null;
        answer.model = event.model ?? null;
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
        answer.error = { title: FAILED, message: event.message };
        break;
    }
  }
}
