/**
 * The dev mock gateway (dev/mock-gateway.mjs) answers what the gateway's OpenAPI schema says: each
 * answer the UI reads, chat events included, is checked against openapi.json, and may carry no
 * field the schema does not name (the gateway's own tests hold it to the same rule).
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockGateway } from '../../dev/mock-gateway.mjs';
import openapi from '../../openapi.json';
import { parseSSE } from './api';

type Schema = { [key: string]: unknown };
const root = openapi as unknown as Schema;

function resolve(schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const node = ref
    .slice(2)
    .split('/')
    .reduce<unknown>((at, key) => (at as Schema)[key], root);
  return resolve(node as Schema);
}

const TYPES: Record<string, (v: unknown) => boolean> = {
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  integer: Number.isInteger,
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
};

/** What is wrong with `value` for `schema` (the subset of JSON Schema pydantic writes). */
function problems(value: unknown, schema: Schema, at = '$'): string[] {
  const s = resolve(schema);
  const discriminator = s.discriminator as { propertyName: string; mapping: Record<string, string> } | undefined;
  const tag = discriminator && TYPES.object(value) ? (value as Schema)[discriminator.propertyName] : undefined;
  if (discriminator && typeof tag === 'string' && tag in discriminator.mapping) {
    return problems(value, { $ref: discriminator.mapping[tag] }, at); // the named alternative's own problems
  }
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alternatives) {
    const fits = alternatives.filter((alt) => problems(value, alt, at).length === 0).length;
    const ok = s.oneOf ? fits === 1 : fits > 0;
    return ok ? [] : [`${at}: ${JSON.stringify(value)?.slice(0, 80)} fits ${fits} of its ${alternatives.length} schemas`];
  }
  if ('const' in s && value !== s.const) return [`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(s.const)}`];
  if (Array.isArray(s.enum) && !s.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${s.enum}`];
  if (typeof s.type === 'string' && !TYPES[s.type](value)) return [`${at}: ${JSON.stringify(value)} is not ${s.type}`];
  if (typeof s.pattern === 'string' && typeof value === 'string' && !new RegExp(s.pattern, 'u').test(value)) {
    return [`${at}: ${JSON.stringify(value)} does not match ${s.pattern}`];
  }
  const out: string[] = [];
  if (Array.isArray(value) && s.items) value.forEach((item, i) => out.push(...problems(item, s.items as Schema, `${at}[${i}]`)));
  if (TYPES.object(value) && s.type === 'object') {
    const record = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const name of (s.required ?? []) as string[]) if (!(name in record)) out.push(`${at}.${name}: missing`);
    for (const [name, item] of Object.entries(record)) {
      if (name in properties) out.push(...problems(item, properties[name], `${at}.${name}`));
      else if (typeof s.additionalProperties === 'object') out.push(...problems(item, s.additionalProperties as Schema, `${at}.${name}`));
      else if (s.additionalProperties !== true) out.push(`${at}.${name}: not in the schema`);
    }
  }
  return out;
}

/** The schema of the answer `status` of `method path`, as the gateway documents it. */
function answerSchema(method: string, url: string, status: number): Schema {
  const path = url.split('?')[0];
  const paths = root.paths as Record<string, Record<string, Schema>>;
  const template = Object.keys(paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
  const operation = template ? paths[template][method.toLowerCase()] : undefined;
  const answer = (operation?.responses as Record<string, Schema> | undefined)?.[String(status)];
  expect(answer, `the schema has no ${status} answer for ${method} ${path}`).toBeDefined();
  const content = answer!.content as Record<string, { schema: Schema }>;
  return (content['application/json'] ?? Object.values(content)[0]).schema;
}

let base = '';
let server: ReturnType<typeof createMockGateway>;

beforeAll(async () => {
  server = createMockGateway();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

/** Call the mock and check its answer against the schema; returns the body. */
async function call(method: string, path: string, status: number, init: RequestInit = {}): Promise<any> {
  const res = await fetch(base + path, { method, ...init });
  const body = await res.json();
  expect([method, path, res.status]).toEqual([method, path, status]);
  expect(problems(body, answerSchema(method, path, status))).toEqual([]);
  return body;
}

const jsonBody = (value: unknown): RequestInit => ({
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(value),
});

function uploadBody(collection: string, filename: string, text: string): RequestInit {
  const form = new FormData();
  form.append('collection', collection);
  form.append('file', new Blob([text], { type: 'text/plain' }), filename);
  return { body: form };
}

async function chat(message: string, collection: string, extra: object = {}) {
  const res = await fetch(`${base}/api/chat/stream`, { method: 'POST', ...jsonBody({ message, collection, ...extra }) });
  expect(res.status).toBe(200);
  const events = [];
  for await (const event of parseSSE(res.body!)) events.push(event);
  const eventSchema = (root.components as { schemas: Record<string, Schema> }).schemas.ChatEvent;
  for (const { event, data } of events) {
    const parsed = JSON.parse(data);
    expect(parsed.type).toBe(event);
    expect(problems(parsed, eventSchema)).toEqual([]);
  }
  return events.map((e) => JSON.parse(e.data));
}

describe('the mock gateway answers as the schema says', () => {
  it('health', async () => {
    await call('GET', '/api/health', 200);
  });

  it('collections, documents, chat and sessions, from upload to deletion', async () => {
    expect((await call('GET', '/api/collections', 200)).collections).toEqual([]);
    await call('POST', '/api/collections', 200, jsonBody({ name: 'other' }));
    const upload = await call('POST', '/api/documents/upload', 200, uploadBody('notes', 'saturn.txt', 'Rings of ice.'));
    const id = upload.results[0].document_id;
    await call('POST', '/api/documents/upload', 415, uploadBody('notes', 'tool.exe', 'MZ'));
    expect((await call('GET', '/api/collections', 200)).collections).toHaveLength(2);
    expect((await call('GET', '/api/documents?collection=notes', 200)).documents[0].id).toBe(id);
    expect((await call('GET', '/api/documents?collection=none-yet', 200)).documents).toEqual([]);

    const events = await chat('What are the rings made of?', 'notes');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['meta', 'citations', 'token', 'done']));
    const failed = await chat('show me an error', 'notes');
    expect(failed.at(-1).type).toBe('error');
    const [meta, citations] = await chat('What is the capital of Australia?', 'notes', { retrieval: 'lexical' });
    expect([meta.grounded, meta.retrieval, citations.citations[0].legs]).toEqual([false, 'lexical', ['lexical']]);
    const [whole] = await chat('Summarize this document.', 'notes', { filter: { doc_ids: [id] } });
    expect(whole.scope).toBe('document');
    expect((await call('PATCH', '/api/collections/notes', 200, jsonBody({ min_score: 0.7 }))).min_score).toBe(0.7);
    await call('PATCH', '/api/collections/notes', 422, jsonBody({ min_score: 'high' }));
    await call('PATCH', '/api/collections/nowhere', 404, jsonBody({ min_score: null }));

    const session = events[0].session_id;
    expect((await call('GET', `/api/sessions/${session}`, 200)).messages).toHaveLength(2);
    const refusal = (await call('GET', `/api/sessions/${meta.session_id}`, 200)).messages.at(-1);
    expect(refusal.grounded).toBe(false);
    await call('DELETE', `/api/sessions/${session}`, 200);
    await call('GET', `/api/sessions/${session}`, 404);
    await call('DELETE', `/api/documents/${id}?collection=notes`, 200);
    await call('DELETE', `/api/documents/${id}?collection=notes`, 404);
    await call('DELETE', '/api/collections/other', 200);
    await call('DELETE', '/api/collections/other', 404);
  });

  it('models and preferences', async () => {
    expect((await call('GET', '/api/models', 200)).models.length).toBeGreaterThan(0);
    expect((await call('GET', '/api/preferences', 200)).top_k).toBeNull();
    await call('PUT', '/api/preferences', 200, jsonBody({ top_k: 3, model: 'mock-gpt', answer_length: 'short', retrieval_only_seen: true }));
    expect((await call('GET', '/api/preferences', 200)).top_k).toBe(3);
  });

  it('refuses the collection names the gateway refuses, with an error body', async () => {
    for (const name of ['', '-lead', '../etc', 'a b', 'x'.repeat(65), 'ａｂｃ', 'a\nb', 'a/b', '😀']) {
      const error = await call('POST', '/api/collections', 422, jsonBody({ name }));
      expect(error.error.code).toBe('invalid_name');
      if (name) await call('POST', '/api/documents/upload', 422, uploadBody(name, 'a.txt', 'text'));
    }
    // A blank collection field is the default collection, as on the gateway.
    expect((await call('POST', '/api/documents/upload', 200, uploadBody(' ', 'a.txt', 'text'))).collection).toBe('default');
    await call('POST', '/api/collections', 422, jsonBody({ name: 42 }));
  });
});

describe('with accounts on, the mock answers the accounts API as the schema says', () => {
  let accounts: ReturnType<typeof createMockGateway>;
  let url = '';
  let cookie = '';

  beforeAll(async () => {
    accounts = createMockGateway({ auth: 'on' });
    await new Promise<void>((done) => accounts.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(accounts.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    accounts.closeAllConnections();
    await new Promise((done) => accounts.close(done));
  });

  async function as(method: string, path: string, status: number, body?: unknown, headers: Record<string, string> = {}): Promise<any> {
    const init: RequestInit = { method, headers: { Cookie: cookie, 'Content-Type': 'application/json', ...headers } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(url + path, init);
    const answer = await res.json();
    expect([method, path, res.status]).toEqual([method, path, status]);
    expect(problems(answer, answerSchema(method, path, status))).toEqual([]);
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return answer;
  }

  it('from sign-in to sign-out', async () => {
    await as('GET', '/api/me', 401);
    expect(await as('GET', '/api/health', 200)).toEqual({ status: 'ok' });
    await as('POST', '/api/auth/login', 401, { username: 'admin', password: 'wrong' });
    const me = await as('POST', '/api/auth/login', 200, { username: 'admin', password: 'admin-password' });
    expect([me.username, me.role, me.auth, me.via, me.workspace]).toEqual(['admin', 'admin', 'on', 'session', 'admin']);
    await as('GET', '/api/health', 200);
    const key = await as('POST', '/api/keys', 201, { name: 'cli', workspace: 'default' });
    expect((await as('GET', '/api/keys', 200)).keys).toHaveLength(1);
    await as('DELETE', `/api/keys/${key.id}`, 200);
    await as('POST', '/api/users', 201, { username: 'bob', password: 'bob-password', role: 'member' });
    await as('POST', '/api/users', 409, { username: 'bob', password: 'bob-password', role: 'member' });
    expect((await as('GET', '/api/users', 200)).users).toHaveLength(2);
    await as('POST', '/api/workspaces', 201, { name: 'team' });
    expect((await as('GET', '/api/workspaces', 200)).workspaces.length).toBeGreaterThanOrEqual(3);
    await as('POST', '/api/workspaces/team/members', 200, { username: 'bob', role: 'viewer' });
    expect((await as('GET', '/api/workspaces/team/members', 200)).members).toHaveLength(2);
    await as('DELETE', '/api/workspaces/team/members/bob', 200);
    await as('DELETE', '/api/workspaces/team/members/admin', 409);
    await as('DELETE', '/api/users/bob', 200);
    await as('POST', '/api/auth/logout', 200);
    cookie = '';
    await as('GET', '/api/keys', 401);
  });
});
