// Response caches in real workerd: exact match for deterministic requests (KV, and in-isolate without the
// binding), replayed as a stream and marked as a hit; the opt-in semantic cache over the provider's embeddings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readSse } from '../support/edge.mjs';
import { setup, config, user } from './common.mjs';

async function ask(t, body) {
  const before = t.up.requests().filter((r) => r.path !== '/v1/embeddings').length;
  const res = await t.chat(body);
  assert.equal(res.status, 200);
  const events = await readSse(res);
  const log = await t.edge.logFor(res.headers.get('x-request-id'));
  const upstream = t.up.requests().filter((r) => r.path !== '/v1/embeddings').length - before;
  return {
    res,
    events,
    log,
    upstream,
    text: events
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.text)
      .join(''),
  };
}

for (const store of ['kv', 'isolate']) {
  let t;
  before(async () => {
    t = await setup({ kv: store === 'kv' });
  });
  after(async () => {
    await t?.stop();
  });

  test(`${store}: temperature 0 is cached exactly and replayed as a stream marked hit`, async () => {
    const body = { model: 'fast', temperature: 0, ...user(`deterministic ${store}`) };
    const first = await ask(t, body);
    assert.equal(first.res.headers.get('x-edgechat-cache'), 'miss');
    assert.equal(first.log.cache, 'miss');
    assert.equal(first.upstream, 1);
    const second = await ask(t, body);
    assert.equal(second.res.headers.get('x-edgechat-cache'), 'hit');
    assert.equal(second.res.headers.get('x-edgechat-cache-kind'), 'exact');
    assert.equal(second.upstream, 0, 'no provider request on a hit');
    assert.equal(second.text, first.text);
    assert.deepEqual(
      second.events.map((e) => e.event),
      ['start', 'delta', 'usage', 'done'],
    );
    assert.deepEqual(
      second.events.map((e) => Number(e.id)),
      [1, 2, 3, 4],
    );
    assert.equal(second.events[2].data.cost_usd, 0);
    assert.equal(second.log.cache, 'hit');
    assert.equal(second.log.cache_kind, 'exact');
    assert.equal(second.log.outcome, 'complete');
    // A different question or model misses.
    assert.equal((await ask(t, { ...body, model: 'smart' })).upstream, 1);
  });

  test(`${store}: sampling requests bypass the cache unless they ask for it`, async () => {
    const body = { model: 'fast', temperature: 0.7, ...user(`random ${store}`) };
    const a = await ask(t, body);
    const b = await ask(t, body);
    assert.equal(a.res.headers.get('x-edgechat-cache'), 'bypass');
    assert.equal(a.log.cache, 'bypass');
    assert.equal(b.upstream, 1);
    const c = { ...body, cache: true, ...user(`flagged ${store}`) };
    await ask(t, c);
    assert.equal((await ask(t, c)).log.cache, 'hit');
  });

  test(`${store}: a failed stream is not cached`, async () => {
    const body = { model: 'fast', temperature: 0, ...user(`fails ${store}`) };
    t.up.queue({ scenario: 'no-terminal', match: '/chat/completions' });
    const first = await ask(t, body);
    assert.equal(first.events.at(-1).event, 'error');
    const second = await ask(t, body);
    assert.equal(second.log.cache, 'miss');
    assert.equal(second.upstream, 1);
  });
}

test('semantic cache: a similar question reuses the answer; an unrelated one does not', async () => {
  const t = await setup({
    edgeConfig: config({
      cache: {
        semantic: { enabled: true, threshold: 0.8, provider: 'openai-chat', embedding_model: 'text-embedding-3-small' },
      },
    }),
  });
  try {
    const first = await ask(t, { model: 'fast', temperature: 0.7, ...user('What is the capital city of France') });
    assert.equal(first.log.cache, 'miss');
    assert.equal(first.upstream, 1);
    const emb = t.up.requests().filter((r) => r.path === '/v1/embeddings');
    assert.equal(emb.length, 1);
    assert.equal(emb[0].headers.authorization, 'Bearer sk-test-openai-0000');
    const similar = await ask(t, { model: 'fast', temperature: 0.7, ...user('what is the capital city of France?') });
    assert.equal(similar.res.headers.get('x-edgechat-cache'), 'hit');
    assert.equal(similar.res.headers.get('x-edgechat-cache-kind'), 'semantic');
    assert.equal(similar.upstream, 0);
    assert.equal(similar.text, first.text);
    assert.equal(similar.log.cache_kind, 'semantic');
    assert.ok(similar.log.cache_similarity >= 0.8);
    const other = await ask(t, { model: 'fast', temperature: 0.7, ...user('Write a haiku about database indexes') });
    assert.equal(other.log.cache, 'miss');
    assert.equal(other.upstream, 1);
  } finally {
    await t.stop();
  }
});
