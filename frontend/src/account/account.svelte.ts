/**
 * Who uses the UI and in which workspace: /api/me at start, the sign-in and sign-out, and the
 * workspace every data call is sent to (kept in localStorage).
 *
 * With the gateway's auth off (or a gateway older than accounts, which has no /api/me) the state
 * is `local` and the UI is the single-user one: no header is sent and nothing is added.
 */
import { ApiError, getMe, login, logout, onUnauthenticated, useWorkspace } from '../lib/api';
import { load, save } from '../lib/storage';
import type { Me, MemberRole } from '../lib/types';

export type AccountStatus = 'loading' | 'signed-out' | 'signed-in' | 'local';

export class Account {
  status = $state<AccountStatus>('loading');
  me = $state<Me | null>(null);
  workspace = $state<string | null>(null);
  /** Bumped on every switch of workspace: views keyed on it start afresh. */
  generation = $state(0);

  /** The signed-in user's role in the current workspace. */
  role = $derived<MemberRole | null>(this.me?.workspaces.find((w) => w.name === this.workspace)?.role ?? null);
  isAdmin = $derived(this.status === 'signed-in' && this.me?.role === 'admin');
  /** Admins manage users and any workspace's members; owners their workspace's members. */
  canManage = $derived(this.isAdmin || (this.status === 'signed-in' && this.role === 'owner'));
  /** Editors and owners change the workspace's collections; without accounts everyone does. */
  canEdit = $derived(this.status === 'local' || (this.status === 'signed-in' && (this.role === 'editor' || this.role === 'owner')));

  constructor() {
    onUnauthenticated(() => this.#signedOut());
  }

  async load(): Promise<void> {
    try {
      this.#enter(await getMe());
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.#signedOut();
      // No /api/me (an older gateway) or no gateway at all: the single-user UI, which says why.
      else this.#local();
    }
  }

  /** Signs in; a refusal is thrown (ApiError) for the form to show. */
  async signIn(username: string, password: string): Promise<void> {
    this.#enter(await login(username, password));
  }

  async signOut(): Promise<void> {
    try {
      await logout();
    } finally {
      this.#signedOut();
    }
  }

  /** Work in another workspace: documents reload and a new conversation starts. */
  switchTo(name: string): void {
    if (name === this.workspace) return;
    this.#use(name);
    save('ragis.session', null); // a conversation belongs to one workspace
    save('ragis.collection', null);
    this.generation += 1;
  }

  /** Takes a fresh /api/me (after a workspace was created or a membership changed). */
  async refresh(): Promise<void> {
    try {
      const me = await getMe();
      this.me = me;
      if (!me.workspaces.some((w) => w.name === this.workspace)) this.switchTo(this.#pick(me));
    } catch {
      // a 401 has already signed out; anything else leaves the known state as it is
    }
  }

  #enter(me: Me): void {
    if (me.auth === 'off') return this.#local(me);
    this.me = me;
    this.#use(this.#pick(me));
    this.status = 'signed-in';
  }

  #pick(me: Me): string {
    const stored = load('ragis.workspace');
    return stored && me.workspaces.some((w) => w.name === stored) ? stored : me.workspace;
  }

  #use(name: string | null): void {
    this.workspace = name;
    useWorkspace(name);
    if (name) save('ragis.workspace', name);
  }

  #local(me: Me | null = null): void {
    this.me = me;
    this.workspace = null;
    useWorkspace(null);
    this.status = 'local';
  }

  #signedOut(): void {
    if (this.me?.auth === 'off') return; // without accounts a 401 cannot mean a lost session
    this.me = null;
    this.workspace = null;
    useWorkspace(null);
    save('ragis.session', null); // the next user must not reopen this one's conversation
    this.status = 'signed-out';
  }
}
