/**
 * The collections' threshold through the dev mock gateway (real HTTP on loopback), which answers
 * as the gateway's schema says: a value, a refusal the user reads, and back to the default.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createMockGateway } from '../../dev/mock-gateway.mjs';
import { Library } from './library.svelte';

const nodeFetch = globalThis.fetch;
let server: ReturnType<typeof createMockGateway>;

beforeEach(async () => {
  server = createMockGateway({ auth: 'off' });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  vi.stubGlobal('fetch', (path: string, init?: RequestInit) => nodeFetch(base + path, init));
});

afterEach(async () => {
  vi.unstubAllGlobals();
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

it("sets a collection's own threshold, shows a refusal, and goes back to the default", async () => {
  const library = new Library();
  expect(await library.create('manuals')).toBe(true);
  const manuals = () => library.collections.find((c) => c.name === 'manuals');
  expect(manuals()).toMatchObject({ min_score: null, keyword_index: 'ready' });
  const fallback = manuals()!.effective_min_score;

  expect(await library.setMinScore('manuals', 0.8)).toBe(true);
  expect(manuals()).toMatchObject({ min_score: 0.8, effective_min_score: 0.8 });

  expect(await library.setMinScore('manuals', 2)).toBe(false);
  expect(library.error).toMatch(/0 to 1/);
  expect(manuals()?.min_score).toBe(0.8); // unchanged

  expect(await library.setMinScore('manuals', null)).toBe(true);
  expect(manuals()).toMatchObject({ min_score: null, effective_min_score: fallback });
  expect(await library.setMinScore('nowhere', 0.5)).toBe(false);
});
