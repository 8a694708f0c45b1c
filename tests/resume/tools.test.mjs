// Resumable streams in the middle of a client tool loop (workerd, STREAMS bound): a step's stream cut after its
// tool_call events resumes by Last-Event-ID with no gap and no duplicate (the same bytes as a replay from the
// start), and a step stopped by id ends with usage and done stopped:true without a half-made tool call.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, chat, resume, stop, text, events, frames, readCut, sleep, CONFIG } from './helpers.mjs';

let s;
before(async () => {
  s = await startStack({ config: { ...CONFIG, client_tools: { max_steps: 3 } } });
});
after(async () => {
  await s?.stop();
});
beforeEach(() => s.up.reset());

const CLOCK = { name: 'now', description: 'The time', parameters: { type: 'object', properties: {} } };
/** Step 2 of a loop: the question, the first call and its result. */
const step2 = (model) => ({
  model,
  tools: [CLOCK],
  messages: [
    { role: 'user', content: 'What time is it, twice? mock:words=30' },
    { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', name: 'now', arguments: '{}' }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"time":"10:00"}' },
  ],
});

for (const model of ['fast', 'smart']) {
  test(`${model}: a step cut after its tool_call resumes with the same bytes as a full replay`, async () => {
    s.up.queue({ toolCalls: [{ name: 'now', arguments: {} }], text: 'Once more.' });
    const controller = new AbortController();
    const res = await chat(s.edge, step2(model), { signal: controller.signal });
    assert.equal(res.status, 200);
    const streamId = res.headers.get('x-edgechat-stream-id');
    // Cut right after the tool_call frame (and a partial frame after it, as a broken connection leaves).
    const got = await readCut(res, controller, (b) => {
      const at = b.indexOf('event: tool_call');
      const end = at < 0 ? -1 : b.indexOf('\n\n', at);
      return end < 0 ? false : end + 2;
    });
    const before = frames(got).frames;
    const lastId = events(got).at(-1).id;
    assert.equal(events(got).at(-1).name, 'tool_call');
    const rest = await text(await resume(s.edge, streamId, lastId));
    const joined = before.join('') + frames(rest).frames.join('');
    const replay = frames(await text(await resume(s.edge, streamId, 0))).frames.join('');
    assert.equal(joined, replay, 'no gap, no duplicate');
    const ev = events(replay);
    assert.equal(ev.filter((e) => e.name === 'tool_call').length, 1);
    assert.deepEqual(
      ev.slice(-2).map((e) => e.name),
      ['usage', 'done'],
    );
    assert.equal(ev.at(-1).data.stop_reason, 'tool_use');
    // The provider got the first round's result with the call it answers.
    const sent = s.up.requests().find((r) => /messages|completions/.test(r.path)).body;
    assert.ok(JSON.stringify(sent).includes('{\\"time\\":\\"10:00\\"}'), JSON.stringify(sent));
  });

  test(`${model}: stop in the middle of a step ends it stopped, billed, with no half tool call`, async () => {
    // Held inside the second call: its id and name are out, its arguments not.
    s.up.queue({ scenario: 'hold', after: 2, toolCalls: [{ name: 'now', arguments: { zone: 'UTC' } }] });
    const res = await chat(s.edge, step2(model));
    const streamId = res.headers.get('x-edgechat-stream-id');
    await s.up.waitFor((reqs) => reqs.some((r) => r.held));
    await sleep(50);
    const stopped = await stop(s.edge, streamId);
    assert.equal(stopped.status, 200);
    const ev = events(await text(res));
    assert.deepEqual(
      ev.slice(-2).map((e) => e.name),
      ['usage', 'done'],
    );
    assert.equal(ev.at(-1).data.stopped, true);
    assert.equal(ev.filter((e) => e.name === 'tool_call').length, 0, 'an unfinished call is never announced');
    assert.ok(ev.at(-2).data.input_tokens > 0, 'the step is billed');
    const req = await s.up.waitFor((reqs) => reqs.find((r) => r.endedAt));
    assert.equal(req.aborted, true);
  });
}
