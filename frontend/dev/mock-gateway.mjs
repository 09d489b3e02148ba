// A stand-in for the ragis gateway, for working on the UI without the Python stack:
//   node dev/mock-gateway.mjs [port]     (default 8080; `npm run dev` proxies /api to it)
// It answers as the gateway's OpenAPI schema (openapi.json) says, from memory (documents are not
// parsed: every upload becomes a few chunks; src/lib/mock-gateway.test.ts checks every answer
// against the schema) and, when dist/ exists, serves the built UI at / with an SPA fallback.
// Ask a question containing "error", "slow" or "cache" to see those paths, "capital" for one the
// documents do not hold (not grounded), "summar" with one document picked for a whole-document
// answer. Not for production.
// MOCK_AUTH=on (or `createMockGateway({ auth: 'on' })`) plays a gateway with accounts: sign in as
// admin / admin-password; users, keys, workspaces and members live in memory, every workspace has
// its own collections and chat sessions, and five wrong passwords for a name answer 429 for 30 s.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// The policy the UI is built to run under (the real gateway should send it too).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
// The gateway's own pattern of a collection name (from the schema, so that it cannot drift).
const schema = JSON.parse(await readFile(new URL('../openapi.json', import.meta.url), 'utf8'));
const NAME = new RegExp(schema.components.schemas.CollectionCreate.properties.name.pattern, 'u');
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

// Every answer names its schema, and `npm run check` (checkJs) holds its body to the generated type.
/** @typedef {import('../src/lib/api-schema').components['schemas']} Schemas */
/** @typedef {import('node:http').IncomingMessage} Request */
/** @typedef {import('node:http').ServerResponse} Response */
/** @typedef {{ created: number, docs: Map<string, Schemas['DocumentPublic']>, minScore?: number | null }} Collection */
/** @typedef {Schemas['WorkspaceRole']} MemberRole */
/** @typedef {{ password: string, role: Schemas['Role'], created: number }} MockUser */
/** @typedef {{ created: number, personal: boolean, members: Map<string, MemberRole> }} MockWorkspace */
/** @typedef {Schemas['KeyPublic'] & { user: string, hash: string }} MockKey */
/** @typedef {{ username: string, via: 'session' | 'key' | 'off', key?: MockKey }} Who */

const WORKSPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const USERNAME = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const RANK = { viewer: 0, editor: 1, owner: 2 };
const sha256 = (/** @type {string} */ text) => createHash('sha256').update(text).digest('hex');
const now = () => Date.now() / 1000;

/**
 * A stand-in gateway with its own (empty) collections and sessions; call `.listen(port)`.
 * @param {{ auth?: 'on' | 'off' }} [options]
 */
