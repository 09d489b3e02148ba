/**
 * All network I/O of the UI: JSON calls, the chat's SSE stream and file uploads.
 *
 * Every failure reaches callers as an `ApiError` (code + a sentence a user can act on), taken from
 * the gateway's `{"error": {"code", "message"}}` body when there is one. An aborted chat stream is
 * not a failure: `streamChat` just ends. Components never call `fetch` themselves.
 *
 * Every request carries the session cookie (`credentials: 'same-origin'`) and, once the UI has
 * chosen one, the workspace (`X-Ragis-Workspace`). A 401 from any call but the sign-in itself tells
 * the `onUnauthenticated` listener, which shows the sign-in page again.
 */
import type {
  ApiKey,
  ApiKeyCreated,
  ChatEvent,
  ChatRequest,
  Collection,
  CollectionUpdate,
  DocumentInfo,
  ErrorInfo,
  Health,
  Me,
  Member,
  MemberRole,
  Session,
  UploadResult,
  User,
  UserRole,
  WorkspaceCreated,
  WorkspaceInfo,
} from './types';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Seconds to wait before trying again (a 429's `Retry-After`), when the server said. */
  retryAfter: number | null = null;
  constructor(code: string, message: string, status = 0) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

export const WORKSPACE_HEADER = 'X-Ragis-Workspace';

let workspace: string | null = null;
let unauthenticated: (() => void) | null = null;

/** The workspace every later call works in; null sends none (the server's default). */
export function useWorkspace(name: string | null): void {
  workspace = name;
}

/** Called whenever the server answers 401: the session expired, was revoked or never was. */
export function onUnauthenticated(listener: (() => void) | null): void {
  unauthenticated = listener;
}

export function workspaceHeaders(): Record<string, string> {
  return workspace ? { [WORKSPACE_HEADER]: workspace } : {};
}

export function noticeStatus(status: number): void {
  if (status === 401) unauthenticated?.();
}

/** Seconds from a `Retry-After` header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

const UNREACHABLE = 'Cannot reach the ragis gateway. Is it running?';

function isErrorInfo(value: unknown): value is ErrorInfo {
  const v = value as ErrorInfo | null;
  return typeof v === 'object' && v !== null && typeof v.message === 'string';
}

/** The error a non-2xx answer stands for: the gateway's own sentence, or one made from the status. */
export function errorFromBody(status: number, text: string, statusText = ''): ApiError {
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: a proxy's page, or an empty body
  }
  const err = (body as { error?: unknown } | null)?.error;
  if (isErrorInfo(err)) return new ApiError(err.code || `http_${status}`, err.message, status);
  if (status === 502 || status === 503 || status === 504) {
    return new ApiError('unreachable', `${UNREACHABLE} (HTTP ${status})`, status);
  }
  if (status === 413) return new ApiError('too_large', 'The request is too large for the server.', status);
  const reason = statusText ? ` ${statusText}` : '';
  return new ApiError(`http_${status}`, `The server answered HTTP ${status}${reason}.`, status);
}

export async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  const error = errorFromBody(res.status, text, res.statusText);
  error.retryAfter = retryAfterSeconds(res.headers.get('Retry-After'));
  return error;
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (error as { name?: string } | null)?.name === 'AbortError';
}

export async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { credentials: 'same-origin', ...init });
  } catch (error) {
    if (isAbort(error, init.signal ?? undefined)) throw error;
    throw new ApiError('unreachable', UNREACHABLE);
  }
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** false for calls that are about the user, not a workspace (so a stale choice cannot 404). */
  inWorkspace?: boolean;
  /** false for the sign-in itself, whose 401 is a wrong password, not a lost session. */
  signedIn?: boolean;
}

export async function request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const { signal, inWorkspace = true, signedIn = true } = options;
  const headers: Record<string, string> = { Accept: 'application/json', ...(inWorkspace ? workspaceHeaders() : {}) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await send(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    const error = await errorFrom(res);
    if (signedIn) noticeStatus(res.status);
    throw error;
  }
  return (await res.json()) as T;
}

const enc = encodeURIComponent;

export async function getHealth(signal?: AbortSignal): Promise<Health> {
  const health = await request<Health>('GET', '/api/health', undefined, { signal, inWorkspace: false });
  // Without credentials the gateway tells only its status: the session is gone.
  if (!health.gateway) {
    noticeStatus(401);
    throw new ApiError('unauthenticated', 'Sign in to see the service status.', 401);
  }
  return health;
}

export async function listCollections(): Promise<Collection[]> {
  return (await request<{ collections: Collection[] }>('GET', '/api/collections')).collections;
}

