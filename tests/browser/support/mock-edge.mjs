// A tiny stand-in for the edge that speaks docs/protocol.md exactly, with the answer bytes under the test's control.
// Used where a test needs exact model output (the XSS suite, incremental rendering) or exact timing (stop before the
// first token), and as the whole backend when the real edge harness (tests/support/edge.mjs) is not available.
//
//   const edge = await startMockEdge({ config: { simulated: true } });
//   edge.queue({ text: '# Hi\n\nthere', chunk: 3, delayMs: 5 });           // next answer
//   edge.queue({ status: 429, retryAfter: 2 });                              // next request refused
//   edge.queue({ text: 'partial', end: 'error', error: { type: 'upstream_error', message: 'boom', retryable: true } });
//   edge.queue({ text: 'partial', end: 'truncate' });                       // closes without done/error
//   edge.queue({ hold: true });                                             // headers only, then waits for release()
//   edge.queue({ reset: true });                                            // socket destroyed before any byte
//   edge.queue({ text: 'partial', drop: true });                            // connection lost mid-answer
//   edge.queue({ reasoning: 'Let me think', text: 'Answer', toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] });
//   edge.queue({ summary: { covers: 4, text: 'We talked about x.' }, text: 'Answer' }); // `summary` before the deltas
//   edge.queue({ start: { task: 'code', trimmed: 2 }, text: 'Answer' });                // extra `start` fields
// As the edge does, it refuses a request over `limits.max_messages` / `max_total_chars`, and a `summary` it did not
// make (`summary_invalid`: the token must be one it sent, for the same text and absolute `covers`). With
// `requireSession: true` every route wants `Authorization: Bearer <token>` (`session_required` otherwise).
// `requests()` are the chat requests (body, headers); `allRequests()` every request (method, path, headers).
// Directives in the last user message work too: mock:429, mock:stall, mock:truncate, mock:error, mock:markdown.
import http from 'node:http';

const DEFAULT_CONFIG = {
  models: [
    { alias: 'fast', label: 'Fast', provider: 'openai-chat' },
    { alias: 'smart', label: 'Smart', provider: 'anthropic' },
  ],
  default_model: 'fast',
  limits: { max_tokens: 1024, max_messages: 50, max_message_chars: 8000, max_total_chars: 60000 },
  allow_system_prompt: false,
  resumable: false,
  simulated: false,
};

export const MARKDOWN_ANSWER = [
  '# Heading one',
  '',
  'A paragraph with **bold**, *em*, `code` and a [link](https://example.com/docs).',
  '',
  '- item one',
  '- item two',
  '  - nested',
  '',
  '1. first',
  '2. second',
  '',
  '```rust',
  'fn main() {',
  '    println!("hello");',
  '}',
  '```',
  '',
  '| col a | col b |',
  '|:------|------:|',
  '| 1     | 2     |',
  '',
  '> a quote',
  '',
  'The end.',
].join('\n');

function lastUserText(body) {
  const msgs = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].role === 'user') return String(msgs[i].content ?? '');
  return '';
}

function fromDirective(text) {
  if (text.includes('mock:429')) return { status: 429, retryAfter: 3 };
  if (text.includes('mock:stall')) return { text: 'Partial answer before the stall', stall: true };
  if (text.includes('mock:truncate')) return { text: 'Partial answer that gets cut', end: 'truncate' };
  if (text.includes('mock:error'))
    return {
      text: 'Partial',
      end: 'error',
      error: { type: 'upstream_error', message: 'The provider failed mid-answer', retryable: true },
    };
  if (text.includes('mock:markdown')) return { text: MARKDOWN_ANSWER };
  return { text: `Answer to: ${text.slice(0, 60)}\n\nSecond paragraph with **bold** text.` };
}

