/**
 * The user's conversations (chat sessions with a title and a collection): list, rename, delete,
 * truncate. The transcript itself comes from `getSession` in ../api.
 */
import { ApiError, request } from '../api';
import type { Conversation, ConversationList } from '../types';

const enc = encodeURIComponent;
/** The server searches titles with at most this much text. */
const MAX_QUERY = 200;

export interface ListQuery {
  /** Only the conversations of this collection. */
  collection?: string;
  /** Only titles containing this (case-insensitive). */
  q?: string;
  limit?: number;
}

/** The conversations of the signed-in user in this workspace, newest first. */
export async function listConversations(query: ListQuery = {}, signal?: AbortSignal): Promise<Conversation[]> {
  const params = new URLSearchParams();
  if (query.collection) params.set('collection', query.collection);
  const q = query.q?.trim().slice(0, MAX_QUERY);
  if (q) params.set('q', q);
  if (query.limit) params.set('limit', String(query.limit));
  const search = params.size ? `?${params}` : '';
  const path = `/api/sessions${search}`;
  return (await request<ConversationList>('GET', path, undefined, { signal })).conversations;
}

export async function renameConversation(id: string, title: string): Promise<Conversation> {
  return request<Conversation>('PATCH', `/api/sessions/${enc(id)}`, { title });
}

/** Forget a conversation; one already gone (expired, deleted elsewhere) is not an error. */
export async function deleteConversation(id: string): Promise<void> {
  try {
    await request('DELETE', `/api/sessions/${enc(id)}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
}

/** Keep the first `keep` messages of a conversation (to ask again from there). */
export async function truncateConversation(id: string, keep: number): Promise<Conversation> {
  return request<Conversation>('POST', `/api/sessions/${enc(id)}/truncate`, { keep });
}
