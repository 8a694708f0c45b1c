// The local model server against the OpenAI Chat Completions wire format, with the real cached model.
// Tests check protocol and behaviour, not the (toy) content. Run: node --test tests/local-model/

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { sseStream } from '../support/sse.mjs';
import { ensurePrerequisites, parseChunks, postChat, readSseData, startServer } from './helpers.mjs';

let server;
let url;

before(async () => {
  ensurePrerequisites();
  server = await startServer();
  url = server.url;
});

after(async () => {
  await server?.stop();
});

const GERMANY = [{ role: 'user', content: 'What is the capital of Germany?' }];

function checkChunkIdentity(chunks) {
  const [first] = chunks;
  assert.match(first.id, /^chatcmpl-/);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, first.id, 'every chunk carries the same id');
    assert.equal(c.created, first.created, 'every chunk carries the same created');
    assert.equal(c.model, 'smollm2');
  }
}

test('GET /health and /v1/models describe the one model', async () => {
  const health = await (await fetch(`${url}/health`)).json();
  assert.equal(health.status, 'ok');
  assert.equal(health.model, 'smollm2');
  assert.equal(health.threads, 1);
  const models = await (await fetch(`${url}/v1/models`)).json();
  assert.equal(models.object, 'list');
  assert.deepEqual(
    models.data.map((m) => [m.id, m.object]),
    [['smollm2', 'model']],
  );
  const one = await fetch(`${url}/v1/models/smollm2`);
  assert.equal(one.status, 200);
  assert.equal((await one.json()).id, 'smollm2');
});

test('unknown routes are 404 and wrong methods 405, with OpenAI error bodies', async () => {
  const missing = await fetch(`${url}/v1/nope`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.type, 'invalid_request_error');
  const wrong = await fetch(`${url}/v1/chat/completions`);
  assert.equal(wrong.status, 405);
  assert.match((await wrong.json()).error.message, /POST/);
});

test('streaming: role chunk, content deltas, finish chunk, [DONE]; no usage key without include_usage', async () => {
  const res = await postChat(url, { model: 'smollm2', messages: GERMANY, stream: true, temperature: 0 });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const { chunks, done } = parseChunks(await readSseData(res));
  assert.ok(done, 'the stream ends with data: [DONE]');
  assert.ok(chunks.length >= 3, `role, content and finish chunks; got ${chunks.length}`);
  checkChunkIdentity(chunks);
  for (const c of chunks) assert.equal('usage' in c, false, 'no usage field unless include_usage');

  const first = chunks[0];
  assert.equal(first.choices.length, 1);
  assert.equal(first.choices[0].index, 0);
  assert.equal(first.choices[0].delta.role, 'assistant');
  assert.equal(first.choices[0].delta.content, '');
  assert.equal(first.choices[0].finish_reason, null);

  const middle = chunks.slice(1, -1);
  assert.ok(middle.length >= 1, 'at least one content delta');
  for (const c of middle) {
    assert.equal(typeof c.choices[0].delta.content, 'string');
    assert.ok(c.choices[0].delta.content.length > 0, 'no empty content deltas');
    assert.equal(c.choices[0].delta.role, undefined);
    assert.equal(c.choices[0].finish_reason, null);
  }
  const last = chunks.at(-1);
  assert.deepEqual(last.choices[0].delta, {});
  assert.equal(last.choices[0].finish_reason, 'stop');
  const text = middle.map((c) => c.choices[0].delta.content).join('');
  assert.ok(text.trim().length > 0);
});

