// Anthropic Messages wire format (https://docs.anthropic.com/en/api/messages-streaming), streaming and not, plus
// the error body (https://docs.anthropic.com/en/api/errors).
import { chunkTokens } from './plan.mjs';

const STOP = { end: 'end_turn', length: 'max_tokens', tool: 'tool_use' };

const frame = (obj) => `event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`;

const ERROR_TYPES = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'api_error',
  529: 'overloaded_error',
};

/** The Anthropic error body: `{"type":"error","error":{"type","message"},"request_id"}`. */
export function anthropicErrorBody(status, message, requestId) {
  const type = ERROR_TYPES[status] || (status >= 500 ? 'api_error' : 'invalid_request_error');
  const defaults = {
    rate_limit_error:
      'Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.',
    api_error: 'Internal server error',
    overloaded_error: 'Overloaded',
    not_found_error: 'Not found',
    authentication_error: 'invalid x-api-key',
  };
  return {
    type: 'error',
    error: { type, message: message || defaults[type] || `Request failed with status ${status}` },
    request_id: requestId,
  };
}

function startUsage(plan) {
  const u = plan.usage;
  return {
    input_tokens: u.input - u.cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: u.cached,
    output_tokens: 1,
    service_tier: 'standard',
  };
}

function blocks(plan) {
  const out = [];
  if (plan.reasoning.length) {
    out.push({ type: 'thinking', thinking: plan.reasoning.join(''), signature: `sig_mock${plan.idSeed}` });
  }
  if (plan.preamble.length) out.push({ type: 'text', text: plan.preamble.join('') });
  for (const c of plan.toolCalls) {
    let input = {};
    try {
      input = JSON.parse(c.args);
    } catch {
      input = {}; // truncated by max_tokens: the API also returns what it has parsed so far; {} is the mock's stand-in
    }
    out.push({ type: 'tool_use', id: c.id.replace(/^call_/, 'toolu_'), name: c.name, input, fragments: c.fragments });
  }
  if (!plan.toolCalls.length) out.push({ type: 'text', text: plan.text.join(''), tokens: plan.text });
  return out;
}

function outputTokens(plan) {
  return plan.usage.output + plan.preamble.length;
}

function publicBlock(b) {
  const { fragments, tokens, ...rest } = b;
  return rest;
}

/** Non-streaming `message`. */
export function messagesJson(plan, norm) {
  const u = startUsage(plan);
  return {
    id: `msg_mock${plan.idSeed}`,
    type: 'message',
    role: 'assistant',
    model: norm.model,
    content: blocks(plan).map(publicBlock),
    stop_reason: STOP[plan.stop],
    stop_sequence: null,
    usage: { ...u, output_tokens: outputTokens(plan) },
  };
}

/**
 * Streaming events, each with an `event:` line: message_start, then per content block content_block_start /
 * content_block_delta (text_delta | thinking_delta + signature_delta | input_json_delta) / content_block_stop, a
 * `ping` after the first block starts, then message_delta (stop_reason, usage) and message_stop.
 */
export function messagesStream(plan, norm, ctx) {
  const frames = [];
  const push = (obj, terminal = false) => frames.push({ data: frame(obj), terminal });
  const msg = messagesJson(plan, norm);
  push({
    type: 'message_start',
    message: { ...msg, content: [], stop_reason: null, stop_sequence: null, usage: startUsage(plan) },
  });
  blocks(plan).forEach((b, index) => {
    if (b.type === 'thinking') {
      push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      if (index === 0) push({ type: 'ping' });
      for (const t of chunkTokens(plan.reasoning, ctx.tokensPerChunk)) {
        push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: t } });
      }
      push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: b.signature } });
    } else if (b.type === 'tool_use') {
      push({
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
      });
      if (index === 0) push({ type: 'ping' });
      for (const f of b.fragments)
        push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: f } });
    } else {
      push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      if (index === 0) push({ type: 'ping' });
      const toks = b.tokens || plan.preamble;
      for (const t of chunkTokens(toks, ctx.tokensPerChunk))
        push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } });
    }
    push({ type: 'content_block_stop', index });
  });
  const u = startUsage(plan);
  push(
    {
      type: 'message_delta',
      delta: { stop_reason: STOP[plan.stop], stop_sequence: null },
      usage: {
        input_tokens: u.input_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: u.cache_read_input_tokens,
        output_tokens: outputTokens(plan),
      },
    },
    true,
  );
  push({ type: 'message_stop' }, true);
  return {
    frames,
    errorFrame: () => frame({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
  };
}

/** Anthropic `/v1/models` list. */
export function anthropicModels() {
  const data = [
    ['claude-sonnet-5-5', 'Claude Sonnet 5.5'],
    ['claude-haiku-4-5', 'Claude Haiku 4.5'],
  ].map(([id, display_name]) => ({ type: 'model', id, display_name, created_at: '2025-10-01T00:00:00Z' }));
  return { data, has_more: false, first_id: data[0].id, last_id: data[data.length - 1].id };
}
