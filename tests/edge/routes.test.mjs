// Every route of the edge in real workerd against the mock upstream: the widget protocol, config, CORS
// preflight, the OpenAI/Anthropic-compatible endpoints (pass-through and translated), the official SDKs, the
// log line, and that no key ever leaves the edge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { parseSse } from '../support/edge.mjs';
import { setup, user, ORIGIN, SECRETS } from './common.mjs';

let t;
const seen = []; // every response text and header, for the no-key check
before(async () => {
  t = await setup();
});
after(async () => {
  await t?.stop();
});

async function record(res) {
  const text = await res.text();
  seen.push(text, JSON.stringify([...res.headers]));
  return text;
}

test('GET /api/config describes models and limits, with CORS for an allowed origin', async () => {
  const res = await fetch(`${t.edge.url}/api/config`, { headers: { origin: ORIGIN } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  assert.match(res.headers.get('vary'), /Origin/);
  assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
  const cfg = JSON.parse(await record(res));
  assert.equal(cfg.default_model, 'fast');
  assert.deepEqual(
    cfg.models.find((m) => m.alias === 'smart'),
    { alias: 'smart', label: 'Smart', provider: 'anthropic', vision: true, documents: true },
  );
  assert.deepEqual(Object.keys(cfg.limits).sort(), [
    'attachment_types',
    'keepalive_ms',
    'max_attachment_bytes',
    'max_attachments',
    'max_message_chars',
    'max_messages',
    'max_tokens',
    'max_total_chars',
  ]);
  assert.equal(cfg.resumable, false);
  assert.equal(cfg.simulated, false);
});

test('OPTIONS preflight: allowed origin gets exact CORS headers, a disallowed one 403 JSON without them', async () => {
  let res = await fetch(`${t.edge.url}/api/chat`, {
    method: 'OPTIONS',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, x-edgechat-site-key',
    },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  assert.match(res.headers.get('access-control-allow-methods'), /POST/);
  assert.match(res.headers.get('access-control-allow-headers'), /x-edgechat-site-key/);
  assert.ok(res.headers.get('x-request-id'));
  await record(res);
  res = await fetch(`${t.edge.url}/api/chat`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  assert.ok(res.headers.get('x-request-id'));
  const body = JSON.parse(await record(res));
  assert.equal(body.error.type, 'origin_not_allowed');
  assert.equal(body.error.request_id, res.headers.get('x-request-id'));
});

test('unknown route 404 and wrong method 405, in the documented error shape', async () => {
  let res = await fetch(`${t.edge.url}/nope`);
  assert.equal(res.status, 404);
  assert.equal(JSON.parse(await record(res)).error.type, 'not_found');
  res = await fetch(`${t.edge.url}/api/chat`);
  assert.equal(res.status, 405);
  const body = JSON.parse(await record(res));
  assert.equal(body.error.type, 'method_not_allowed');
  assert.ok(body.error.request_id);
});

test('POST /api/chat streams start, deltas, usage, done with increasing ids; the log line has every field', async () => {
  const res = await t.chat({ model: 'fast', ...user('Hello edge') });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  const rid = res.headers.get('x-request-id');
  const events = parseSse(await record(res));
  assert.deepEqual(
    events.map((e) => Number(e.id)),
    events.map((_, i) => i + 1),
  );
  assert.equal(events[0].event, 'start');
  assert.deepEqual(events[0].data, {
    request_id: rid,
    stream_id: rid,
    model: 'fast',
    provider: 'openai-chat',
    resumable: false,
  });
  const text = events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.text)
    .join('');
  assert.match(text, /^Mock answer to: Hello edge/);
  const [usage, done] = events.slice(-2);
  assert.equal(usage.event, 'usage');
  assert.equal(usage.data.estimated, false);
  assert.ok(usage.data.input_tokens > 0 && usage.data.output_tokens > 0);
  assert.equal(typeof usage.data.cost_usd, 'number');
  assert.equal(done.event, 'done');
  assert.deepEqual(done.data, { stop_reason: 'end_turn', raw_stop_reason: 'stop', stopped: false });
  const log = await t.edge.logFor(rid);
  for (const f of [
    'request_id',
    'route',
    'client',
    'provider',
    'model',
    'status',
    'attempts',
    'cache',
    'ttfb_ms',
    'duration_ms',
    'input_tokens',
    'output_tokens',
    'cache_read_input_tokens',
    'cache_creation_input_tokens',
    'cost_usd',
    'outcome',
  ]) {
    assert.ok(f in log, `log line lacks ${f}`);
  }
  assert.equal(log.route, '/api/chat');
  assert.equal(log.client, 'site:-|ip:127.0.0.1');
  assert.equal(log.provider, 'openai-chat');
  assert.equal(log.model, 'gpt-4o-mini');
  assert.equal(log.status, 200);
  assert.equal(log.attempts, 1);
  assert.equal(log.cache, 'bypass');
  assert.equal(log.outcome, 'complete');
  assert.equal(log.output_tokens, usage.data.output_tokens);
  assert.equal(log.cost_usd, usage.data.cost_usd);
  assert.ok(log.ttfb_ms >= 0 && log.duration_ms >= log.ttfb_ms);
  // The provider got the real key and the real model id, never the alias.
  const sent = t.up.requests().at(-1);
  assert.equal(sent.headers.authorization, `Bearer ${KEY_OPENAI}`);
  assert.equal(sent.body.model, 'gpt-4o-mini');
});
const KEY_OPENAI = SECRETS[0];

test('POST /api/chat over Anthropic (prompt caching on) and Responses models', async () => {
  const history = [
    { role: 'user', content: 'Hi Claude' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'Again' },
  ];
  let res = await t.chat({ model: 'smart', messages: history });
  let events = parseSse(await record(res));
  assert.equal(events[0].data.provider, 'anthropic');
  assert.equal(events.at(-1).event, 'done');
  const sent = t.up.requests().at(-1);
  assert.equal(sent.path, '/v1/messages');
  assert.equal(sent.headers['x-api-key'], SECRETS[1]);
  assert.match(JSON.stringify(sent.body), /cache_control/);
  res = await t.chat({ model: 'resp', ...user('Hi Responses') });
  events = parseSse(await record(res));
  assert.equal(events[0].data.provider, 'openai-responses');
  assert.equal(events.at(-1).event, 'done');
  assert.equal(t.up.requests().at(-1).path, '/v1/responses');
});

test('tool calls and reasoning reach the widget as tool_call and reasoning events', async () => {
  const res = await t.chat({ model: 'smart', ...user('mock:reasoning think first') });
  const events = parseSse(await record(res));
  assert.ok(
    events.some((e) => e.event === 'reasoning'),
    JSON.stringify(events.map((e) => e.event)),
  );
  assert.equal(events.at(-1).event, 'done');
});

test('/v1/chat/completions passes the provider stream through byte for byte', async () => {
  const body = {
    model: 'fast',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Pass me' }],
  };
  const res = await t.post('/v1/chat/completions', body, { authorization: 'Bearer anything' });
  assert.equal(res.status, 200);
  const text = await record(res);
  assert.match(text, /"object":"chat\.completion\.chunk"/);
  assert.match(text, /data: \[DONE\]\n\n$/);
  const sent = t.up.requests().at(-1);
  assert.equal(sent.body.model, 'gpt-4o-mini');
  assert.equal(sent.body.max_completion_tokens, 1024, 'the cap is filled in');
  const log = await t.edge.logFor(res.headers.get('x-request-id'));
  assert.equal(log.outcome, 'complete');
  assert.ok(log.output_tokens > 0);
});

test('non-streaming /v1/chat/completions, /v1/responses and /v1/messages', async () => {
  let res = await t.post('/v1/chat/completions', { model: 'fast', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(await record(res)).object, 'chat.completion');
  res = await t.post('/v1/responses', { model: 'resp', input: 'hello' });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(await record(res)).object, 'response');
  res = await t.post(
    '/v1/messages',
    { model: 'smart', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] },
    { 'anthropic-version': '2023-06-01' },
  );
  assert.equal(res.status, 200);
  const msg = JSON.parse(await record(res));
  assert.equal(msg.type, 'message');
  assert.equal(msg.model, 'claude-sonnet-4-5');
});

test('/v1/chat/completions over an Anthropic model is translated (streaming and not)', async () => {
  let res = await t.post('/v1/chat/completions', {
    model: 'smart',
    stream: true,
    stream_options: { include_usage: true },
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Translate me' },
    ],
  });
  assert.equal(res.status, 200);
  const events = parseSse(await record(res));
  assert.equal(events.at(-1).data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => e.data);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.match(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), /^Mock answer to: Translate me/);
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
  assert.ok(chunks.at(-1).usage.completion_tokens > 0);
  const sent = t.up.requests().at(-1);
  assert.equal(sent.path, '/v1/messages');
  assert.equal(sent.body.system?.[0]?.text ?? sent.body.system, 'Be brief.');
  // Prompt caching (on in this configuration) applies to a translated request as to /api/chat.
  assert.match(JSON.stringify(sent.body), /cache_control/);
  res = await t.post('/v1/chat/completions', { model: 'smart', messages: [{ role: 'user', content: 'once' }] });
  const c = JSON.parse(await record(res));
  assert.equal(c.object, 'chat.completion');
  assert.match(c.choices[0].message.content, /^Mock answer to: once/);
});

