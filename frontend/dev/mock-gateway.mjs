// A stand-in for the ragis gateway, for working on the UI without the Python stack:
//   node dev/mock-gateway.mjs [port]     (default 8080; `npm run dev` proxies /api to it)
// It speaks the gateway's API contract from memory (documents are not parsed: every upload
// becomes a few chunks) and, when dist/ exists, serves the built UI at / with an SPA fallback.
// Ask a question containing "error", "slow" or "cache" to see those paths. Not for production.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// The policy the UI is built to run under (the real gateway should send it too).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const collections = new Map(); // name -> {created, docs: Map(id -> doc)}
const sessions = new Map(); // id -> messages
let seq = 0;

const json = (res, status, body) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
const fail = (res, status, code, message, extra = {}) => json(res, status, { error: { code, message }, ...extra });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function collectionInfo(name, c) {
  const chunks = [...c.docs.values()].reduce((n, d) => n + d.chunks, 0);
  return { name, model: 'all-MiniLM-L6-v2', dim: 384, quantization: 'Q8', documents: c.docs.size, chunks, version: seq, created: c.created };
}

async function body(req) {
  const parts = [];
  for await (const part of req) parts.push(part);
  return Buffer.concat(parts);
}

async function upload(req, res) {
  const raw = (await body(req)).toString('latin1');
  const field = (name) => raw.match(new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)`))?.[1];
  const filename = Buffer.from(raw.match(/filename="([^"]*)"/)?.[1] ?? 'file', 'latin1').toString('utf8');
  const collection = field('collection') || 'default';
  if (/\.(exe|zip|png)$/i.test(filename)) {
    const error = { code: 'unsupported_file', message: `${filename} is not a document ragis reads (PDF, DOCX, HTML, Markdown, text).` };
    return json(res, 415, { error, results: [{ filename, ok: false, error }] });
  }
  await sleep(400); // "embedding"
  if (!collections.has(collection)) collections.set(collection, { created: Date.now() / 1000, docs: new Map() });
  const docs = collections.get(collection).docs;
  const duplicate = [...docs.values()].find((d) => d.filename === filename);
  const size = raw.length;
  const doc = duplicate ?? { id: `doc${++seq}`, filename, content_type: 'text/plain', size, sha256: 'x', chunks: 1 + (size % 7), pages: /\.pdf$/i.test(filename) ? 3 : null, created: Date.now() / 1000, status: 'ready', tags: [] };
  docs.set(doc.id, doc);
  json(res, 200, { collection, results: [{ filename, ok: true, document_id: doc.id, chunks: doc.chunks, pages: doc.pages, size, content_type: doc.content_type, duplicate: Boolean(duplicate), timings: { total: 400 } }] });
}

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
  const send = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const cacheHit = /cache/i.test(ask.message);
  send('meta', { session_id: sessionId, collection: name, provider: 'openai', model: 'mock-gpt', cache_hit: cacheHit, query: ask.message });
  const docs = [...c.docs.values()];
  const citations = docs.slice(0, 3).map((d, i) => ({ n: i + 1, doc_id: d.id, filename: d.filename, page: d.pages ? i + 1 : null, score: 0.9 - i * 0.07, text: `Passage ${i + 1} of ${d.filename}.\n<img src=x onerror=alert(1)> stays text.` }));
  send('citations', { citations });
  res.write(': keep-alive\n\n');
  if (/error/i.test(ask.message)) {
    send('error', { code: 'llm_unavailable', message: 'The OpenAI-compatible server at http://127.0.0.1:11434 did not answer. Is it running?' });
    return res.end();
  }
  const answer = `Here is what your documents say about **${ask.message.slice(0, 40)}** [1].\n\n- First point, from the first file [1]\n- Second point [2]\n\n\`\`\`python\nprint("hello")\n\`\`\`\n\nA link: [ragis](https://example.com) and a trap: [x](javascript:alert(1)) <script>alert(1)</script> ![img](https://evil.example/x.png)`;
  const delay = /slow/i.test(ask.message) ? 150 : cacheHit ? 0 : 15;
  let text = '';
  for (const token of answer.match(/\S+\s*|\s+/g)) {
    if (closed) return console.log('client went away: generation cancelled');
    send('token', { text: token });
    text += token;
    await sleep(delay);
  }
  history.push({ role: 'user', content: ask.message, time: Date.now() / 1000, citations: [] });
  history.push({ role: 'assistant', content: text, time: Date.now() / 1000, citations, cache_hit: cacheHit });
  sessions.set(sessionId, history);
  send('done', { timings: { embed: 12.3, cache: 0.8, search: 1.9, first_token: 240, total: 1830 }, cache_hit: cacheHit });
  res.end();
}

