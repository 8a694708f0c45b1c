// Unit tests for the request validation, response shapes and schema mapping (no model needed).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ApiError,
  chunkObject,
  completionMeta,
  finishReasonFor,
  parseChatRequest,
  sseData,
  toChatHistory,
} from '../../local-model/lib/openai.mjs';
import { toGbnfJsonSchema } from '../../local-model/lib/schema.mjs';

const ok = (extra = {}) => ({ model: 'smollm2', messages: [{ role: 'user', content: 'hi' }], ...extra });
const parse = (body) => parseChatRequest(body, { modelId: 'smollm2' });

function rejects400(body, param) {
  assert.throws(
    () => parse(body),
    (err) => err instanceof ApiError && err.status === 400 && err.param === param,
    JSON.stringify(body),
  );
}

test('defaults: not streaming, no usage, text format, no stop', () => {
  const p = parse(ok());
  assert.equal(p.stream, false);
  assert.equal(p.includeUsage, false);
  assert.deepEqual(p.responseFormat, { type: 'text' });
  assert.deepEqual(p.stop, []);
  assert.equal(p.maxTokens, undefined);
  assert.equal(p.temperature, undefined);
});

test('max_completion_tokens wins over max_tokens; stop string becomes a list', () => {
  const p = parse(ok({ max_tokens: 10, max_completion_tokens: 4, stop: 'END' }));
  assert.equal(p.maxTokens, 4);
  assert.deepEqual(p.stop, ['END']);
  assert.equal(parse(ok({ max_tokens: 10 })).maxTokens, 10);
});

test('stream_options.include_usage needs stream', () => {
  assert.equal(parse(ok({ stream: true, stream_options: { include_usage: true } })).includeUsage, true);
  rejects400(ok({ stream_options: { include_usage: true } }), 'stream_options');
  rejects400(ok({ stream: true, stream_options: { include_usage: 'yes' } }), 'stream_options.include_usage');
  rejects400(ok({ stream: 'true' }), 'stream');
});

test('value checks name the parameter', () => {
  rejects400(ok({ temperature: -0.1 }), 'temperature');
  rejects400(ok({ temperature: 'hot' }), 'temperature');
  rejects400(ok({ top_p: 1.5 }), 'top_p');
  rejects400(ok({ max_tokens: 0 }), 'max_tokens');
  rejects400(ok({ max_completion_tokens: 1.5 }), 'max_completion_tokens');
  rejects400(ok({ n: 3 }), 'n');
  rejects400(ok({ stop: [''] }), 'stop');
  rejects400(ok({ logprobs: true }), 'logprobs');
  rejects400(ok({ tool_choice: 'required', tools: [] }), 'tool_choice');
  rejects400(
    ok({ response_format: { type: 'json_schema', json_schema: { name: 'bad name!' } } }),
    'response_format.json_schema.name',
  );
  rejects400({ messages: [] }, 'model');
  rejects400(null, null);
  rejects400([1], null);
});

test('an unknown model is a 404 model_not_found', () => {
  assert.throws(
    () => parse({ ...ok(), model: 'gpt-4o' }),
    (err) => err.status === 404 && err.code === 'model_not_found' && err.param === 'model',
  );
});

test('messages map onto chat history; text parts join; tool turns become text', () => {
  const history = toChatHistory([
    { role: 'developer', content: 'be brief' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: '42' },
    { role: 'assistant', content: 'The answer is' },
  ]);
  assert.deepEqual(history, [
    { type: 'system', text: 'be brief' },
    { type: 'user', text: 'ab' },
    { type: 'model', response: ['[called lookup({"q":1})]'] },
    { type: 'user', text: '[result of tool call c1]\n42' },
    { type: 'model', response: ['The answer is'] },
  ]);
  assert.throws(() => toChatHistory([{ role: 'user', content: 5 }]), ApiError);
  assert.throws(() => toChatHistory('hi'), ApiError);
});

test('chunk shapes: usage key only with include_usage; usage chunk has empty choices', () => {
  const meta = completionMeta('smollm2', 1_700_000_000_000);
  assert.equal(meta.created, 1_700_000_000);
  const plain = chunkObject(meta, { delta: { content: 'x' }, includeUsage: false });
  assert.equal('usage' in plain, false);
  assert.deepEqual(plain.choices, [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }]);
  const withNull = chunkObject(meta, { delta: { content: 'x' }, includeUsage: true });
  assert.equal(withNull.usage, null);
  const final = chunkObject(meta, { usage: { promptTokens: 3, completionTokens: 2 }, includeUsage: true });
  assert.deepEqual(final.choices, []);
  assert.equal(final.usage.total_tokens, 5);
  assert.equal(sseData('[DONE]'), 'data: [DONE]\n\n');
  assert.equal(finishReasonFor('maxTokens'), 'length');
  assert.equal(finishReasonFor('eogToken'), 'stop');
  assert.equal(finishReasonFor('customStopTrigger'), 'stop');
});

test('schema mapping: anyOf, empty schema, open objects, unknown formats, $defs', () => {
  assert.deepEqual(toGbnfJsonSchema({ anyOf: [{ type: 'string' }, { type: 'integer' }] }), {
    oneOf: [{ type: 'string' }, { type: 'integer' }],
  });
  const any = toGbnfJsonSchema({});
  assert.ok(Array.isArray(any.oneOf), '{} means any JSON value, not null');
  assert.deepEqual(toGbnfJsonSchema({ type: 'object' }), { type: 'object', additionalProperties: true });
  assert.deepEqual(
    toGbnfJsonSchema({ type: 'object', properties: { a: { type: 'string', format: 'email', pattern: '@' } } }),
    { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
  );
  assert.deepEqual(toGbnfJsonSchema({ type: 'string', format: 'date' }), { type: 'string', format: 'date' });
  assert.deepEqual(toGbnfJsonSchema({ definitions: { x: { type: 'boolean' } }, $ref: '#/definitions/x' }), {
    $ref: '#/$defs/x',
    $defs: { x: { type: 'boolean' } },
  });
  assert.deepEqual(toGbnfJsonSchema({ type: ['object', 'null'] }).oneOf.length, 2);
});

test('schema mapping rejects what a grammar cannot enforce', () => {
  for (const schema of [
    { not: { type: 'string' } },
    { allOf: [{ type: 'string' }, { type: 'number' }] },
    { type: 'object', patternProperties: { x: {} } },
    { $ref: 'https://example.com/s.json' },
    false,
    { type: 'tuple' },
    'string',
  ]) {
    assert.throws(
      () => toGbnfJsonSchema(schema),
      (err) => err instanceof ApiError && err.status === 400 && err.param === 'response_format.json_schema.schema',
      JSON.stringify(schema),
    );
  }
  let deep = { type: 'string' };
  for (let i = 0; i < 40; i += 1) deep = { type: 'array', items: deep };
  assert.throws(() => toGbnfJsonSchema(deep), /deeper/);
});
