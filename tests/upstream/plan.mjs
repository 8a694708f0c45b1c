// Turns a provider request into a provider-neutral "plan" (reasoning, text tokens, tool calls, stop reason, usage)
// that the wire renderers (openai.mjs, anthropic.mjs) serialize in each provider's exact format.
import { anthropicParts, chatParts, responsesParts } from './content.mjs';
import {
  countTokens,
  fragment,
  hash32,
  markdownAnswer,
  plainAnswer,
  stripDirectives,
  tokenize,
  valueForSchema,
} from './generate.mjs';

const DEFAULT_WORDS = 24;

/** A request error in provider-neutral form; the server renders it in the provider's error shape. */
export class RequestError extends Error {
  constructor(status, message, { param = null, code = null } = {}) {
    super(message);
    this.status = status;
    this.param = param;
    this.code = code;
  }
}

function textOf(content) {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => {
        if (typeof p === 'string') return p;
        if (!p || typeof p !== 'object') return '';
        if (typeof p.text === 'string') return p.text;
        if (p.type === 'tool_result') return textOf(p.content);
        if (p.type === 'tool_use') return JSON.stringify(p.input ?? {});
        return '';
      })
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

function hasKey(obj, key, depth = 0) {
  if (!obj || typeof obj !== 'object' || depth > 8) return false;
  if (Array.isArray(obj)) return obj.some((x) => hasKey(x, key, depth + 1));
  if (key in obj) return true;
  return Object.values(obj).some((x) => hasKey(x, key, depth + 1));
}

function requireMessageObjects(list, name) {
  list.forEach((m, i) => {
    if (!m || typeof m !== 'object' || Array.isArray(m)) {
      throw new RequestError(400, `Invalid type for '${name}[${i}]': expected an object.`, {
        param: `${name}[${i}]`,
        code: 'invalid_type',
      });
    }
  });
}

function requireModel(body) {
  if (typeof body.model !== 'string' || !body.model) {
    throw new RequestError(400, "Missing required parameter: 'model'.", {
      param: 'model',
      code: 'missing_required_parameter',
    });
  }
}

// Tool turns are checked as the real APIs check them: every call answered right after it, every result answering a
// call of the turn before, with the providers' own error messages.

/** Chat Completions: tool messages follow the assistant message with `tool_calls`, one per call id. */
function checkChatToolTurns(msgs) {
  let open = null;
  msgs.forEach((m, i) => {
    if (m.role === 'tool') {
      if (!open || !open.has(m.tool_call_id)) {
        throw new RequestError(
          400,
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          { param: `messages.[${i}].role` },
        );
      }
      if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
        throw new RequestError(400, `Invalid type for 'messages[${i}].content'.`, { param: `messages[${i}].content` });
      }
      open.delete(m.tool_call_id);
      return;
    }
    if (open?.size) {
      throw new RequestError(
        400,
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. " +
          `The following tool_call_ids did not have response messages: ${[...open].join(', ')}`,
        { param: 'messages' },
      );
    }
    open = m.role === 'assistant' && Array.isArray(m.tool_calls) ? new Set(m.tool_calls.map((c) => c.id)) : null;
  });
}

/** Responses: every `function_call_output` has a `function_call` with its `call_id` before it. */
function checkResponsesToolItems(items) {
  const calls = new Set();
  for (const it of items) {
    if (it.type === 'function_call') calls.add(it.call_id);
    if (it.type === 'function_call_output') {
      if (!calls.has(it.call_id)) {
        throw new RequestError(400, `No tool call found for function call output with call_id ${it.call_id}.`, {
          param: 'input',
        });
      }
      if (typeof it.output !== 'string' && !Array.isArray(it.output)) {
        throw new RequestError(400, "Invalid type for 'output'.", { param: 'input' });
      }
    }
  }
}

