/**
 * The user's preferences (passages per answer, LLM model, answer length, whether the
 * retrieval-only explanation was shown), kept server-side per user and loaded at start; and the
 * provider's models, for the picker and to leave out a saved model the provider no longer lists.
 *
 * `askOptions()` is what every question carries (the chat spreads it into its options).
 */
import { getPreferences, listModels, putPreferences } from '../lib/api/preferences';
import type { AnswerLength, Models, Preferences } from '../lib/types';

/** `max_tokens` of each answer length (null: the server's RAGIS_MAX_ANSWER_TOKENS). */
export const ANSWER_TOKENS: Record<AnswerLength, number> = { short: 300, medium: 800, long: 2000 };
export const TOP_K_MIN = 1;
export const TOP_K_MAX = 50;

export interface PreferencesPatch {
  topK?: number | null;
  model?: string | null;
  answerLength?: AnswerLength | null;
  retrievalOnlySeen?: boolean;
}

/** What a question asks for beyond its text: only what the user chose (else the server's). */
export interface PreferredOptions {
  topK?: number;
  model?: string;
  maxTokens?: number;
}

const message = (failure: unknown) => (failure instanceof Error ? failure.message : String(failure));

/** Whether `model` is one the provider lists (Ollama answers to `llama3.2` for `llama3.2:latest`). */
export function offered(models: Models | null, model: string): boolean {
  if (!models) return true; // not known yet: the server checks it
  return model === models.default || models.models.includes(model) || models.models.includes(`${model}:latest`);
}

/** The wire form of a set of preferences. */
export function toWire(p: Required<PreferencesPatch>): Preferences {
  return { top_k: p.topK, model: p.model, answer_length: p.answerLength, retrieval_only_seen: p.retrievalOnlySeen };
}

export class PreferencesState {
  topK = $state<number | null>(null);
  model = $state<string | null>(null);
  answerLength = $state<AnswerLength | null>(null);
  retrievalOnlySeen = $state(false);
  /** The answer's token limit of the chosen length; null: the server's. */
  maxTokens = $derived(this.answerLength ? ANSWER_TOKENS[this.answerLength] : null);
  /** The provider's models; null until loaded (or when they could not be). */
  models = $state<Models | null>(null);
  /** The preferences were read from the server (until then everything is the default). */
  loaded = $state(false);
  /** Why the last load or save failed; null when it did not. */
  error = $state<string | null>(null);

  #saving: Promise<unknown> = Promise.resolve();

  /** Read the user's preferences and the provider's models (a failure of either leaves defaults). */
  async load(signal?: AbortSignal): Promise<void> {
    const [prefs, models] = await Promise.allSettled([getPreferences(signal), listModels(signal)]);
    if (signal?.aborted) return;
    if (prefs.status === 'fulfilled') {
      this.#apply(prefs.value);
      this.error = null;
    } else {
      this.error = message(prefs.reason);
    }
    this.models = models.status === 'fulfilled' ? models.value : null;
    this.loaded = true;
  }

  /** Read the models again (the drawer opens: a model may have been pulled since). */
  async refreshModels(): Promise<void> {
    try {
      this.models = await listModels();
    } catch {
      // keep what was listed before
    }
  }

  /** Change some preferences and save the whole set; on failure they go back and it throws. */
  async save(patch: PreferencesPatch): Promise<void> {
    const before = this.#current();
    const next = { ...before, ...patch };
    this.#set(next);
    // One save after the other: a slow earlier answer must not overwrite a later choice.
    const saving = this.#saving.then(() => putPreferences(toWire(next)));
    this.#saving = saving.catch(() => undefined);
    try {
      await saving;
      this.error = null;
    } catch (failure) {
      this.#set(before);
      this.error = message(failure);
      throw failure;
    }
  }

  /** Back to the server's defaults (the retrieval-only explanation stays seen). */
  async reset(): Promise<void> {
    await this.save({ topK: null, model: null, answerLength: null });
  }

  /** The options of the next question: what the user chose, and a model only if it is offered. */
  askOptions(): PreferredOptions {
    const options: PreferredOptions = {};
    if (this.topK != null) options.topK = this.topK;
    if (this.model && offered(this.models, this.model)) options.model = this.model;
    if (this.maxTokens != null) options.maxTokens = this.maxTokens;
    return options;
  }

  #current(): Required<PreferencesPatch> {
    return {
      topK: this.topK,
      model: this.model,
      answerLength: this.answerLength,
      retrievalOnlySeen: this.retrievalOnlySeen,
    };
  }

  #set(p: Required<PreferencesPatch>): void {
    this.topK = p.topK;
    this.model = p.model;
    this.answerLength = p.answerLength;
    this.retrievalOnlySeen = p.retrievalOnlySeen;
  }

  #apply(wire: Preferences): void {
    this.#set({
      topK: wire.top_k ?? null,
      model: wire.model ?? null,
      answerLength: wire.answer_length ?? null,
      retrievalOnlySeen: wire.retrieval_only_seen ?? false,
    });
  }
}

/** The signed-in user's preferences: one for the whole UI. */
export const preferences = new PreferencesState();