test('untranslatable pairs get a 400 naming the limitation', async () => {
  let res = await t.post('/v1/responses', { model: 'smart', input: 'x' });
  assert.equal(res.status, 400);
  const body = JSON.parse(await record(res));
  assert.equal(body.error.type, 'bad_request');
  assert.match(body.error.message, /does not translate \/v1\/responses/);
  res = await t.post('/v1/messages', {
    model: 'fast',
    max_tokens: 10,
    messages: [{ role: 'user', content: [{ type: 'search_result', source: 'x', title: 't', content: [] }] }],
  });
  assert.equal(res.status, 400);
  assert.match(JSON.parse(await record(res)).error.message, /"search_result" cannot be translated/);
});

test('/v1/messages over an OpenAI model is translated: the Anthropic SDK streams text and tool use', async () => {
  const anthropic = new Anthropic({ apiKey: 'pk-not-a-provider-key', baseURL: t.edge.url, maxRetries: 0 });
  const ms = anthropic.messages.stream({
    model: 'fast',
    max_tokens: 64,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'claude sdk to openai' }],
  });
  let streamed = '';
  ms.on('text', (d) => {
    streamed += d;
  });
  const final = await ms.finalMessage();
  assert.match(streamed, /^Mock answer to: claude sdk to openai/);
  assert.equal(final.content[0].text, streamed);
  assert.equal(final.stop_reason, 'end_turn');
  assert.ok(final.usage.output_tokens > 0);
  const sent = t.up.requests().at(-1);
  assert.equal(sent.path, '/v1/chat/completions');
  assert.equal(sent.body.messages[0].role, 'system');
  const tool = await anthropic.messages.create({
    model: 'fast',
    max_tokens: 200,
    messages: [{ role: 'user', content: 'use the weather tool' }],
    tools: [
      {
        name: 'get_weather',
        description: 'weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ],
  });
  assert.equal(tool.stop_reason, 'tool_use');
  const use = tool.content.find((b) => b.type === 'tool_use');
  assert.equal(use.name, 'get_weather');
  assert.equal(typeof use.input.city, 'string');
  const streamedTool = await anthropic.messages
    .stream({
      model: 'fast',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'use the weather tool' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    })
    .finalMessage();
  assert.equal(streamedTool.content.find((b) => b.type === 'tool_use').name, 'get_weather');
});

