// Resume by Last-Event-ID in real workerd (Miniflare, STREAMS Durable Object bound) against the mock upstream:
// cut the client connection at many points, resume, and compare byte for byte with an uninterrupted run.
//
//   node --test tests/resume/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startStack,
  chat,
  resume,
  text,
  readCut,
  frames,
  events,
  eventOf,
  normalize,
  sleep,
  ORIGIN,
} from './helpers.mjs';

const PROMPT = { messages: [{ role: 'user', content: 'Tell me about resumable streams mock:words=30 mock:delay=12' }] };
let s;
let reference; // normalized uninterrupted body
let refFrames;

before(async () => {
  s = await startStack();
  const res = await chat(s.edge, PROMPT);
  assert.equal(res.status, 200);
  const body = await text(res);
  const ev = events(body);
  reference = normalize(body, { streamId: ev[0].data.stream_id, requestId: ev[0].data.request_id });
  refFrames = frames(reference);
});

after(async () => {
  await s?.stop();
});

/** Starts the scenario, breaks the connection after `keep(bytes)` bytes, returns the bytes kept and the ids. */
async function cutRun(keepBytes) {
  const controller = new AbortController();
  const res = await chat(s.edge, PROMPT, { signal: controller.signal });
  assert.equal(res.status, 200);
  const streamId = res.headers.get('x-edgechat-stream-id');
  assert.match(streamId, /^[0-9a-f]{64}$/);
  assert.equal(res.headers.get('x-edgechat-cache'), 'bypass');
  const got = await readCut(res, controller, (b) => (b.length >= keepBytes ? keepBytes : false));
  return { streamId, got };
}

/** The id of the last complete event in `body` (what an SSE client would send as Last-Event-ID), or undefined. */
function lastId(body) {
  const f = frames(body).frames;
  return f.length ? eventOf(f.at(-1)).id : undefined;
}

