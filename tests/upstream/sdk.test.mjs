// The strongest check of "exact wire format": the official npm SDKs (openai, @anthropic-ai/sdk) pointed straight at
// the mock upstream must parse its text, usage, tool calls and errors, and retry as they do against the real APIs.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from './server.mjs';

// The SDK packages under test: the pinned ones by default; the suite runs this file again with the newer ones
// (EDGECHAT_OPENAI_SDK=openai-7 EDGECHAT_ANTHROPIC_SDK=anthropic-sdk-latest: npm aliases in package.json).
const openaiSdk = process.env.EDGECHAT_OPENAI_SDK || 'openai';
const anthropicSdk = process.env.EDGECHAT_ANTHROPIC_SDK || '@anthropic-ai/sdk';
const { default: OpenAI } = await import(openaiSdk);
const { default: Anthropic } = await import(anthropicSdk);
const versions = `openai ${(await import(`${openaiSdk}/version`)).VERSION}, @anthropic-ai/sdk ${(await import(`${anthropicSdk}/version`)).VERSION}`;
test(`npm SDKs under test: ${versions}`, () => {});

let up;
let openai;
let anthropic;

before(async () => {
  up = await startUpstream({ delayMs: 1 });
  openai = new OpenAI({ apiKey: 'sk-test-openai-0000', baseURL: `${up.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test-0000', baseURL: up.url, maxRetries: 0 });
});
after(() => up.close());
beforeEach(() => up.reset());

const user = (content) => [{ role: 'user', content }];

test('openai chat non-streaming: text, usage, request id', async () => {
  const { data, response } = await openai.chat.completions
    .create({ model: 'gpt-4o-mini', messages: user('Tell me a story'), max_tokens: 7 })
    .withResponse();
  assert.equal(data.choices[0].message.content, 'Mock answer to: Tell me a story');
  assert.equal(data.choices[0].finish_reason, 'length');
  assert.equal(data.usage.completion_tokens, 7);
  assert.match(response.headers.get('x-request-id'), /^req_/);
  assert.equal(data._request_id, response.headers.get('x-request-id'));
});

test('openai chat streaming (create stream:true and the .stream() helper): text, usage, finish reason', async () => {
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: user('Hello SDK'),
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content || '';
    finish = chunk.choices[0]?.finish_reason || finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.match(text, /^Mock answer to: Hello SDK/);
  assert.equal(finish, 'stop');
  assert.equal(usage.completion_tokens, 24);

  const runner = openai.chat.completions.stream({
    model: 'gpt-4o-mini',
    messages: user('Hello helper'),
    stream_options: { include_usage: true },
  });
  const final = await runner.finalChatCompletion();
  assert.match(final.choices[0].message.content, /^Mock answer to: Hello helper/);
  assert.equal(final.usage.total_tokens, final.usage.prompt_tokens + 24);
});

test('openai chat streaming tool calls are assembled by the SDK helper', async () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'lookup',
        parameters: { type: 'object', properties: { q: { type: 'string' }, n: { type: 'integer' } } },
      },
    },
  ];
  const runner = openai.chat.completions.stream({ model: 'gpt-4o-mini', messages: user('use lookup'), tools });
  const final = await runner.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'lookup');
  const args = JSON.parse(call.function.arguments);
  assert.equal(typeof args.q, 'string');
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
});

test('openai chat json_schema via parse(): the SDK parses the structured output', async () => {
  const schema = {
    type: 'object',
    properties: { city: { type: 'string' }, population: { type: 'integer' } },
    required: ['city', 'population'],
    additionalProperties: false,
  };
  const res = await openai.chat.completions.parse({
    model: 'gpt-4o-mini',
    messages: user('city facts'),
    response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
  });
  assert.equal(typeof res.choices[0].message.parsed.city, 'string');
  assert.equal(Number.isInteger(res.choices[0].message.parsed.population), true);
});

test('openai responses streaming: the SDK ResponseStream accumulates text and usage', async () => {
  const stream = openai.responses.stream({ model: 'gpt-4o-mini', input: 'Hello responses' });
  let deltas = '';
  stream.on('response.output_text.delta', (e) => {
    deltas += e.delta;
  });
  const final = await stream.finalResponse();
  assert.match(final.output_text, /^Mock answer to: Hello responses/);
  assert.equal(final.output_text, deltas);
  assert.equal(final.usage.output_tokens, 24);
  const plain = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Hi' });
  assert.match(plain.output_text, /^Mock answer to: Hi/);
});

test('openai responses streaming with a function call and reasoning', async () => {
  const stream = openai.responses.stream({
    model: 'o4-mini',
    input: 'call it',
    reasoning: { effort: 'low', summary: 'auto' },
    tools: [
      {
        type: 'function',
        name: 'fetch_page',
        parameters: { type: 'object', properties: { url: { type: 'string' } } },
        strict: false,
      },
    ],
  });
  const final = await stream.finalResponse();
  const fc = final.output.find((o) => o.type === 'function_call');
  assert.equal(fc.name, 'fetch_page');
  assert.equal(typeof JSON.parse(fc.arguments).url, 'string');
  assert.ok(final.output.find((o) => o.type === 'reasoning').summary[0].text.length > 0);
});

test('openai embeddings: the SDK default (base64) decodes to the same vector as floats', async () => {
  const a = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'red apple pie' });
  const b = await openai.embeddings.create({
    model: 'text-embedding-3-small',
    input: 'red apple pie',
    encoding_format: 'float',
  });
  assert.equal(a.data[0].embedding.length, 512);
  assert.ok(Math.abs(a.data[0].embedding[3] - b.data[0].embedding[3]) < 1e-6);
});

test('openai errors: typed exceptions with status; 401 AuthenticationError; mid-stream error throws APIError', async () => {
  up.queue('429');
  await assert.rejects(
    openai.chat.completions.create({ model: 'gpt-4o-mini', messages: user('x') }),
    (e) => e instanceof OpenAI.RateLimitError && e.status === 429 && e.code === 'rate_limit_exceeded',
  );
  const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${up.url}/v1`, maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  up.queue('500');
  await assert.rejects(
    openai.chat.completions.create({ model: 'gpt-4o-mini', messages: user('x') }),
    (e) => e instanceof OpenAI.InternalServerError && e.status === 500,
  );
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: user('x mock:error=3'),
    stream: true,
  });
  await assert.rejects(
    async () => {
      for await (const _ of stream); // eslint-disable-line no-unused-vars
    },
    (e) => e instanceof OpenAI.APIError && /server had an error/.test(e.message),
  );
});

