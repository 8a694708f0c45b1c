// Client tools through the edge, in workerd and on plain Node: the `client_tools` policy of a site key (refused when
// the key allows none, too many, too big, a bad schema, too many steps) and the tool loop the widget drives — each
// step a new request with the tool results appended, in every provider's format, a failing tool's error result
// (`is_error`), the step cap. Stop and resume in the middle of a loop need the STREAMS object: tests/resume/tools.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { parseSse } from '../support/edge.mjs';
import { ORIGIN, RUNTIMES, config, setup } from './common.mjs';

const TOOLS_KEY = 'pk_tools';
const PLAIN_KEY = 'pk_plain';
const edgeConfig = config({
  allowed_origins: [ORIGIN],
  site_keys: {
    [TOOLS_KEY]: { origins: [ORIGIN], client_tools: { max_tools: 2, max_bytes: 600, max_steps: 2 } },
    [PLAIN_KEY]: { origins: [ORIGIN] },
  },
  cache: { exact: false },
});
const ORDER = {
  name: 'lookup_order',
  description: 'Find an order by its number',
  parameters: { type: 'object', properties: { number: { type: 'string' } }, required: ['number'] },
};
const CLOCK = { name: 'now', parameters: { type: 'object', properties: {} } };

for (const runtime of RUNTIMES) {
  describe(`client tools (${runtime})`, () => {
    let s;
    before(async () => {
      s = await setup({ runtime, edgeConfig, durableObject: false, kv: false });
    });
    after(async () => {
      await s?.stop();
    });
    beforeEach(() => s.up.reset());

    const send = (body, key = TOOLS_KEY) => s.chat(body, { 'x-edgechat-site-key': key });
    const chatRequests = () => s.up.requests().filter((r) => /\/(chat\/completions|responses|messages)$/.test(r.path));

    async function refused(body, key, status, type, message) {
      const res = await send(body, key);
      const j = await res.json();
      assert.equal(res.status, status, JSON.stringify(j));
      assert.equal(j.error.type, type);
      if (message) assert.match(j.error.message, message);
    }

    test('/api/config tells the page what its key allows', async () => {
      const get = (key) =>
        fetch(`${s.edge.url}/api/config`, { headers: { origin: ORIGIN, 'x-edgechat-site-key': key } }).then((r) =>
          r.json(),
        );
      assert.deepEqual((await get(TOOLS_KEY)).client_tools, { max_tools: 2, max_bytes: 600, max_steps: 2 });
      assert.equal((await get(PLAIN_KEY)).client_tools, undefined);
    });

    test('policy refusals: not allowed for this key, too many, too big, bad schema; nothing reaches the provider', async () => {
      const q = { model: 'fast', messages: [{ role: 'user', content: 'Where is order 42?' }] };
      await refused({ ...q, tools: [ORDER] }, PLAIN_KEY, 403, 'tools_not_allowed', /not allowed for this site key/);
      await refused(
        { ...q, tools: [ORDER, CLOCK, { ...CLOCK, name: 'b' }] },
        TOOLS_KEY,
        400,
        'too_many_tools',
        /at most 2/,
      );
      const big = { ...ORDER, description: 'x'.repeat(700) };
      await refused({ ...q, tools: [big] }, TOOLS_KEY, 400, 'tools_too_large', /at most 600/);
      for (const bad of [
        { ...ORDER, parameters: { type: 'string' } },
        { ...ORDER, name: 'look up' },
        { description: 'no name', parameters: { type: 'object' } },
        { ...ORDER, run: 'function () {}' },
        'lookup_order',
      ]) {
        await refused({ ...q, tools: [bad] }, TOOLS_KEY, 400, 'invalid_tool', /invalid client tool/);
      }
      await refused({ ...q, tools: [ORDER, ORDER] }, TOOLS_KEY, 400, 'invalid_tool', /used twice/);
      await refused({ ...q, tools: { lookup_order: ORDER } }, TOOLS_KEY, 400, 'invalid_tool', /must be an array/);
      assert.equal(chatRequests().length, 0, 'no refused request reached the provider');
    });

    for (const model of ['fast', 'smart', 'resp', 'local']) {
      test(`a tool loop on ${model}: calls stream as tool_call, the results go back in the provider's format`, async () => {
        // Step 1: the model calls two tools at once.
        s.up.queue({
          toolCalls: [
            { name: 'lookup_order', arguments: { number: '42' } },
            { name: 'now', arguments: {} },
          ],
        });
        const question = { role: 'user', content: 'Where is order 42?' };
        const first = parseSse(await (await send({ model, tools: [ORDER, CLOCK], messages: [question] })).text());
        const calls = first.filter((e) => e.event === 'tool_call').map((e) => e.data);
        assert.deepEqual(
          calls.map((c) => [c.name, JSON.parse(c.arguments)]),
          [
            ['lookup_order', { number: '42' }],
            ['now', {}],
          ],
        );
        assert.equal(first.at(-1).event, 'done');
        assert.equal(first.at(-1).data.stop_reason, 'tool_use');
        assert.equal(first.at(-2).event, 'usage');
        const sentTools = chatRequests()[0].body.tools.map((t) => t.name ?? t.function.name);
        assert.deepEqual(sentTools, ['lookup_order', 'now']);

        // Step 2: one tool answered, one threw (its error goes back as an error result).
        const step2 = [
          question,
          { role: 'assistant', content: '', tool_calls: calls },
          { role: 'tool', tool_call_id: calls[0].id, content: '{"status":"shipped"}' },
          { role: 'tool', tool_call_id: calls[1].id, content: '{"error":"clock is broken"}', is_error: true },
        ];
        const second = parseSse(await (await send({ model, tools: [ORDER, CLOCK], messages: step2 })).text());
        assert.equal(second.at(-1).event, 'done', JSON.stringify(second.at(-1)));
        assert.equal(second.at(-1).data.stop_reason, 'end_turn');
        const text = second
          .filter((e) => e.event === 'delta')
          .map((e) => e.data.text)
          .join('');
        assert.match(text, /^Tool result received:/);
        assert.ok(second.find((e) => e.event === 'usage').data.input_tokens > 0);

        // What the provider received for step 2 (the mock refuses results that answer no call).
        const body = chatRequests()[1].body;
        if (model === 'smart') {
          assert.deepEqual(body.messages.at(-1).content, [
            { type: 'tool_result', tool_use_id: calls[0].id, content: '{"status":"shipped"}' },
            { type: 'tool_result', tool_use_id: calls[1].id, content: '{"error":"clock is broken"}', is_error: true },
          ]);
          assert.deepEqual(
            body.messages[1].content.map((b) => [b.type, b.id]),
            calls.map((c) => ['tool_use', c.id]),
          );
        } else if (model === 'resp') {
          assert.deepEqual(
            body.input.slice(1).map((i) => [i.type, i.call_id]),
            [...calls.map((c) => ['function_call', c.id]), ...calls.map((c) => ['function_call_output', c.id])],
          );
          assert.equal(body.input.at(-1).output, '{"error":"clock is broken"}');
        } else {
          assert.deepEqual(body.messages.slice(-2), [
            { role: 'tool', content: '{"status":"shipped"}', tool_call_id: calls[0].id },
            { role: 'tool', content: '{"error":"clock is broken"}', tool_call_id: calls[1].id },
          ]);
          assert.deepEqual(
            body.messages[1].tool_calls.map((c) => c.id),
            calls.map((c) => c.id),
          );
        }
      });
    }

    test('max_tool_steps: the steps a key allows pass, one more is refused before the provider', async () => {
      const question = { role: 'user', content: 'Count up' };
      const round = (i) => [
        { role: 'assistant', content: '', tool_calls: [{ id: `c${i}`, name: 'now', arguments: '{}' }] },
        { role: 'tool', tool_call_id: `c${i}`, content: `{"t":${i}}` },
      ];
      const two = [question, ...round(1), ...round(2)];
      const ok = await send({ model: 'fast', tools: [CLOCK], messages: two });
      assert.equal(ok.status, 200);
      await ok.text();
      await refused(
        { model: 'fast', tools: [CLOCK], messages: [...two, ...round(3)] },
        TOOLS_KEY,
        400,
        'tool_steps_exceeded',
        /3 tool steps since the last user message; this site key allows at most 2/,
      );
      // A new question starts a new count.
      const next = [...two, { role: 'assistant', content: 'Done.' }, { role: 'user', content: 'Again' }, ...round(3)];
      const again = await send({ model: 'fast', tools: [CLOCK], messages: next });
      assert.equal(again.status, 200);
      await again.text();
      assert.equal(chatRequests().length, 2);
    });

    test('a tool result that answers no call is a clear 400, not a provider round trip', async () => {
      const res = await send({
        model: 'fast',
        tools: [CLOCK],
        messages: [
          { role: 'user', content: 'x' },
          { role: 'tool', tool_call_id: 'nope', content: '1' },
        ],
      });
      const j = await res.json();
      assert.equal(res.status, 400, JSON.stringify(j));
      assert.match(j.error.message, /nope/);
      assert.equal(chatRequests().length, 0);
    });
  });
}
