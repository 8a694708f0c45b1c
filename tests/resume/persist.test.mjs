// A finished stream stays resumable after its Durable Object leaves memory: run the edge with on-disk Durable
// Object storage, finish a stream, restart workerd on the same storage, resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { startUpstream } from '../upstream/server.mjs';
import { buildEdge } from '../support/edge.mjs';
import { CONFIG, KEYS, ORIGIN, events, text, normalize } from './helpers.mjs';

const worker = join(import.meta.dirname, '..', '..', 'worker');
let output = '';

async function edgeOn(dir, up) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(worker, 'entry.mjs'),
    modulesRoot: worker,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-09-01',
    bindings: { ...KEYS, EDGECHAT_CONFIG: JSON.stringify(CONFIG), OPENAI_BASE_URL: `${up.url}/v1`, ANTHROPIC_BASE_URL: `${up.url}/v1` },
    durableObjects: { STREAMS: 'EdgechatStream' },
    durableObjectsPersist: dir,
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout, stderr) {
      stdout.on('data', (d) => { output += d.toString(); });
      stderr.on('data', (d) => { output += d.toString(); });
    },
  });
  return { mf, url: (await mf.ready).toString().replace(/\/$/, '') };
}

test('a finished stream is replayed from storage after a restart', async () => {
  buildEdge();
  const dir = mkdtempSync(join(tmpdir(), 'edgechat-streams-'));
  const up = await startUpstream({ delayMs: 1 });
  try {
    let edge = await edgeOn(dir, up);
    const res = await fetch(`${edge.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'remember this é€😀 mock:words=12' }] }),
    });
    const original = await text(res);
    const first = events(original)[0].data;
    await new Promise((r) => setTimeout(r, 300)); // the object stores the log after the end
    await edge.mf.dispose();

    edge = await edgeOn(dir, up);
    try {
      const again = await fetch(`${edge.url}/api/chat/streams/${first.stream_id}`, { headers: { origin: ORIGIN } });
      assert.equal(again.status, 200, output.slice(-2000));
      assert.equal(await text(again), original, 'the replay after a restart is byte-identical');
      const tail = await fetch(`${edge.url}/api/chat/streams/${first.stream_id}`, {
        headers: { origin: ORIGIN, 'last-event-id': '5' },
      });
      const t = await text(tail);
      assert.ok(original.endsWith(t.replace(/^retry: \d+\n\n/, '')));
      const foreign = await fetch(`${edge.url}/api/chat/streams/${first.stream_id}`, { headers: { origin: 'http://localhost:1' } });
      assert.equal(foreign.status, 404, 'the stored owner is checked too');
      assert.ok(normalize(original, { streamId: first.stream_id, requestId: first.request_id }).includes('<stream>'));
    } finally {
      await edge.mf.dispose();
    }
  } finally {
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