test('openai retries 429 honouring retry-after-ms, then retry-after (seconds)', async () => {
  const client = new OpenAI({ apiKey: 'sk-test-openai-0000', baseURL: `${up.url}/v1`, maxRetries: 2 });
  up.queue({ scenario: '429', count: 2, retryAfterMs: 30 });
  const t0 = Date.now();
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('retry me') });
  assert.match(r.choices[0].message.content, /^Mock answer/);
  assert.equal(up.requests().length, 3);
  assert.ok(Date.now() - t0 >= 60);
  up.reset();
  up.queue({ scenario: '429', retryAfter: 1 });
  const t1 = Date.now();
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('retry me') });
  assert.ok(Date.now() - t1 >= 950, `waited ${Date.now() - t1} ms for retry-after: 1`);
  up.reset();
  up.queue({ scenario: '429', count: 3, retryAfterMs: 5 });
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('x') }),
    OpenAI.RateLimitError,
  );
  assert.equal(up.requests().length, 3);
});

test('anthropic messages stream: text events, finalMessage usage and stop reason', async () => {
  const stream = anthropic.messages.stream({
    model: 'claude-haiku-4-5',
    max_tokens: 100,
    messages: user('Hello Claude'),
  });
  let text = '';
  stream.on('text', (t) => {
    text += t;
  });
  const msg = await stream.finalMessage();
  assert.match(text, /^Mock answer to: Hello Claude/);
  assert.equal(msg.content[0].text, text);
  assert.equal(msg.stop_reason, 'end_turn');
  assert.equal(msg.usage.output_tokens, 24);
  assert.ok(msg.usage.input_tokens > 0);
});

