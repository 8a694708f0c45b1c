// Self-test of the mock upstream's wire formats, auth, faults and request log, over real HTTP on loopback.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startUpstream } from './server.mjs';
import { parseSse as readEvents } from '../support/sse.mjs';

let up;
const OA = { authorization: 'Bearer sk-test-openai-0000', 'content-type': 'application/json' };
const AN = { 'x-api-key': 'sk-ant-test-0000', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };

before(async () => {
  up = await startUpstream({ delayMs: 1 });
});
after(() => up.close());
beforeEach(() => up.reset());

/** The SSE events of a body as [{ id, event, data }], `data` as text (tests/support/sse.mjs, eventsource-parser). */
const parseSse = (text) => readEvents(text, { json: false });

async function post(path, headers, body) {
  const res = await fetch(up.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { res, text: await res.text() };
}

const chatBody = (extra = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello there mock' }],
  ...extra,
});
const msgBody = (extra = {}) => ({
  model: 'claude-haiku-4-5',
  max_tokens: 200,
  messages: [{ role: 'user', content: 'Hello there mock' }],
  ...extra,
});

test('chat stream: role chunk first, content deltas, finish chunk, usage chunk with empty choices, [DONE]', async () => {
  const { res, text } = await post(
    '/v1/chat/completions',
    OA,
    chatBody({ stream: true, stream_options: { include_usage: true } }),
  );
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  assert.match(res.headers.get('x-request-id'), /^req_/);
  assert.ok(res.headers.get('x-ratelimit-remaining-requests'));
  const ev = parseSse(text);
  assert.equal(ev.at(-1).data, '[DONE]');
  const chunks = ev.slice(0, -1).map((e) => JSON.parse(e.data));
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id && 'usage' in c));
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '', refusal: null });
  const finish = chunks.at(-2);
  assert.equal(finish.choices[0].finish_reason, 'stop');
  assert.deepEqual(finish.choices[0].delta, {});
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  const textOut = chunks.map((c) => c.choices[0]?.delta?.content || '').join('');
  assert.match(textOut, /^Mock answer to: Hello there mock/);
  assert.equal(usage.usage.completion_tokens, 24);
  assert.equal(usage.usage.total_tokens, usage.usage.prompt_tokens + 24);
});

test('chat stream without include_usage has no usage chunk and no usage field', async () => {
  const { text } = await post('/v1/chat/completions', OA, chatBody({ stream: true }));
  const chunks = parseSse(text)
    .slice(0, -1)
    .map((e) => JSON.parse(e.data));
  assert.ok(chunks.every((c) => !('usage' in c) && c.choices.length === 1));
});

test('chat non-stream honours max_tokens with finish_reason length', async () => {
  const { res, text } = await post('/v1/chat/completions', OA, chatBody({ max_tokens: 5 }));
  const j = JSON.parse(text);
  assert.equal(res.status, 200);
  assert.equal(j.object, 'chat.completion');
  assert.equal(j.choices[0].finish_reason, 'length');
  assert.equal(j.choices[0].message.content, 'Mock answer to: Hello there');
  assert.equal(j.usage.completion_tokens, 5);
});

test('chat tool call: fragmented arguments that join into valid JSON matching the schema', async () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, days: { type: 'integer' } },
          required: ['city'],
        },
      },
    },
  ];
  const { text } = await post('/v1/chat/completions', OA, chatBody({ stream: true, tools }));
  const chunks = parseSse(text)
    .slice(0, -1)
    .map((e) => JSON.parse(e.data));
  const calls = chunks.flatMap((c) => c.choices[0].delta.tool_calls || []);
  assert.equal(calls[0].id.startsWith('call_'), true);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.ok(calls.length > 3, 'arguments arrive in several fragments');
  const args = JSON.parse(calls.map((c) => c.function.arguments).join(''));
  assert.equal(typeof args.city, 'string');
  assert.equal(Number.isInteger(args.days), true);
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
});

