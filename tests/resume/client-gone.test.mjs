// A client that closes (FIN) while the stream object is relaying events to it.
//
// What workerd does (seen here, behind Miniflare): the object's write to such a client can stay pending forever
// with nothing fired (no request.signal abort, no body cancel, no writer.closed rejection), as in the stateless
// pumps (tests/edge/client-gone.test.mjs). Before the fix the object's relay waited on that write with no deadline:
// it stayed parked for the life of the object, holding the response pipe. Now a client that takes nothing of a
// write for WRITE_GIVE_UP_MS (1.5 s, worker/src/rt/js.rs) counts as gone: the relay logs a `relay: client_gone`
// line and ends, while generation goes on and the stream stays resumable. Since responses are written through
// workerd's native IdentityTransformStream, the write to the closed client fails at once (~25 ms here), and the
// same line is logged then; the 1.5 s give-up stays as the backstop.
//
//   node --test tests/resume/client-gone.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack, resume, text, events, sleep, CONFIG, ORIGIN } from './helpers.mjs';

const WORDS = 6000; // back to back (mock:delay=0): the relay is mid-write when the client closes
let s;

before(async () => {
  s = await startStack({ config: { ...CONFIG, limits: { ...CONFIG.limits, max_tokens: 100_000 } } });
});

after(async () => {
  await s?.stop();
});

/** POSTs /api/chat with node:http and reads until the first delta; `close()` then drops the connection (FIN). */
function openChat(content) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${s.edge.url}/api/chat`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
      },
      (res) => {
        let got = '';
        res.on('data', (d) => {
          got += d;
          if (got.includes('event: delta')) {
            res.removeAllListeners('data');
            res.on('data', () => {});
            resolve({ status: res.statusCode, headers: res.headers, close: () => req.destroy() });
          }
        });
      },
    );
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
    req.end(JSON.stringify({ messages: [{ role: 'user', content }] }));
  });
}

/** The object's relay line for the request `requestId`, waiting up to `ms` for it. */
async function relayLine(requestId, ms) {
  for (let waited = 0; waited <= ms; waited += 25) {
    const line = s.edge
      .output()
      .split('\n')
      .map((l) => {
        const i = l.indexOf('{"request_id"');
        try {
          return i < 0 ? null : JSON.parse(l.slice(i));
        } catch {
          return null;
        }
      })
      .find((l) => l?.request_id === requestId && l.relay);
    if (line) return line;
    await sleep(25);
  }
  return null;
}

test('a client that closes (FIN) while the object relays: the relay gives up within ~1.5 s, generation goes on, every time', async () => {
  for (let i = 0; i < 3; i++) {
    // setup
    const c = await openChat(`relay close ${i} mock:words=${WORDS} mock:delay=0`);
    assert.equal(c.status, 200);
    const requestId = c.headers['x-request-id'];
    const streamId = c.headers['x-edgechat-stream-id'];
    // exec
    const left = Date.now();
    c.close();
    const line = await relayLine(requestId, 3000);
    // check
    assert.ok(
      line,
      `run ${i}: the object's relay to the closed client never ended (no relay line 3 s after the close)`,
    );
    const ms = Date.now() - left;
    console.log(`run ${i}: relay gave up ${ms} ms after the client closed: ${JSON.stringify(line)}`);
    assert.equal(line.relay, 'client_gone');
    assert.equal(line.stream_id, streamId);
    assert.ok(
      Number.isInteger(line.written_through) && line.written_through >= 2,
      'it had written the start and a delta',
    );
    const log = await s.edge.logFor(requestId, 10_000);
    assert.equal(log.outcome, 'complete', 'generation went on without the client');
    assert.equal(log.output_tokens, WORDS);
    const rest = events(await text(await resume(s.edge, streamId, line.written_through)));
    assert.equal(rest[0].id, line.written_through + 1, 'a resume picks up after what the relay had written');
    assert.equal(rest.at(-1).name, 'done');
  }
});
