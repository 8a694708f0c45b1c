// The edge configuration the SDK compatibility tests use: three aliases on the mock upstream (one per wire format),
// a site key usable without an Origin (server-side SDK clients), no rate limits and no response cache (so every
// request reaches the mock and its faults).

export const SITE_KEY = 'pk_test_sdk_0000';
export const PROVIDER_KEYS = { openai: 'sk-test-openai-0000', anthropic: 'sk-ant-test-0000' };

/** Env vars for startEdge({ vars }) with the mock upstream at `upstreamUrl`. */
export function edgeVars(upstreamUrl) {
  return {
    OPENAI_BASE_URL: `${upstreamUrl}/v1`,
    ANTHROPIC_BASE_URL: `${upstreamUrl}/v1`,
    COMPAT_BASE_URL: `${upstreamUrl}/v1`,
    OPENAI_API_KEY: PROVIDER_KEYS.openai,
    ANTHROPIC_API_KEY: PROVIDER_KEYS.anthropic,
    COMPAT_API_KEY: 'sk-test-compat-0000',
    EDGECHAT_CONFIG: JSON.stringify({
      models: {
        fast: { provider: 'openai-chat', model: 'gpt-4o-mini', label: 'Fast' },
        resp: { provider: 'openai-responses', model: 'gpt-4o-mini', label: 'Responses' },
        claude: { provider: 'anthropic', model: 'claude-haiku-4-5', label: 'Claude' },
      },
      default_model: 'fast',
      allow_model_ids: false,
      site_keys: { [SITE_KEY]: { origins: ['http://127.0.0.1:*'], allow_no_origin: true } },
      limits: { requests_per_minute: 0, concurrent_streams: 0, daily_tokens: 0, max_tokens: 2048 },
      retry: { max_attempts: 2, base_delay_ms: 5, max_delay_ms: 20, max_retry_after_ms: 2000 },
      cache: { exact: false },
      simulated: true,
    }),
  };
}
