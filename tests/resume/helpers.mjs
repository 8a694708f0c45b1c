// Shared setup for the resumable-stream tests: the mock upstream plus the edge in workerd (Miniflare) with the
// STREAMS Durable Object bound, and helpers to read, cut and resume SSE responses at exact byte positions.
import { startUpstream } from '../upstream/server.mjs';
import { startEdge } from '../support/edge.mjs';

export const ORIGIN = 'http://127.0.0.1:5173';
export const KEYS = { OPENAI_API_KEY: 'sk-test-openai-0000', ANTHROPIC_API_KEY: 'sk-ant-test-0000' };

export const CONFIG = {
  models: {
    fast: { provider: 'openai-chat', model: 'gpt-4o-mini', fallback: ['smart'] },
    smart: { provider: 'anthropic', model: 'claude-sonnet-4-5' },
  },
  default_model: 'fast',
  // Disconnected streams keep generating: no per-client stream or rate caps in these tests.
  limits: { requests_per_minute: 0, concurrent_streams: 0, daily_tokens: 0, stall_timeout_ms: 5000 },
  retry: { max_attempts: 1 },
  cache: { exact: false },
};

/** Mock upstream + edge. `streams: false` runs the edge without the STREAMS object. */
export async function startStack({ streams = true, config = CONFIG, vars = {} } = {}) {
  const up = await startUpstream({ delayMs: 2 });
  const edge = await startEdge({
    streams,
    vars: { ...KEYS, EDGECHAT_CONFIG: config, ...vars },
    upstreams: { openai: `${up.url}/v1`, anthropic: `${up.url}/v1` },
  });
  return {
    up,
    edge,
    async stop() {
      await edge.stop();
      await up.close();
    },
  };
}

export function chat(edge, body, { headers = {}, signal } = {}) {
  return fetch(`${edge.url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

export function resume(edge, streamId, lastEventId, { headers = {}, signal } = {}) {
  const h = { origin: ORIGIN, ...headers };
  if (lastEventId !== undefined) h['last-event-id'] = String(lastEventId);
  return fetch(`${edge.url}/api/chat/streams/${streamId}`, { headers: h, signal });
}

export function stop(edge, streamId, { headers = {} } = {}) {
  return fetch(`${edge.url}/api/chat/streams/${streamId}/stop`, {
    method: 'POST',
    headers: { origin: ORIGIN, ...headers },
  });
}

/** The whole body as a string. */
export async function text(res) {
  return Buffer.from(await res.arrayBuffer()).toString('utf8');
}

/**
 * Reads `res` until `cut(bytesSoFar)` says to stop, then aborts the connection. Returns the bytes read (possibly
 * ending inside a frame). `cut` gets the accumulated string; it may return a number (keep that many bytes and
 * drop the rest of what was read, emulating a connection that broke there) or `true`.
 */
export async function readCut(res, controller, cut) {
  const reader = res.body.getReader();
  let got = '';
  for (;;) {
    const decision = cut(got);
    if (decision !== false && decision !== undefined) {
      controller.abort();
      await reader.cancel().catch(() => {});
      return typeof decision === 'number' ? got.slice(0, decision) : got;
    }
    const { value, done } = await reader.read();
    if (done) return got;
    got += Buffer.from(value).toString('utf8');
  }
}

/**
 * Splits a stream body into its `retry:` preamble and its complete event frames (a partial last frame is dropped,
 * keep-alive comments are skipped).
 */
export function frames(body) {
  const m = /^retry: \d+\n\n/.exec(body);
  const preamble = m ? m[0] : '';
  const rest = body.slice(preamble.length);
  const parts = rest.split('\n\n');
  parts.pop(); // text after the last blank line: empty, or a partial frame
  // keep-alive comments (`: ping`) are transport, not events
  return { preamble, frames: parts.filter((p) => !p.startsWith(':')).map((p) => `${p}\n\n`) };
}

export function eventOf(frame) {
  const id = Number(/^id: (\d+)$/m.exec(frame)?.[1]);
  const name = /^event: (.+)$/m.exec(frame)?.[1];
  const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null');
  return { id, name, data };
}

export function events(body) {
  return frames(body).frames.map(eventOf);
}

/** Replaces the per-run ids (stream id, request id) so two runs of the same scenario compare byte for byte. */
export function normalize(body, { streamId, requestId }) {
  return body.split(streamId).join('<stream>').split(requestId).join('<request>');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
