import { describe, expect, it } from 'vitest';
import type { Citation } from '../lib/types';
import { citedIn, groupSources, placeOf, relevance } from './sources';

function cite(n: number, score = 0.5): Citation {
  return { n, doc_id: `d${n}`, filename: `f${n}.pdf`, page: n, score, text: `t${n}`, legs: [], locator: null };
}

describe('citedIn', () => {
  it('reads [n] and [n, m] markers, only for sources that exist', () => {
    expect([...citedIn('Primed by hand [1]. Valves [2, 4]. Not a source [9]. A link [3](x).', [1, 2, 3, 4])].sort())
      .toEqual([1, 2, 4]);
  });
});

describe('groupSources', () => {
  it('puts the cited passages first, the merely retrieved ones after', () => {
    const groups = groupSources([cite(1), cite(2), cite(3)], 'As [3] and [1] say.');
    expect(groups.cited.map((c) => c.n)).toEqual([1, 3]);
    expect(groups.retrieved.map((c) => c.n)).toEqual([2]);
  });

  it('an answer that cites nothing leaves every passage retrieved', () => {
    expect(groupSources([cite(1)], 'No markers.').retrieved).toHaveLength(1);
  });
});

describe('relevance', () => {
  it('says how close a passage is in words, not as a number', () => {
    expect(relevance(0.86)).toEqual({ label: 'Very close match', level: 4 });
    expect(relevance(0.733).label).toBe('Close match');
    expect(relevance(0.67).label).toBe('Related');
    expect(relevance(0.55).label).toBe('Loosely related');
    expect(relevance(0.733).label).not.toMatch(/\d/);
  });
});

describe('placeOf', () => {
  it('is the locator, else the page', () => {
    expect(placeOf({ locator: 'slide 4', page: 2 })).toBe('slide 4');
    expect(placeOf({ locator: null, page: 2 })).toBe('page 2');
    expect(placeOf({ locator: null, page: null })).toBeNull();
  });
});
