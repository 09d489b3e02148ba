// A stand-in for the ragis gateway, for working on the UI without the Python stack:
//   node dev/mock-gateway.mjs [port]     (default 8080; `npm run dev` proxies /api to it)
// It answers as the gateway's OpenAPI schema (openapi.json) says, from memory (documents are not
// parsed: every upload becomes a few chunks; src/lib/mock-gateway.test.ts checks every answer
// against the schema) and, when dist/ exists, serves the built UI at / with an SPA fallback.
// Ask a question containing "error", "slow" or "cache" to see those paths. Not for production.
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
/** @typedef {{ created: number, docs: Map<string, Schemas['DocumentPublic']> }} Collection */

/** A stand-in gateway with its own (empty) collections and sessions; call `.listen(port)`. */
export function createMockGateway() {
  /** @type {Map<string, Collection>} */
  const collections = new Map();
  /** @type {Map<string, Schemas['MessagePublic'][]>} */
  const sessions = new Map();
  let seq = 0;

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
    return { name, model: 'all-MiniLM-L6-v2', dim: 384, quantization: 'Q8', documents: c.docs.size, chunks, version: seq, created: c.created, shards: 1 };
  }

  /** @param {Request} req */
  async function body(req) {
    const parts = [];
    for await (const part of req) parts.push(part);
    return Buffer.concat(parts);
  }

  /** @param {Request} req @param {Response} res */
  async function upload(req, res) {
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
    const docs = ensure(collection).docs;
    const duplicate = [...docs.values()].find((d) => d.filename === filename);
    const size = raw.length;
    /** @type {Schemas['DocumentPublic']} */
    const doc = duplicate ?? { id: `doc${++seq}`, filename, content_type: 'text/plain', size, sha256: '0'.repeat(64), chunks: 1 + (size % 7), pages: /\.pdf$/i.test(filename) ? 3 : null, created: Date.now() / 1000, status: 'ready', tags: [], error: null };
    docs.set(doc.id, doc);
    const timings = { parse_ms: 20, chunk_ms: 5, index_ms: 375, total_ms: 400 };
    json(res, 200, 'UploadPublic', { collection, results: [{ filename, ok: true, document_id: doc.id, chunks: doc.chunks, pages: doc.pages, size, content_type: doc.content_type, duplicate: Boolean(duplicate), timings }] });
  }

  /** @param {string} name */
  function ensure(name) {
    const c = collections.get(name) ?? { created: Date.now() / 1000, docs: new Map() };
    collections.set(name, c);
    return c;
  }

  /** @param {Request} req @param {Response} res */
  async function chat(req, res) {
    const ask = JSON.parse((await body(req)).toString('utf8'));
    const name = ask.collection || 'default';
    const c = collections.get(name);
    if (!c || c.docs.size === 0) return fail(res, 404, 'not_found', `There is no collection '${name}': upload a document to create it.`);
    const sessionId = ask.session_id || `s${Date.now().toString(36)}`;
    const history = sessions.get(sessionId) ?? [];
    let closed = false;
    res.on('close', () => (closed = true));
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    /** @param {Schemas['ChatEvent']} event */
    const send = (event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    const cacheHit = /cache/i.test(ask.message);
    send({ type: 'meta', session_id: sessionId, collection: name, provider: 'openai', model: 'mock-gpt', cache_hit: cacheHit, query: ask.message, partial: false });
    const docs = [...c.docs.values()];
    const citations = docs.slice(0, 3).map((d, i) => ({ n: i + 1, doc_id: d.id, filename: d.filename, page: d.pages ? i + 1 : null, score: 0.9 - i * 0.07, text: `Passage ${i + 1} of ${d.filename}.\n<img src=x onerror=alert(1)> stays text.` }));
    send({ type: 'citations', citations });
    res.write(': keep-alive\n\n');
    if (/error/i.test(ask.message)) {
      send({ type: 'error', code: 'llm_unavailable', message: 'The OpenAI-compatible server at http://127.0.0.1:11434 did not answer. Is it running?' });
      return res.end();
    }
    const answer = `Here is what your documents say about **${ask.message.slice(0, 40)}** [1].\n\n- First point, from the first file [1]\n- Second point [2]\n\n\`\`\`python\nprint("hello")\n\`\`\`\n\nA link: [ragis](https://example.com) and a trap: [x](javascript:alert(1)) <script>alert(1)</script> ![img](https://evil.example/x.png)`;
    const delay = /slow/i.test(ask.message) ? 150 : cacheHit ? 0 : 15;
    let text = '';
    for (const token of answer.match(/\S+\s*|\s+/g) ?? []) {
      if (closed) return console.log('client went away: generation cancelled');
      send({ type: 'token', text: token });
      text += token;
      await sleep(delay);
    }
    history.push({ role: 'user', content: ask.message, time: Date.now() / 1000, citations: [] });
    history.push({ role: 'assistant', content: text, time: Date.now() / 1000, citations, cache_hit: cacheHit });
    sessions.set(sessionId, history);
    send({ type: 'done', timings: { embed: 12.3, cache: 0.8, search: 1.9, first_token: 240, total: 1830 }, cache_hit: cacheHit });
    res.end();
  }

  /** @param {Request} req @param {Response} res */
  async function route(req, res) {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    /** @param {RegExp} re */
    const m = (re) => path.match(re);
    if (path === '/api/health') {
      const none = process.env.MOCK_PROVIDER === 'none';
      const ok = { ok: true, detail: 'ok' };
      const limits = { max_upload_bytes: MAX_UPLOAD_BYTES, max_files_per_upload: 20 };
      return json(res, 200, 'HealthPublic', { status: 'ok', gateway: ok, rag: { ...ok, url: 'http://127.0.0.1:8001' }, redis: { ok: true, detail: 'Redis 8.2.3' }, embedder: { ok: true, detail: 'all-MiniLM-L6-v2' }, llm: none ? { ok: true, detail: 'retrieval only' } : { ok: true, detail: 'mock' }, provider: none ? 'none' : 'openai', model: none ? null : 'mock-gpt', limits });
    }
    if (path === '/api/collections' && req.method === 'GET') return json(res, 200, 'CollectionsPublic', { collections: [...collections].map(([n, c]) => collectionInfo(n, c)) });
    if (path === '/api/collections' && req.method === 'POST') {
      const { name } = JSON.parse((await body(req)).toString());
      if (typeof name !== 'string' || !NAME.test(name)) return fail(res, 422, 'invalid_name', 'A collection name is 1-64 letters, digits, _ . -');
      return json(res, 200, 'CollectionPublic', collectionInfo(name, ensure(name)));
    }
    const named = m(/^\/api\/collections\/([^/]+)$/);
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
