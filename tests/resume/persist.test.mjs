// A finished stream stays resumable after its Durable Object leaves memory: run the edge with on-disk Durable
// Object storage, finish a stream, restart workerd on the same storage, resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream } from '../upstream/server.mjs';
import { startEdge } from '../support/edge.mjs';
import { CONFIG, KEYS, ORIGIN, events, text } from './helpers.mjs';

test('a finished stream is replayed from storage after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgechat-streams-'));
  const up = await startUpstream({ delayMs: 1 });
  const start = () =>
    startEdge({
      streams: true,
      persist: dir,
      vars: { ...KEYS, EDGECHAT_CONFIG: CONFIG },
      upstreams: { openai: `${up.url}/v1`, anthropic: `${up.url}/v1` },
    });
  try {
    let edge = await start();
    let original;
    let first;
    try {
      const res = await fetch(`${edge.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'remember this é€😀 mock:words=12' }] }),
      });
      original = await text(res);
      first = events(original)[0].data;
      await edge.logFor(first.request_id); // written after the log is stored
    } finally {
      await edge.stop();
    }
    edge = await start();
    try {
      const again = await fetch(`${edge.url}/api/chat/streams/${first.stream_id}`, { headers: { origin: ORIGIN } });
      assert.equal(again.status, 200, edge.output().slice(-2000));
      assert.equal(await text(again), original, 'the replay after a restart is byte-identical');
      const tail = await fetch(`${edge.url}/api/chat/streams/${first.stream_id}`, {
        headers: { origin: ORIGIN, 'last-event-id': '5' },
      });
      const t = await text(tail);
      assert.ok(t.length > 20 && original.endsWith(t.replace(/^retry: \d+\n\n/, '')));
      const foreign = await fetch(`${edge.url}/api/chat/streams/${first.stream_id}`, {
        headers: { origin: 'http://localhost:1' },
      });
      assert.equal(foreign.status, 404, 'the stored owner is checked too');
    } finally {
      await edge.stop();
    }
  } finally {
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
