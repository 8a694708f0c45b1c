// The core's own OpenAI Chat stream decoder (examples/decode.rs, the `decode` conformance harness) reads what the
// local model server sends: recorded transcripts (tests/local-model/transcripts/) and a live stream.
// Uses EDGECHAT_DECODE_BIN if set; else target/debug/examples/decode when it is newer than every file under src/
// and examples/; else builds it with cargo (seconds alone, longer when other builds hold cargo's lock).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseSse } from '../support/sse.mjs';
import { ensurePrerequisites, parseChunks, postChat, ROOT, startServer } from './helpers.mjs';

const TRANSCRIPTS = join(ROOT, 'tests', 'local-model', 'transcripts');
let decodeBin;
let server;

/** Latest modification time of any file under `dir`. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

function isFresh(bin) {
  if (!existsSync(bin)) return false;
  const built = statSync(bin).mtimeMs;
  const sources = [join(ROOT, 'src'), join(ROOT, 'examples')].map(newestMtime);
  return sources.every((t) => t < built) && statSync(join(ROOT, 'Cargo.toml')).mtimeMs < built;
}

before(async () => {
  decodeBin = process.env.EDGECHAT_DECODE_BIN;
  const prebuilt = join(ROOT, 'target', 'debug', 'examples', 'decode');
  if (!decodeBin && isFresh(prebuilt)) decodeBin = prebuilt;
  if (!decodeBin) {
    const built = spawnSync('cargo', ['build', '--quiet', '--locked', '--example', 'decode'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (built.status !== 0)
      throw new Error(`cargo build --example decode failed (exit ${built.status ?? built.error})`);
    decodeBin = join(ROOT, 'target', 'debug', 'examples', 'decode');
  }
  ensurePrerequisites();
  server = await startServer(['--quiet']);
});

after(async () => {
  await server?.stop();
});

function decode(body, chunk) {
  const args = ['--provider', 'openai-chat', ...(chunk ? ['--chunk', String(chunk)] : [])];
  const run = spawnSync(decodeBin, args, { input: body, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** What the stream says, read directly from its chunks: the reference the decoder must agree with. */
function expected(body) {
  const payloads = parseSse(body.toString('utf8'), { json: false }).map((e) => e.data);
  const { chunks, done } = parseChunks(payloads);
  assert.ok(done);
  const finish = chunks.map((c) => c.choices[0]?.finish_reason).find(Boolean);
  const usage = chunks.find((c) => c.usage)?.usage ?? null;
  return {
    text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''),
    stopReason: { stop: 'end_turn', length: 'max_tokens' }[finish],
    usage,
  };
}

function checkAgainst(decoded, want, label) {
  assert.equal(decoded.error, null, label);
  assert.equal(decoded.truncated, false, label);
  assert.equal(decoded.text, want.text, label);
  assert.equal(decoded.stop_reason, want.stopReason, label);
  if (want.usage) {
    assert.equal(decoded.usage.output_tokens, want.usage.completion_tokens, label);
    assert.equal(
      decoded.usage.input_tokens + decoded.usage.cache_read_input_tokens,
      want.usage.prompt_tokens,
      `${label}: input + cached input = prompt tokens`,
    );
  }
}

test('recorded local-model transcripts decode the same whole and split into small pieces', () => {
  const files = readdirSync(TRANSCRIPTS).filter((f) => f.endsWith('.sse'));
  assert.ok(files.length >= 5, `transcripts found: ${files}`);
  for (const file of files) {
    const body = readFileSync(join(TRANSCRIPTS, file));
    const want = expected(body);
    const whole = decode(body);
    checkAgainst(whole, want, file);
    for (const chunk of [1, 7]) assert.deepEqual(decode(body, chunk), whole, `${file} fed ${chunk} bytes at a time`);
  }
});

test('a live stream from the local model decodes to its text, stop reason and usage', async () => {
  const cases = [{ max_tokens: 60 }, { max_tokens: 6 }, { response_format: { type: 'json_object' }, max_tokens: 60 }];
  for (const extra of cases) {
    const res = await postChat(server.url, {
      model: 'smollm2',
      messages: [{ role: 'user', content: 'Reply with a JSON object with keys city and country for Paris.' }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
      ...extra,
    });
    const body = Buffer.from(await res.arrayBuffer());
    checkAgainst(decode(body, 3), expected(body), JSON.stringify(extra));
  }
});
