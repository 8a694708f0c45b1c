#!/usr/bin/env node
// Records raw HTTP bodies from the local model server into tests/local-model/transcripts/, byte for byte, so the
// core's OpenAI Chat decoder can be tested against a real (if tiny) OpenAI-compatible server without running it.
//
//   node tests/local-model/record-transcripts.mjs
//
// Each case writes NAME.sse (streams) or NAME.json (non-streaming bodies), plus NAME.request.json (what was sent).
// temperature 0 keeps the text stable from run to run; ids and timestamps change.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrerequisites, postChat, ROOT, startServer } from './helpers.mjs';

const OUT = join(ROOT, 'tests', 'local-model', 'transcripts');
const GERMANY = [{ role: 'user', content: 'What is the capital of Germany?' }];

const CASES = {
  'stream-basic': { messages: GERMANY, stream: true, temperature: 0 },
  'stream-include-usage': { messages: GERMANY, stream: true, stream_options: { include_usage: true }, temperature: 0 },
  'stream-length': {
    messages: [{ role: 'user', content: 'Write a long essay about bridges.' }],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 5,
    temperature: 0,
  },
  'stream-json-schema': {
    messages: [{ role: 'user', content: 'Describe a person.' }],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'person',
        strict: true,
        schema: {
          type: 'object',
          properties: { name: { type: 'string', maxLength: 20 }, age: { type: 'integer' } },
          required: ['name', 'age'],
          additionalProperties: false,
        },
      },
    },
  },
  'stream-unicode': {
    messages: [{ role: 'user', content: 'Repeat this: 🎉🎉🎉 你好你好 😀😀' }],
    stream: true,
    max_tokens: 20,
    temperature: 0,
  },
  'nonstream-basic': { messages: GERMANY, temperature: 0 },
  'error-400-temperature': { messages: GERMANY, temperature: 5 },
  'error-404-model': { model: 'gpt-4o', messages: GERMANY },
};

ensurePrerequisites();
const server = await startServer(['--quiet']);
try {
  await mkdir(OUT, { recursive: true });
  for (const [name, body] of Object.entries(CASES)) {
    const request = { model: 'smollm2', ...body };
    const res = await postChat(server.url, request);
    const bytes = Buffer.from(await res.arrayBuffer());
    const ext = res.headers.get('content-type')?.startsWith('text/event-stream') ? 'sse' : 'json';
    await writeFile(join(OUT, `${name}.${ext}`), bytes);
    await writeFile(join(OUT, `${name}.request.json`), `${JSON.stringify(request, null, 2)}\n`);
    process.stdout.write(`${name}.${ext}: HTTP ${res.status}, ${bytes.length} bytes\n`);
  }
} finally {
  await server.stop();
}
