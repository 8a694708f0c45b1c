// Reference workers for the edge benchmark: the floor a Worker in this workerd can reach. `/asis` returns the
// upstream's Response as is (`return fetch(...)`); `/pass` hands the upstream body to a new Response untouched;
// `/pump` moves every chunk through JavaScript (read, then write to a TransformStream), as any handler that looks
// at the events must; `/pumpfirst` is the same pump returning its Response only once the first chunk is in;
// `/widget` is the work of the edge's `/api/chat` written plainly in JavaScript (below). env.UP is the mock
// upstream's URL.
export default {
  async fetch(req, env, ctx) {
    const path = new URL(req.url).pathname;
    if (path === '/widget') return widget(req, env, ctx);
    const sent = fetch(`${env.UP}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test-openai-0000', 'content-type': 'application/json' },
      body: await req.text(),
    });
    if (path === '/asis') return sent;
    const up = await sent;
    const headers = { 'content-type': 'text/event-stream' };
    if (path === '/pass') return new Response(up.body, { status: up.status, headers });
    const { readable, writable } = new TransformStream();
    const w = writable.getWriter();
    const r = up.body.getReader();
    if (path === '/pumpfirst') {
      // As the edge does: the first chunk is read before the Response is returned (a failure up to then could
      // still be retried and answered with another status); then the same pump.
      const first = await r.read();
      if (!first.done) w.write(first.value);
    }
    const pump = async () => {
      for (;;) {
        const { value, done } = await r.read();
        if (done) break;
        await w.write(value);
      }
      await w.close();
    };
    pump().catch(() => {});
    return new Response(readable, { status: up.status, headers });
  },
};

// `/widget`: what the edge's `/api/chat` must do for the benchmark's request, written plainly in JavaScript, so the
// benchmark can tell the cost of that work in this runtime from the cost of the edge's implementation of it. Not a
// product and not among the targets: no retries, limits, caches, or error frames. It checks the site key and origin,
// parses and checks the widget body, composes the OpenAI request, reads the first upstream chunk before it returns
// its Response (as the edge does), turns each upstream SSE event into a widget frame (`start`, `delta`, `usage`,
// `done`: docs/protocol.md), reads the upstream body to its end, and prints one JSON log line. Its computing is
// `work` (`jsWork` below); the wasm floor (wasm-floor/worker.mjs) runs the same handler with that part in Rust.
const SITE_KEY = 'pk_bench_0000';
const ORIGIN_PREFIX = 'http://127.0.0.1:';
const PRICE = { input: 0.15e-6, output: 0.6e-6 }; // gpt-4o-mini, USD per token

/**
 * `/widget`'s computing in JavaScript: `read(req)` the body; `prepare(body)` checks it and gives the upstream
 * request's body, or `{ status, message }`; `frames()` turns the upstream's SSE into widget frames: `first(id, chunk)`
 * (the start frame and the first chunk's; `chunk` undefined when the body ended), `feed(chunk)` (bytes to write, or
 * null), `tail()` (usage and done), and `ended`, `input`, `output`, `cost` for the log line.
 */
export const jsWork = {
  read: (req) => req.text(),
  prepare(text) {
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      return { status: 400, message: 'the body is not JSON' };
    }
    const msgs = body?.messages;
    if (!Array.isArray(msgs) || msgs.length === 0 || msgs.length > 100) return { status: 400, message: 'messages' };
    const messages = [];
    let chars = 0;
    for (const m of msgs) {
      if ((m?.role !== 'user' && m?.role !== 'assistant') || typeof m.content !== 'string')
        return { status: 400, message: 'message' };
      chars += m.content.length;
      messages.push({ role: m.role, content: m.content });
    }
    if (chars > 100_000) return { status: 413, message: 'too long' };
    const model = 'gpt-4o-mini';
    const opts = { max_tokens: 4096, stream: true, stream_options: { include_usage: true } };
    return { body: JSON.stringify({ model, messages, ...opts }) };
  },
  frames() {
    const dec = new TextDecoder();
    const enc = new TextEncoder();
    let seq = 0;
    let buf = '';
    let usage = null;
    let finish = null;
    const frame = (event, data) => `id: ${seq++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    const f = {
      ended: false,
      input: 0,
      output: 0,
      cost: 0,
      text(chunk) {
        buf += dec.decode(chunk, { stream: true });
        let out = '';
        for (let cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
          const event = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          for (const line of event.split('\n')) {
            if (!line.startsWith('data:')) continue;
            const data = line.slice(5).trim();
            if (data === '[DONE]') {
              f.ended = true;
              continue;
            }
            const j = JSON.parse(data);
            const choice = j.choices?.[0];
            if (choice?.delta?.content) out += frame('delta', { text: choice.delta.content });
            if (choice?.finish_reason) finish = choice.finish_reason;
            if (j.usage) usage = j.usage;
          }
        }
        return out;
      },
      first(id, chunk) {
        const start = frame('start', {
          request_id: id,
          stream_id: '',
          model: 'fast',
          provider: 'openai',
          resumable: false,
        });
        return enc.encode(start + (chunk ? f.text(chunk) : ''));
      },
      feed(chunk) {
        const out = f.text(chunk);
        return out ? enc.encode(out) : null;
      },
      tail() {
        f.input = usage?.prompt_tokens ?? 0;
        f.output = usage?.completion_tokens ?? 0;
        f.cost = f.input * PRICE.input + f.output * PRICE.output;
        return enc.encode(
          frame('usage', { input_tokens: f.input, output_tokens: f.output, cost_usd: f.cost, estimated: !usage }) +
            frame('done', { stop_reason: finish === 'length' ? 'max_tokens' : 'end_turn', raw_stop_reason: finish }),
        );
      },
    };
    return f;
  },
};

/** `/widget` with its computing done by `work` ([jsWork]'s shape). */
export async function widget(req, env, ctx, work = jsWork) {
  const started = Date.now();
  // With `MARKS` set, the same points of the path as the edge's `phase-marks` build, by their names there
  // (worker/src/rt/marks.rs `Mark`; bench/edge/marks.json), printed as one line at the first write (marks.mjs).
  const marks = env.MARKS ? ['Start', started] : null;
  const mark = marks ? (k) => marks.push(k, Date.now()) : () => {};
  const id = crypto.randomUUID();
  const origin = req.headers.get('origin');
  if (req.headers.get('x-edgechat-site-key') !== SITE_KEY) return refuse(401, 'unknown site key');
  if (origin && !origin.startsWith(ORIGIN_PREFIX)) return refuse(403, 'origin not allowed');
  mark('Headers');
  let read;
  try {
    read = await work.read(req);
  } catch {
    return refuse(400, 'could not read the body');
  }
  mark('BodyRead');
  const prepared = work.prepare(read);
  if (prepared.status) return refuse(prepared.status, prepared.message);
  mark('Prepared');
  const abort = new AbortController();
  mark('FetchCall');
  const sent = post(`${env.UP}/v1/chat/completions`, prepared.body, abort.signal);
  mark('FetchReturned');
  let up;
  try {
    up = await sent;
  } catch {
    return refuse(502, 'upstream unreachable');
  }
  mark('UpstreamHeaders');
  if (up.status !== 200) return refuse(502, `upstream ${up.status}`);
  const reader = up.body.getReader();
  const first = await reader.read();
  mark('FirstChunk');

  const f = work.frames();
  const [readable, w] = stream();
  mark('ResponseMade');
  w.write(f.first(id, first.done ? undefined : first.value));
  mark('Write');
  if (marks) console.log(`MARKS ${JSON.stringify(marks)}`);
  const pump = async () => {
    while (!f.ended) {
      const { value, done } = await reader.read();
      if (done) break;
      const out = f.feed(value);
      if (out) await w.write(out);
    }
    await w.write(f.tail());
    await w.close();
    // As the edge does: the body read to its end (it ends right after `[DONE]`), so the runtime can reuse the
    // upstream connection; leaving it unread closes the connection, and the mock's work on that lands on whatever
    // request comes next.
    while (!(await reader.read()).done);
    console.log(
      JSON.stringify({
        request_id: id,
        route: '/api/chat',
        model: 'gpt-4o-mini',
        status: 200,
        outcome: f.ended ? 'complete' : 'truncated',
        input_tokens: f.input,
        output_tokens: f.output,
        cost_usd: f.cost,
        duration_ms: Date.now() - started,
      }),
    );
  };
  ctx?.waitUntil(pump().catch(() => abort.abort()));
  return respond(readable, id, origin);
}

/** `/widget`'s upstream request: the OpenAI chat request with `body`. */
export const post = (url, body, signal) =>
  fetch(url, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-test-openai-0000', 'content-type': 'application/json' },
    body,
    signal,
  });

/** `/widget`'s response stream: [readable, writer]. */
export function stream() {
  const ts = typeof IdentityTransformStream === 'function' ? new IdentityTransformStream() : new TransformStream();
  return [ts.readable, ts.writable.getWriter()];
}

/** `/widget`'s refusal: `status` with a JSON error. */
export const refuse = (status, message) =>
  new Response(JSON.stringify({ error: { message } }), { status, headers: { 'content-type': 'application/json' } });

/** `/widget`'s streaming response over `readable`. */
export function respond(readable, id, origin) {
  const headers = {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-request-id': id,
    vary: 'Origin',
  };
  if (origin) headers['access-control-allow-origin'] = origin;
  return new Response(readable, { headers });
}