test('the official OpenAI and Anthropic SDKs work unchanged against the edge', async () => {
  const openai = new OpenAI({ apiKey: 'pk-not-a-provider-key', baseURL: `${t.edge.url}/v1`, maxRetries: 0 });
  const stream = await openai.chat.completions.create({
    model: 'fast',
    stream: true,
    messages: [{ role: 'user', content: 'sdk hi' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.match(text, /^Mock answer to: sdk hi/);
  const viaClaude = await openai.chat.completions.create({
    model: 'smart',
    messages: [{ role: 'user', content: 'sdk two' }],
  });
  assert.match(viaClaude.choices[0].message.content, /^Mock answer to: sdk two/);
  const anthropic = new Anthropic({ apiKey: 'pk-not-a-provider-key', baseURL: t.edge.url, maxRetries: 0 });
  const msg = await anthropic.messages.create({
    model: 'smart',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'sdk three' }],
  });
  assert.match(msg.content[0].text, /^Mock answer to: sdk three/);
  const ms = anthropic.messages.stream({
    model: 'smart',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'sdk four' }],
  });
  const final = await ms.finalMessage();
  assert.match(final.content[0].text, /^Mock answer to: sdk four/);
});

test('a provider 401 that echoes a key fragment is scrubbed; no key appears in any response, header or log', async () => {
  const bad = await (await import('./common.mjs')).setup({ vars: { OPENAI_API_KEY: 'sk-test-wrong-0000' } });
  try {
    let res = await bad.post('/v1/chat/completions', { model: 'fast', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(res.status, 401);
    const text = await res.text();
    // The mock echoes the key masked as OpenAI does (`sk-****0000`); neither it nor the key may come through.
    assert.doesNotMatch(text, /sk-test-wrong|sk-\*+0000/);
    assert.match(text, /\[redacted\]/);
    res = await bad.chat(user('x'));
    assert.equal(res.status, 502);
    const e = JSON.parse(await res.text());
    assert.equal(e.error.type, 'upstream_error');
    assert.match(e.error.message, /credentials/);
    await new Promise((r) => setTimeout(r, 100));
    assert.doesNotMatch(bad.edge.output(), /sk-test-wrong|sk-\*+0000/);
  } finally {
    await bad.stop();
  }
  await new Promise((r) => setTimeout(r, 100));
  const everything = seen.join('\n') + t.edge.output();
  for (const s of SECRETS) assert.ok(!everything.includes(s), `secret ${s.slice(0, 6)}… leaked`);
  assert.ok(t.edge.logs().length >= 10);
});

test('/v1/responses streams through unchanged; /v1/chat/completions over a Responses model is translated', async () => {
  let res = await t.post('/v1/responses', { model: 'resp', stream: true, input: 'stream me' });
  assert.equal(res.status, 200);
  const events = parseSse(await record(res));
  assert.equal(events[0].event, 'response.created');
  assert.equal(events.at(-1).event, 'response.completed');
  assert.equal(t.up.requests().at(-1).body.model, 'gpt-4o-mini');
  const log = await t.edge.logFor(res.headers.get('x-request-id'));
  assert.equal(log.outcome, 'complete');
  assert.equal(log.usage_estimated, false);
  res = await t.post('/v1/chat/completions', {
    model: 'resp',
    stream: true,
    messages: [{ role: 'user', content: 'via responses' }],
  });
  const chunks = parseSse(await record(res));
  assert.equal(chunks.at(-1).data, '[DONE]');
  assert.match(
    chunks
      .slice(0, -1)
      .map((c) => c.data.choices[0]?.delta?.content ?? '')
      .join(''),
    /^Mock answer to: via responses/,
  );
  assert.equal(t.up.requests().at(-1).path, '/v1/responses');
});