test('chat json_schema answer is JSON shaped by the schema; markdown answer has a table and code fence', async () => {
  const schema = {
    type: 'object',
    properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
  };
  const a = JSON.parse(
    (
      await post(
        '/v1/chat/completions',
        OA,
        chatBody({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }),
      )
    ).text,
  );
  const parsed = JSON.parse(a.choices[0].message.content);
  assert.equal(typeof parsed.name, 'string');
  assert.ok(Array.isArray(parsed.tags));
  const b = JSON.parse(
    (
      await post(
        '/v1/chat/completions',
        OA,
        chatBody({ messages: [{ role: 'user', content: 'reply in markdown please' }] }),
      )
    ).text,
  );
  const md = b.choices[0].message.content;
  assert.match(md, /^# /m);
  assert.match(md, /```js\n/);
  assert.match(md, /\| --- \|/);
});

test('responses stream: exact event sequence with increasing sequence_number', async () => {
  const { text } = await post('/v1/responses', OA, { model: 'gpt-4o-mini', input: 'Hi there', stream: true });
  const ev = parseSse(text);
  const types = ev.map((e) => e.event);
  assert.deepEqual(types.slice(0, 4), [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
  ]);
  assert.deepEqual(types.slice(-5), [
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ]);
  const data = ev.map((e) => JSON.parse(e.data));
  data.forEach((d, i) => {
    assert.equal(d.sequence_number, i);
    assert.equal(d.type, ev[i].event);
  });
  const done = data.at(-1).response;
  assert.equal(done.status, 'completed');
  const joined = data
    .filter((d) => d.type === 'response.output_text.delta')
    .map((d) => d.delta)
    .join('');
  assert.equal(done.output[0].content[0].text, joined);
  assert.equal(done.usage.output_tokens, 24);
});

test('responses: max_output_tokens gives response.incomplete; reasoning gives a reasoning item first', async () => {
  const { text } = await post('/v1/responses', OA, {
    model: 'o4-mini',
    input: 'Hi',
    stream: true,
    max_output_tokens: 30,
    reasoning: { effort: 'low', summary: 'auto' },
  });
  const data = parseSse(text).map((e) => JSON.parse(e.data));
  assert.equal(data.at(-1).type, 'response.incomplete');
  assert.deepEqual(data.at(-1).response.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(data[2].item.type, 'reasoning');
  assert.ok(data.some((d) => d.type === 'response.reasoning_summary_text.delta'));
  assert.ok(data.at(-1).response.usage.output_tokens_details.reasoning_tokens > 0);
});

test('anthropic stream: message_start, content_block_start, ping, deltas, stop, message_delta, message_stop', async () => {
  const { res, text } = await post('/v1/messages', AN, msgBody({ stream: true }));
  assert.match(res.headers.get('request-id'), /^req_/);
  assert.ok(res.headers.get('anthropic-ratelimit-requests-remaining'));
  const ev = parseSse(text);
  const types = ev.map((e) => e.event);
  assert.deepEqual(types.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
  assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
  ev.forEach((e) => assert.equal(JSON.parse(e.data).type, e.event));
  const md = JSON.parse(ev.at(-2).data);
  assert.equal(md.delta.stop_reason, 'end_turn');
  assert.equal(md.usage.output_tokens, 24);
});

test('anthropic: thinking block with signature, forced tool, max_tokens stop, cache tokens', async () => {
  let { text } = await post(
    '/v1/messages',
    AN,
    msgBody({ stream: true, thinking: { type: 'enabled', budget_tokens: 1024 } }),
  );
  const ev = parseSse(text).map((e) => JSON.parse(e.data));
  assert.equal(ev[1].content_block.type, 'thinking');
  assert.ok(ev.some((e) => e.delta?.type === 'thinking_delta'));
  assert.ok(ev.some((e) => e.delta?.type === 'signature_delta'));

  const tools = [{ name: 'record', input_schema: { type: 'object', properties: { title: { type: 'string' } } } }];
  ({ text } = await post('/v1/messages', AN, msgBody({ tools, tool_choice: { type: 'tool', name: 'record' } })));
  const j = JSON.parse(text);
  assert.equal(j.stop_reason, 'tool_use');
  assert.equal(j.content.length, 1);
  assert.equal(j.content[0].type, 'tool_use');
  assert.equal(typeof j.content[0].input.title, 'string');

  ({ text } = await post('/v1/messages', AN, msgBody({ max_tokens: 3 })));
  assert.equal(JSON.parse(text).stop_reason, 'max_tokens');

  ({ text } = await post(
    '/v1/messages',
    AN,
    msgBody({ system: [{ type: 'text', text: 'long system prompt here', cache_control: { type: 'ephemeral' } }] }),
  ));
  assert.ok(JSON.parse(text).usage.cache_read_input_tokens > 0);
});

test('auth: wrong or missing keys give 401 in each provider format; missing anthropic-version is 400', async () => {
  let r = await post('/v1/chat/completions', { authorization: 'Bearer sk-wrong-key-9999' }, chatBody());
  assert.equal(r.res.status, 401);
  assert.equal(JSON.parse(r.text).error.code, 'invalid_api_key');
  r = await post('/v1/chat/completions', {}, chatBody());
  assert.equal(r.res.status, 401);
  r = await post('/v1/messages', { ...AN, 'x-api-key': 'nope' }, msgBody());
  assert.equal(r.res.status, 401);
  assert.deepEqual(JSON.parse(r.text).error, { type: 'authentication_error', message: 'invalid x-api-key' });
  r = await post('/v1/messages', { 'x-api-key': 'sk-ant-test-0000' }, msgBody());
  assert.equal(r.res.status, 400);
  assert.equal(JSON.parse(r.text).error.type, 'invalid_request_error');
  r = await post('/v1/messages', AN, { model: 'x', messages: [] });
  assert.equal(r.res.status, 400);
});

test('429 with retry-after and retry-after-ms, queued count then normal; 529 overloaded for anthropic', async () => {
  up.queue({ scenario: '429', count: 2, retryAfter: 2, retryAfterMs: 1500 });
  for (let i = 0; i < 2; i++) {
    const { res, text } = await post('/v1/chat/completions', OA, chatBody());
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '2');
    assert.equal(res.headers.get('retry-after-ms'), '1500');
    assert.equal(JSON.parse(text).error.code, 'rate_limit_exceeded');
  }
  assert.equal((await post('/v1/chat/completions', OA, chatBody())).res.status, 200);
  const { res, text } = await post(
    '/v1/messages',
    AN,
    msgBody({ messages: [{ role: 'user', content: 'hi mock:529' }] }),
  );
  assert.equal(res.status, 529);
  assert.equal(JSON.parse(text).error.type, 'overloaded_error');
});

test('reset destroys the socket before the first byte', async () => {
  up.queue('reset');
  await assert.rejects(
    fetch(up.url + '/v1/chat/completions', { method: 'POST', headers: OA, body: JSON.stringify(chatBody()) }),
  );
  assert.equal(up.requests()[0].serverClosed, true);
});

test('disconnect after N events: the client sees exactly N events then a broken stream', async () => {
  up.queue({ scenario: 'disconnect', after: 3 });
  const res = await fetch(up.url + '/v1/messages', {
    method: 'POST',
    headers: AN,
    body: JSON.stringify(msgBody({ stream: true })),
  });
  let got = '';
  const dec = new TextDecoder();
  await assert.rejects(async () => {
    for await (const c of res.body) got += dec.decode(c, { stream: true });
  });
  assert.deepEqual(
    parseSse(got).map((e) => e.event),
    ['message_start', 'content_block_start', 'ping'],
  );
});

test('reset after N events: the client sees exactly N events, then the connection reset (ECONNRESET)', async () => {
  up.queue({ scenario: 'reset', after: 3 });
  const res = await fetch(up.url + '/v1/chat/completions', {
    method: 'POST',
    headers: OA,
    body: JSON.stringify(chatBody({ stream: true })),
  });
  let got = '';
  const dec = new TextDecoder();
  const err = await (async () => {
    try {
      for await (const c of res.body) got += dec.decode(c, { stream: true });
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(err, 'the body fails');
  assert.equal(err.cause?.code, 'ECONNRESET', String(err.cause));
  assert.equal(parseSse(got).length, 3);
  assert.equal(up.requests()[0].serverClosed, true);
});

test('no-terminal ends cleanly without message_stop; error sends event: error; malformed sends bad JSON', async () => {
  let { text } = await post(
    '/v1/messages',
    AN,
    msgBody({ stream: true, messages: [{ role: 'user', content: 'x mock:no-terminal' }] }),
  );
  const types = parseSse(text).map((e) => e.event);
  assert.equal(types.includes('message_stop'), false);
  assert.equal(types.includes('message_delta'), false);
  assert.equal(types.at(-1), 'content_block_stop');

  ({ text } = await post(
    '/v1/messages',
    AN,
    msgBody({ stream: true, messages: [{ role: 'user', content: 'x mock:error=5' }] }),
  ));
  const ev = parseSse(text);
  assert.equal(ev.length, 6);
  assert.equal(ev.at(-1).event, 'error');
  assert.equal(JSON.parse(ev.at(-1).data).error.type, 'overloaded_error');

  ({ text } = await post(
    '/v1/chat/completions',
    OA,
    chatBody({ stream: true, messages: [{ role: 'user', content: 'x mock:error' }] }),
  ));
  assert.equal(JSON.parse(parseSse(text).at(-1).data).error.type, 'server_error');

  ({ text } = await post(
    '/v1/chat/completions',
    OA,
    chatBody({ stream: true, messages: [{ role: 'user', content: 'x mock:malformed=2' }] }),
  ));
  const bad = parseSse(text).filter((e) => {
    try {
      JSON.parse(e.data);
      return false;
    } catch {
      return e.data !== '[DONE]';
    }
  });
  assert.equal(bad.length, 1);
});

test('hold: first events arrive, the rest only after release() (incremental streaming)', async () => {
  up.queue({ scenario: 'hold', after: 2 });
  const res = await fetch(up.url + '/v1/chat/completions', {
    method: 'POST',
    headers: OA,
    body: JSON.stringify(chatBody({ stream: true })),
  });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let got = '';
  while (parseSse(got).length < 2) got += dec.decode((await reader.read()).value, { stream: true });
  assert.equal(parseSse(got).length, 2);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(up.requests()[0].held, true);
  assert.equal(up.release(), 1);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    got += dec.decode(value, { stream: true });
  }
  assert.equal(parseSse(got).at(-1).data, '[DONE]');
});

test('stall keeps the socket open; the client abort is recorded as aborted: true', async () => {
  const ac = new AbortController();
  const res = await fetch(up.url + '/v1/responses', {
    method: 'POST',
    headers: OA,
    signal: ac.signal,
    body: JSON.stringify({ model: 'gpt-4o-mini', input: 'x mock:stall=3', stream: true }),
  });
  const reader = res.body.getReader();
  let got = '';
  while (parseSse(got).length < 3) got += new TextDecoder().decode((await reader.read()).value);
  await up.waitFor((log) => log[0]?.stalled);
  assert.equal(up.requests()[0].aborted, false);
  ac.abort();
  await up.waitFor((log) => log[0].aborted);
  assert.equal(up.requests()[0].serverClosed, false);
});

test('request log records method, path, headers and parsed body; control endpoints work over HTTP', async () => {
  await post('/v1/chat/completions', OA, chatBody());
  const log = await (await fetch(up.url + '/__mock/requests')).json();
  assert.equal(log.length, 1);
  assert.equal(log[0].method, 'POST');
  assert.equal(log[0].path, '/v1/chat/completions');
  assert.equal(log[0].headers.authorization, 'Bearer sk-test-openai-0000');
  assert.equal(log[0].body.model, 'gpt-4o-mini');
  assert.equal(log[0].completed, true);
  let r = await fetch(up.url + '/__mock/queue', { method: 'POST', body: JSON.stringify({ scenario: '503' }) });
  assert.equal(r.status, 200);
  assert.equal((await post('/v1/chat/completions', OA, chatBody())).res.status, 503);
  r = await fetch(up.url + '/__mock/queue', { method: 'POST', body: JSON.stringify({ scenario: 'bogus' }) });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /unknown mock scenario/);
  await fetch(up.url + '/__mock/reset', { method: 'POST' });
  assert.equal(up.requests().length, 0);
  assert.throws(() => up.queue('nonsense'), /unknown mock scenario/);
});

test('embeddings: deterministic, normalized, similar texts closer than unrelated ones; base64 decodes', async () => {
  const body = {
    model: 'text-embedding-3-small',
    input: ['the cat sat on the mat', 'the cat sat on a mat', 'quarterly revenue grew fast'],
  };
  const j = JSON.parse((await post('/v1/embeddings', OA, body)).text);
  const [a, b, c] = j.data.map((d) => d.embedding);
  const dot = (x, y) => x.reduce((s, v, i) => s + v * y[i], 0);
  assert.ok(Math.abs(dot(a, a) - 1) < 1e-9);
  assert.ok(dot(a, b) > 0.7 && dot(a, c) < 0.3, `sim ${dot(a, b)} vs ${dot(a, c)}`);
  const k = JSON.parse((await post('/v1/embeddings', OA, { ...body, encoding_format: 'base64' })).text);
  const buf = Buffer.from(k.data[0].embedding, 'base64');
  assert.ok(Math.abs(buf.readFloatLE(0) - a[0]) < 1e-6);
  assert.equal(j.usage.prompt_tokens > 0, true);
});

test('unknown paths are 404 in provider format; any prefix before /v1/ is accepted', async () => {
  const r = await post('/v1/nope', OA, {});
  assert.equal(r.res.status, 404);
  assert.ok(JSON.parse(r.text).error.message);
  const ok = await post(
    '/compat/v1/chat/completions',
    { ...OA, authorization: 'Bearer sk-test-compat-0000' },
    chatBody(),
  );
  assert.equal(ok.res.status, 200);
  const models = await (await fetch(up.url + '/v1/models', { headers: OA })).json();
  assert.equal(models.object, 'list');
});

test('CLI prints one ready line with its URL and serves', async () => {
  const { spawn } = await import('node:child_process');
  const port = await new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });
  const child = spawn(process.execPath, [
    new URL('./server.mjs', import.meta.url).pathname,
    '--port',
    String(port),
    '--openai-key',
    'sk-test-cli',
  ]);
  try {
    const line = await new Promise((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(String(d)));
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    assert.equal(line.trim(), `mock upstream ready at http://127.0.0.1:${port}`);
    const res = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: 'Bearer sk-test-cli' } });
    assert.equal(res.status, 200);
  } finally {
    child.kill('SIGTERM');
  }
});

