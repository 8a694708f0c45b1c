// OpenAI wire formats: Chat Completions (https://platform.openai.com/docs/api-reference/chat) and Responses
// (https://platform.openai.com/docs/api-reference/responses-streaming), streaming and not, plus the error body.
import { chunkTokens } from './plan.mjs';

const FINISH = { end: 'stop', length: 'length', tool: 'tool_calls' };

/** `data: <json>\n\n` (Chat Completions frames carry no `event:` line). */
const dataFrame = (obj) => `data: ${JSON.stringify(obj)}\n\n`;
/** `event: <type>\ndata: <json>\n\n` (Responses frames name the event). */
const namedFrame = (obj) => `event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`;

/** The OpenAI error body: `{"error":{"message","type","param","code"}}`. */
export function openaiErrorBody(message, type, code = null, param = null) {
  return { error: { message, type, param, code } };
}

/** Error body for an HTTP status, as the API words it. */
export function openaiStatusError(status, detail = {}) {
  if (detail.message && status !== 400 && status !== 404) {
    return openaiErrorBody(
      detail.message,
      status >= 500 ? 'server_error' : 'invalid_request_error',
      detail.code ?? null,
      null,
    );
  }
  switch (status) {
    case 400:
      return openaiErrorBody(
        detail.message || 'Invalid request.',
        'invalid_request_error',
        detail.code ?? null,
        detail.param ?? null,
      );
    case 401:
      return detail.missing
        ? openaiErrorBody(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using " +
              'Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if ' +
              "you're accessing the API from your browser and are prompted for a username and password. You can obtain " +
              'an API key from https://platform.openai.com/account/api-keys.',
            'invalid_request_error',
            null,
            null,
          )
        : openaiErrorBody(
            `Incorrect API key provided: ${maskKey(detail.key)}. You can find your API key at ` +
              'https://platform.openai.com/account/api-keys.',
            'invalid_request_error',
            'invalid_api_key',
            null,
          );
    case 404:
      return openaiErrorBody(detail.message || 'Invalid URL (POST /v1/unknown)', 'invalid_request_error', null, null);
    case 429:
      return openaiErrorBody(
        `Rate limit reached for ${detail.model || 'gpt-4o-mini'} in organization org-mock on requests ` +
          `per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${detail.retryAfter ?? 1}s.`,
        'requests',
        'rate_limit_exceeded',
        null,
      );
    case 503:
      return openaiErrorBody('The engine is currently overloaded, please try again later.', 'server_error', null, null);
    case 529:
      return openaiErrorBody('The server is overloaded, please try again later.', 'server_error', 'overloaded', null);
    default:
      return openaiErrorBody(
        status >= 500
          ? 'The server had an error while processing your request. Sorry about that!'
          : `Request failed with status ${status}.`,
        status >= 500 ? 'server_error' : 'invalid_request_error',
        null,
        null,
      );
  }
}

function maskKey(key) {
  const k = String(key || '');
  return k.length <= 8 ? `${k.slice(0, 2)}****` : `${k.slice(0, 3)}****${k.slice(-4)}`;
}

function chatUsage(plan) {
  const u = plan.usage;
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function chatBase(plan, norm, ctx, object) {
  return {
    id: `chatcmpl-mock${plan.idSeed}`,
    object,
    created: ctx.created,
    model: norm.model,
    service_tier: 'default',
    system_fingerprint: 'fp_mock0001',
  };
}

/** Non-streaming `chat.completion`. */
export function chatJson(plan, norm, ctx) {
  const message = {
    role: 'assistant',
    content: plan.toolCalls.length ? null : plan.text.join(''),
    refusal: null,
    annotations: [],
  };
  if (plan.reasoning.length) message.reasoning_content = plan.reasoning.join('');
  if (plan.toolCalls.length) {
    message.tool_calls = plan.toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.args },
    }));
  }
  return {
    ...chatBase(plan, norm, ctx, 'chat.completion'),
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH[plan.stop] }],
    usage: chatUsage(plan),
  };
}

