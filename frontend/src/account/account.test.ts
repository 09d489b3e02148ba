/**
 * The account state against the dev mock gateway with accounts on (real HTTP on loopback, a
 * cookie jar standing in for the browser's): sign-in and its refusals, the workspace every call
 * carries, a lost session, and auth off leaving the single-user UI as it was.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMockGateway } from '../../dev/mock-gateway.mjs';
import { ApiError, createCollection, listCollections, listKeys, createKey, revokeKey, setMember, createUser } from '../lib/api';
import { Account } from './account.svelte';

type Server = ReturnType<typeof createMockGateway>;
const servers: Server[] = [];
const nodeFetch = globalThis.fetch;

/** Runs a mock gateway and routes the UI's relative fetches to it, keeping its cookie like a browser. */
async function gateway(auth: 'on' | 'off') {
  const server = createMockGateway({ auth });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let cookie = '';
  const sent: { path: string; init: RequestInit }[] = [];
  vi.stubGlobal('fetch', async (path: string, init: RequestInit = {}) => {
    sent.push({ path, init });
    const headers = new Headers(init.headers);
    if (cookie && init.credentials === 'same-origin') headers.set('Cookie', cookie);
    const res = await nodeFetch(base + path, { ...init, headers });
    const set = res.headers.get('set-cookie');
    if (set) cookie = /Max-Age=0/.test(set) ? '' : set.split(';')[0];
    return res;
  });
  return { sent, forget: () => (cookie = '') };
}

const workspaceOf = (init: RequestInit) => new Headers(init.headers).get('X-Ragis-Workspace');

/** The browser's localStorage (this runs under node, like the mock gateway it talks to). */
class MemoryStorage {
  #items = new Map<string, string>();
  getItem(key: string) {
    return this.#items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.#items.set(key, String(value));
  }
  removeItem(key: string) {
    this.#items.delete(key);
  }
}

beforeEach(() => {
  vi.stubGlobal('localStorage', new MemoryStorage());
});

afterEach(async () => {
  vi.unstubAllGlobals();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

describe('Account with accounts on', () => {
  it('starts signed out, refuses a wrong password, and signs in to the personal workspace', async () => {
    await gateway('on');
    const account = new Account();
    await account.load();
    expect(account.status).toBe('signed-out');
    const wrong = await account.signIn('admin', 'nope').catch((e) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect([wrong.status, wrong.message]).toEqual([401, 'Wrong username or password.']);
    expect(account.status).toBe('signed-out');
    await account.signIn('admin', 'admin-password');
    expect(account.status).toBe('signed-in');
    expect(account.workspace).toBe('admin');
    expect(account.isAdmin).toBe(true);
    expect(account.canManage).toBe(true);
    expect(account.canEdit).toBe(true);
  });

  it('sends the chosen workspace with every data call, and each workspace has its own data', async () => {
    const { sent } = await gateway('on');
    const account = new Account();
    await account.signIn('admin', 'admin-password');
    await createCollection('mine');
    expect(workspaceOf(sent.at(-1)!.init)).toBe('admin');
    expect(sent.every(({ init }) => init.credentials === 'same-origin')).toBe(true);
    const before = account.generation;
    account.switchTo('default');
    expect(account.generation).toBe(before + 1);
    expect(localStorage.getItem('ragis.workspace')).toBe('default');
    expect(await listCollections()).toEqual([]);
    expect(workspaceOf(sent.at(-1)!.init)).toBe('default');
    account.switchTo('admin');
    expect((await listCollections()).map((c) => c.name)).toEqual(['mine']);
  });

  it('comes back to the stored workspace, or to the personal one when it is no longer there', async () => {
    await gateway('on');
    localStorage.setItem('ragis.workspace', 'default');
    const account = new Account();
    await account.signIn('admin', 'admin-password');
    expect(account.workspace).toBe('default');
    localStorage.setItem('ragis.workspace', 'gone');
    await account.signIn('admin', 'admin-password');
    expect(account.workspace).toBe('admin');
  });

  it('answers too many wrong passwords with the seconds to wait', async () => {
    await gateway('on');
    const account = new Account();
    for (let i = 0; i < 5; i += 1) await account.signIn('admin', 'wrong').catch(() => {});
    const error = await account.signIn('admin', 'admin-password').catch((e) => e);
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(error.retryAfter).toBeLessThanOrEqual(30);
  });

  it('returns to the sign-in page when any call answers 401, and after signing out', async () => {
    const { forget } = await gateway('on');
    const account = new Account();
    await account.signIn('admin', 'admin-password');
    forget(); // the session is gone (expired, revoked)
    await expect(listCollections()).rejects.toMatchObject({ status: 401 });
    expect(account.status).toBe('signed-out');
    await account.signIn('admin', 'admin-password');
    localStorage.setItem('ragis.session', 's1');
    await account.signOut();
    expect(account.status).toBe('signed-out');
    expect(localStorage.getItem('ragis.session')).toBeNull();
    await account.load();
    expect(account.status).toBe('signed-out');
  });

  it('creates, lists and revokes keys; a member added as viewer sees the workspace', async () => {
    await gateway('on');
    const account = new Account();
    await account.signIn('admin', 'admin-password');
    const created = await createKey('laptop', 'default');
    expect(created.key).toMatch(/^rgs_/);
    expect((await listKeys()).map((k) => [k.name, k.workspace, k.last_used])).toEqual([['laptop', 'default', null]]);
    await revokeKey(created.id);
    expect(await listKeys()).toEqual([]);
    await createUser('bob', 'bob-password', 'member');
    await setMember('default', 'bob', 'viewer');
    await account.signOut();
    await account.signIn('bob', 'bob-password');
    expect(account.me?.workspaces.map((w) => [w.name, w.role])).toEqual([['default', 'viewer'], ['bob', 'owner']]);
    expect(account.isAdmin).toBe(false);
    account.switchTo('default');
    expect(account.canManage).toBe(false);
    expect(account.canEdit).toBe(false); // a viewer sees no threshold field
    await expect(createCollection('x')).rejects.toMatchObject({ status: 403 });
    account.switchTo('bob'); // an owner manages the members of his own workspace
    expect(account.canManage).toBe(true);
  });
});

describe('Account with accounts off', () => {
  it('is the single local user and sends no workspace', async () => {
    const { sent } = await gateway('off');
    const account = new Account();
    await account.load();
    expect(account.status).toBe('local');
    expect(account.workspace).toBeNull();
    await createCollection('notes');
    expect(workspaceOf(sent.at(-1)!.init)).toBeNull();
    expect(account.canManage).toBe(false);
    expect(account.canEdit).toBe(true);
  });

  it('is the single-user UI too when the gateway has no /api/me (older) or does not answer', async () => {
    vi.stubGlobal('fetch', async () => new Response('{"error":{"code":"not_found","message":"no"}}', { status: 404 }));
    const account = new Account();
    await account.load();
    expect(account.status).toBe('local');
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('connection refused');
    });
    const offline = new Account();
    await offline.load();
    expect(offline.status).toBe('local');
  });
});
