// The official npm SDKs (openai, @anthropic-ai/sdk) against the edge's provider-compatible endpoints, with the
// mock upstream behind it. Run by tests/sdk/run.sh, which starts both and passes their URLs in the environment.
import { test, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

// The SDK packages under test: the pinned ones by default; run.sh runs this file again with the newer ones
// (EDGECHAT_OPENAI_SDK=openai-7 EDGECHAT_ANTHROPIC_SDK=anthropic-sdk-latest: npm aliases in package.json).
const openaiSdk = process.env.EDGECHAT_OPENAI_SDK || 'openai';
const anthropicSdk = process.env.EDGECHAT_ANTHROPIC_SDK || '@anthropic-ai/sdk';
const { default: OpenAI } = await import(openaiSdk);
const { default: Anthropic } = await import(anthropicSdk);
const versions = `openai ${(await import(`${openaiSdk}/version`)).VERSION}, @anthropic-ai/sdk ${(await import(`${anthropicSdk}/version`)).VERSION}`;
test(`npm SDKs under test: ${versions}`, () => {});

const PROVIDER_KEYS = ['sk-test-openai-0000', 'sk-ant-test-0000', 'sk-test-compat-0000'];
let edgeUrl;
let key;
let mockUrl;
let openai;

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through tests/sdk/run.sh, which starts the edge`);
  return v;
}

const mock = {
  async queue(s) {
    const r = await fetch(`${mockUrl}/__mock/queue`, { method: 'POST', body: JSON.stringify(s) });
    assert.equal(r.status, 200, await r.text());
  },
  requests: async () => (await fetch(`${mockUrl}/__mock/requests`)).json(),
  reset: () => fetch(`${mockUrl}/__mock/reset`, { method: 'POST' }),
};

before(() => {
  edgeUrl = env('EDGECHAT_EDGE_URL');
  key = env('EDGECHAT_EDGE_KEY');
  mockUrl = env('EDGECHAT_EDGE_UPSTREAM_URL');
  openai = new OpenAI({ apiKey: key, baseURL: `${edgeUrl}/v1`, maxRetries: 0 });
});
beforeEach(() => mock.reset());

const user = (content) => [{ role: 'user', content }];
const noKey = (text) => PROVIDER_KEYS.forEach((k) => assert.ok(!text.includes(k), `provider key ${k} leaked`));

test('openai chat non-streaming through the edge: text, usage, alias rewritten, real key only upstream', async () => {
  const { data, response } = await openai.chat.completions
    .create({ model: 'fast', messages: user('Hello node edge') })
    .withResponse();
  assert.match(data.choices[0].message.content, /^Mock answer to: Hello node edge/);
  assert.equal(data.usage.completion_tokens, 24);
  noKey(JSON.stringify([...response.headers]));
  noKey(JSON.stringify(data));
  const [entry] = await mock.requests();
  assert.equal(entry.headers.authorization, 'Bearer sk-test-openai-0000');
  assert.equal(entry.body.model, 'gpt-4o-mini');
});

test('openai chat streaming through the edge: deltas, finish reason, include_usage', async () => {
  const stream = await openai.chat.completions.create({
    model: 'fast',
    messages: user('Stream node'),
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
  assert.match(text, /^Mock answer to: Stream node/);
  assert.equal(finish, 'stop');
  assert.equal(usage.completion_tokens, 24);
  const final = await openai.chat.completions.stream({ model: 'fast', messages: user('helper') }).finalChatCompletion();
  assert.match(final.choices[0].message.content, /^Mock answer to: helper/);
});

test('openai responses streaming through the edge', async () => {
  const final = await openai.responses.stream({ model: 'resp', input: 'Responses via edge' }).finalResponse();
  assert.match(final.output_text, /^Mock answer to: Responses via edge/);
  assert.equal(final.usage.output_tokens, 24);
  const plain = await openai.responses.create({ model: 'resp', input: 'Plain' });
  assert.match(plain.output_text, /^Mock answer to: Plain/);
});

test('anthropic messages stream through the edge', async () => {
  const client = new Anthropic({ apiKey: key, baseURL: edgeUrl, maxRetries: 0 });
  const msg = await client.messages
    .stream({ model: 'claude', max_tokens: 100, messages: user('Claude via edge') })
    .finalMessage();
  assert.match(msg.content[0].text, /^Mock answer to: Claude via edge/);
  assert.equal(msg.usage.output_tokens, 24);
  const [entry] = await mock.requests();
  assert.equal(entry.body.model, 'claude-haiku-4-5');
});

test('errors come through as typed SDK exceptions without provider secrets', async () => {
  const bad = new OpenAI({ apiKey: 'pk_wrong', baseURL: `${edgeUrl}/v1`, maxRetries: 0 });
  await assert.rejects(
    bad.chat.completions.create({ model: 'fast', messages: user('x') }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401,
  );
  await mock.queue({ scenario: '500', count: 5 });
  await assert.rejects(openai.chat.completions.create({ model: 'fast', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.APIError && e.status >= 500, `got ${e}`);
    noKey(JSON.stringify(e.error ?? {}) + e.message);
    return true;
  });
  await mock.reset(); // the edge retried fewer times than queued
  const stream = await openai.chat.completions.create({
    model: 'fast',
    messages: user('x mock:error=3'),
    stream: true,
  });
  await assert.rejects(async () => {
    for await (const _ of stream); // eslint-disable-line no-unused-vars
  }, OpenAI.APIError);
});
