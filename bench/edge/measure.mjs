// Client-side measurement helpers for the edge benchmark: stream one request, timestamp every body chunk and the
// text it completes, and summarize samples. Loopback only; every loop is bounded by its caller.

/** Percentile (nearest-rank) of a numeric array; NaN when empty. */
export function pct(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export const median = (v) => pct(v, 50);

/** Extracts the answer text an SSE event carries, for each wire format the benchmark reads. */
export const TEXT_OF = {
  // OpenAI Chat Completions chunk (direct to the mock, or the edge's pass-through /v1/chat/completions).
  chat: (_event, data) => {
    if (data === '[DONE]') return { text: '', done: true };
    const j = JSON.parse(data);
    if (j.error) return { text: '', error: j.error.message || 'error' };
    return { text: j.choices?.[0]?.delta?.content || '', done: false };
  },
  // Anthropic Messages stream (the edge's /v1/messages, translated from an OpenAI model).
  anthropic: (event, data) => {
    if (event === 'message_stop') return { text: '', done: true };
    if (event === 'error') return { text: '', error: data };
    if (event === 'content_block_delta') return { text: JSON.parse(data).delta?.text || '' };
    return { text: '' };
  },
  // The widget protocol of the edge's /api/chat (docs/protocol.md).
  widget: (event, data) => {
    if (event === 'delta') return { text: JSON.parse(data).text || '' };
    if (event === 'done') return { text: '', done: true };
    if (event === 'error') return { text: '', error: data };
    return { text: '' };
  },
};

/** The value after `--name` on the command line, else `dflt`. */
export function option(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();

/**
 * Sends one streaming request and records: `ttfb` (first body byte, ms after the request started), `ttft` (first
 * answer text), `arrivals` ([nowMs(), cumulativeTextLength] per chunk that added text), `text`, `done`,
 * `error`. Never throws: a failure is reported in `error`.
 */
export async function streamOnce(url, { headers, body, format }) {
  const parse = TEXT_OF[format];
  const out = { ttfb: NaN, ttft: NaN, arrivals: [], text: '', done: false, error: null, status: 0 };
  const t0 = nowMs();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    out.status = res.status;
    if (res.status !== 200) {
      out.error = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      return out;
    }
    const dec = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body) {
      const now = nowMs();
      if (Number.isNaN(out.ttfb)) out.ttfb = now - t0;
      buf += dec.decode(chunk, { stream: true });
      let cut;
      let added = false;
      while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
        let event = null;
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (!data.length) continue;
        const r = parse(event, data.join('\n'));
        if (r.error) out.error = `stream error event: ${String(r.error).slice(0, 200)}`;
        if (r.done) out.done = true;
        if (r.text) {
          out.text += r.text;
          added = true;
        }
      }
      if (added) {
        if (Number.isNaN(out.ttft)) out.ttft = now - t0;
        out.arrivals.push([now, out.text.length]);
      }
    }
    if (!out.done && !out.error) out.error = 'stream ended without its terminal event';
  } catch (err) {
    out.error = `${err.name}: ${err.message}${err.cause ? ` (${err.cause.code || err.cause.message})` : ''}`;
  }
  return out;
}

/**
 * Per-event delay: for each content frame the upstream sent (its `sends` log, chat-chunk format), the time from
 * the send until the client had received all text up to and including that frame. Returns one number (ms) per frame.
 */
export function eventDelays(sends, arrivals) {
  const delays = [];
  let cum = 0;
  let j = 0;
  for (const [t, data] of sends) {
    const m = /^data: (.*)\n\n$/s.exec(data);
    if (!m || m[1] === '[DONE]') continue;
    const text = JSON.parse(m[1]).choices?.[0]?.delta?.content || '';
    if (!text) continue;
    cum += text.length;
    while (j < arrivals.length && arrivals[j][1] < cum) j++;
    if (j >= arrivals.length) break; // the client never got it (reported as an error elsewhere)
    delays.push(arrivals[j][0] - t);
  }
  return delays;
}

/** Formats ms with 2 decimals. */
export const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} ms` : 'n/a');
