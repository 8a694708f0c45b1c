// Explicit stop (the upstream sees the abort, usage is logged and emitted) and "continue" of a cut-off answer,
// in real workerd with the STREAMS Durable Object bound, against the mock upstream.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, chat, resume, stop, text, events, readCut, sleep, CONFIG } from './helpers.mjs';

let s;
before(async () => {
  // keep-alive pings every 100 ms while a stream is held
  s = await startStack({ config: { ...CONFIG, limits: { ...CONFIG.limits, keepalive_ms: 100 } } });
});
after(async () => {
  await s?.stop();
});
beforeEach(() => s.up.reset());

const ask = (content, extra = {}) => ({ messages: [{ role: 'user', content }], ...extra });

async function startHeld(model, after = 6) {
  s.up.queue({ scenario: 'hold', after });
  const controller = new AbortController();
  const res = await chat(s.edge, ask('Explain stopping mock:words=40', { model }), { signal: controller.signal });
  assert.equal(res.status, 200);
  const streamId = res.headers.get('x-edgechat-stream-id');
  await s.up.waitFor((reqs) => reqs.some((r) => r.held));
  return { res, controller, streamId };
}

function deltas(ev) {
  return ev
    .filter((e) => e.name === 'delta')
    .map((e) => e.data.text)
    .join('');
}

test('stop aborts the upstream, ends with done stopped:true, keeps the partial text and bills it', async () => {
  const { res, streamId } = await startHeld('fast');
  await sleep(250);
  const stopped = await stop(s.edge, streamId);
  assert.equal(stopped.status, 200);
  assert.deepEqual(await stopped.json(), { stream_id: streamId, stopped: true, state: 'stopping' });
  // the client still connected gets the end of the stream, with keep-alive comments while it was idle
  const body = await text(res);
  assert.match(body, /\n\n: ping\n\n/);
  const ev = events(body);
  const req = await s.up.waitFor((reqs) => reqs.find((r) => r.endedAt));
  assert.equal(req.aborted, true, 'the upstream saw the connection close');
  assert.deepEqual(
    ev.slice(-2).map((e) => e.name),
    ['usage', 'done'],
  );
  const done = ev.at(-1).data;
  assert.equal(done.stopped, true);
  assert.equal(done.stop_reason, null, 'no provider stop reason before the stop');
  const usage = ev.at(-2).data;
  assert.equal(usage.estimated, true, 'OpenAI reports usage only at the end: counted from the text');
  assert.ok(usage.output_tokens > 0 && usage.input_tokens > 0);
  assert.equal(typeof usage.cost_usd, 'number');
  assert.match(deltas(ev), /^Mock answer to:/);
  // the log line has the same usage and says how it ended
  const log = await s.edge.logFor(ev[0].data.request_id);
  assert.equal(log.outcome, 'stopped');
  assert.equal(log.output_tokens, usage.output_tokens);
  assert.equal(log.input_tokens, usage.input_tokens);
  assert.equal(log.usage_estimated, true);
  assert.equal(log.cost_usd, usage.cost_usd);
  // a resume after the stop replays the same ending
  const again = events(await text(await resume(s.edge, streamId, ev.at(-3).id)));
  assert.deepEqual(again, ev.slice(-2));
  // stopping again: already ended
  const twice = await stop(s.edge, streamId);
  assert.deepEqual(await twice.json(), { stream_id: streamId, stopped: false, state: 'ended' });
});

test('stop with no client connected; Anthropic keeps its reported input tokens', async () => {
  const { controller, streamId } = await startHeld('smart');
  controller.abort(); // the client is gone; the stream object keeps the upstream
  await sleep(50);
  assert.equal(s.up.requests()[0].aborted, false);
  const stopped = await stop(s.edge, streamId);
  assert.equal((await stopped.json()).stopped, true);
  const req = await s.up.waitFor((reqs) => reqs.find((r) => r.endedAt));
  assert.equal(req.aborted, true);
  const ev = events(await text(await resume(s.edge, streamId, 0)));
  const usage = ev.at(-2).data;
  assert.equal(ev.at(-1).data.stopped, true);
  assert.equal(usage.estimated, true);
  assert.ok(usage.input_tokens > 5, 'input tokens from message_start, not the 1-token placeholder');
  assert.ok(usage.output_tokens >= 3, `output counted from the streamed text (${usage.output_tokens})`);
});

test('stop for a foreign or unknown stream is a 404', async () => {
  const { streamId } = await startHeld('fast');
  const foreign = await stop(s.edge, streamId, { headers: { origin: 'http://localhost:3999' } });
  assert.equal(foreign.status, 404);
  assert.equal((await foreign.json()).error.type, 'not_found');
  assert.equal((await stop(s.edge, 'ef'.repeat(32))).status, 404);
  s.up.release();
  assert.equal(s.up.requests()[0].aborted, false);
});

