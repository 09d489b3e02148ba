/**
 * The signed-in user's preferences (the same in every workspace) and the LLM models a question
 * may name.
 */
import { request } from '../api';
import type { Models, Preferences } from '../types';

/** The user's preferences; all null (the server's defaults) until they save some. */
export async function getPreferences(signal?: AbortSignal): Promise<Preferences> {
  return request<Preferences>('GET', '/api/preferences', undefined, { signal, inWorkspace: false });
}

/** Replace the user's preferences (the whole set); the saved set comes back. */
export async function putPreferences(preferences: Preferences): Promise<Preferences> {
  return request<Preferences>('PUT', '/api/preferences', preferences, { inWorkspace: false });
}

/** The provider's models and its default; just the default, with `error`, while it does not answer. */
export async function listModels(signal?: AbortSignal): Promise<Models> {
  return request<Models>('GET', '/api/models', undefined, { signal });
}