test('anthropic non-streaming, thinking stream, forced tool (structured output) and cache usage', async () => {
  const m = await anthropic.messages.create({
    model: 'claude-haiku-4-5',
    max_tokens: 4,
    messages: user('Short please'),
  });
  assert.equal(m.stop_reason, 'max_tokens');
  assert.equal(m.content[0].text, 'Mock answer to: Short');

  const t = await anthropic.messages
    .stream({
      model: 'claude-sonnet-5-5',
      max_tokens: 2000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: user('think'),
    })
    .finalMessage();
  assert.equal(t.content[0].type, 'thinking');
  assert.ok(t.content[0].thinking.length > 0 && t.content[0].signature.startsWith('sig_'));
  assert.equal(t.content[1].type, 'text');

  const tools = [
    {
      name: 'extract',
      input_schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } } },
    },
  ];
  const s = await anthropic.messages
    .stream({
      model: 'claude-haiku-4-5',
      max_tokens: 200,
      tools,
      tool_choice: { type: 'tool', name: 'extract' },
      messages: user('Ann is 30'),
    })
    .finalMessage();
  assert.equal(s.stop_reason, 'tool_use');
  assert.equal(s.content[0].type, 'tool_use');
  assert.equal(typeof s.content[0].input.name, 'string');
  assert.equal(Number.isInteger(s.content[0].input.age), true);

  const c = await anthropic.messages.create({
    model: 'claude-haiku-4-5',
    max_tokens: 50,
    system: [
      { type: 'text', text: 'A long cached system prompt with many words in it', cache_control: { type: 'ephemeral' } },
    ],
    messages: user('hi'),
  });
  assert.ok(c.usage.cache_read_input_tokens > 0);
});

test('anthropic errors: typed exceptions, mid-stream overloaded error event, retry on 529', async () => {
  up.queue({ scenario: '429', retryAfter: 0 });
  await assert.rejects(
    anthropic.messages.create({ model: 'm', max_tokens: 5, messages: user('x') }),
    (e) => e instanceof Anthropic.RateLimitError && e.status === 429 && e.error.error.type === 'rate_limit_error',
  );
  const bad = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: up.url, maxRetries: 0 });
  await assert.rejects(
    bad.messages.create({ model: 'm', max_tokens: 5, messages: user('x') }),
    (e) => e instanceof Anthropic.AuthenticationError,
  );
  await assert.rejects(
    anthropic.messages.stream({ model: 'm', max_tokens: 100, messages: user('x mock:error=5') }).finalMessage(),
    (e) => e instanceof Anthropic.APIError && /overloaded/i.test(e.message),
  );
  const client = new Anthropic({ apiKey: 'sk-ant-test-0000', baseURL: up.url, maxRetries: 2 });
  up.reset();
  up.queue({ scenario: '529', count: 1, retryAfterMs: 10 });
  const ok = await client.messages.create({ model: 'm', max_tokens: 50, messages: user('after overload') });
  assert.match(ok.content[0].text, /^Mock answer to: after overload/);
  assert.equal(up.requests().length, 2);
  assert.equal(up.requests()[0].status, 529);
});

test('openai responses stream: a mid-stream error event makes finalResponse() reject', async () => {
  // The SDK rejects with the `error` event itself (a plain object), not an Error instance.
  await assert.rejects(
    openai.responses.stream({ model: 'gpt-4o-mini', input: 'x mock:error=4' }).finalResponse(),
    (e) => e.type === 'error' && e.code === 'server_error' && /server had an error/.test(e.message),
  );
});
