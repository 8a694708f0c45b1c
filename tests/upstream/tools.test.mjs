// The mock upstream's client-tool scripting and its checks of tool-result turns: queued tool calls stream in each
// provider's exact format (Chat `tool_calls` deltas, Responses `function_call` items, Anthropic `tool_use` blocks
// with `input_json_delta`), and a request whose tool results do not answer the calls before them is refused with
// the provider's own 400.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from './server.mjs';
import { parseSse } from '../support/sse.mjs';

let up;
const OA = { authorization: 'Bearer sk-test-openai-0000', 'content-type': 'application/json' };
const AN = { 'x-api-key': 'sk-ant-test-0000', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
const SCHEMA = { type: 'object', properties: { n: { type: 'integer' } } };
const CALLS = [
  { name: 'add', arguments: { n: 1 } },
  { name: 'now', arguments: {} },
];

before(async () => {
  up = await startUpstream({ delayMs: 0 });
});
after(() => up.close());
beforeEach(() => up.reset());

async function post(path, headers, body) {
  const res = await fetch(up.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

test('chat: queued calls stream as tool_calls deltas by index, finish_reason tool_calls', async () => {
  up.queue({ toolCalls: CALLS });
  const tools = ['add', 'now'].map((name) => ({ type: 'function', function: { name, parameters: SCHEMA } }));
  const { text } = await post('/v1/chat/completions', OA, {
    model: 'gpt-4o-mini',
    stream: true,
    tools,
    messages: [{ role: 'user', content: 'go' }],
  });
  const chunks = parseSse(text)
    .filter((e) => e.data !== '[DONE]')
    .map((e) => e.data);
  const calls = {};
  for (const c of chunks) {
    for (const d of c.choices[0]?.delta?.tool_calls ?? []) {
      calls[d.index] ??= { id: d.id, name: d.function.name, arguments: '' };
      if (d.id) assert.equal(d.type, 'function');
      calls[d.index].arguments += d.function.arguments;
    }
  }
  assert.deepEqual(
    Object.values(calls).map((c) => [c.name, JSON.parse(c.arguments)]),
    [
      ['add', { n: 1 }],
      ['now', {}],
    ],
  );
  assert.notEqual(calls[0].id, calls[1].id);
  assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
});

test('responses: queued calls are function_call items with distinct ids and call_ids', async () => {
  up.queue({ toolCalls: CALLS });
  const tools = ['add', 'now'].map((name) => ({ type: 'function', name, parameters: SCHEMA }));
  const { text } = await post('/v1/responses', OA, { model: 'gpt-4o-mini', stream: true, tools, input: 'go' });
  const done = parseSse(text)
    .map((e) => e.data)
    .filter((d) => d.type === 'response.output_item.done')
    .map((d) => d.item);
  assert.deepEqual(
    done.map((i) => [i.type, i.name, JSON.parse(i.arguments)]),
    [
      ['function_call', 'add', { n: 1 }],
      ['function_call', 'now', {}],
    ],
  );
  assert.equal(new Set(done.map((i) => i.id)).size, 2);
  assert.equal(new Set(done.map((i) => i.call_id)).size, 2);
});

test('anthropic: queued calls are tool_use blocks filled by input_json_delta, stop_reason tool_use', async () => {
  up.queue({ toolCalls: CALLS, text: 'Let me look.' });
  const tools = ['add', 'now'].map((name) => ({ name, input_schema: SCHEMA }));
  const { text } = await post('/v1/messages', AN, {
    model: 'claude-haiku-4-5',
    max_tokens: 200,
    stream: true,
    tools,
    messages: [{ role: 'user', content: 'go' }],
  });
  const ev = parseSse(text).map((e) => e.data);
  const starts = ev.filter((e) => e.type === 'content_block_start').map((e) => e.content_block);
  assert.deepEqual(
    starts.map((b) => b.type),
    ['text', 'tool_use', 'tool_use'],
  );
  const json = (i) =>
    ev
      .filter((e) => e.type === 'content_block_delta' && e.index === i)
      .map((e) => e.delta.partial_json)
      .join('');
  assert.deepEqual(JSON.parse(json(1)), { n: 1 });
  assert.equal(ev.find((e) => e.type === 'message_delta').delta.stop_reason, 'tool_use');
});

test('tool results that answer no call are refused with each provider s message', async () => {
  const chat = await post('/v1/chat/completions', OA, {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'user', content: 'go' },
      { role: 'tool', tool_call_id: 'call_x', content: 'r' },
    ],
  });
  assert.equal(chat.status, 400);
  assert.match(JSON.parse(chat.text).error.message, /must be a response to a preceeding message with 'tool_calls'/);

  const unanswered = await post('/v1/chat/completions', OA, {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'user', content: 'and?' },
    ],
  });
  assert.equal(unanswered.status, 400);
  assert.match(JSON.parse(unanswered.text).error.message, /did not have response messages: c1/);

  const resp = await post('/v1/responses', OA, {
    model: 'gpt-4o-mini',
    input: [
      { type: 'message', role: 'user', content: 'go' },
      { type: 'function_call_output', call_id: 'call_x', output: 'r' },
    ],
  });
  assert.equal(resp.status, 400);
  assert.match(JSON.parse(resp.text).error.message, /No tool call found for function call output with call_id call_x/);

  const an = await post('/v1/messages', AN, {
    model: 'claude-haiku-4-5',
    max_tokens: 50,
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't2', content: 'r' }] },
    ],
  });
  assert.equal(an.status, 400);
  assert.match(JSON.parse(an.text).error.message, /without `tool_result` blocks immediately after: t1\./);

  const ok = await post('/v1/messages', AN, {
    model: 'claude-haiku-4-5',
    max_tokens: 50,
    tools: [{ name: 'f', input_schema: { type: 'object' } }],
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '{"error":"x"}', is_error: true }] },
    ],
  });
  assert.equal(ok.status, 200, ok.text);
  assert.match(JSON.parse(ok.text).content[0].text, /^Tool result received:/);
});
