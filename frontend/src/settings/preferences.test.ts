import { describe, expect, it } from 'vitest';
import type { Models } from '../lib/types';
import { ANSWER_TOKENS, PreferencesState, offered, toWire } from './preferences.svelte';

const OPENAI: Models = { provider: 'openai', default: 'gpt-4o-mini', models: ['gpt-4o', 'gpt-4o-mini'], error: null };
const OLLAMA: Models = { provider: 'ollama', default: 'llama3.2', models: ['llama3.2:latest', 'qwen2.5:0.5b'], error: null };

describe('offered', () => {
  it('knows what the provider lists, its default, and Ollama names without their tag', () => {
    expect(offered(OPENAI, 'gpt-4o')).toBe(true);
    expect(offered(OPENAI, 'gpt-5')).toBe(false);
    expect(offered(OLLAMA, 'llama3.2')).toBe(true);
    expect(offered(OLLAMA, 'qwen2.5')).toBe(false);
  });

  it('leaves the check to the server while the models are not known', () => {
    expect(offered(null, 'anything')).toBe(true);
  });
});

describe('PreferencesState.askOptions', () => {
  it('asks for nothing until the user chose something', () => {
    expect(new PreferencesState().askOptions()).toEqual({});
  });

  it('carries top_k, the model and the answer length as max_tokens', () => {
    const prefs = new PreferencesState();
    prefs.models = OPENAI;
    prefs.topK = 3;
    prefs.model = 'gpt-4o';
    prefs.answerLength = 'short';
    expect(prefs.maxTokens).toBe(ANSWER_TOKENS.short);
    expect(prefs.askOptions()).toEqual({ topK: 3, model: 'gpt-4o', maxTokens: 300 });
  });

  it('leaves out a saved model the provider no longer lists, so questions still get answers', () => {
    const prefs = new PreferencesState();
    prefs.model = 'gpt-4o';
    prefs.models = { ...OPENAI, models: ['gpt-4o-mini'] };
    expect(prefs.askOptions()).toEqual({});
    prefs.models = { provider: 'openai', default: 'gpt-4o-mini', models: ['gpt-4o-mini'], error: 'HTTP 500' };
    expect(prefs.askOptions()).toEqual({});
  });
});

describe('toWire', () => {
  it('spells the preferences as the API does', () => {
    expect(toWire({ topK: null, model: 'm', answerLength: 'long', retrievalOnlySeen: true })).toEqual({
      top_k: null,
      model: 'm',
      answer_length: 'long',
      retrieval_only_seen: true,
    });
  });
});
