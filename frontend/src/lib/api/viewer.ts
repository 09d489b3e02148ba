/**
 * The viewer's network calls: a document's stored passages, read a window at a time, and its
 * original file (the bytes of a kept upload, which pdf.js renders).
 */
import { errorFrom, noticeStatus, request, send, workspaceHeaders } from '../api';
import type { DocumentPassages, StoredPassage, DocumentInfo } from '../types';

/** The most passages one request reads (the gateway's limit). */
export const PASSAGES_PER_READ = 200;
/** The most passages the viewer reads of one document (a whole book is not a viewer's job). */
export const MAX_PASSAGES = 5000;

const enc = encodeURIComponent;

function base(collection: string, id: string): string {
  return `/api/collections/${enc(collection)}/documents/${enc(id)}`;
}

export async function readPassages(
  collection: string,
  id: string,
  start: number,
  limit = PASSAGES_PER_READ,
  signal?: AbortSignal,
): Promise<DocumentPassages> {
  const path = `${base(collection, id)}/passages?start=${start}&limit=${limit}`;
  return request<DocumentPassages>('GET', path, undefined, { signal });
}

export interface DocumentText {
  document: DocumentInfo;
  passages: StoredPassage[];
  /** How many passages the document has (more than `passages` when it was cut at MAX_PASSAGES). */
  total: number;
}

/** The document's record and its passages in order, read window by window. */
export async function readDocument(collection: string, id: string, signal?: AbortSignal): Promise<DocumentText> {
  const first = await readPassages(collection, id, 0, PASSAGES_PER_READ, signal);
  const passages = [...first.passages];
  const wanted = Math.min(first.total, MAX_PASSAGES);
  while (passages.length < wanted) {
    const next = await readPassages(collection, id, passages.length, PASSAGES_PER_READ, signal);
    if (next.passages.length === 0) break;
    passages.push(...next.passages);
  }
  return { document: first.document, passages, total: first.total };
}

/** The bytes of the document's kept original (404 `not_found` when it was not kept). */
export async function readOriginal(collection: string, id: string, signal?: AbortSignal): Promise<ArrayBuffer> {
  const res = await send(`${base(collection, id)}/original`, { headers: workspaceHeaders(), signal });
  if (!res.ok) {
    const error = await errorFrom(res);
    noticeStatus(res.status);
    throw error;
  }
  return res.arrayBuffer();
}
