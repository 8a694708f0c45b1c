// The environment variables the edge reads (its secrets and settings; worker/README.md documents each). The Node
// runtime (node.mjs) copies exactly these from its process environment; the tests clear them from the environment a
// Node edge inherits, so a developer's own keys never leak into a test.
export const ENV_NAMES = [
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'COMPAT_API_KEY',
  'OPENAI_BASE_URL',
  'ANTHROPIC_BASE_URL',
  'COMPAT_BASE_URL',
  'EDGECHAT_CONFIG',
  'SESSION_SECRET',
  'ADMIN_TOKEN',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'EDGECHAT_USAGE_FAULT',
];
