// Cache scoping in real workerd: answers never cross site keys or users (exact and semantic, with and without
// instructions and session context), 50 concurrent stores all land in the semantic index (CACHE_INDEX Durable
// Object, and isolate memory without it), per-request bypass / refresh / ttl from the widget and the SDKs.
// The cases are in cache-cases.mjs; cache-node.test.mjs runs them on plain Node.
import { test, describe, before, after } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { setup } from './common.mjs';
import { boundedCase, cases, scopedConfig, sdkCases, sdkOffCase, sharedCase } from './cache-cases.mjs';

const SEMANTIC_CASES = [
  'semantic: a similar question reuses an answer only in the same site, user and instructions',
  'concurrency: 50 concurrent misses all store, then all 50 are found',
];

for (const index of ['durable_object', 'isolate']) {
  describe(`semantic index in ${index === 'durable_object' ? 'the CACHE_INDEX Durable Object' : 'isolate memory'}`, () => {
    let main;
    let other;
    const runner = (s) => ({ ...s, url: s.edge.url, logFor: (id) => s.edge.logFor(id) });
    before(async () => {
      const cacheIndex = index === 'durable_object';
      main = runner(await setup({ edgeConfig: scopedConfig({ sdk: true }), cacheIndex }));
      other = runner(
        await setup({
          edgeConfig: scopedConfig({
            shared: true,
            ttl_seconds: 4,
            semantic: { enabled: true, threshold: 0.8, max_entries: 5 },
          }),
          cacheIndex,
        }),
      );
    });
    after(async () => {
      await main?.stop();
      await other?.stop();
    });

    for (const [name, run] of Object.entries(cases)) {
      if (index === 'isolate' && !SEMANTIC_CASES.includes(name)) continue;
      const t = () => (name.includes('longer than configured') ? other : main);
      test(name, () => run(t(), `${index}-${name.length}`));
    }
    test('cache.shared: site keys share answers, per-user ones never', () => sharedCase(other, index));
    test('max_entries bounds an index; the oldest stored go first', () => boundedCase(other, index));
    if (index === 'durable_object') {
      for (const [name, run] of Object.entries(sdkCases)) test(name, () => run({ t: main, OpenAI, Anthropic }, index));
      test('sdk: off by default', () => sdkOffCase({ t: other, OpenAI }, index));
    }
  });
}

describe('with resumable streams (the STREAMS object stores the answer)', () => {
  let main;
  before(async () => {
    const s = await setup({ edgeConfig: scopedConfig(), streams: true });
    main = { ...s, url: s.edge.url, logFor: (id) => s.edge.logFor(id) };
  });
  after(async () => {
    await main?.stop();
  });
  for (const name of [
    "exact: site B never gets site A's answer; each site reuses its own",
    'exact: per user where the site key says so or the session carries context',
    'semantic: a similar question reuses an answer only in the same site, user and instructions',
    'widget control: bypass, refresh and a shorter ttl',
  ])
    test(name, () => cases[name](main, `streams-${name.length}`));
});