test('streaming with include_usage: usage null on every chunk, then a usage chunk with empty choices', async () => {
  const res = await postChat(url, {
    model: 'smollm2',
    messages: GERMANY,
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
  });
  const { chunks, done } = parseChunks(await readSseData(res));
  assert.ok(done);
  checkChunkIdentity(chunks);
  const usageChunk = chunks.at(-1);
  assert.deepEqual(usageChunk.choices, []);
  const u = usageChunk.usage;
  assert.ok(u.prompt_tokens > 5, `prompt_tokens ${u.prompt_tokens}`);
  assert.ok(u.completion_tokens >= 1);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  assert.equal(typeof u.prompt_tokens_details.cached_tokens, 'number');
  for (const c of chunks.slice(0, -1)) {
    assert.ok('usage' in c, 'every other chunk has a usage field');
    assert.equal(c.usage, null);
  }
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop', 'finish chunk comes before the usage chunk');
  const deltas = chunks.slice(1, -2).length;
  assert.ok(u.completion_tokens >= deltas, `${u.completion_tokens} tokens for ${deltas} deltas`);
});

test('max_tokens and max_completion_tokens stop with finish_reason length, streaming and not', async () => {
  const messages = [{ role: 'user', content: 'Write a long essay about the history of bridges.' }];
  for (const limit of [{ max_tokens: 3 }, { max_completion_tokens: 4 }]) {
    const n = limit.max_tokens ?? limit.max_completion_tokens;
    const plain = await (await postChat(url, { model: 'smollm2', messages, ...limit })).json();
    assert.equal(plain.choices[0].finish_reason, 'length', JSON.stringify(limit));
    assert.equal(plain.usage.completion_tokens, n);

    const res = await postChat(url, {
      model: 'smollm2',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      ...limit,
    });
    const { chunks } = parseChunks(await readSseData(res));
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'length');
    assert.equal(chunks.at(-1).usage.completion_tokens, n);
  }
});

test('non-streaming: the chat.completion object', async () => {
  const res = await postChat(url, { model: 'smollm2', messages: GERMANY, temperature: 0 });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.match(body.id, /^chatcmpl-/);
  assert.equal(body.object, 'chat.completion');
  assert.equal(body.model, 'smollm2');
  assert.equal(typeof body.created, 'number');
  assert.equal(body.choices.length, 1);
  const [choice] = body.choices;
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(choice.message.content.length > 0);
  assert.equal(choice.finish_reason, 'stop');
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
});

test('temperature 0 is deterministic and stop sequences cut the text (finish_reason stop)', async () => {
  const ask = async (extra) =>
    (await (await postChat(url, { model: 'smollm2', messages: GERMANY, temperature: 0, ...extra })).json()).choices[0];
  const a = await ask({});
  const b = await ask({});
  assert.equal(a.message.content, b.message.content);
  const words = a.message.content.split(' ');
  assert.ok(words.length >= 3, `need a few words to cut at: ${a.message.content}`);
  const cutAt = ` ${words[2]}`;
  const cut = await ask({ stop: [cutAt] });
  assert.equal(cut.finish_reason, 'stop');
  assert.equal(cut.message.content, a.message.content.slice(0, a.message.content.indexOf(cutAt)));
});

