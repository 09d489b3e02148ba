/** The gateway's health, polled every 30 s and when the window regains focus. */
import { getHealth } from '../lib/api';
import type { Health } from '../lib/types';

/**
 * The server's limits as last reported, for the components that check input before sending it
 * (the composer's question length). One per page, like the server they describe; null: not known
 * (yet), the server checks anyway.
 */
export const serverLimits = $state<{ maxMessageChars: number | null }>({ maxMessageChars: null });

export class HealthMonitor {
  health = $state<Health | null>(null);
  failure = $state<string | null>(null);
  retrievalOnly = $derived(this.health?.provider === 'none');

  async refresh(): Promise<void> {
    try {
      this.health = await getHealth();
      this.failure = null;
      serverLimits.maxMessageChars = this.health.limits?.max_message_chars ?? serverLimits.maxMessageChars;
    } catch (error) {
      // What the gateway said before it stopped answering is no longer known to be true.
      this.health = null;
      this.failure = error instanceof Error ? error.message : String(error);
    }
  }

  /** Start polling; returns the function that stops it. */
  start(intervalMs = 30_000): () => void {
    void this.refresh();
    const timer = setInterval(() => void this.refresh(), intervalMs);
    const onFocus = () => void this.refresh();
    window.addEventListener('focus', onFocus);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', onFocus);
    };
  }
}