/**
 * Streaming `chat.completion.chunk` frames: a role chunk, content (or reasoning_content / tool_calls) chunks, a
 * chunk with `finish_reason`, the usage chunk with empty `choices` when `stream_options.include_usage`, then
 * `data: [DONE]`. Frames marked `terminal` are the ones the "no terminal event" fault drops.
 */
export function chatStream(plan, norm, ctx) {
  const base = chatBase(plan, norm, ctx, 'chat.completion.chunk');
  const withUsage = norm.includeUsage ? { usage: null } : {};
  const chunk = (delta, finish = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...withUsage,
  });
  const frames = [];
  frames.push({
    data: dataFrame(chunk({ role: 'assistant', content: plan.toolCalls.length ? null : '', refusal: null })),
  });
  for (const r of chunkTokens(plan.reasoning, ctx.tokensPerChunk))
    frames.push({ data: dataFrame(chunk({ reasoning_content: r })) });
  plan.toolCalls.forEach((c, index) => {
    frames.push({
      data: dataFrame(
        chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }),
      ),
    });
    for (const f of c.fragments)
      frames.push({ data: dataFrame(chunk({ tool_calls: [{ index, function: { arguments: f } }] })) });
  });
  for (const t of chunkTokens(plan.text, ctx.tokensPerChunk)) frames.push({ data: dataFrame(chunk({ content: t })) });
  frames.push({ data: dataFrame(chunk({}, FINISH[plan.stop])), terminal: true });
  if (norm.includeUsage)
    frames.push({ data: dataFrame({ ...base, choices: [], usage: chatUsage(plan) }), terminal: true });
  frames.push({ data: 'data: [DONE]\n\n', terminal: true });
  return {
    frames,
    errorFrame: () =>
      dataFrame(
        openaiErrorBody('The server had an error while processing your request. Sorry about that!', 'server_error'),
      ),
  };
}

function responsesUsage(plan) {
  const u = plan.usage;
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.input + u.output,
  };
}

function responseObject(plan, norm, ctx, status, output, usage) {
  const fmt =
    norm.format?.type === 'json_schema'
      ? { type: 'json_schema', name: norm.format.name || 'schema', schema: norm.format.schema, strict: true }
      : norm.format
        ? { type: 'json_object' }
        : { type: 'text' };
  return {
    id: `resp_mock${plan.idSeed}`,
    object: 'response',
    created_at: ctx.created,
    status,
    background: false,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: ctx.body.instructions ?? null,
    max_output_tokens: norm.maxTokens ?? null,
    model: norm.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: ctx.body.previous_response_id ?? null,
    reasoning: { effort: ctx.body.reasoning?.effort ?? null, summary: ctx.body.reasoning?.summary ?? null },
    service_tier: 'default',
    store: ctx.body.store ?? true,
    temperature: ctx.body.temperature ?? 1,
    text: { format: fmt },
    tool_choice: ctx.body.tool_choice ?? 'auto',
    tools: ctx.body.tools ?? [],
    top_p: ctx.body.top_p ?? 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: ctx.body.metadata ?? {},
  };
}

function outputItems(plan) {
  const items = [];
  if (plan.reasoning.length) {
    items.push({
      id: `rs_mock${plan.idSeed}`,
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: plan.reasoning.join('') }],
    });
  }
  for (const [i, c] of plan.toolCalls.entries()) {
    items.push({
      id: `fc_mock${plan.idSeed}${i || ''}`,
      type: 'function_call',
      status: 'completed',
      arguments: c.args,
      call_id: c.id,
      name: c.name,
    });
  }
  if (!plan.toolCalls.length) {
    items.push({
      id: `msg_mock${plan.idSeed}`,
      type: 'message',
      status: plan.stop === 'length' ? 'incomplete' : 'completed',
      content: [{ type: 'output_text', annotations: [], logprobs: [], text: plan.text.join('') }],
      role: 'assistant',
    });
  }
  return items;
}