async function route(req, res) {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  const m = (re) => path.match(re);
  if (path === '/api/health') {
    const none = process.env.MOCK_PROVIDER === 'none';
    const ok = { ok: true, detail: 'ok' };
    return json(res, 200, { status: 'ok', gateway: ok, rag: ok, redis: { ok: true, detail: 'Redis 8.2.3' }, embedder: { ok: true, detail: 'all-MiniLM-L6-v2' }, llm: none ? { ok: true, detail: 'retrieval only' } : { ok: true, detail: 'mock' }, provider: none ? 'none' : 'openai', model: none ? null : 'mock-gpt' });
  }
  if (path === '/api/collections' && req.method === 'GET') return json(res, 200, { collections: [...collections].map(([n, c]) => collectionInfo(n, c)) });
  if (path === '/api/collections' && req.method === 'POST') {
    const { name } = JSON.parse((await body(req)).toString());
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name ?? '')) return fail(res, 422, 'invalid_name', 'A collection name is 1-64 letters, digits, _ . -');
    if (!collections.has(name)) collections.set(name, { created: Date.now() / 1000, docs: new Map() });
    return json(res, 200, collectionInfo(name, collections.get(name)));
  }
  if (m(/^\/api\/collections\/([^/]+)$/) && req.method === 'DELETE') {
    const name = decodeURIComponent(m(/^\/api\/collections\/([^/]+)$/)[1]);
    if (!collections.delete(name)) return fail(res, 404, 'not_found', `There is no collection '${name}'.`);
    return json(res, 200, { deleted: true, name });
  }
  if (path === '/api/documents' && req.method === 'GET') {
    const name = url.searchParams.get('collection') ?? 'default';
    const c = collections.get(name);
    if (!c) return fail(res, 404, 'not_found', `There is no collection '${name}'.`);
    return json(res, 200, { collection: name, documents: [...c.docs.values()] });
  }
  if (m(/^\/api\/documents\/([^/]+)$/) && req.method === 'DELETE') {
    const id = decodeURIComponent(m(/^\/api\/documents\/([^/]+)$/)[1]);
    const c = collections.get(url.searchParams.get('collection') ?? 'default');
    if (!c?.docs.delete(id)) return fail(res, 404, 'not_found', `There is no document '${id}'.`);
    return json(res, 200, { deleted: true, id });
  }
  if (path === '/api/documents/upload' && req.method === 'POST') return upload(req, res);
  if (path === '/api/chat/stream' && req.method === 'POST') return chat(req, res);
  const s = m(/^\/api\/sessions\/([^/]+)$/);
  if (s) {
    const id = decodeURIComponent(s[1]);
    if (!sessions.has(id)) return fail(res, 404, 'not_found', `There is no session '${id}'.`);
    if (req.method === 'DELETE') return json(res, 200, { deleted: true, session_id: sessions.delete(id) && id });
    return json(res, 200, { session_id: id, messages: sessions.get(id), ttl: 86400 });
  }
  if (path.startsWith('/api/')) return fail(res, 404, 'not_found', `There is no endpoint ${req.method} ${path}.`);
  // The built UI, with index.html for every other path (SPA fallback).
  const file = normalize(join(dist, path === '/' ? 'index.html' : path));
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
  const data = await readFile(file.startsWith(dist) ? file : join(dist, 'index.html')).catch(() => readFile(join(dist, 'index.html')));
  res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'text/html', 'Content-Security-Policy': CSP });
  res.end(data);
}

createServer((req, res) => route(req, res).catch((e) => fail(res, 500, 'internal_error', String(e))))
  .listen(port, '127.0.0.1', () => console.log(`mock gateway on http://127.0.0.1:${port}`));