test('streamed deltas with a stop sequence add up to the non-streamed text', async () => {
  const body = { model: 'smollm2', messages: GERMANY, temperature: 0, stop: [' Berlin', 'Berlin'] };
  const plain = (await (await postChat(url, body)).json()).choices[0];
  const { chunks } = parseChunks(await readSseData(await postChat(url, { ...body, stream: true })));
  const streamed = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  assert.equal(streamed, plain.message.content);
  assert.equal(streamed.includes('Berlin'), false, 'the stop text is never sent, not even in part');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('multi-byte characters split across tokens arrive whole', async () => {
  const res = await postChat(url, {
    model: 'smollm2',
    messages: [{ role: 'user', content: 'Repeat this: 🎉🎉🎉 你好你好 😀😀' }],
    stream: true,
    temperature: 0,
    max_tokens: 40,
  });
  const { chunks } = parseChunks(await readSseData(res));
  const deltas = chunks.slice(1, -1).map((c) => c.choices[0].delta.content);
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\uFFFD/;
  for (const d of deltas) assert.doesNotMatch(d, lone, `broken character in delta ${JSON.stringify(d)}`);
  assert.match(deltas.join(''), /[\u{1F300}-\u{1FAFF}]|[\u4E00-\u9FFF]/u, 'the reply has emoji or CJK to check');
});

test('response_format json_object yields a JSON object', async () => {
  const body = await (
    await postChat(url, {
      model: 'smollm2',
      messages: [{ role: 'user', content: 'Reply with a JSON object with keys city and country for Paris.' }],
      response_format: { type: 'json_object' },
      temperature: 0,
      max_tokens: 300,
    })
  ).json();
  assert.equal(body.choices[0].finish_reason, 'stop', body.choices[0].message.content);
  const value = JSON.parse(body.choices[0].message.content);
  assert.equal(typeof value, 'object');
  assert.ok(value !== null && !Array.isArray(value));
});

test('response_format json_schema is enforced by the grammar', async () => {
  const schema = {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 20 },
      age: { type: 'integer' },
      mood: { enum: ['happy', 'sad'] },
    },
    required: ['name', 'age', 'mood'],
    additionalProperties: false,
  };
  const res = await postChat(url, {
    model: 'smollm2',
    messages: [{ role: 'user', content: 'Describe a person.' }],
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
    stream: true,
    temperature: 0.8,
    seed: 7,
  });
  const { chunks } = parseChunks(await readSseData(res));
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  const value = JSON.parse(text);
  assert.deepEqual(Object.keys(value).sort(), ['age', 'mood', 'name']);
  assert.equal(typeof value.name, 'string');
  assert.ok(Number.isInteger(value.age));
  assert.ok(['happy', 'sad'].includes(value.mood));
});

test('client disconnect aborts the generation; the next request runs at once', async () => {
  // A schema that forces thousands of tokens, so the run cannot end by itself during the test.
  const endless = {
    type: 'json_schema',
    json_schema: { name: 'long', schema: { type: 'array', items: { type: 'string', minLength: 60 }, minItems: 300 } },
  };
  const aborter = new AbortController();
  const res = await postChat(
    url,
    { model: 'smollm2', messages: GERMANY, stream: true, response_format: endless },
    { signal: aborter.signal },
  );
  const events = sseStream(res, { json: false });
  for (let received = 0; received < 8; received++) assert.notEqual(await events.next(), null, 'stream ended early');
  aborter.abort();
  const abortedAt = performance.now();
  let health;
  do {
    await new Promise((r) => setTimeout(r, 50));
    health = await (await fetch(`${url}/health`)).json();
  } while (health.busy && performance.now() - abortedAt < 5000);
  assert.equal(health.busy, false, 'generation still running 5 s after the client left');
  const started = performance.now();
  const next = await (await postChat(url, { model: 'smollm2', messages: GERMANY, max_tokens: 5 })).json();
  assert.equal(next.choices[0].finish_reason, 'length');
  assert.ok(performance.now() - started < 5000, 'next request took more than 5 s');
  assert.match(server.logs(), /aborted by client/);
});

test('a non-streaming client that disconnects also stops its generation', async () => {
  const endless = {
    type: 'json_schema',
    json_schema: { name: 'long', schema: { type: 'array', items: { type: 'string', minLength: 60 }, minItems: 300 } },
  };
  const aborter = new AbortController();
  const pending = postChat(
    url,
    { model: 'smollm2', messages: GERMANY, response_format: endless },
    { signal: aborter.signal },
  );
  let health;
  do {
    await new Promise((r) => setTimeout(r, 20));
    health = await (await fetch(`${url}/health`)).json();
  } while (!health.busy);
  aborter.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  const abortedAt = performance.now();
  do {
    await new Promise((r) => setTimeout(r, 50));
    health = await (await fetch(`${url}/health`)).json();
  } while (health.busy && performance.now() - abortedAt < 5000);
  assert.equal(health.busy, false, 'generation still running 5 s after the client left');
});

