// A 200-turn conversation through the real widget (Chromium), the edge in workerd and the real local model: it is
// never refused (the widget keeps under the edge's message limits, the edge fits every request into the model's
// context window), and the model still gets the owner's instructions on the last turn. A recording proxy between the
// edge and the model keeps every request the model received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startEdge } from '../support/edge.mjs';
import { startStatic, launch, shot } from '../browser/support/stack.mjs';
import { open, send, sel, settled } from '../browser/support/widget.mjs';
import { startModel } from './model.mjs';

const TURNS = 200;
const INSTRUCTIONS = 'You are the Acme test assistant. Answer in at most five words.';

let model, proxy, edge, site, browser;
const received = [];

/** Forwards everything to the model and keeps each JSON request body it saw. */
function startProxy(target) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url.endsWith('/chat/completions')) received.push(JSON.parse(body.toString('utf8')));
      const up = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      up.end(body);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        stop: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(r);
          }),
      }),
    ),
  );
}

before(async () => {
  model = await startModel();
  proxy = await startProxy(model.url);
  edge = await startEdge({
    upstreams: { compat: `${proxy.url}/v1` },
    vars: {
      EDGECHAT_CONFIG: {
        instructions: INSTRUCTIONS,
        // A small window keeps each turn's prompt short on this CPU; the edge must fit every request into it.
        models: {
          local: { provider: 'openai-compatible', model: 'smollm2', label: 'Local model', context_tokens: 250 },
        },
        allowed_origins: ['http://127.0.0.1:*'],
        limits: { max_tokens: 8, requests_per_minute: 0 },
      },
    },
  });
  site = await startStatic({ edgeUrl: () => edge.url });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await site?.stop();
  await edge?.stop();
  await proxy?.stop();
  await model?.stop();
});

test(`a ${TURNS}-turn conversation is never refused and the model keeps the owner's instructions`, {
  timeout: 20 * 60_000,
}, async () => {
  const { page } = browser;
  await open(page, `${site.url}/embed.html`); // the embed demo (the app is at /)
  const statuses = {};
  for (let i = 0; i < TURNS; i++) {
    await send(page, `Turn ${i}: the word of this turn is w${i}. Say ok.`);
    const status = await settled(page, 60_000);
    statuses[status] = (statuses[status] ?? 0) + 1;
    const answer = page.locator(sel.answer).last();
    if (status !== 'done' && status !== 'truncated')
      assert.fail(`turn ${i} ended ${status}: ${await answer.textContent()}`);
    // `truncated` here is the 8-token cap ("cut off at the token limit"), a whole answer as far as the edge goes.
    if (status === 'truncated') assert.match(await answer.textContent(), /token limit/, `turn ${i}`);
  }
  console.log(`${TURNS} turns: ${JSON.stringify(statuses)}; the model received ${received.length} requests`);
  assert.equal(await page.locator(sel.user).count(), TURNS, 'the whole conversation stays on screen');
  const last = received.at(-1);
  assert.equal(last.messages[0].role, 'system');
  assert.ok(last.messages[0].content.startsWith(INSTRUCTIONS), last.messages[0].content);
  assert.match(last.messages.at(-1).content, new RegExp(`Turn ${TURNS - 1}:`));
  assert.ok(last.messages.length < 2 * TURNS, `the prompt was fitted (${last.messages.length} messages)`);
  await shot(page, 'stack-long-chat');
});
