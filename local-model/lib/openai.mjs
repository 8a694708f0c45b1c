// The OpenAI Chat Completions wire format: request validation and response/chunk shapes.
// Reference: https://platform.openai.com/docs/api-reference/chat (create, the chat completion object, the chunk
// object). No IO here, so every rule can be tested on plain objects.

/** An error the client caused (or a route that does not exist); rendered as OpenAI's `{"error": {...}}` body. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status
   * @param {string} message what was wrong, for a human
   * @param {{type?: string, param?: string|null, code?: string|null}} [details]
   */
  constructor(status, message, { type = 'invalid_request_error', param = null, code = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  /** The JSON body OpenAI sends for this error. */
  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const bad = (message, param, code = null) => new ApiError(400, message, { param, code });

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isAbsent = (v) => v === undefined || v === null;

function optionalNumber(body, key, min, max) {
  const v = body[key];
  if (isAbsent(v)) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw bad(`'${key}' must be a number, got ${JSON.stringify(v)}.`, key);
  if (v < min || v > max) throw bad(`'${key}' must be between ${min} and ${max}, got ${v}.`, key, 'invalid_value');
  return v;
}

function optionalInteger(body, key, min) {
  const v = body[key];
  if (isAbsent(v)) return undefined;
  if (!Number.isInteger(v)) throw bad(`'${key}' must be an integer, got ${JSON.stringify(v)}.`, key);
  if (v < min) throw bad(`'${key}' must be at least ${min}, got ${v}.`, key, 'invalid_value');
  return v;
}

function optionalBoolean(body, key) {
  const v = body[key];
  if (isAbsent(v)) return undefined;
  if (typeof v !== 'boolean') throw bad(`'${key}' must be a boolean, got ${JSON.stringify(v)}.`, key);
  return v;
}

/** Flattens a message `content` (a string or an array of text parts) to text. */
function contentText(content, param, { allowNull }) {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) {
    if (allowNull) return '';
    throw bad(`'${param}' is required.`, param);
  }
  if (!Array.isArray(content)) throw bad(`'${param}' must be a string or an array of content parts.`, param);
  return content
    .map((part, i) => {
      if (!isObject(part)) throw bad(`'${param}[${i}]' must be an object.`, `${param}[${i}]`);
      if (part.type === 'text' && typeof part.text === 'string') return part.text;
      if (part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
      throw bad(
        `'${param}[${i}]' has type ${JSON.stringify(part.type)}; the local model only reads text parts.`,
        `${param}[${i}].type`,
      );
    })
    .join('');
}

/** Renders an assistant turn's tool calls as text, since the local model has no tool support. */
function toolCallsText(toolCalls, param) {
  if (isAbsent(toolCalls)) return '';
  if (!Array.isArray(toolCalls)) throw bad(`'${param}' must be an array.`, param);
  return toolCalls
    .map((call, i) => {
      const fn = call?.function;
      if (!isObject(fn) || typeof fn.name !== 'string') {
        throw bad(`'${param}[${i}].function.name' must be a string.`, `${param}[${i}].function`);
      }
      return `[called ${fn.name}(${typeof fn.arguments === 'string' ? fn.arguments : ''})]`;
    })
    .join('\n');
}

/**
 * Turns OpenAI `messages` into node-llama-cpp chat history items.
 * `system`/`developer` become system turns, `assistant` model turns, `user` user turns; `tool` results become user
 * turns that say which call they answer (this model cannot call tools, but a conversation may carry them).
 */
export function toChatHistory(messages) {
  if (!Array.isArray(messages)) throw bad("'messages' must be an array.", 'messages');
  if (messages.length === 0) throw bad("'messages' must contain at least one message.", 'messages', 'empty_array');
  return messages.map((m, i) => {
    const p = `messages[${i}]`;
    if (!isObject(m)) throw bad(`'${p}' must be an object.`, p);
    switch (m.role) {
      case 'system':
      case 'developer':
        return { type: 'system', text: contentText(m.content, `${p}.content`, { allowNull: false }) };
      case 'user':
        return { type: 'user', text: contentText(m.content, `${p}.content`, { allowNull: false }) };
      case 'assistant': {
        const text = contentText(m.content, `${p}.content`, { allowNull: true });
        const calls = toolCallsText(m.tool_calls, `${p}.tool_calls`);
        return { type: 'model', response: [[text, calls].filter(Boolean).join('\n')] };
      }
      case 'tool': {
        const id = typeof m.tool_call_id === 'string' ? m.tool_call_id : '?';
        const text = contentText(m.content, `${p}.content`, { allowNull: false });
        return { type: 'user', text: `[result of tool call ${id}]\n${text}` };
      }
      default:
        throw bad(
          `'${p}.role' must be one of system, developer, user, assistant, tool; got ${JSON.stringify(m.role)}.`,
          `${p}.role`,
        );
    }
  });
}

function parseStop(stop) {
  if (isAbsent(stop)) return [];
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw bad("'stop' must be a non-empty string or an array of non-empty strings.", 'stop');
  }
  if (list.length > 4) throw bad(`'stop' may hold at most 4 sequences, got ${list.length}.`, 'stop');
  return list;
}

function parseResponseFormat(rf) {
  if (isAbsent(rf)) return { type: 'text' };
  if (!isObject(rf)) throw bad("'response_format' must be an object.", 'response_format');
  switch (rf.type) {
    case 'text':
    case 'json_object':
      return { type: rf.type };
    case 'json_schema': {
      const js = rf.json_schema;
      if (!isObject(js)) throw bad("'response_format.json_schema' must be an object.", 'response_format.json_schema');
      if (typeof js.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(js.name)) {
        throw bad(
          "'response_format.json_schema.name' must be 1-64 characters of a-z, A-Z, 0-9, _ or -.",
          'response_format.json_schema.name',
        );
      }
      if (!isAbsent(js.schema) && !isObject(js.schema)) {
        throw bad("'response_format.json_schema.schema' must be an object.", 'response_format.json_schema.schema');
      }
      return { type: 'json_schema', name: js.name, schema: js.schema ?? null };
    }
    default:
      throw bad(
        `'response_format.type' must be text, json_object or json_schema; got ${JSON.stringify(rf.type)}.`,
        'response_format.type',
      );
  }
}

/**
 * Validates a `POST /v1/chat/completions` body and returns the parameters the engine needs.
 * Unknown fields are ignored (as most OpenAI-compatible servers do); known fields with bad values are a 400.
 * @param {unknown} body parsed JSON
 * @param {{modelId: string}} opts
 */
export function parseChatRequest(body, { modelId }) {
  if (!isObject(body)) throw bad('The request body must be a JSON object.', null);
  if (typeof body.model !== 'string' || body.model.length === 0) {
    throw bad("'model' is required: use \"" + modelId + '".', 'model');
  }
  if (body.model !== modelId) {
    throw new ApiError(404, `The model '${body.model}' does not exist; this local server serves '${modelId}'.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
  const history = toChatHistory(body.messages);
  const stream = optionalBoolean(body, 'stream') ?? false;
  let includeUsage = false;
  if (!isAbsent(body.stream_options)) {
    if (!stream) throw bad("'stream_options' is only allowed when 'stream' is true.", 'stream_options');
    if (!isObject(body.stream_options)) throw bad("'stream_options' must be an object.", 'stream_options');
    const v = body.stream_options.include_usage;
    if (!isAbsent(v) && typeof v !== 'boolean') {
      throw bad("'stream_options.include_usage' must be a boolean.", 'stream_options.include_usage');
    }
    includeUsage = v === true;
  }
  const n = optionalInteger(body, 'n', 1);
  if (n !== undefined && n !== 1)
    throw bad("'n' must be 1: the local model generates one choice.", 'n', 'invalid_value');
  if (body.logprobs === true) throw bad("'logprobs' is not supported by the local model.", 'logprobs');
  const toolChoice = body.tool_choice;
  if (toolChoice === 'required' || isObject(toolChoice)) {
    throw bad("The local model cannot call tools, so 'tool_choice' cannot force one.", 'tool_choice');
  }
  const maxTokens = optionalInteger(body, 'max_tokens', 1);
  const maxCompletionTokens = optionalInteger(body, 'max_completion_tokens', 1);
  return {
    history,
    stream,
    includeUsage,
    maxTokens: maxCompletionTokens ?? maxTokens,
    temperature: optionalNumber(body, 'temperature', 0, 2),
    topP: optionalNumber(body, 'top_p', 0, 1),
    presencePenalty: optionalNumber(body, 'presence_penalty', -2, 2),
    frequencyPenalty: optionalNumber(body, 'frequency_penalty', -2, 2),
    seed: optionalInteger(body, 'seed', Number.MIN_SAFE_INTEGER),
    stop: parseStop(body.stop),
    responseFormat: parseResponseFormat(body.response_format),
  };
}

/** OpenAI's usage object. */
export function usageObject({ promptTokens, completionTokens, cachedTokens = 0 }) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Identity shared by every chunk of one completion (same id, created and model on each). */
export function completionMeta(modelId, now = Date.now()) {
  const rand = Math.random().toString(36).slice(2, 14).padEnd(12, '0');
  return { id: `chatcmpl-local${now.toString(36)}${rand}`, created: Math.floor(now / 1000), model: modelId };
}

/** The non-streaming `chat.completion` object. */
export function completionObject(meta, { text, finishReason, usage }) {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: usageObject(usage),
    system_fingerprint: null,
  };
}

/**
 * One `chat.completion.chunk`. `delta` null means the usage-only final chunk (empty `choices`).
 * With include_usage every other chunk carries `"usage": null`, as OpenAI sends it.
 */
export function chunkObject(meta, { delta = null, finishReason = null, usage, includeUsage }) {
  const chunk = {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: delta === null ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  if (includeUsage) chunk.usage = usage ? usageObject(usage) : null;
  return chunk;
}

/** An SSE `data:` frame for a JSON value (JSON.stringify never emits raw newlines, so one line suffices). */
export function sseData(value) {
  return `data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n`;
}

/** Maps node-llama-cpp's stop reason to OpenAI's `finish_reason`. */
export function finishReasonFor(stopReason) {
  return stopReason === 'maxTokens' ? 'length' : 'stop';
}