export function createMockGateway({ auth = process.env.MOCK_AUTH === 'on' ? 'on' : 'off' } = {}) {
  /** Each workspace's collections and chat sessions. */
  /** @type {Map<string, { collections: Map<string, Collection>, sessions: Map<string, Schemas['MessagePublic'][]> }>} */
  const data = new Map();
  /** @type {Map<string, MockUser>} */
  const users = new Map([['admin', { password: 'admin-password', role: 'admin', created: now() }]]);
  /** @type {Map<string, MockWorkspace>} */
  const workspaces = new Map([
    ['default', { created: now(), personal: false, members: new Map([['admin', 'owner']]) }],
    ['admin', { created: now(), personal: true, members: new Map([['admin', 'owner']]) }],
  ]);
  /** @type {Map<string, string>} sign-in token -> username */
  const logins = new Map();
  /** @type {Map<string, MockKey>} */
  const keys = new Map();
  /** @type {Map<string, { count: number, until: number }>} recent wrong passwords per username */
  const failures = new Map();
  /** @type {{top_k: number | null, model: string | null, answer_length: 'short' | 'medium' | 'long' | null, retrieval_only_seen: boolean}} */
  const NO_PREFERENCES = { top_k: null, model: null, answer_length: null, retrieval_only_seen: false };
  /** @type {Map<string, typeof NO_PREFERENCES>} username -> their preferences (every workspace's) */
  const preferences = new Map();
  let seq = 0;
  // The workspace of the request being answered (set by `route` before any data is touched).
  let collections = space('default').collections;
  let sessions = space('default').sessions;

  /** @param {string} name */
  function space(name) {
    let d = data.get(name);
    if (!d) data.set(name, (d = { collections: new Map(), sessions: new Map() }));
    return d;
  }

  /**
   * @template {keyof Schemas} K
   * @param {Response} res @param {number} status @param {K} _schema the answer's schema @param {Schemas[K]} body
   */
  const json = (res, status, _schema, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  /** @param {Response} res @param {number} status @param {string} code @param {string} message */
  const fail = (res, status, code, message) => json(res, status, 'ErrorPublic', { error: { code, message } });
  /** @param {number} ms */
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  /** @param {string} name @param {Collection} c @returns {Schemas['CollectionPublic']} */
  function collectionInfo(name, c) {
    const chunks = [...c.docs.values()].reduce((n, d) => n + d.chunks, 0);
    const min_score = c.minScore ?? null;
    // A collection named legacy* plays one from before the keyword index, still being built.
    const keyword_index = name.startsWith('legacy') ? 'building' : 'ready';
    return { name, model: 'all-MiniLM-L6-v2', dim: 384, quantization: 'Q8', documents: c.docs.size, chunks, version: seq, created: c.created, shards: 1, min_score, effective_min_score: min_score ?? 0.63, keyword_index };
  }

  /** @param {Request} req */
  async function body(req) {
    const parts = [];
    for await (const part of req) parts.push(part);
    return Buffer.concat(parts);
  }

  /** @param {Request} req @param {Response} res */
  async function upload(req, res) {
    const own = collections; // this request's workspace, whatever others do meanwhile
    const raw = (await body(req)).toString('latin1');
    /** @param {string} name */
    const field = (name) => raw.match(new RegExp(`name="${name}"\\r\\n\\r\\n([\\s\\S]*?)\\r\\n--`))?.[1];
    const filename = Buffer.from(raw.match(/filename="([^"]*)"/)?.[1] ?? 'file', 'latin1').toString('utf8');
    const collection = Buffer.from(field('collection') ?? '', 'latin1').toString('utf8').trim() || 'default';
    if (!NAME.test(collection)) return fail(res, 422, 'invalid_name', `${JSON.stringify(collection.slice(0, 80))} is not a collection name.`);
    if (/\.(exe|zip|png)$/i.test(filename)) {
      const error = { code: 'unsupported_file', message: `${filename} is not a document ragis reads (PDF, DOCX, HTML, Markdown, text).` };
      return json(res, 415, 'UploadPublic', { collection, error, results: [{ filename, ok: false, error }] });
    }
    await sleep(400); // "embedding"
    const docs = ensure(collection, own).docs;
    const duplicate = [...docs.values()].find((d) => d.filename === filename);
    const size = raw.length;
    /** @type {Schemas['DocumentPublic']} */
    const doc = duplicate ?? { id: `doc${++seq}`, filename, content_type: 'text/plain', size, sha256: '0'.repeat(64), chunks: 1 + (size % 7), pages: /\.pdf$/i.test(filename) ? 3 : null, created: Date.now() / 1000, status: 'ready', tags: [], error: null, original: false };
    docs.set(doc.id, doc);
    const timings = { parse_ms: 20, chunk_ms: 5, index_ms: 375, total_ms: 400 };
    json(res, 200, 'UploadPublic', { collection, results: [{ filename, ok: true, document_id: doc.id, chunks: doc.chunks, pages: doc.pages, size, content_type: doc.content_type, duplicate: Boolean(duplicate), timings }] });
  }

  /** @param {string} name */
  function ensure(name, within = collections) {
    const c = within.get(name) ?? { created: Date.now() / 1000, docs: new Map() };
    within.set(name, c);
    return c;
  }

  /** @param {Request} req @param {Response} res */
  async function chat(req, res) {
    const [own, mine] = [sessions, collections]; // this request's workspace, whatever others do meanwhile
    const ask = JSON.parse((await body(req)).toString('utf8'));
    const name = ask.collection || 'default';
    const c = mine.get(name);
    if (!c || c.docs.size === 0) return fail(res, 404, 'not_found', `There is no collection '${name}': upload a document to create it.`);
    const sessionId = ask.session_id || `s${Date.now().toString(36)}`;
    const history = own.get(sessionId) ?? [];
    let closed = false;
    res.on('close', () => (closed = true));
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    /** @param {Schemas['ChatEvent']} event */
    const send = (event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    const cacheHit = /cache/i.test(ask.message);
    const only = /** @type {string[]} */ (ask.filter?.doc_ids ?? []);
    const docs = [...c.docs.values()].filter((d) => only.length === 0 || only.includes(d.id));
    const grounded = !/capital/i.test(ask.message);
    const retrieval = ask.retrieval ?? 'hybrid';
    const scope = only.length === 1 && /summar/i.test(ask.message) ? 'document' : 'passages';
    /** @type {Schemas['CitationPublic']['legs']} */
    const legs = retrieval === 'hybrid' ? ['lexical', 'vector'] : [retrieval];
    const citations = docs.slice(0, 3).map((d, i) => ({ n: i + 1, doc_id: d.id, filename: d.filename, page: d.pages ? i + 1 : null, score: (grounded ? 0.9 : 0.3) - i * 0.07, legs: i === 1 ? legs.slice(-1) : legs, text: `Passage ${i + 1} of ${d.filename}.\n<img src=x onerror=alert(1)> stays text.` }));
    const best_score = citations[0]?.score ?? null;
    send({ type: 'meta', session_id: sessionId, collection: name, provider: 'openai', model: 'mock-gpt', cache_hit: cacheHit, query: ask.message, partial: false, retrieval, grounded, best_score, scope });
    send({ type: 'citations', citations });
    res.write(': keep-alive\n\n');
    if (/error/i.test(ask.message)) {
      send({ type: 'error', code: 'llm_unavailable', message: 'The OpenAI-compatible server at http://127.0.0.1:11434 did not answer. Is it running?' });
      return res.end();
    }
    const answer = !grounded ? 'I could not find this in your documents.' : `Here is what your documents say about **${ask.message.slice(0, 40)}** [1].\n\n- First point, from the first file [1]\n- Second point [2]\n\n\`\`\`python\nprint("hello")\n\`\`\`\n\nA link: [ragis](https://example.com) and a trap: [x](javascript:alert(1)) <script>alert(1)</script> ![img](https://evil.example/x.png)`;
    const delay = /slow/i.test(ask.message) ? 150 : cacheHit ? 0 : 15;
    let text = '';
    for (const token of answer.match(/\S+\s*|\s+/g) ?? []) {
      if (closed) return console.log('client went away: generation cancelled');
      send({ type: 'token', text: token });
      text += token;
      await sleep(delay);
    }
    history.push({ role: 'user', content: ask.message, time: Date.now() / 1000, citations: [] });
    history.push({ role: 'assistant', content: text, time: Date.now() / 1000, citations, cache_hit: cacheHit, grounded });
    own.set(sessionId, history);
    send({ type: 'done', timings: { embed: 12.3, cache: 0.8, search: 1.9, first_token: 240, total: 1830 }, cache_hit: cacheHit });
    res.end();
  }

  /** @param {Request} req @returns {Promise<any>} */
  async function jsonOf(req) {
    try {
      return JSON.parse((await body(req)).toString('utf8'));
    } catch {
      return {};
    }
  }

  /** Who sends the request (a sign-in cookie or a key), or null. @param {Request} req @returns {Who | null} */
  function who(req) {
    if (auth === 'off') return { username: 'local', via: 'off' };
    const bearer = req.headers.authorization?.match(/^Bearer (rgs_\S+)$/)?.[1];
    if (bearer) {
      const key = [...keys.values()].find((k) => k.hash === sha256(bearer));
      if (!key || !users.has(key.user)) return null;
      key.last_used = now();
      return { username: key.user, via: 'key', key };
    }
    const token = req.headers.cookie?.match(/(?:^|;\s*)ragis_session=([^;]+)/)?.[1];
    const username = token ? logins.get(token) : undefined;
    return username && users.has(username) ? { username, via: 'session' } : null;
  }

  /** @param {string} username @returns {Schemas['MeWorkspace'][]} */
  function workspacesOf(username) {
    if (auth === 'off') return [{ name: 'default', role: 'owner', personal: false }];
    return [...workspaces]
      .filter(([, w]) => w.members.has(username))
      .map(([name, w]) => ({ name, role: /** @type {MemberRole} */ (w.members.get(username)), personal: w.personal }));
  }

  /** The request's workspace: the header's, else the key's, else the user's personal one. @param {Request} req @param {Who} caller */
  function workspaceOf(req, caller) {
    if (auth === 'off') return 'default';
    const header = req.headers['x-ragis-workspace'];
    return (typeof header === 'string' && header) || caller.key?.workspace || caller.username;
  }

  /** @param {Request} req @param {Who} caller @returns {Schemas['MePublic']} */
  function me(req, caller) {
    const role = auth === 'off' ? 'admin' : (users.get(caller.username)?.role ?? 'member');
    return { username: caller.username, role, auth, via: caller.via, workspace: workspaceOf(req, caller), workspaces: workspacesOf(caller.username) };
  }

  /** The sign-in, sign-out and account routes; true when one answered. @param {Request} req @param {Response} res @param {string} path */
  async function accounts(req, res, path) {
    /**
     * @template {keyof Schemas} K
     * @param {number} status @param {K} schema @param {Schemas[K]} body
     */
    const send = (status, schema, body) => {
      json(res, status, schema, body);
      return true;
    };
    /** @param {number} status @param {string} code @param {string} message */
    const refuse = (status, code, message) => send(status, 'ErrorPublic', { error: { code, message } });
    const method = req.method;
    if (path === '/api/auth/login' && method === 'POST') {
      if (auth === 'off') return refuse(409, 'auth_off', 'Accounts are off: RAGIS_AUTH is off for this gateway.');
      const { username = '', password = '' } = await jsonOf(req);
      const name = String(username).toLowerCase();
      const locked = failures.get(name);
      if (locked && locked.count >= 5 && locked.until > Date.now()) {
        res.setHeader('Retry-After', String(Math.ceil((locked.until - Date.now()) / 1000)));
        return refuse(429, 'too_many_attempts', 'Too many failed sign-ins for this name: try again later.');
      }
      const user = users.get(name);
      if (!user || user.password !== password) {
        const count = (locked && locked.until > Date.now() ? locked.count : 0) + 1;
        failures.set(name, { count, until: Date.now() + 30_000 });
        return refuse(401, 'invalid_credentials', 'Wrong username or password.');
      }
      failures.delete(name);
      const token = randomBytes(24).toString('hex');
      logins.set(token, name);
      res.setHeader('Set-Cookie', `ragis_session=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=604800`);
      return send(200, 'MePublic', me(req, { username: name, via: 'session' }));
    }
    if (path === '/api/auth/logout' && method === 'POST') {
      const token = req.headers.cookie?.match(/(?:^|;\s*)ragis_session=([^;]+)/)?.[1];
      if (token) logins.delete(token);
      res.setHeader('Set-Cookie', 'ragis_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0');
      return send(200, 'LoggedOut', { logged_out: true });
    }
    if (path === '/api/health') return false; // answered below, fully only with credentials
    if (!path.startsWith('/api/')) return false;
    const caller = who(req);
    if (!caller) return refuse(401, 'unauthenticated', 'Sign in or send an API key.');
    if (path === '/api/me' && method === 'GET') return send(200, 'MePublic', me(req, caller));
    if (path === '/api/preferences' && method === 'GET') return send(200, 'Preferences', preferences.get(caller.username) ?? NO_PREFERENCES);
    if (path === '/api/preferences' && method === 'PUT') {
      const saved = { ...NO_PREFERENCES, ...(await jsonOf(req)) };
      preferences.set(caller.username, saved);
      return send(200, 'Preferences', saved);
    }
    if (path === '/api/models' && method === 'GET') {
      const none = process.env.MOCK_PROVIDER === 'none';
      return send(200, 'ModelsPublic', none ? { provider: 'none', default: null, models: [], error: null } : { provider: 'openai', default: 'mock-gpt', models: ['mock-gpt', 'mock-gpt-large'], error: null });
    }
    const manage = /^\/api\/(keys|users|workspaces)(\/|$)/.test(path);
    if (manage && auth === 'off') return refuse(409, 'auth_off', 'Accounts are off: there is one local user.');
    const admin = users.get(caller.username)?.role === 'admin';
    if (path === '/api/keys' && method === 'GET') {
      const mine = [...keys.values()].filter((k) => k.user === caller.username);
      return send(200, 'KeysPublic', { keys: mine.map(({ id, name, workspace, created, prefix, last_used }) => ({ id, name, workspace, created, prefix, last_used })) });
    }
    if (path === '/api/keys' && method === 'POST') {
      const { name, workspace = null } = await jsonOf(req);
      if (typeof name !== 'string' || name.length < 1 || name.length > 64) return refuse(422, 'invalid_input', 'A key name is 1 to 64 characters.');
      if (workspace !== null && !workspaces.get(workspace)?.members.has(caller.username)) return refuse(404, 'not_found', `There is no workspace '${workspace}'.`);
      const key = `rgs_${randomBytes(32).toString('base64url')}`;
      /** @type {MockKey} */
      const record = { id: `k${++seq}`, name, workspace, created: now(), prefix: key.slice(0, 8), last_used: null, user: caller.username, hash: sha256(key) };
      keys.set(record.id, record);
      const { id, created, prefix } = record;
      return send(201, 'KeyCreated', { id, key, name, workspace, created, prefix });
    }
    const key = path.match(/^\/api\/keys\/([^/]+)$/);
    if (key && method === 'DELETE') {
      const record = keys.get(decodeURIComponent(key[1]));
      if (!record || (record.user !== caller.username && !admin)) return refuse(404, 'not_found', 'There is no such key.');
      keys.delete(record.id);
      return send(200, 'KeyRevoked', { revoked: true, id: record.id });
    }
    if (path.startsWith('/api/users') && !admin) return refuse(403, 'forbidden', 'Only an admin manages users.');
    if (path === '/api/users' && method === 'GET') return send(200, 'UsersPublic', { users: [...users].map(([username, u]) => ({ username, role: u.role, created: u.created })) });
    if (path === '/api/users' && method === 'POST') {
      const { username, password, role = 'member' } = await jsonOf(req);
      if (typeof username !== 'string' || !USERNAME.test(username)) return refuse(422, 'invalid_name', 'A username is 1-32 lower-case letters, digits, _ . -');
      if (typeof password !== 'string' || password.length < 8 || password.length > 1024) return refuse(422, 'invalid_input', 'A password is 8 to 1024 characters.');
      if (users.has(username) || workspaces.has(username)) return refuse(409, 'conflict', `The name '${username}' is taken.`);
      users.set(username, { password, role: role === 'admin' ? 'admin' : 'member', created: now() });
      workspaces.set(username, { created: now(), personal: true, members: new Map([[username, 'owner']]) });
      return send(201, 'UserPublic', { username, role: role === 'admin' ? 'admin' : 'member', created: now() });
    }
    const user = path.match(/^\/api\/users\/([^/]+)$/);
    if (user && method === 'DELETE') {
      const username = decodeURIComponent(user[1]);
      if (!users.has(username)) return refuse(404, 'not_found', `There is no user '${username}'.`);
      if (username === caller.username) return refuse(409, 'conflict', 'You cannot remove yourself.');
      users.delete(username);
      for (const [id, k] of keys) if (k.user === username) keys.delete(id);
      for (const [token, name] of logins) if (name === username) logins.delete(token);
      for (const w of workspaces.values()) w.members.delete(username);
      workspaces.delete(username);
      data.delete(username);
      return send(200, 'UserDeleted', { deleted: true, username });
    }
    if (path === '/api/workspaces' && method === 'GET') {
      const listed = [...workspaces].filter(([, w]) => admin || w.members.has(caller.username));
      return send(200, 'WorkspacesPublic', { workspaces: listed.map(([name, w]) => ({ name, role: w.members.get(caller.username) ?? null, personal: w.personal, created: w.created })) });
    }
    if (path === '/api/workspaces' && method === 'POST') {
      const { name } = await jsonOf(req);
      if (typeof name !== 'string' || !WORKSPACE.test(name)) return refuse(422, 'invalid_name', 'A workspace name is 1-64 letters, digits, _ . -');
      if (workspaces.has(name) || users.has(name)) return refuse(409, 'conflict', `The name '${name}' is taken.`);
      const created = now();
      workspaces.set(name, { created, personal: false, members: new Map([[caller.username, 'owner']]) });
      return send(201, 'WorkspacePublic', { name, role: 'owner', personal: false, created });
    }
    const members = path.match(/^\/api\/workspaces\/([^/]+)\/members(?:\/([^/]+))?$/);
    if (members) {
      const name = decodeURIComponent(members[1]);
      const w = workspaces.get(name);
      const mine = w?.members.get(caller.username);
      if (!w || (!mine && !admin)) return refuse(404, 'not_found', `There is no workspace '${name}'.`);
      if (method === 'GET' && !members[2]) return send(200, 'MembersPublic', { workspace: name, members: [...w.members].map(([username, role]) => ({ username, role })) });
      if (mine !== 'owner' && !admin) return refuse(403, 'forbidden', `Only an owner of '${name}' manages its members.`);
      const owners = [...w.members.values()].filter((r) => r === 'owner').length;
      if (method === 'POST' && !members[2]) {
        const { username, role } = await jsonOf(req);
        if (!users.has(username)) return refuse(404, 'not_found', `There is no user '${username}'.`);
        if (!(role in RANK)) return refuse(422, 'invalid_input', 'A role is owner, editor or viewer.');
        if (w.members.get(username) === 'owner' && role !== 'owner' && owners === 1) return refuse(409, 'conflict', `'${username}' is the last owner of '${name}'.`);
        w.members.set(username, role);
        return send(200, 'MemberChanged', { workspace: name, username, role });
      }
      if (method === 'DELETE' && members[2]) {
        const username = decodeURIComponent(members[2]);
        if (!w.members.has(username)) return refuse(404, 'not_found', `'${username}' is not a member of '${name}'.`);
        if (w.members.get(username) === 'owner' && owners === 1) return refuse(409, 'conflict', `'${username}' is the last owner of '${name}'.`);
        w.members.delete(username);
        return send(200, 'MemberRemoved', { removed: true, workspace: name, username });
      }
    }
    if (manage) return refuse(404, 'not_found', `There is no endpoint ${method} ${path}.`);
    // A data route: in the request's workspace, with the member's rights.
    const workspace = workspaceOf(req, caller);
    const role = auth === 'off' ? 'owner' : workspaces.get(workspace)?.members.get(caller.username);
    if (!role) return refuse(404, 'not_found', `There is no workspace '${workspace}'.`);
    const writes = method !== 'GET' && path !== '/api/chat/stream' && !path.startsWith('/api/sessions/');
    if (writes && RANK[role] < RANK.editor) return refuse(403, 'forbidden', `A viewer of '${workspace}' cannot change its documents.`);
    ({ collections, sessions } = space(workspace));
    return false;
  }

  /** @param {Request} req @param {Response} res */
  async function route(req, res) {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    /** @param {RegExp} re */
    const m = (re) => path.match(re);
    if (await accounts(req, res, path)) return;
    if (path === '/api/health' && auth === 'on' && !who(req)) return json(res, 200, 'HealthStatus', { status: 'ok' });
    if (path === '/api/health') {
      const none = process.env.MOCK_PROVIDER === 'none';
      const ok = { ok: true, detail: 'ok' };
      const limits = { max_upload_bytes: MAX_UPLOAD_BYTES, max_files_per_upload: 20 };
      return json(res, 200, 'HealthPublic', { status: 'ok', gateway: ok, rag: { ...ok, url: 'http://127.0.0.1:8001' }, redis: { ok: true, detail: 'Redis 8.2.3' }, embedder: { ok: true, detail: 'all-MiniLM-L6-v2' }, llm: none ? { ok: true, detail: 'retrieval only' } : { ok: true, detail: 'mock' }, provider: none ? 'none' : 'openai', model: none ? null : 'mock-gpt', limits });
    }
    if (path === '/api/collections' && req.method === 'GET') return json(res, 200, 'CollectionsPublic', { collections: [...collections].map(([n, c]) => collectionInfo(n, c)) });
    if (path === '/api/collections' && req.method === 'POST') {
      const own = collections;
      const { name } = JSON.parse((await body(req)).toString());
      if (typeof name !== 'string' || !NAME.test(name)) return fail(res, 422, 'invalid_name', 'A collection name is 1-64 letters, digits, _ . -');
      return json(res, 200, 'CollectionPublic', collectionInfo(name, ensure(name, own)));
    }
    const named = m(/^\/api\/collections\/([^/]+)$/);
    if (named && req.method === 'PATCH') {
      const name = decodeURIComponent(named[1]);
      const c = collections.get(name);
      if (!c) return fail(res, 404, 'not_found', `There is no collection '${name}'.`);
      const { min_score } = await jsonOf(req);
      if (min_score !== null && !(typeof min_score === 'number' && min_score >= 0 && min_score <= 1)) return fail(res, 422, 'invalid_request', 'min_score: a number from 0 to 1, or null.');
      c.minScore = min_score;
      return json(res, 200, 'CollectionPublic', collectionInfo(name, c));
    }
    if (named && req.method === 'DELETE') {
      const name = decodeURIComponent(named[1]);
      const c = collections.get(name);
      if (!c) return fail(res, 404, 'not_found', `There is no collection '${name}'.`);
      collections.delete(name);
      return json(res, 200, 'CollectionDeleted', { deleted: true, name, keys_removed: 2 + c.docs.size });
    }
    if (path === '/api/documents' && req.method === 'GET') {
      const name = url.searchParams.get('collection') ?? 'default';
      // A collection that does not exist (yet) has no documents, as on the gateway.
      return json(res, 200, 'DocumentsPublic', { collection: name, documents: [...(collections.get(name)?.docs.values() ?? [])] });
    }
    const document = m(/^\/api\/documents\/([^/]+)$/);
    if (document && req.method === 'DELETE') {
      const id = decodeURIComponent(document[1]);
      const name = url.searchParams.get('collection') ?? 'default';
      const c = collections.get(name);
      if (!c?.docs.delete(id)) return fail(res, 404, 'not_found', `There is no document '${id}'.`);
      return json(res, 200, 'DocumentDeleted', { deleted: true, collection: name, document_id: id, version: ++seq });
    }
    if (path === '/api/documents/upload' && req.method === 'POST') return upload(req, res);
    if (path === '/api/chat/stream' && req.method === 'POST') return chat(req, res);
    const s = m(/^\/api\/sessions\/([^/]+)$/);
    if (s) {
      const id = decodeURIComponent(s[1]);
      const messages = sessions.get(id);
      if (!messages) return fail(res, 404, 'not_found', `There is no session '${id}'.`);
      if (req.method === 'DELETE') {
        sessions.delete(id);
        return json(res, 200, 'SessionDeleted', { deleted: true, session_id: id });
      }
      return json(res, 200, 'SessionPublic', { session_id: id, messages, ttl: 86400 });
    }
    if (path.startsWith('/api/')) return fail(res, 404, 'not_found', `There is no endpoint ${req.method} ${path}.`);
    // The built UI, with index.html for every other path (SPA fallback).
    const file = normalize(join(dist, path === '/' ? 'index.html' : path));
    /** @type {Record<string, string>} */
    const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
    const data = await readFile(file.startsWith(dist) ? file : join(dist, 'index.html')).catch(() => readFile(join(dist, 'index.html')));
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'text/html', 'Content-Security-Policy': CSP });
    res.end(data);
  }

  return createServer((req, res) => route(req, res).catch((e) => fail(res, 500, 'internal_error', String(e))));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  const server = createMockGateway();
  server.listen(port, '127.0.0.1', () => {
    const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
    console.log(`mock gateway on http://127.0.0.1:${bound}`);
  });
}