test('long answers have exactly N tokens; slow tokens are spaced by the delay', async () => {
  let { text } = await post(
    '/v1/chat/completions',
    OA,
    chatBody({ messages: [{ role: 'user', content: 'go mock:long=500' }] }),
  );
  const j = JSON.parse(text);
  assert.equal(j.usage.completion_tokens, 500);
  assert.equal(j.choices[0].message.content.trim().split(/\s+/).length, 500);
  up.queue({ scenario: 'slow', delayMs: 40 });
  const t0 = Date.now();
  ({ text } = await post(
    '/v1/chat/completions',
    OA,
    chatBody({ stream: true, messages: [{ role: 'user', content: 'x mock:words=5' }] }),
  ));
  assert.ok(Date.now() - t0 >= 40 * 6, `took ${Date.now() - t0} ms`);
  assert.equal(parseSse(text).length, 8);
});

test('tool round trip: after a tool result the model answers with text; auto tool use has a text preamble on anthropic', async () => {
  const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
  const messages = [
    { role: 'user', content: 'find it' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'forty two' },
  ];
  const j = JSON.parse((await post('/v1/chat/completions', OA, chatBody({ tools, messages }))).text);
  assert.match(j.choices[0].message.content, /^Tool result received: forty two\./);
  assert.equal(j.choices[0].finish_reason, 'stop');
  const a = JSON.parse(
    (
      await post(
        '/v1/messages',
        AN,
        msgBody({ tools: [{ name: 'lookup', input_schema: { type: 'object', properties: {} } }] }),
      )
    ).text,
  );
  assert.deepEqual(
    a.content.map((b) => b.type),
    ['text', 'tool_use'],
  );
  assert.equal(a.stop_reason, 'tool_use');
});

