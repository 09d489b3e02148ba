import { describe, expect, it } from 'vitest';
import { NAME_PATTERN } from '../documents/library.svelte';
import { inputPattern } from './patterns';
import { COLLECTION_NAME_PATTERN, USERNAME_PATTERN, WORKSPACE_NAME_PATTERN } from './types';

/** How a browser compiles an `<input pattern>`: anchored, with the `v` flag. */
const asInput = (pattern: string) => new RegExp(`^(?:${pattern})$`, 'v');

const HOSTILE = [
  '',
  'a',
  'default',
  'A.b_c-9',
  'x'.repeat(64),
  'x'.repeat(65),
  '-lead',
  '.hidden',
  '_under',
  'a b',
  'a/b',
  '../etc',
  'a\nb',
  'abc\n',
  'ａｂｃ', // full-width letters
  'caf\u00e9',
  'a\u200bb', // zero-width space
  'a-b',
  '[a]',
  'a|b',
  'a{1}',
  '😀',
  '\u0000',
  '\ud800',
];

describe('the collection name pattern', () => {
  it('comes from the schema and is the one the field uses', () => {
    expect(COLLECTION_NAME_PATTERN).toMatch(/^\^.*\$$/);
    expect(NAME_PATTERN).toBe(inputPattern(COLLECTION_NAME_PATTERN));
  });

  it('compiles as an input pattern (a browser ignores one that does not)', () => {
    expect(() => asInput(COLLECTION_NAME_PATTERN)).toThrow(); // why inputPattern exists
    expect(() => asInput(NAME_PATTERN)).not.toThrow();
  });

  it('accepts and refuses exactly what the schema pattern does, hostile names included', () => {
    const schema = new RegExp(COLLECTION_NAME_PATTERN, 'u');
    for (const name of HOSTILE) {
      expect([name, asInput(NAME_PATTERN).test(name)]).toEqual([name, schema.test(name)]);
    }
    expect(asInput(NAME_PATTERN).test('A.b_c-9')).toBe(true);
    expect(asInput(NAME_PATTERN).test('../etc')).toBe(false);
  });
});

describe('inputPattern', () => {
  it('drops the anchors but keeps an escaped dollar', () => {
    expect(inputPattern('^ab$')).toBe('ab');
    expect(inputPattern('^a\\$')).toBe('a\\$');
  });

  it('escapes a literal dash first or last in a class, and keeps ranges', () => {
    expect(inputPattern('[a-z-]')).toBe('[a-z\\-]');
    expect(inputPattern('[-a]')).toBe('[\\-a]');
    expect(inputPattern('[^-a]')).toBe('[^\\-a]');
    expect(inputPattern('[a\\-z]')).toBe('[a\\-z]');
    expect(inputPattern('a-b')).toBe('a-b');
  });

  it('escapes what the v flag reserves inside a class, and nothing outside', () => {
    expect(inputPattern('([(){}/|[])')).toBe('([\\(\\)\\{\\}\\/\\|\\[])');
    for (const pattern of ['[(){}/|[]', '[a-z-]', '[-a]', '[^-a]x{2}']) {
      expect(() => asInput(inputPattern(pattern))).not.toThrow();
    }
  });

  it('matches what the schema pattern matches', () => {
    const cases: [string, string[]][] = [
      ['^[a-z-]+$', ['ab-c', '-', 'A', 'a_b']],
      ['^[(|)]$', ['(', '|', ')', 'a']],
      ['^[^-a]$', ['-', 'a', 'b']],
    ];
    for (const [pattern, inputs] of cases) {
      const schema = new RegExp(pattern, 'u');
      for (const input of inputs) expect(asInput(inputPattern(pattern)).test(input)).toBe(schema.test(input));
    }
  });
});

describe('the account name patterns are the gateway schema’s', () => {
  it('workspace and user names', async () => {
    const { default: openapi } = await import('../../openapi.json');
    const schemas = openapi.components.schemas as unknown as Record<string, { properties: Record<string, { pattern?: string }> }>;
    expect(schemas.WorkspaceCreate.properties.name.pattern).toBe(WORKSPACE_NAME_PATTERN);
    expect(schemas.UserCreate.properties.username.pattern).toBe(USERNAME_PATTERN);
  });
});
