/**
 * Documents' network calls beyond the basic list/delete of ../api: an upload that reports its
 * progress (bytes sent, then the server's stages and embedded chunks as Server-Sent Events) and
 * can be cancelled, and the edit of a document's tags.
 *
 * The upload uses XMLHttpRequest, not fetch: only XHR reports the bytes sent, and its
 * `responseText` grows while the answer streams, which is fed to the one SSE parser of ../api.
 * A server that answers JSON instead (an older gateway, or a request-level refusal such as 413)
 * is read as the plain upload answer.
 */
import { noticeStatus, parseSSE, request, uploadOutcome } from '../api';
import type {
  DocumentInfo,
  UploadFileEvent,
  UploadProgressEvent,
  UploadResult,
  UploadStage,
  UploadStageEvent,
} from '../types';

/** The events of an upload's stream this UI follows (the last, `done`, only ends it). */
export type UploadEvent = UploadStageEvent | UploadProgressEvent | UploadFileEvent;

export interface StreamedUploadOptions {
  collection: string;
  tags: string[];
  /** The request's headers (the workspace), fixed when the file was queued. */
  headers: Record<string, string>;
  /** The fraction (0..1) of the file's bytes sent so far. */
  onSent?: (fraction: number) => void;
  onEvent?: (event: UploadEvent) => void;
  signal?: AbortSignal;
}

const UNREACHABLE = 'Cannot reach the ragis gateway. Is it running?';
const STAGES = new Set<string>(['upload', 'parse', 'chunk', 'embed', 'done']);

function failed(filename: string, code: string, message: string): UploadResult {
  return { filename, ok: false, error: { code, message } };
}

/** An upload stream's message as an event, or null for one this UI does not know (skipped). */
export function toUploadEvent(event: string, data: string): UploadEvent | null {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const file = typeof body.file === 'string' ? body.file : '';
  const index = typeof body.index === 'number' ? body.index : 0;
  if (event === 'stage' && typeof body.stage === 'string' && STAGES.has(body.stage)) {
    return { type: 'stage', index, file, stage: body.stage as UploadStage };
  }
  if (event === 'progress' && typeof body.embedded === 'number' && typeof body.total === 'number') {
    const eta = typeof body.eta_ms === 'number' && Number.isFinite(body.eta_ms) ? body.eta_ms : null;
    return { type: 'progress', index, file, embedded: body.embedded, total: body.total, eta_ms: eta };
  }
  if (event === 'file' && typeof body.result === 'object' && body.result !== null) {
    const result = body.result as UploadResult;
    if (typeof result.ok === 'boolean' && typeof result.filename === 'string') return { type: 'file', index, result };
  }
  return null;
}

/** The file's result from an upload stream's text (its `file` event), or a failure saying why not. */
async function resultOfStream(
  filename: string,
  chunks: ReadableStream<Uint8Array>,
  onEvent?: (event: UploadEvent) => void,
): Promise<UploadResult> {
  let result: UploadResult | null = null;
  for await (const message of parseSSE(chunks)) {
    if (message.event === 'done') break;
    const event = toUploadEvent(message.event, message.data);
    if (!event) continue;
    if (event.type === 'file') result ??= event.result;
    onEvent?.(event);
  }
  return result ?? failed(filename, 'stream_incomplete', 'The upload ended before the server said how it went.');
}

/**
 * Upload one file into `collection`, reporting bytes sent and the server's progress events.
 * Never rejects: a refused file, a broken connection and a cancel (abort `signal`: the server
 * then stores nothing) all resolve to a result with `ok: false` (code `cancelled` for a cancel).
 */
export function uploadStreamed(file: File, options: StreamedUploadOptions): Promise<UploadResult> {
  const { collection, tags, headers, onSent, onEvent, signal } = options;
  const cancelled = () => failed(file.name, 'cancelled', 'Cancelled.');
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(cancelled());
    const xhr = new XMLHttpRequest();
    const encoder = new TextEncoder();
    let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
    let seen = 0; // characters of responseText already handed to the parser
    let streamed: Promise<UploadResult> | null = null;
    let settled = false;
    const finish = (result: UploadResult | Promise<UploadResult>) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void Promise.resolve(result).then(resolve);
    };
    const onAbort = () => xhr.abort();
    // The parser may have stopped reading (after `done`) and cancelled the stream: what comes
    // after is not wanted, and a closed stream refuses it.
    const feed = () => {
      const text = xhr.responseText;
      if (text.length <= seen) return;
      const chunk = text.slice(seen);
      seen = text.length;
      try {
        controller?.enqueue(encoder.encode(chunk));
      } catch {
        controller = null;
      }
    };
    const end = (error?: Error) => {
      try {
        if (error) controller?.error(error);
        else controller?.close();
      } catch {
        // already closed or cancelled
      }
    };

    xhr.open('POST', '/api/documents/upload');
    xhr.setRequestHeader('Accept', 'text/event-stream');
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onSent?.(e.loaded / e.total);
    };
    xhr.upload.onload = () => onSent?.(1);
    xhr.onreadystatechange = () => {
      if (xhr.readyState !== XMLHttpRequest.HEADERS_RECEIVED) return;
      const type = xhr.getResponseHeader('Content-Type') ?? '';
      if (xhr.status >= 200 && xhr.status < 300 && type.startsWith('text/event-stream')) {
        const chunks = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
        streamed = resultOfStream(file.name, chunks, onEvent).catch(() =>
          failed(file.name, 'stream_broken', 'The connection broke while the file was being added.'),
        );
      }
    };
    xhr.onprogress = feed;
    xhr.onload = () => {
      noticeStatus(xhr.status);
      if (streamed) {
        feed();
        end();
        finish(streamed);
      } else {
        finish(uploadOutcome(file.name, xhr.status, xhr.responseText));
      }
    };
    xhr.onerror = () => {
      end(new Error('connection broken'));
      finish(failed(file.name, 'unreachable', UNREACHABLE));
    };
    xhr.onabort = () => {
      end(new Error('cancelled'));
      finish(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const form = new FormData();
    form.append('collection', collection);
    if (tags.length) form.append('tags', tags.join(','));
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** Set a document's tags (all of them: the list replaces the old one); answers its new record. */
export async function setDocumentTags(id: string, collection: string, tags: string[]): Promise<DocumentInfo> {
  const path = `/api/documents/${encodeURIComponent(id)}?collection=${encodeURIComponent(collection)}`;
  return request<DocumentInfo>('PATCH', path, { tags });
}