test('responses mid-stream error: an error event then response.failed', async () => {
  const { text } = await post('/v1/responses', OA, { model: 'gpt-4o-mini', input: 'x mock:error=4', stream: true });
  const data = parseSse(text).map((e) => JSON.parse(e.data));
  assert.deepEqual(
    data.slice(-2).map((d) => d.type),
    ['error', 'response.failed'],
  );
  assert.equal(data.at(-1).response.status, 'failed');
  assert.deepEqual(
    data.map((d) => d.sequence_number),
    data.map((_, i) => i),
  );
});

test('shorthand scenarios: exact text in code-point chunks, drop after the text, error at the end, status', async () => {
  up.queue({ text: '# Hi\n\nthére', chunk: 3, delayMs: 0 });
  let { text } = await post('/v1/messages', AN, msgBody({ stream: true }));
  let ev = parseSse(text).map((e) => JSON.parse(e.data));
  const deltas = ev.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text);
  assert.deepEqual(deltas, ['# H', 'i\n\n', 'thé', 're']);
  assert.equal(ev.at(-1).type, 'message_stop');
  assert.equal(ev.at(-2).usage.output_tokens, 3); // '#', ' Hi', '\n\nthére'

  up.queue({ text: 'partial before the drop', drop: true });
  const res = await fetch(up.url + '/v1/chat/completions', {
    method: 'POST',
    headers: OA,
    body: JSON.stringify(chatBody({ stream: true })),
  });
  let got = '';
  await assert.rejects(async () => {
    for await (const c of res.body) got += new TextDecoder().decode(c);
  });
  const chunks = parseSse(got).map((e) => JSON.parse(e.data));
  assert.equal(chunks.map((c) => c.choices[0].delta.content || '').join(''), 'partial before the drop');
  assert.ok(chunks.every((c) => c.choices[0].finish_reason === null));

  up.queue({ text: 'partial text', end: 'error' });
  ({ text } = await post('/v1/messages', AN, msgBody({ stream: true })));
  ev = parseSse(text);
  assert.equal(ev.at(-1).event, 'error');
  assert.equal(ev.at(-2).event, 'content_block_stop');

  up.queue({ status: 429, retryAfter: 7 });
  const r = await post('/v1/chat/completions', OA, chatBody());
  assert.equal(r.res.status, 429);
  assert.equal(r.res.headers.get('retry-after'), '7');
});