function split(text, size) {
  const out = [];
  const chars = [...text];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

export async function startMockEdge({ config = {}, port = 0, requireSession = false } = {}) {
  const cfg = { ...DEFAULT_CONFIG, ...config };
  const queued = [];
  const log = [];
  const all = [];
  // token -> { text, covers } of every summary sent, as a real edge's HMAC binds them.
  const summaries = new Map();
  let summarySeq = 0;
  const refuse = (res, status, type, message) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'r0' });
    res.end(JSON.stringify({ error: { type, message, request_id: 'r0' } }));
  };
  const holds = new Set();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    all.push({ method: req.method, path: url.pathname, headers: req.headers });
    if (requireSession && !/^Bearer \S+/.test(req.headers.authorization ?? '')) {
      refuse(res, 401, 'session_required', 'this site key requires a session token (Authorization: Bearer)');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/config') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'cfg' });
      res.end(JSON.stringify(cfg));
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/api/chat') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'not_found', message: 'no such route', request_id: 'x' } }));
      return;
    }
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'invalid_json', message: 'bad json', request_id: 'x' } }));
      return;
    }
    const entry = { body, headers: req.headers, aborted: false, completed: false };
    log.push(entry);
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const chars =
      messages.reduce((n, m) => n + [...String(m.content ?? '')].length, 0) +
      [...String(body.summary?.text ?? '')].length;
    if (body.summary) {
      const known = summaries.get(body.summary.token);
      if (!known || known.text !== body.summary.text || known.covers !== body.summary.covers) {
        entry.completed = true;
        refuse(res, 400, 'summary_invalid', "the summary's token does not match: send the whole conversation again");
        return;
      }
    }
    if (messages.length > cfg.limits.max_messages) {
      entry.completed = true;
      refuse(
        res,
        400,
        'too_many_messages',
        `${messages.length} messages exceed the limit of ${cfg.limits.max_messages}`,
      );
      return;
    }
    if (chars > cfg.limits.max_total_chars) {
      entry.completed = true;
      refuse(
        res,
        400,
        'conversation_too_long',
        `the conversation has ${chars} characters; the limit is ${cfg.limits.max_total_chars}`,
      );
      return;
    }
    res.on('close', () => {
      if (!entry.completed) entry.aborted = true;
    });
    const plan = queued.length ? queued.shift() : fromDirective(lastUserText(body));
    if (plan.reset) {
      entry.completed = true;
      req.socket.destroy();
      return;
    }
    if (plan.status) {
      const headers = { 'content-type': 'application/json', 'x-request-id': 'r1' };
      if (plan.retryAfter) headers['retry-after'] = String(plan.retryAfter);
      const type = plan.type ?? (plan.status === 429 ? 'rate_limited' : 'upstream_error');
      res.writeHead(plan.status, headers);
      res.end(JSON.stringify({ error: { type, message: plan.message ?? `mock ${plan.status}`, request_id: 'r1' } }));
      entry.completed = true;
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': 'r1' });
    res.flushHeaders();
    let id = 0;
    const send = (event, data) => {
      if (res.destroyed) return false;
      res.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    };
    if (plan.hold) {
      await new Promise((resolve) => {
        holds.add(resolve);
        res.on('close', resolve);
      });
      if (res.destroyed) return;
    }
    send('start', {
      request_id: 'r1',
      stream_id: 's1',
      model: body.model,
      provider: 'openai-chat',
      resumable: false,
      ...plan.start,
    });
    if (plan.summary) {
      const token = plan.summary.token ?? `sum-${++summarySeq}`;
      const text = plan.summary.text;
      summaries.set(token, { text, covers: (body.summary?.covers ?? 0) + plan.summary.covers });
      send('summary', { covers: plan.summary.covers, text, token });
    }
    res.write(': ping\n\n');
    for (const r of plan.reasoning ? split(plan.reasoning, plan.chunk ?? 4) : []) {
      if (!send('reasoning', { text: r })) return;
      if (plan.delayMs ?? 4) await sleep(plan.delayMs ?? 4);
    }
    const text = plan.text ?? '';
    const pieces = plan.pieces ?? split(text, plan.chunk ?? 4);
    for (const p of pieces) {
      if (!send('delta', { text: p })) return;
      if (plan.delayMs ?? 4) await sleep(plan.delayMs ?? 4);
    }
    for (const call of plan.toolCalls ?? []) send('tool_call', call);
    if (plan.drop) {
      entry.completed = true;
      res.socket?.end(); // no terminating chunk: the browser sees a broken body
      return;
    }
    if (plan.stall) {
      await new Promise((resolve) => res.on('close', resolve));
      return;
    }
    if (plan.end === 'truncate') {
      entry.completed = true;
      res.end();
      return;
    }
    const words = text.split(/\s+/).filter(Boolean).length;
    send('usage', {
      input_tokens: 12,
      output_tokens: words,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      cost_usd: 0.000123,
      estimated: false,
    });
    if (plan.end === 'error') {
      send('error', { retryable: true, truncated: false, retry_after_ms: null, ...plan.error });
    } else {
      send('done', { stop_reason: plan.stopReason ?? 'end_turn', raw_stop_reason: 'stop', stopped: false });
    }
    entry.completed = true;
    res.end();
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    kind: 'inline',
    queue: (...plans) => queued.push(...plans),
    requests: () => log,
    allRequests: () => all,
    release: () => {
      for (const r of holds) r();
      holds.clear();
    },
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