/** Resumes `streamId` after what `got` holds, optionally cutting the resume too; returns the joined frames. */
async function resumeAll(streamId, got, cuts = []) {
  let have = frames(got).frames;
  let preamble = frames(got).preamble;
  for (let i = 0; ; i++) {
    const id = have.length ? eventOf(have.at(-1)).id : undefined;
    const controller = new AbortController();
    const res = await resume(s.edge, streamId, id, { signal: controller.signal });
    assert.equal(res.status, 200, `resume after ${id}`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    const body =
      i < cuts.length
        ? await readCut(res, controller, (b) => (b.length >= cuts[i] ? cuts[i] : false))
        : await text(res);
    const f = frames(body);
    if (i >= cuts.length || f.preamble) {
      assert.equal(f.preamble, refFrames.preamble, 'every stream response starts with the retry field');
      preamble = f.preamble;
    }
    have = have.concat(f.frames);
    if (i >= cuts.length) return preamble + have.join('');
  }
}

function check(joined, streamId, label) {
  const ev = events(joined);
  const norm = normalize(joined, { streamId, requestId: ev[0].data.request_id });
  assert.equal(norm, reference, `${label}: resumed stream differs from the uninterrupted one`);
}

test('the reference stream is resumable and complete', () => {
  const ev = events(reference);
  assert.equal(refFrames.preamble, 'retry: 1000\n\n');
  assert.equal(ev[0].name, 'start');
  assert.equal(ev[0].data.resumable, true);
  assert.equal(ev[0].data.stream_id, '<stream>');
  assert.deepEqual(
    ev.map((e) => e.id),
    ev.map((_, i) => i + 1),
  );
  assert.deepEqual(
    ev.slice(-2).map((e) => e.name),
    ['usage', 'done'],
  );
  assert.equal(ev.at(-1).data.stopped, false);
  assert.ok(ev.filter((e) => e.name === 'delta').length >= 30);
});

test('cut anywhere, resume, and get exactly the uninterrupted stream', async () => {
  // Byte positions in the (normalized) reference: the stream id is 64 chars like '<stream>' is 8, so positions
  // past the start frame shift by 56 + request-id difference; cut by frame boundaries of the real body instead.
  const pre = refFrames.preamble.length;
  const ends = [];
  let at = pre;
  for (const f of refFrames.frames) ends.push((at += f.length));
  const shift = (i) => (i >= 0 ? 56 + 16 - '<request>'.length : 0); // start frame carries both ids
  const points = [
    ['before the first byte of the body', 0],
    ['inside the retry preamble', 4],
    ['after the preamble, before the first event', pre],
    ['inside the start event', pre + 20],
    ['right after the start event', ends[0] + shift(0)],
    ['between two deltas', ends[5] + shift(5)],
    ['mid-frame: after "id: N\\n"', ends[9] + shift(9) + 6],
    ['mid-frame: inside the data line', ends[14] + shift(14) + 30],
    ["mid-frame: between a frame's two newlines", ends[19] + shift(19) - 1],
    ['inside the usage event', ends.at(-2) + shift(1) - 10],
    ['inside the done event', ends.at(-1) + shift(1) - 5],
    ['after everything', ends.at(-1) + shift(1)],
  ];
  for (const [label, keep] of points) {
    const { streamId, got } = await cutRun(keep);
    assert.equal(got.length, keep, `${label}: read ${got.length} bytes`);
    check(await resumeAll(streamId, got), streamId, label);
  }
});

test('many disconnects, including during the replay itself', async () => {
  const { streamId, got } = await cutRun(700);
  // The first resume is cut inside the replayed part (a partial frame), the next after the preamble only,
  // then one more mid-stream; the last reads to the end.
  const joined = await resumeAll(streamId, got, [300, 14, 500, 3]);
  check(joined, streamId, 'repeated cuts');
});

test('resume after the stream ended (still within retention) replays everything', async () => {
  const { streamId, got } = await cutRun(400);
  await s.up.waitFor((reqs) => reqs.filter((r) => r.completed).length >= 1 && reqs.every((r) => r.endedAt));
  await sleep(50);
  check(await resumeAll(streamId, got), streamId, 'after the end');
  // a resume with no Last-Event-ID is a full replay
  const all = await text(await resume(s.edge, streamId));
  check(all, streamId, 'full replay');
  // and one from the last id is just the preamble
  const last = lastId(all);
  const tail = await text(await resume(s.edge, streamId, last));
  assert.equal(tail, refFrames.preamble);
});

test('a client that goes away does not stop generation', async () => {
  s.up.reset();
  const { streamId } = await cutRun(refFrames.preamble.length + 10);
  const req = await s.up.waitFor((reqs) => reqs.find((r) => r.endedAt), 5000);
  assert.equal(req.aborted, false, 'the upstream was not aborted');
  assert.equal(req.completed, true, 'the upstream sent its whole answer');
  const ev = events(await text(await resume(s.edge, streamId, 1)));
  assert.equal(ev.at(-1).name, 'done');
  const startLog = await s.edge.logFor(events(await text(await resume(s.edge, streamId, 0)))[0].data.request_id);
  assert.equal(startLog.outcome, 'complete');
  assert.equal(startLog.route, '/api/chat');
  assert.equal(startLog.output_tokens, 30);
  assert.equal(startLog.usage_estimated, false);
});

test('resume errors: unknown, foreign, malformed, ahead', async () => {
  const { streamId } = await cutRun(50);
  const unknown = 'ab'.repeat(32);
  for (const [label, res, status, type] of [
    ['unknown id', await resume(s.edge, unknown, 0), 404, 'not_found'],
    [
      'other origin',
      await resume(s.edge, streamId, 0, { headers: { origin: 'http://localhost:4000' } }),
      404,
      'not_found',
    ],
    ['bad Last-Event-ID', await resume(s.edge, streamId, 'x'), 400, 'bad_request'],
    ['ahead of the stream', await resume(s.edge, streamId, 100000), 400, 'bad_request'],
    ['malformed id', await resume(s.edge, 'xyz', 0), 404, 'not_found'],
    [
      'wrong method',
      await fetch(`${s.edge.url}/api/chat/streams/${streamId}`, { method: 'POST', headers: { origin: ORIGIN } }),
      405,
      'method_not_allowed',
    ],
  ]) {
    assert.equal(res.status, status, label);
    const body = await res.json();
    assert.equal(body.error.type, type, label);
    assert.equal(typeof body.error.message, 'string');
    assert.equal(body.error.request_id, res.headers.get('x-request-id'), label);
  }
});

test('preflight for the stream routes allows Last-Event-ID', async () => {
  const res = await fetch(`${s.edge.url}/api/chat/streams/${'cd'.repeat(32)}`, {
    method: 'OPTIONS',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'last-event-id',
    },
  });
  assert.equal(res.status, 204);
  assert.match(res.headers.get('access-control-allow-headers'), /last-event-id/);
});

test('a same-origin page resumes without an Origin header (browsers send none on a same-origin GET)', async () => {
  const { streamId, got } = await cutRun(300);
  const id = lastId(got);
  const withOrigin = await text(await resume(s.edge, streamId, id));
  // What Chromium sends for fetch() from a page on the edge's own origin or behind a same-origin proxy.
  const res = await fetch(`${s.edge.url}/api/chat/streams/${streamId}`, {
    headers: { 'last-event-id': String(id), 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS header without an Origin');
  assert.equal(await text(res), withOrigin, 'the same replay as with the Origin');
});
