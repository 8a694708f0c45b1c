// Shared setup of the edge suites: fake keys, a mock upstream, and an edge configured against it.
import { startEdge, startNodeEdge } from '../support/edge.mjs';
import { startUpstream } from '../upstream/server.mjs';

export const KEYS = { openai: 'sk-test-openai-0000', anthropic: 'sk-ant-test-0000', compat: 'sk-test-compat-0000' };
export const SESSION_SECRET = 'test-session-secret-0000';
export const ORIGIN = 'https://site.example';

export const MODELS = {
  fast: { provider: 'openai-chat', model: 'gpt-4o-mini', label: 'Fast' },
  smart: { provider: 'anthropic', model: 'claude-sonnet-4-5', label: 'Smart' },
  resp: { provider: 'openai-responses', model: 'gpt-4o-mini' },
  local: { provider: 'openai-compatible', model: 'smollm2' },
  chain: { provider: 'openai-chat', model: 'gpt-4.1-mini', fallback: ['smart'] },
};

export function config(extra = {}) {
  return {
    models: MODELS,
    default_model: 'fast',
    allowed_origins: [ORIGIN, 'http://127.0.0.1:*'],
    retry: { max_attempts: 3, base_delay_ms: 10, max_delay_ms: 40, max_retry_after_ms: 2000 },
    ...extra,
    limits: {
      requests_per_minute: 10000,
      concurrent_streams: 100,
      daily_tokens: 0,
      first_token_timeout_ms: 1500,
      stall_timeout_ms: 800,
      keepalive_ms: 150,
      ...(extra.limits || {}),
    },
  };
}

/**
 * The runtimes the fault suites run on: workerd (through Miniflare) and plain Node (`worker/node.mjs`, in a process
 * of its own). Node has no Durable Objects: tests of resumable streams stay workerd-only.
 */
export const RUNTIMES = ['workerd', 'node'];

/**
 * Starts a mock upstream and an edge pointing at it; `runtime` 'workerd' (default) or 'node' (no Durable Object or
 * KV bindings there: `durableObject`, `kv`, `streams` do not apply).
 */
export async function setup({ edgeConfig = config(), vars = {}, runtime = 'workerd', ...edgeOpts } = {}) {
  const up = await startUpstream({ port: 0, keys: KEYS, delayMs: 2 });
  const edge = await (runtime === 'node' ? startNodeEdge : startEdge)({
    vars: {
      OPENAI_API_KEY: KEYS.openai,
      ANTHROPIC_API_KEY: KEYS.anthropic,
      COMPAT_API_KEY: KEYS.compat,
      SESSION_SECRET,
      EDGECHAT_CONFIG: edgeConfig,
      ...vars,
    },
    upstreams: { openai: `${up.url}/v1`, anthropic: `${up.url}/v1`, compat: `${up.url}/compat/v1` },
    ...edgeOpts,
  });
  return {
    up,
    edge,
    async stop() {
      await edge.stop();
      await up.close();
    },
    chat(body, headers = {}) {
      return fetch(`${edge.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    post(path, body, headers = {}) {
      return fetch(`${edge.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
  };
}

export const user = (content) => ({ messages: [{ role: 'user', content }] });

/** Every key and secret the edge holds: none may appear in any response, header or log. */
export const SECRETS = [KEYS.openai, KEYS.anthropic, KEYS.compat, SESSION_SECRET];