test('requests queue: concurrent requests each complete, one generation at a time', async () => {
  const body = { model: 'smollm2', messages: GERMANY, max_tokens: 30, temperature: 0 };
  const runs = [postChat(url, body), postChat(url, body), postChat(url, body)];
  let settled = false;
  const all = Promise.all(runs.map(async (p) => (await p).json())).finally(() => {
    settled = true;
  });
  let maxQueued = 0;
  let sawBusy = false;
  while (!settled) {
    const health = await (await fetch(`${url}/health`)).json();
    maxQueued = Math.max(maxQueued, health.queued);
    sawBusy ||= health.busy;
    await new Promise((r) => setTimeout(r, 10));
  }
  const results = await all;
  for (const r of results) assert.equal(r.choices[0].message.content, results[0].choices[0].message.content);
  assert.ok(sawBusy, 'one generation ran');
  assert.ok(maxQueued >= 1 && maxQueued <= 2, `the others waited in the queue (max queued ${maxQueued})`);
});

test('bad requests are 400 with OpenAI error bodies', async () => {
  const cases = [
    [{ messages: GERMANY }, 'model'],
    [{ model: 'smollm2' }, 'messages'],
    [{ model: 'smollm2', messages: [] }, 'messages'],
    [{ model: 'smollm2', messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
    [{ model: 'smollm2', messages: [{ role: 'user' }] }, 'messages[0].content'],
    [{ model: 'smollm2', messages: GERMANY, temperature: 3 }, 'temperature'],
    [{ model: 'smollm2', messages: GERMANY, max_tokens: 0 }, 'max_tokens'],
    [{ model: 'smollm2', messages: GERMANY, max_tokens: 2.5 }, 'max_tokens'],
    [{ model: 'smollm2', messages: GERMANY, n: 2 }, 'n'],
    [{ model: 'smollm2', messages: GERMANY, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    [{ model: 'smollm2', messages: GERMANY, stream_options: { include_usage: true } }, 'stream_options'],
    [{ model: 'smollm2', messages: GERMANY, response_format: { type: 'xml' } }, 'response_format.type'],
    [
      {
        model: 'smollm2',
        messages: GERMANY,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { not: { type: 'string' } } } },
      },
      'response_format.json_schema.schema',
    ],
    [
      { model: 'smollm2', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] },
      'messages[0].content[0].type',
    ],
    [{ model: 'smollm2', messages: [{ role: 'user', content: 'hi '.repeat(5000) }] }, 'messages'],
  ];
  for (const [body, param] of cases) {
    const res = await postChat(url, body);
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 120));
    const { error } = await res.json();
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, param, error.message);
    assert.equal(typeof error.message, 'string');
    assert.ok(error.message.length > 10);
  }
  const invalidJson = await postChat(url, '{not json');
  assert.equal(invalidJson.status, 400);
  assert.equal((await invalidJson.json()).error.code, 'invalid_json');
  const unknownModel = await postChat(url, { model: 'gpt-4o', messages: GERMANY });
  assert.equal(unknownModel.status, 404);
  assert.equal((await unknownModel.json()).error.code, 'model_not_found');
  const huge = await postChat(
    url,
    JSON.stringify({ model: 'smollm2', messages: [{ role: 'user', content: 'x'.repeat(5 << 20) }] }),
  );
  assert.equal(huge.status, 413);
  assert.equal((await huge.json()).error.code, 'body_too_large');
  const tooLong = await postChat(url, { model: 'smollm2', messages: [{ role: 'user', content: 'hi '.repeat(5000) }] });
  assert.equal((await tooLong.json()).error.code, 'context_length_exceeded');
});

test('--model-id renames the model; SIGTERM stops the server cleanly and frees the port', async () => {
  const own = await startServer(['--quiet', '--model-id', 'demo-model']);
  const port = Number(new URL(own.url).port);
  const models = await (await fetch(`${own.url}/v1/models`)).json();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['demo-model'],
    '--model-id names the model',
  );
  const code = await own.stop();
  assert.equal(code, 0);
  await new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => probe.close(resolve));
  });
});
