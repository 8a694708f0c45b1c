// The official `openai` npm SDK (repo root node_modules) talks to the local model server unchanged.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { ensurePrerequisites, startServer } from './helpers.mjs';

let server;
let client;

before(async () => {
  ensurePrerequisites();
  server = await startServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test-openai-0000', maxRetries: 0, timeout: 30_000 });
});

after(async () => {
  await server?.stop();
});

const GERMANY = [{ role: 'user', content: 'What is the capital of Germany?' }];

test('SDK: models.list and models.retrieve', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['smollm2']);
  assert.equal((await client.models.retrieve('smollm2')).id, 'smollm2');
});

test('SDK: streams chunks with include_usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'smollm2',
    messages: GERMANY,
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
  });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
  }
  assert.ok(chunks >= 4);
  assert.ok(text.trim().length > 0);
  assert.equal(finish, 'stop');
  assert.ok(usage.completion_tokens >= 1);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
});

test('SDK: the stream helper assembles a final completion', async () => {
  const runner = client.chat.completions.stream({ model: 'smollm2', messages: GERMANY, max_tokens: 6 });
  const deltas = [];
  runner.on('content', (delta) => deltas.push(delta));
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, 'length');
  assert.equal(final.choices[0].message.role, 'assistant');
  assert.equal(final.choices[0].message.content, deltas.join(''));
});

test('SDK: non-streaming create and json_schema response_format', async () => {
  const done = await client.chat.completions.create({ model: 'smollm2', messages: GERMANY, temperature: 0 });
  assert.equal(done.object, 'chat.completion');
  assert.ok(done.choices[0].message.content.length > 0);

  const parsed = await client.chat.completions.parse({
    model: 'smollm2',
    messages: [{ role: 'user', content: 'Name a colour.' }],
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'colour',
        strict: true,
        schema: {
          type: 'object',
          properties: { colour: { type: 'string', maxLength: 20 } },
          required: ['colour'],
          additionalProperties: false,
        },
      },
    },
  });
  assert.equal(typeof parsed.choices[0].message.parsed?.colour, 'string');
});

test("SDK: a bad request surfaces as BadRequestError with the server's message", async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'smollm2', messages: GERMANY, temperature: 9 }),
    (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, err.constructor.name);
      assert.equal(err.status, 400);
      assert.equal(err.param, 'temperature');
      assert.match(err.message, /temperature/);
      return true;
    },
  );
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: GERMANY }), OpenAI.NotFoundError);
});

test('SDK: aborting a stream stops the generation and the next request works', async () => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    {
      model: 'smollm2',
      messages: GERMANY,
      stream: true,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'long',
          schema: { type: 'array', items: { type: 'string', minLength: 60 }, minItems: 300 },
        },
      },
    },
    { signal: controller.signal },
  );
  let seen = 0;
  // The SDK ends the iteration quietly when its own signal aborts.
  for await (const _chunk of stream) {
    seen += 1;
    if (seen === 5) controller.abort();
  }
  assert.ok(seen >= 5 && seen < 20, `iteration stopped after the abort (saw ${seen} chunks)`);
  let health;
  const abortedAt = performance.now();
  do {
    await new Promise((r) => setTimeout(r, 50));
    health = await (await fetch(`${server.url}/health`)).json();
  } while (health.busy && performance.now() - abortedAt < 5000);
  assert.equal(health.busy, false, 'generation still running 5 s after the abort');
  const started = performance.now();
  const next = await client.chat.completions.create({ model: 'smollm2', messages: GERMANY, max_tokens: 4 });
  assert.equal(next.choices[0].finish_reason, 'length');
  assert.ok(performance.now() - started < 5000);
});