test('malformed bodies get 400 in the provider format, never a crash', async () => {
  const cases = [
    ['/v1/chat/completions', OA, { model: 'm', messages: [null] }],
    ['/v1/chat/completions', OA, { model: 'm', messages: 'hi' }],
    ['/v1/chat/completions', OA, { messages: [{ role: 'user', content: 'x' }] }],
    ['/v1/responses', OA, { model: 'm', input: [null, 3] }],
    ['/v1/responses', OA, { model: 'm', input: 42 }],
    ['/v1/messages', AN, { model: 'm', max_tokens: 5, messages: [7] }],
    ['/v1/messages', AN, { model: 'm', messages: [{ role: 'user', content: 'x' }] }],
  ];
  for (const [path, headers, body] of cases) {
    const { res, text } = await post(path, headers, body);
    assert.equal(res.status, 400, `${path} ${JSON.stringify(body)} -> ${text}`);
    const j = JSON.parse(text);
    assert.equal(j.error.type, 'invalid_request_error');
    if (path === '/v1/messages') assert.equal(j.type, 'error');
  }
  const raw = await fetch(up.url + '/v1/chat/completions', {
    method: 'POST',
    headers: OA,
    body: '{"model": "m", "messa',
  });
  assert.equal(raw.status, 400);
  assert.match((await raw.json()).error.message, /could not parse the JSON body/);
});