/** Anthropic: the user message after `tool_use` blocks starts with a `tool_result` for each, and no other. */
function checkAnthropicToolBlocks(msgs) {
  msgs.forEach((m, i) => {
    const blocks = Array.isArray(m.content) ? m.content : [];
    const uses = m.role === 'assistant' ? blocks.filter((b) => b?.type === 'tool_use').map((b) => b.id) : [];
    const prev = msgs[i - 1];
    const asked =
      prev?.role === 'assistant' && Array.isArray(prev.content)
        ? prev.content.filter((b) => b?.type === 'tool_use').map((b) => b.id)
        : [];
    const results = blocks.filter((b) => b?.type === 'tool_result');
    for (const r of results) {
      if (m.role !== 'user' || !asked.includes(r.tool_use_id)) {
        throw new RequestError(
          400,
          `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${r.tool_use_id}. ` +
            'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
        );
      }
      if (r.is_error !== undefined && typeof r.is_error !== 'boolean') {
        throw new RequestError(400, `messages.${i}.content: is_error: Input should be a valid boolean`);
      }
    }
    if (uses.length) {
      const next = msgs[i + 1];
      const answered = new Set(
        Array.isArray(next?.content)
          ? next.content.filter((b) => b?.type === 'tool_result').map((b) => b.tool_use_id)
          : [],
      );
      const missing = uses.filter((id) => !answered.has(id));
      if (next && missing.length) {
        throw new RequestError(
          400,
          `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ` +
            `${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
  });
}

/** Normalizes a Chat Completions request body. Throws RequestError on a body the real API rejects. */
export function normalizeChat(body) {
  requireModel(body);
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new RequestError(400, "Missing required parameter: 'messages'.", {
      param: 'messages',
      code: 'missing_required_parameter',
    });
  }
  const msgs = body.messages;
  requireMessageObjects(msgs, 'messages');
  checkChatToolTurns(msgs);
  const files = msgs.flatMap((m, i) => (m.role === 'user' ? chatParts(m.content, `messages[${i}].content`) : []));
  const last = msgs[msgs.length - 1];
  const lastUser = [...msgs].reverse().find((m) => m.role === 'user');
  const tools = (Array.isArray(body.tools) ? body.tools : [])
    .filter((t) => t && t.type === 'function' && t.function)
    .map((t) => ({
      name: t.function.name,
      parameters: t.function.parameters || { type: 'object', properties: {} },
    }));
  let toolChoice = body.tool_choice ?? 'auto';
  if (toolChoice && typeof toolChoice === 'object') toolChoice = { name: toolChoice.function?.name };
  const rf = body.response_format;
  let format = null;
  if (rf?.type === 'json_object') format = { type: 'json_object' };
  if (rf?.type === 'json_schema')
    format = { type: 'json_schema', schema: rf.json_schema?.schema, name: rf.json_schema?.name };
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  return {
    model: body.model,
    promptText: msgs.map((m) => textOf(m.content)).join('\n'),
    messageCount: msgs.length,
    lastUser: textOf(lastUser?.content),
    lastIsToolResult: last?.role === 'tool',
    toolResultText: last?.role === 'tool' ? textOf(last.content) : '',
    tools,
    toolChoice,
    maxTokens: typeof maxTokens === 'number' ? maxTokens : undefined,
    format,
    reasoning: body.reasoning_effort != null && body.reasoning_effort !== 'none',
    cache: body.prompt_cache_key != null,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    files,
  };
}

/** Normalizes a Responses API request body. */
export function normalizeResponses(body) {
  requireModel(body);
  if (body.input == null) {
    throw new RequestError(400, "Missing required parameter: 'input'.", {
      param: 'input',
      code: 'missing_required_parameter',
    });
  }
  const items = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  if (!Array.isArray(items))
    throw new RequestError(400, "Invalid type for 'input'.", { param: 'input', code: 'invalid_type' });
  requireMessageObjects(items, 'input');
  checkResponsesToolItems(items);
  const files = items.flatMap((m, i) => (m.role === 'user' ? responsesParts(m.content, `input[${i}].content`) : []));
  const msgs = items.filter((i) => i && (i.role || i.type === 'message'));
  const last = items[items.length - 1];
  const lastUser = [...msgs].reverse().find((m) => m.role === 'user');
  const lastIsToolResult = last?.type === 'function_call_output';
  const tools = (Array.isArray(body.tools) ? body.tools : [])
    .filter((t) => t && t.type === 'function')
    .map((t) => ({
      name: t.name,
      parameters: t.parameters || { type: 'object', properties: {} },
    }));
  let toolChoice = body.tool_choice ?? 'auto';
  if (toolChoice && typeof toolChoice === 'object') toolChoice = { name: toolChoice.name };
  const tf = body.text?.format;
  let format = null;
  if (tf?.type === 'json_object') format = { type: 'json_object' };
  if (tf?.type === 'json_schema') format = { type: 'json_schema', schema: tf.schema, name: tf.name };
  const texts = items.map((i) => (i.type === 'function_call_output' ? String(i.output ?? '') : textOf(i.content)));
  if (body.instructions) texts.unshift(String(body.instructions));
  return {
    model: body.model,
    promptText: texts.join('\n'),
    messageCount: items.length + (body.instructions ? 1 : 0),
    lastUser: textOf(lastUser?.content),
    lastIsToolResult,
    toolResultText: lastIsToolResult ? String(last.output ?? '') : '',
    tools,
    toolChoice,
    maxTokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined,
    format,
    reasoning: body.reasoning != null && body.reasoning.effort !== 'none',
    cache: body.prompt_cache_key != null,
    stream: body.stream === true,
    includeUsage: true,
    files,
  };
}

/** Normalizes an Anthropic Messages request body. */
export function normalizeMessages(body) {
  if (typeof body.model !== 'string' || !body.model) throw new RequestError(400, 'model: Field required');
  if (typeof body.max_tokens !== 'number') throw new RequestError(400, 'max_tokens: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new RequestError(400, 'messages: Field required');
  }
  const msgs = body.messages;
  requireMessageObjects(msgs, 'messages');
  checkAnthropicToolBlocks(msgs);
  const files = msgs.flatMap((m, i) => (m.role === 'user' ? anthropicParts(m.content, `messages.${i}.content`) : []));
  const last = msgs[msgs.length - 1];
  const lastUser = [...msgs]
    .reverse()
    .find(
      (m) =>
        m.role === 'user' &&
        textOf(Array.isArray(m.content) ? m.content.filter((p) => p?.type !== 'tool_result') : m.content),
    );
  const lastIsToolResult =
    last?.role === 'user' && Array.isArray(last.content) && last.content.some((p) => p?.type === 'tool_result');
  const tools = (Array.isArray(body.tools) ? body.tools : [])
    .filter((t) => t && t.name && (t.input_schema || !t.type))
    .map((t) => ({
      name: t.name,
      parameters: t.input_schema || { type: 'object', properties: {} },
    }));
  const tc = body.tool_choice;
  let toolChoice = 'auto';
  if (tc?.type === 'any') toolChoice = 'required';
  if (tc?.type === 'none') toolChoice = 'none';
  if (tc?.type === 'tool') toolChoice = { name: tc.name };
  const of = body.output_format || body.output_config?.format;
  const format = of?.type === 'json_schema' ? { type: 'json_schema', schema: of.schema } : null;
  const system = textOf(body.system);
  return {
    model: body.model,
    promptText: [system, ...msgs.map((m) => textOf(m.content))].filter(Boolean).join('\n'),
    messageCount: msgs.length + (system ? 1 : 0),
    lastUser: textOf(
      Array.isArray(lastUser?.content) ? lastUser.content.filter((p) => p?.type !== 'tool_result') : lastUser?.content,
    ),
    lastIsToolResult,
    toolResultText: lastIsToolResult ? textOf(last.content.filter((p) => p?.type === 'tool_result')) : '',
    tools,
    toolChoice,
    maxTokens: body.max_tokens,
    format,
    reasoning: body.thinking?.type === 'enabled' || body.thinking?.type === 'adaptive',
    cache: hasKey(body, 'cache_control'),
    stream: body.stream === true,
    includeUsage: true,
    files,
  };
}

function answerText(norm, opts) {
  const words = opts.tokens ?? opts.words ?? DEFAULT_WORDS;
  if (norm.lastIsToolResult && !norm.format) {
    const echo = stripDirectives(norm.toolResultText).split(' ').slice(0, 12).join(' ');
    const filler = plainAnswer(norm.lastUser || echo, Math.max(words - 4, 1)).replace(/^Mock answer to:/, '');
    return `Tool result received: ${echo}.${filler}`;
  }
  if (norm.format?.type === 'json_schema' && norm.format.schema) {
    return JSON.stringify(valueForSchema(norm.format.schema, norm.lastUser));
  }
  if (norm.format) {
    return JSON.stringify({
      answer: plainAnswer(norm.lastUser, 8),
      words: stripDirectives(norm.lastUser).split(' ').length,
    });
  }
  if (opts.markdown || /\bmarkdown\b/i.test(norm.lastUser)) return markdownAnswer(norm.lastUser, words);
  return plainAnswer(norm.lastUser, words);
}

function pickTool(norm) {
  if (!norm.tools.length || norm.toolChoice === 'none') return null;
  if (norm.toolChoice && typeof norm.toolChoice === 'object') {
    return norm.tools.find((t) => t.name === norm.toolChoice.name) || null;
  }
  if (norm.toolChoice !== 'required' && norm.lastIsToolResult) return null;
  const lower = norm.lastUser.toLowerCase();
  return norm.tools.find((t) => lower.includes(String(t.name).toLowerCase())) || norm.tools[0];
}

/**
 * Builds the plan for a normalized request. `opts` comes from the scenario and directives:
 * { words, tokens, markdown, reasoning, cached, text, chunk }.
 */
export function buildPlan(norm, opts = {}) {
  const seed = `${norm.model}|${norm.lastUser}`;
  const idNum = hash32(seed + '|' + norm.promptText.length)
    .toString(16)
    .padStart(8, '0');
  let budget = norm.maxTokens ?? Infinity;
  let stop = 'end';
  const plan = { idSeed: idNum, reasoning: [], text: [], toolCalls: [], preamble: [], stop, usage: null };

  if (norm.reasoning || opts.reasoning) {
    const r = tokenize(
      `Thinking about "${stripDirectives(norm.lastUser).split(' ').slice(0, 6).join(' ')}": ` +
        'first recall the context, then compose a short answer.',
    );
    plan.reasoning = r.slice(0, Math.max(0, Math.min(r.length, budget)));
    budget -= plan.reasoning.length;
    if (plan.reasoning.length < r.length) stop = 'length';
  }

  // Queued calls are exactly the calls; queued text is exactly the answer (no tool of the model's own choosing).
  const tool = stop === 'end' && !opts.toolCalls && typeof opts.text !== 'string' ? pickTool(norm) : null;
  if (stop === 'end' && opts.toolCalls?.length) {
    // Calls queued by a test, in parallel, exactly as given (each must name a tool the request offers).
    opts.toolCalls.forEach((c, i) => {
      if (!norm.tools.some((t) => t.name === c.name)) {
        throw new Error(`queued tool call ${c.name} names no tool of the request (${norm.tools.map((t) => t.name)})`);
      }
      const args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {});
      const frags = fragment(args, `${seed}|${c.name}|${i}`);
      plan.toolCalls.push({
        id: `call_${idNum}${i}${hash32(c.name).toString(16)}`,
        name: c.name,
        args,
        fragments: frags,
      });
    });
    stop = 'tool';
    if (typeof opts.text === 'string') plan.preamble = tokenize(opts.text);
  } else if (tool) {
    const args = JSON.stringify(valueForSchema(tool.parameters, `${norm.lastUser}|${tool.name}`));
    let frags = fragment(args, `${seed}|${tool.name}`);
    if (frags.length > budget) {
      frags = frags.slice(0, Math.max(0, budget));
      stop = 'length';
    } else {
      stop = 'tool';
    }
    budget -= frags.length;
    plan.toolCalls.push({
      id: `call_${idNum}${hash32(tool.name).toString(16)}`,
      name: tool.name,
      args: frags.join(''),
      fragments: frags,
    });
    if (typeof norm.toolChoice !== 'object' && norm.toolChoice !== 'required') {
      plan.preamble = tokenize(`I will call ${tool.name}.`);
    }
  } else if (stop === 'end' && typeof opts.text === 'string') {
    // Exact text (queued by a test), in pieces of `chunk` code points or in mock tokens.
    const pieces = opts.chunk ? splitChars(opts.text, opts.chunk) : tokenize(opts.text);
    let used = 0;
    for (const p of pieces) {
      const n = opts.chunk ? countTokens(p) : 1;
      if (used + n > budget) {
        stop = 'length';
        break;
      }
      used += n;
      plan.text.push(p);
    }
    plan.textTokens = countTokens(plan.text.join(''));
  } else if (stop === 'end') {
    const all = tokenize(answerText(norm, opts));
    if (all.length > budget) {
      plan.text = all.slice(0, Math.max(0, budget));
      stop = 'length';
    } else {
      plan.text = all;
    }
  }
  plan.stop = stop;

  const toolTokens = norm.tools.length ? countTokens(JSON.stringify(norm.tools)) : 0;
  const input = countTokens(norm.promptText) + 3 * norm.messageCount + toolTokens;
  const cached = opts.cached ?? (norm.cache || opts.cache ? Math.floor(input / 2) : 0);
  const toolOut = plan.toolCalls.reduce((n, c) => n + c.fragments.length + 1, 0);
  plan.usage = {
    input,
    cached: Math.min(cached, input),
    reasoning: plan.reasoning.length,
    output: plan.reasoning.length + (plan.textTokens ?? plan.text.length) + toolOut,
  };
  return plan;
}

function splitChars(text, size) {
  const chars = [...text];
  const out = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** Splits text tokens into chunks of `n` tokens each (the deltas the stream sends). */
export function chunkTokens(tokens, n = 1) {
  const out = [];
  for (let i = 0; i < tokens.length; i += n) out.push(tokens.slice(i, i + n).join(''));
  return out;
}
