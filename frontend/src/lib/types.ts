/** The gateway's wire types (see the API contract in the gateway's docs). */

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface Citation {
  n: number;
  doc_id: string;
  filename: string;
  page: number | null;
  score: number;
  text: string;
}

/** Milliseconds per stage of one answer. */
export interface Timings {
  embed?: number;
  cache?: number;
  search?: number;
  rewrite?: number;
  first_token?: number;
  total?: number;
  [stage: string]: number | undefined;
}

export interface MetaEvent {
  type: 'meta';
  session_id: string;
  collection: string;
  provider: string;
  model: string | null;
  cache_hit: boolean;
  query: string;
}
export interface CitationsEvent {
  type: 'citations';
  citations: Citation[];
}
export interface TokenEvent {
  type: 'token';
  text: string;
}
export interface DoneEvent {
  type: 'done';
  timings: Timings;
  cache_hit: boolean;
}
export interface ErrorEvent extends ErrorInfo {
  type: 'error';
}
export type ChatEvent = MetaEvent | CitationsEvent | TokenEvent | DoneEvent | ErrorEvent;

export interface ChatRequest {
  message: string;
  session_id?: string;
  collection?: string;
  top_k?: number;
  filter?: { doc_ids?: string[]; tags?: string[] };
}

export interface SessionMessage {
  role: 'user' | 'assistant';
  content: string;
  time: number;
  citations?: Citation[];
  cache_hit?: boolean;
}

export interface Session {
  session_id: string;
  messages: SessionMessage[];
  ttl: number;
}

export interface Check {
  ok: boolean;
  detail: string;
}

export interface Health {
  status: 'ok' | 'degraded';
  gateway: Check;
  rag: Check;
  redis: Check;
  embedder: Check;
  llm: Check;
  provider: 'openai' | 'ollama' | 'none';
  model: string | null;
}

export interface Collection {
  name: string;
  model: string;
  dim: number;
  quantization: string;
  documents: number;
  chunks: number;
  version: number;
  created: number;
}

export interface DocumentInfo {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  chunks: number;
  pages: number | null;
  /** Unix seconds. */
  created: number;
  status: string;
  tags: string[];
}

export interface UploadOk {
  filename: string;
  ok: true;
  document_id: string;
  chunks: number;
  pages: number | null;
  size: number;
  content_type: string;
  duplicate: boolean;
  timings?: Timings;
}
export interface UploadFailed {
  filename: string;
  ok: false;
  error: ErrorInfo;
}
export type UploadResult = UploadOk | UploadFailed;
