// Conformance harness checks: the `sse-events` and `decode` examples are interfaces other tools drive, so their
// exact output is tested here as an outsider would see it (a release binary fed on stdin, at many chunk sizes).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const bin = (name) => join(root, 'target', 'release', 'examples', name);
const CHUNKS = [undefined, 1, 2, 3, 5, 7, 64];

before(() => {
  execFileSync('cargo', ['build', '--release', '--locked', '--example', 'sse-events', '--example', 'decode'], {
    cwd: root,
    stdio: 'inherit',
  });
});

function run(name, args, input) {
  return execFileSync(bin(name), args, { input, encoding: 'utf8' });
}

function sseEvents(input, chunk) {
  const args = chunk ? ['--chunk', String(chunk)] : [];
  return run('sse-events', args, input)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

function decode(provider, input, chunk) {
  const args = ['--provider', provider, ...(chunk ? ['--chunk', String(chunk)] : [])];
  return JSON.parse(run('decode', args, input));
}

test('sse-events: WHATWG parsing rules, identical at every chunk size', () => {
  const input = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]), // BOM, stripped once
    Buffer.from(
      ': a comment\r\n' +
        'data: first\r\n' +
        'data:  second line keeps one space\r\n' +
        '\r\n' +
        'event: custom\r' +
        'id: 7\r' +
        'data\r' + // field without colon: empty data line
        '\r' +
        'id: bad\u0000id\n' + // NUL in id: ignored, id stays 7
        'retry: 1500\n' +
        'retry: 12x\n' + // not digits: ignored
        'data: caf',
    ),
    Buffer.from([0xc3]), // "é" split across chunks when chunked
    Buffer.from([0xa9]),
    Buffer.from(' \xff\n\n', 'latin1'), // invalid UTF-8 -> U+FFFD
    Buffer.from('data: never dispatched, no blank line at the end'),
  ]);
  const expected = [
    { event: 'message', data: 'first\n second line keeps one space', id: null },
    { event: 'custom', data: '', id: '7' },
    { event: 'message', data: 'café \ufffd', id: '7' },
    { retry: 1500 },
  ];
  for (const chunk of CHUNKS) {
    assert.deepEqual(sseEvents(input, chunk), expected, `chunk ${chunk}`);
  }
});

test('sse-events: no retry set prints null', () => {
  assert.deepEqual(sseEvents('data: x\n\n'), [{ event: 'message', data: 'x', id: null }, { retry: null }]);
});

const OPENAI_CHAT = [
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}',
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":", wörld"},"finish_reason":null}]}',
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}',
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]},"finish_reason":null}]}',
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]},"finish_reason":null}]}',
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}',
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":9,"total_tokens":129,"prompt_tokens_details":{"cached_tokens":100}}}',
]
  .map((d) => `data: ${d}\n\n`)
  .join('');

test('decode openai-chat: text, fragmented tool call, cached usage; [DONE] required', () => {
  const full = OPENAI_CHAT + 'data: [DONE]\n\n';
  for (const chunk of CHUNKS) {
    const out = decode('openai-chat', full, chunk);
    assert.equal(out.text, 'Hello, wörld', `chunk ${chunk}`);
    assert.equal(out.stop_reason, 'tool_use');
    assert.deepEqual(out.tool_calls, [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    assert.deepEqual(out.usage, {
      input_tokens: 20,
      output_tokens: 9,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 0,
    });
    assert.equal(out.error, null);
    assert.equal(out.truncated, false);
  }
  const cut = decode('openai-chat', OPENAI_CHAT);
  assert.equal(cut.truncated, true, 'a stream without [DONE] is truncated, never success');
  assert.equal(cut.error.type, 'truncated');
  assert.equal(cut.text, 'Hello, wörld', 'partial text is kept');
});

const ANTHROPIC = [
  [
    'message_start',
    '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":10,"cache_read_input_tokens":300,"output_tokens":1}}}',
  ],
  [
    'content_block_start',
    '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}',
  ],
  [
    'content_block_delta',
    '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think."}}',
  ],
  ['content_block_stop', '{"type":"content_block_stop","index":0}'],
  ['ping', '{"type": "ping"}'],
  ['content_block_start', '{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Bonjour"}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" !"}}'],
  ['content_block_stop', '{"type":"content_block_stop","index":1}'],
  [
    'message_delta',
    '{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":42}}',
  ],
]
  .map(([e, d]) => `event: ${e}\ndata: ${d}\n\n`)
  .join('');

test('decode anthropic: thinking, text, pings, usage halves, max_tokens; message_stop required', () => {
  const full = ANTHROPIC + 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
  for (const chunk of CHUNKS) {
    const out = decode('anthropic', full, chunk);
    assert.equal(out.text, 'Bonjour !', `chunk ${chunk}`);
    assert.equal(out.reasoning, 'Let me think.');
    assert.equal(out.stop_reason, 'max_tokens');
    assert.deepEqual(out.usage, {
      input_tokens: 25,
      output_tokens: 42,
      cache_read_input_tokens: 300,
      cache_creation_input_tokens: 10,
    });
    assert.equal(out.truncated, false);
    assert.equal(out.error, null);
  }
  assert.equal(decode('anthropic', ANTHROPIC).truncated, true);
});

test('decode anthropic: mid-stream overloaded_error is a typed error, not truncation', () => {
  const input =
    ANTHROPIC.split('event: content_block_stop')[0] +
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
  const out = decode('anthropic', input);
  assert.equal(out.error.type, 'overloaded');
  assert.match(out.error.message, /Overloaded/);
  assert.equal(out.truncated, false);
});

test('decode openai-responses: text deltas, usage, response.completed required', () => {
  const ev = (type, body) => `event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`;
  const resp = { id: 'resp_1', object: 'response', status: 'in_progress', model: 'gpt-4.1', output: [] };
  const stream =
    ev('response.created', { sequence_number: 0, response: resp }) +
    ev('response.output_text.delta', {
      sequence_number: 1,
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: 'Hi',
    }) +
    ev('response.output_text.delta', {
      sequence_number: 2,
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: ' there',
    });
  const done = ev('response.completed', {
    sequence_number: 3,
    response: {
      ...resp,
      status: 'completed',
      usage: {
        input_tokens: 50,
        input_tokens_details: { cached_tokens: 20 },
        output_tokens: 3,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 53,
      },
    },
  });
  for (const chunk of CHUNKS) {
    const out = decode('openai-responses', stream + done, chunk);
    assert.equal(out.text, 'Hi there', `chunk ${chunk}`);
    assert.equal(out.stop_reason, 'end_turn');
    assert.deepEqual(out.usage, {
      input_tokens: 30,
      output_tokens: 3,
      cache_read_input_tokens: 20,
      cache_creation_input_tokens: 0,
    });
    assert.equal(out.truncated, false);
  }
  assert.equal(decode('openai-responses', stream).truncated, true);
});

test('harness: bad arguments exit 2 with usage on stderr', () => {
  assert.throws(
    () => run('decode', ['--provider', 'nope'], ''),
    (e) => e.status === 2 && /usage|provider/i.test(String(e.stderr)),
  );
  assert.throws(
    () => run('sse-events', ['--chunk', '0'], ''),
    (e) => e.status === 2,
  );
});