test('continue after a max_tokens stop: Anthropic prefill, trailing whitespace trimmed', async () => {
  const first = events(await text(await chat(s.edge, ask('Write a long story', { model: 'smart', max_tokens: 6 }))));
  assert.equal(first.at(-1).data.stop_reason, 'max_tokens');
  const partial = deltas(first);
  const res = await chat(s.edge, {
    model: 'smart',
    continue: true,
    messages: [
      { role: 'user', content: 'Write a long story' },
      { role: 'assistant', content: `${partial}  \n` },
    ],
  });
  assert.equal(res.status, 200);
  const ev = events(await text(res));
  assert.equal(ev.at(-1).name, 'done');
  assert.ok(deltas(ev).length > 0);
  const sent = s.up.requests().at(-1).body;
  assert.equal(sent.messages.at(-1).role, 'assistant');
  const last = sent.messages.at(-1).content;
  const lastText = typeof last === 'string' ? last : last.map((b) => b.text).join('');
  assert.equal(lastText, partial.trimEnd(), 'the partial answer is the prefill, without trailing whitespace');
});

test('continue on an OpenAI-style model: the partial answer plus a continue instruction', async () => {
  const first = events(await text(await chat(s.edge, ask('Write a long story', { max_tokens: 5 }))));
  assert.equal(first.at(-1).data.stop_reason, 'max_tokens');
  const partial = deltas(first);
  const res = await chat(s.edge, {
    continue: true,
    messages: [
      { role: 'user', content: 'Write a long story' },
      { role: 'assistant', content: partial },
    ],
  });
  assert.equal(res.status, 200);
  assert.equal(events(await text(res)).at(-1).name, 'done');
  const sent = s.up.requests().at(-1).body.messages;
  assert.deepEqual(
    sent.slice(-2).map((m) => m.role),
    ['assistant', 'user'],
  );
  assert.equal(sent.at(-2).content, partial);
  assert.match(sent.at(-1).content, /Continue/);
});

test('continue after a mid-stream failure falls back to the second provider', async () => {
  s.up.queue({ scenario: 'error', after: 6, match: 'chat/completions' });
  const first = events(await text(await chat(s.edge, ask('Tell me everything'))));
  assert.deepEqual(
    first.slice(-2).map((e) => e.name),
    ['usage', 'error'],
  );
  assert.equal(first.at(-2).data.estimated, true);
  const partial = deltas(first);
  assert.ok(partial.length > 0);
  // the first provider is still failing: the continue goes to the fallback (Anthropic) as a prefill
  s.up.queue({ scenario: '503', match: 'chat/completions' });
  const res = await chat(s.edge, {
    continue: true,
    messages: [
      { role: 'user', content: 'Tell me everything' },
      { role: 'assistant', content: partial },
    ],
  });
  assert.equal(res.status, 200);
  const ev = events(await text(res));
  assert.equal(ev[0].data.provider, 'anthropic');
  assert.equal(ev[0].data.model, 'smart');
  assert.equal(ev.at(-1).name, 'done');
  const reqs = s.up.requests();
  assert.deepEqual(
    reqs.slice(-2).map((r) => [r.path, r.status]),
    [
      ['/v1/chat/completions', 503],
      ['/v1/messages', 200],
    ],
  );
  const prefill = reqs.at(-1).body.messages.at(-1);
  assert.equal(prefill.role, 'assistant');
  const t = typeof prefill.content === 'string' ? prefill.content : prefill.content.map((b) => b.text).join('');
  assert.equal(t, partial.trimEnd());
  const log = await s.edge.logFor(ev[0].data.request_id);
  assert.equal(log.attempts, 2);
  assert.equal(log.provider, 'anthropic');
});

test('a stream cut by a failure records usage in the log line too', async () => {
  s.up.queue({ scenario: 'disconnect', after: 5 });
  const controller = new AbortController();
  const res = await chat(s.edge, ask('Cut me off'), { signal: controller.signal });
  const body = await readCut(res, controller, () => false);
  const ev = events(body);
  assert.deepEqual(
    ev.slice(-2).map((e) => e.name),
    ['usage', 'error'],
  );
  assert.equal(ev.at(-1).data.truncated, true);
  const log = await s.edge.logFor(ev[0].data.request_id);
  assert.equal(log.outcome, 'truncated');
  assert.equal(log.output_tokens, ev.at(-2).data.output_tokens);
  assert.ok(log.output_tokens > 0);
});
