// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { legsOf, legsSentence, modeLabel, MODES, saveMode, storedMode } from './retrieval';

beforeEach(() => localStorage.clear());

describe('the retrieval mode', () => {
  it('is no choice until the user makes one, then the stored one', () => {
    expect(storedMode()).toBeNull();
    saveMode('lexical');
    expect(localStorage.getItem('ragis.retrieval')).toBe('lexical');
    expect(storedMode()).toBe('lexical');
    saveMode(null);
    expect(localStorage.getItem('ragis.retrieval')).toBeNull();
  });

  it('ignores a stored value it does not know', () => {
    for (const junk of ['', 'bm25', 'HYBRID', '"hybrid"', 'hybrid ']) {
      localStorage.setItem('ragis.retrieval', junk);
      expect(storedMode()).toBeNull();
    }
  });

  it('offers the default and the three modes, each explained', () => {
    expect(MODES.map((m) => [m.value, m.label])).toEqual([
      ['', 'Default'],
      ['hybrid', 'Hybrid'],
      ['vector', 'Meaning'],
      ['lexical', 'Words'],
    ]);
    for (const mode of MODES) expect(mode.title.length).toBeGreaterThan(10);
    expect(modeLabel('vector')).toBe('Meaning');
    expect(modeLabel('something-newer')).toBe('something-newer');
  });
});

describe('the legs of a source', () => {
  it('are words then meaning, whatever order the server sends, unknown ones dropped', () => {
    expect(legsOf(['vector', 'lexical'])).toEqual(['lexical', 'vector']);
    expect(legsOf(['vector'])).toEqual(['vector']);
    expect(legsOf(['sparse', 'lexical'])).toEqual(['lexical']);
    expect(legsOf(undefined)).toEqual([]);
  });

  it('read as a sentence for screen readers', () => {
    expect(legsSentence(['lexical', 'vector'])).toBe('Found by words and meaning.');
    expect(legsSentence(['vector'])).toBe('Found by meaning.');
    expect(legsSentence([])).toBe('');
  });
});
