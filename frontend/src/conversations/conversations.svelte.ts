/**
 * The user's conversations in this workspace, newest first, as the sidebar lists them: searched by
 * title on the server, renamed and deleted here. The transcript of the one shown is the Chat's.
 */
import { deleteConversation, listConversations, renameConversation } from '../lib/api/conversations';
import type { Conversation } from '../lib/types';

/** The longest title the server takes (after trimming). */
export const TITLE_MAX = 120;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** When a conversation last changed, in words: "just now", "5 min ago", "3 h ago", else the date. */
export function updatedLabel(seconds: number, now = Date.now()): string {
  const ago = Math.max(0, Math.round(now / 1000 - seconds));
  if (ago < 60) return 'just now';
  if (ago < 3600) return `${Math.floor(ago / 60)} min ago`;
  if (ago < 86400) return `${Math.floor(ago / 3600)} h ago`;
  return new Date(seconds * 1000).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/** A new title as the server will take it, or null when there is none (empty, or only spaces). */
export function cleanTitle(title: string): string | null {
  // The server refuses control characters; whitespace ones (new lines, tabs) become spaces.
  const clean = title.replace(/\s+/g, ' ').replace(/\p{Cc}/gu, '').trim().slice(0, TITLE_MAX).trim();
  return clean || null;
}

export class Conversations {
  items = $state<Conversation[]>([]);
  /** The search text: titles containing it. */
  query = $state('');
  loading = $state(false);
  /** The list has been fetched once (before that, "no chats yet" would be a lie). */
  loaded = $state(false);
  error = $state<string | null>(null);
  #controller: AbortController | null = null;

  /** Fetch the list again (the last call wins: an older answer is dropped). */
  async refresh(): Promise<void> {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    this.loading = true;
    try {
      const items = await listConversations({ q: this.query }, controller.signal);
      if (controller.signal.aborted) return;
      this.items = items;
      this.error = null;
      this.loaded = true;
    } catch (error) {
      if (controller.signal.aborted) return;
      this.error = message(error);
    } finally {
      if (this.#controller === controller) {
        this.loading = false;
        this.#controller = null;
      }
    }
  }

  /** Rename one; false (and `error`) when the server refuses. */
  async rename(id: string, title: string): Promise<boolean> {
    const clean = cleanTitle(title);
    if (!clean) return false;
    try {
      const updated = await renameConversation(id, clean);
      this.items = this.items.map((c) => (c.session_id === id ? updated : c));
      return true;
    } catch (error) {
      this.error = message(error);
      return false;
    }
  }

  async remove(id: string): Promise<boolean> {
    try {
      await deleteConversation(id);
      this.items = this.items.filter((c) => c.session_id !== id);
      return true;
    } catch (error) {
      this.error = message(error);
      return false;
    }
  }
}