/** Non-streaming Responses API `response` object. */
export function responsesJson(plan, norm, ctx) {
  const status = plan.stop === 'length' ? 'incomplete' : 'completed';
  return responseObject(plan, norm, ctx, status, outputItems(plan), responsesUsage(plan));
}

/**
 * Streaming Responses API events, each with `sequence_number`: response.created, response.in_progress, then per
 * output item output_item.added / (reasoning_summary_* | content_part.* + output_text.* | function_call_arguments.*)
 * / output_item.done, then response.completed (or response.incomplete when max_output_tokens was hit).
 */
export function responsesStream(plan, norm, ctx) {
  let seq = 0;
  const frames = [];
  const push = (obj, terminal = false) =>
    frames.push({ data: namedFrame({ type: obj.type, sequence_number: seq++, ...obj }), terminal });
  push({ type: 'response.created', response: responseObject(plan, norm, ctx, 'in_progress', [], null) });
  push({ type: 'response.in_progress', response: responseObject(plan, norm, ctx, 'in_progress', [], null) });
  const done = outputItems(plan);
  done.forEach((item, output_index) => {
    const item_id = item.id;
    if (item.type === 'reasoning') {
      push({ type: 'response.output_item.added', output_index, item: { ...item, summary: [] } });
      const part = { type: 'summary_text', text: '' };
      push({ type: 'response.reasoning_summary_part.added', item_id, output_index, summary_index: 0, part });
      for (const d of chunkTokens(plan.reasoning, ctx.tokensPerChunk)) {
        push({ type: 'response.reasoning_summary_text.delta', item_id, output_index, summary_index: 0, delta: d });
      }
      const text = item.summary[0].text;
      push({ type: 'response.reasoning_summary_text.done', item_id, output_index, summary_index: 0, text });
      push({
        type: 'response.reasoning_summary_part.done',
        item_id,
        output_index,
        summary_index: 0,
        part: { type: 'summary_text', text },
      });
    } else if (item.type === 'function_call') {
      push({
        type: 'response.output_item.added',
        output_index,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      const call = plan.toolCalls.find((c) => c.id === item.call_id);
      for (const f of call.fragments)
        push({ type: 'response.function_call_arguments.delta', item_id, output_index, delta: f });
      push({
        type: 'response.function_call_arguments.done',
        item_id,
        output_index,
        name: item.name,
        arguments: item.arguments,
      });
    } else {
      push({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', content: [] } });
      const content_index = 0;
      push({
        type: 'response.content_part.added',
        item_id,
        output_index,
        content_index,
        part: { type: 'output_text', annotations: [], logprobs: [], text: '' },
      });
      for (const d of chunkTokens(plan.text, ctx.tokensPerChunk)) {
        push({ type: 'response.output_text.delta', item_id, output_index, content_index, delta: d, logprobs: [] });
      }
      const text = item.content[0].text;
      push({ type: 'response.output_text.done', item_id, output_index, content_index, text, logprobs: [] });
      push({ type: 'response.content_part.done', item_id, output_index, content_index, part: item.content[0] });
    }
    push({ type: 'response.output_item.done', output_index, item });
  });
  const final = responsesJson(plan, norm, ctx);
  push({ type: final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response: final }, true);
  return {
    frames,
    // Mid-stream failure: an `error` event, then the terminal `response.failed` carrying the same error.
    errorFrame: (index) => {
      const message = 'The server had an error while processing your request. Sorry about that!';
      const failed = responseObject(plan, norm, ctx, 'failed', [], null);
      failed.error = { code: 'server_error', message };
      return (
        namedFrame({ type: 'error', sequence_number: index, code: 'server_error', message, param: null }) +
        namedFrame({ type: 'response.failed', sequence_number: index + 1, response: failed })
      );
    },
  };
}

/** `/v1/models` list. */
export function openaiModels(created) {
  return {
    object: 'list',
    data: ['gpt-4o-mini', 'gpt-4o', 'o4-mini', 'text-embedding-3-small'].map((id) => ({
      id,
      object: 'model',
      created,
      owned_by: 'system',
    })),
  };
}