export async function createCollection(name: string): Promise<void> {
  await request('POST', '/api/collections', { name });
}

/** Change a collection's settings (its grounded threshold); answers the collection as listed. */
export async function updateCollection(name: string, change: CollectionUpdate): Promise<Collection> {
  return request<Collection>('PATCH', `/api/collections/${enc(name)}`, change);
}

export async function deleteCollection(name: string): Promise<void> {
  await request('DELETE', `/api/collections/${enc(name)}`);
}

export async function listDocuments(collection: string): Promise<DocumentInfo[]> {
  const path = `/api/documents?collection=${enc(collection)}`;
  return (await request<{ documents: DocumentInfo[] }>('GET', path)).documents;
}

export async function deleteDocument(id: string, collection: string): Promise<void> {
  await request('DELETE', `/api/documents/${enc(id)}?collection=${enc(collection)}`);
}

/** A session's messages, or null when the server no longer knows it (expired or deleted). */
export async function getSession(id: string): Promise<Session | null> {
  try {
    return await request<Session>('GET', `/api/sessions/${enc(id)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export async function deleteSession(id: string): Promise<void> {
  try {
    await request('DELETE', `/api/sessions/${enc(id)}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
}

// --- Accounts: sign-in, keys, users, workspaces and members --------------------------------------

/** Who is signed in and where; a 401 (thrown) means nobody is. */
export async function getMe(): Promise<Me> {
  return request<Me>('GET', '/api/me', undefined, { inWorkspace: false, signedIn: false });
}

export async function login(username: string, password: string): Promise<Me> {
  return request<Me>('POST', '/api/auth/login', { username, password }, { inWorkspace: false, signedIn: false });
}

export async function logout(): Promise<void> {
  await request('POST', '/api/auth/logout', undefined, { inWorkspace: false, signedIn: false });
}

export async function listKeys(): Promise<ApiKey[]> {
  return (await request<{ keys: ApiKey[] }>('GET', '/api/keys', undefined, { inWorkspace: false })).keys;
}

export async function createKey(name: string, keyWorkspace: string | null): Promise<ApiKeyCreated> {
  const body = keyWorkspace ? { name, workspace: keyWorkspace } : { name };
  return request<ApiKeyCreated>('POST', '/api/keys', body, { inWorkspace: false });
}

export async function revokeKey(id: string): Promise<void> {
  await request('DELETE', `/api/keys/${enc(id)}`, undefined, { inWorkspace: false });
}

export async function listUsers(): Promise<User[]> {
  return (await request<{ users: User[] }>('GET', '/api/users', undefined, { inWorkspace: false })).users;
}

export async function createUser(username: string, password: string, role: UserRole): Promise<User> {
  return request<User>('POST', '/api/users', { username, password, role }, { inWorkspace: false });
}

export async function deleteUser(username: string): Promise<void> {
  await request('DELETE', `/api/users/${enc(username)}`, undefined, { inWorkspace: false });
}

export async function listWorkspaces(): Promise<WorkspaceInfo[]> {
  const path = '/api/workspaces';
  return (await request<{ workspaces: WorkspaceInfo[] }>('GET', path, undefined, { inWorkspace: false })).workspaces;
}

export async function createWorkspace(name: string): Promise<WorkspaceCreated> {
  return request<WorkspaceCreated>('POST', '/api/workspaces', { name }, { inWorkspace: false });
}

export async function listMembers(name: string): Promise<Member[]> {
  const path = `/api/workspaces/${enc(name)}/members`;
  return (await request<{ members: Member[] }>('GET', path, undefined, { inWorkspace: false })).members;
}

export async function setMember(name: string, username: string, role: MemberRole): Promise<void> {
  await request('POST', `/api/workspaces/${enc(name)}/members`, { username, role }, { inWorkspace: false });
}

export async function removeMember(name: string, username: string): Promise<void> {
  const path = `/api/workspaces/${enc(name)}/members/${enc(username)}`;
  await request('DELETE', path, undefined, { inWorkspace: false });
}

// --- Server-Sent Events -------------------------------------------------------------------------

export interface SSEMessage {
  event: string;
  data: string;
  id?: string;
}

/**
 * The events of an SSE body, per the WHATWG parsing rules: any of `\n`, `\r\n`, `\r` ends a line,
 * comment lines (`: keep-alive`) are skipped, several `data:` lines join with `\n`, and an event
 * left unfinished when the body ends is dropped. Chunk boundaries may fall anywhere, including
 * inside a UTF-8 character or between `\r` and `\n`. Aborting `signal` ends the generator quietly.
 */
export async function* parseSSE(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SSEMessage> {
  const reader = body.getReader();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  try {
    if (signal?.aborted) return;
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      for (;;) {
        const cr = buffer.indexOf('\r', start);
        const lf = buffer.indexOf('\n', start);
        const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
        if (end < 0) break;
        // A '\r' at the very end may be the first half of '\r\n': wait for the next chunk.
        if (end === cr && end === buffer.length - 1 && !done) break;
        const line = buffer.slice(start, end);
        start = end + (end === cr && buffer[end + 1] === '\n' ? 2 : 1);
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
      buffer = buffer.slice(start);
      if (done) return;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await reader.cancel().catch(() => {});
  }
}

const CHAT_EVENTS = new Set(['meta', 'citations', 'token', 'done', 'error']);

function toChatEvent(message: SSEMessage): ChatEvent | null {
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(message.data) as Record<string, unknown>;
  } catch {
    throw new ApiError('bad_stream', 'The server sent an answer the UI cannot read.');
  }
  const type = typeof payload.type === 'string' ? payload.type : message.event;
  if (!CHAT_EVENTS.has(type)) return null; // a newer server's event: skip it
  const event = { ...payload, type } as ChatEvent;
  if (event.type === 'error') {
    event.code ||= 'error';
    event.message ||= 'The answer failed.';
  }
  return event;
}

/**
 * Ask a question and get the answer's events as they stream: `meta`, `citations`, `token`s, then
 * `done` or `error` (the last event). Errors before the stream starts (404 unknown collection, 422,
 * 413, gateway down) and a stream that breaks are thrown as `ApiError`. Aborting `signal` makes the
 * generator end without an error; the server sees the disconnect and cancels the LLM call.
 */
export async function* streamChat(req: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatEvent> {
  let res: Response;
  try {
    res = await send('/api/chat/stream', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...workspaceHeaders() },
      body: JSON.stringify(req),
      signal,
    });
  } catch (error) {
    if (isAbort(error, signal)) return;
    throw error;
  }
  if (!res.ok) {
    noticeStatus(res.status);
    throw await errorFrom(res);
  }
  if (!res.body) throw new ApiError('bad_stream', 'The server sent no answer stream.');
  try {
    for await (const message of parseSSE(res.body, signal)) {
      const event = toChatEvent(message);
      if (!event) continue;
      yield event;
      if (event.type === 'done' || event.type === 'error') return;
    }
  } catch (error) {
    if (isAbort(error, signal)) return;
    if (error instanceof ApiError) throw error;
    throw new ApiError('stream_broken', 'The connection broke while the answer was streaming.');
  }
  if (signal?.aborted) return;
  throw new ApiError('stream_incomplete', 'The answer stream ended before the answer was complete.');
}

// --- Uploads ------------------------------------------------------------------------------------

export interface UploadOptions {
  collection: string;
  /** Comma-separated. */
  tags?: string;
  /** Called with the fraction (0..1) of the file sent so far. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

function failed(filename: string, code: string, message: string): UploadResult {
  return { filename, ok: false, error: { code, message } };
}

/** The result of one upload from its HTTP status and body text. */
export function uploadOutcome(filename: string, status: number, text: string): UploadResult {
  let body: { results?: UploadResult[] } | null = null;
  try {
    body = JSON.parse(text) as { results?: UploadResult[] };
  } catch {
    // not JSON
  }
  const result = body?.results?.[0];
  if (status >= 200 && status < 300) {
    return result ?? failed(filename, 'bad_response', 'The server sent an answer the UI cannot read.');
  }
  if (result && !result.ok) return result;
  const error = errorFromBody(status, text);
  return failed(filename, error.code, error.message);
}

/**
 * Upload one file with XMLHttpRequest (fetch cannot report upload progress). Never rejects: a
 * refused file, a network failure or an abort all resolve to a result with `ok: false`.
 */
export function uploadFile(file: File, options: UploadOptions): Promise<UploadResult> {
  const { collection, tags, onProgress, signal } = options;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(failed(file.name, 'aborted', 'Upload cancelled.'));
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const finish = (result: UploadResult) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    xhr.open('POST', '/api/documents/upload');
    xhr.setRequestHeader('Accept', 'application/json');
    // Same-origin XHR sends the session cookie by itself; the workspace must be said.
    for (const [name, value] of Object.entries(workspaceHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      noticeStatus(xhr.status);
      finish(uploadOutcome(file.name, xhr.status, xhr.responseText));
    };
    xhr.onerror = () => finish(failed(file.name, 'unreachable', UNREACHABLE));
    xhr.onabort = () => finish(failed(file.name, 'aborted', 'Upload cancelled.'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const form = new FormData();
    form.append('collection', collection);
    if (tags) form.append('tags', tags);
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
