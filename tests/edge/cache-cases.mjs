// Cache scoping, concurrency and per-request control, as cases any runtime runs: `cache-scope.test.mjs` in workerd
// (semantic index in the CACHE_INDEX Durable Object and in isolate memory), `cache-node.test.mjs` on plain Node.
// Each case takes `t`: { up, chat(body, headers), post(path, body, headers), logFor(requestId) }.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readSse } from '../support/edge.mjs';
import { config, ORIGIN, SESSION_SECRET } from './common.mjs';

export const A = 'pk_site_a';
export const B = 'pk_site_b';
/** A site key whose answers are kept per user. */
export const U = 'pk_site_u';

/** Two tenants (and a per-user one) on one edge, the semantic cache on, system prompts allowed. */
export function scopedConfig(cache = {}, extra = {}) {
  const site = (more = {}) => ({ origins: [ORIGIN], allow_no_origin: true, ...more });
  return config({
    site_keys: { [A]: site(), [B]: site(), [U]: site({ cache_per_subject: true }) },
    allow_system_prompt: true,
    cache: { semantic: { enabled: true, threshold: 0.8, provider: 'openai-chat', max_entries: 100 }, ...cache },
    // 50 concurrent streams on a shared 2-core machine: no stall or first-token limit may cut one.
    limits: { stall_timeout_ms: 15000, first_token_timeout_ms: 15000 },
    ...extra,
  });
}

/** A session token (what a host site's backend mints); `claims` beyond sub/site/exp are signed context. */
export function token(site, sub, claims = {}) {
  const payload = Buffer.from(
    JSON.stringify({ site, sub, exp: Math.floor(Date.now() / 1000) + 600, ...claims }),
  ).toString('base64url');
  return `${payload}.${createHmac('sha256', SESSION_SECRET).update(payload).digest('base64url')}`;
}

/** Credentials headers: a site key, or a session token for a user of a site. */
export const as = {
  site: (key) => ({ 'x-edgechat-site-key': key }),
  user: (site, sub, claims) => ({ authorization: `Bearer ${token(site, sub, claims)}` }),
};

const chatCalls = (t) => t.up.requests().filter((r) => r.path.endsWith('/chat/completions')).length;

/** One `/api/chat` request: its events, text, log line, cache headers and how many provider requests it made. */
export async function ask(t, body, headers = {}) {
  const before = chatCalls(t);
  const res = await t.chat(body, headers);
  assert.equal(res.status, 200, await res.clone().text());
  const events = await readSse(res);
  const log = await t.logFor(res.headers.get('x-request-id'));
  return {
    res,
    events,
    log,
    cache: res.headers.get('x-edgechat-cache'),
    kind: res.headers.get('x-edgechat-cache-kind'),
    upstream: chatCalls(t) - before,
    text: events
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.text)
      .join(''),
  };
}

const q = (content, more = {}) => ({ model: 'fast', messages: [{ role: 'user', content }], ...more });
/** The next chat answer from the provider is exactly `text` (so a reused answer is recognisable). */
const answerWith = (t, text) => t.up.queue({ text, match: '/chat/completions' });

export const cases = {
  async "exact: site B never gets site A's answer; each site reuses its own"(t, tag) {
    const body = q(`What are your opening hours ${tag}`, { temperature: 0 });
    answerWith(t, `Site A answer ${tag}`);
    const a1 = await ask(t, body, as.site(A));
    assert.equal(a1.cache, 'miss');
    assert.equal(a1.text, `Site A answer ${tag}`);
    assert.match(a1.log.cache_key, /^[0-9a-f]{64}$/, 'the key it was stored under is logged');
    const b1 = await ask(t, body, as.site(B));
    assert.equal(b1.cache, 'miss', 'another site key is another cache');
    assert.equal(b1.upstream, 1);
    assert.notEqual(b1.text, a1.text);
    assert.notEqual(b1.log.cache_key, a1.log.cache_key);
    const a2 = await ask(t, body, as.site(A));
    assert.deepEqual([a2.cache, a2.kind, a2.upstream, a2.text], ['hit', 'exact', 0, a1.text]);
    assert.equal(a2.log.cache_key, a1.log.cache_key, 'a hit names the answer it reused');
    const b2 = await ask(t, body, as.site(B));
    assert.deepEqual([b2.cache, b2.text, b2.log.cache_key], ['hit', b1.text, b1.log.cache_key]);
  },

  async 'exact: the system prompt is part of the key, within and across sites'(t, tag) {
    const question = `Describe the return policy ${tag}`;
    const pirate = q(question, { temperature: 0, system: 'Answer as a pirate.' });
    answerWith(t, `Arr ${tag}`);
    const a1 = await ask(t, pirate, as.site(A));
    assert.equal(a1.text, `Arr ${tag}`);
    const plain = await ask(t, q(question, { temperature: 0 }), as.site(A));
    assert.equal(plain.cache, 'miss', 'same site, no instructions: not the pirate answer');
    assert.notEqual(plain.text, a1.text);
    const formal = await ask(t, q(question, { temperature: 0, system: 'Answer formally.' }), as.site(A));
    assert.equal(formal.cache, 'miss');
    const b = await ask(t, pirate, as.site(B));
    assert.equal(b.cache, 'miss', 'same instructions on another site: still not shared');
    assert.notEqual(b.text, a1.text);
    const again = await ask(t, pirate, as.site(A));
    assert.deepEqual([again.cache, again.text], ['hit', a1.text]);
  },

  async 'exact: per user where the site key says so or the session carries context'(t, tag) {
    const body = q(`What is my order status ${tag}`, { temperature: 0 });
    // cache_per_subject on the site key: user Y never gets user X's answer.
    answerWith(t, `Order of X ${tag}`);
    const x1 = await ask(t, body, as.user(U, 'X'));
    assert.equal(x1.text, `Order of X ${tag}`);
    const y1 = await ask(t, body, as.user(U, 'Y'));
    assert.equal(y1.cache, 'miss');
    assert.notEqual(y1.text, x1.text);
    const x2 = await ask(t, body, as.user(U, 'X'));
    assert.deepEqual([x2.cache, x2.text], ['hit', x1.text]);
    // A session with signed context on a site without the setting: per user as well.
    answerWith(t, `Context of X ${tag}`);
    const cx = await ask(t, body, as.user(A, 'X', { ctx: { plan: 'pro' } }));
    assert.equal(cx.text, `Context of X ${tag}`);
    const cy = await ask(t, body, as.user(A, 'Y', { ctx: { plan: 'free' } }));
    assert.equal(cy.cache, 'miss');
    assert.notEqual(cy.text, cx.text);
    // The same subject name on another site is another person.
    const other = await ask(t, body, as.user(B, 'X', { ctx: { plan: 'pro' } }));
    assert.equal(other.cache, 'miss');
    // Without context or the setting, users of one site share the site's answers (documented).
    const s1 = await ask(t, body, as.user(A, 'P'));
    const s2 = await ask(t, body, as.user(A, 'Q'));
    assert.deepEqual([s1.cache, s2.cache], ['miss', 'hit']);
  },

  async 'semantic: a similar question reuses an answer only in the same site, user and instructions'(t, tag) {
    const first = `What is the capital city of France ${tag}`;
    const similar = `what is the capital city of France ${tag}?`;
    answerWith(t, `Paris for A ${tag}`);
    const a1 = await ask(t, q(first, { temperature: 0.7 }), as.site(A));
    assert.equal(a1.cache, 'miss');
    assert.equal(a1.text, `Paris for A ${tag}`);
    const b1 = await ask(t, q(similar, { temperature: 0.7 }), as.site(B));
    assert.equal(b1.cache, 'miss', 'a similar question from another site');
    assert.equal(b1.upstream, 1);
    assert.notEqual(b1.text, a1.text);
    const a2 = await ask(t, q(similar, { temperature: 0.7 }), as.site(A));
    assert.deepEqual([a2.cache, a2.kind, a2.upstream, a2.text], ['hit', 'semantic', 0, a1.text]);
    assert.ok(a2.log.cache_similarity >= 0.8 && a2.log.cache_similarity <= 1.0000001, `${a2.log.cache_similarity}`);
    assert.equal(a2.log.cache_kind, 'semantic');
    assert.equal(a2.log.cache_key, a1.log.cache_key, 'the key of the stored answer is logged');
    // Other instructions, same site: no semantic reuse.
    const sys = await ask(t, q(similar, { temperature: 0.7, system: 'Answer in French.' }), as.site(A));
    assert.equal(sys.cache, 'miss');
    // Per user: Y's similar question does not get X's answer.
    answerWith(t, `Paris for X ${tag}`);
    const x1 = await ask(t, q(first, { temperature: 0.7 }), as.user(U, 'X'));
    const y1 = await ask(t, q(similar, { temperature: 0.7 }), as.user(U, 'Y'));
    assert.equal(y1.cache, 'miss');
    assert.notEqual(y1.text, x1.text);
    const x2 = await ask(t, q(similar, { temperature: 0.7 }), as.user(U, 'X'));
    assert.deepEqual([x2.cache, x2.kind, x2.text], ['hit', 'semantic', x1.text]);
    answerWith(t, `Paris with context ${tag}`);
    const cx = await ask(t, q(first, { temperature: 0.7 }), as.user(A, 'X', { ctx: { lang: 'en' } }));
    const cy = await ask(t, q(similar, { temperature: 0.7 }), as.user(A, 'Y', { ctx: { lang: 'en' } }));
    assert.equal(cy.cache, 'miss');
    assert.notEqual(cy.text, cx.text);
  },

  async 'concurrency: 50 concurrent misses all store, then all 50 are found'(t, tag) {
    const questions = Array.from({ length: 50 }, (_, i) => `zq${i}x${tag} kv${i * 7}w ${tag}y${i}p jr${i}${i}m`);
    const first = await Promise.all(questions.map((c) => ask(t, q(c, { temperature: 0.7 }), as.site(A))));
    assert.deepEqual(
      first.map((r) => r.cache),
      Array(50).fill('miss'),
    );
    const unstored = first.filter((r) => !r.log.cache_key).map((r) => r.log);
    assert.deepEqual(unstored, [], 'every answer was stored');
    const again = await Promise.all(questions.map((c) => ask(t, q(c, { temperature: 0.7 }), as.site(A))));
    const found = again.filter((r) => r.cache === 'hit' && r.kind === 'semantic');
    assert.equal(found.length, 50, `found ${found.length} of 50`);
    again.forEach((r, i) => assert.equal(r.log.cache_key, first[i].log.cache_key));
  },

  async 'widget control: bypass, refresh and a shorter ttl'(t, tag) {
    const body = q(`Which plans do you offer ${tag}`, { temperature: 0 });
    const by = await ask(t, { ...body, cache: 'bypass' }, as.site(A));
    assert.equal(by.cache, 'bypass');
    assert.equal(by.log.cache, 'bypass');
    assert.equal(by.log.cache_key, null, 'nothing stored');
    answerWith(t, `Old plans ${tag}`);
    const a1 = await ask(t, body, as.site(A));
    assert.deepEqual([a1.cache, a1.text], ['miss', `Old plans ${tag}`]);
    const hit = await ask(t, body, as.site(A));
    assert.equal(hit.cache, 'hit');
    assert.equal((await ask(t, { ...body, cache: 'bypass' }, as.site(A))).upstream, 1, 'bypass skips a stored answer');
    answerWith(t, `New plans ${tag}`);
    const re = await ask(t, { ...body, cache: 'refresh' }, as.site(A));
    assert.deepEqual([re.cache, re.log.cache, re.upstream, re.text], ['refresh', 'refresh', 1, `New plans ${tag}`]);
    assert.equal(re.log.cache_key, a1.log.cache_key, 'stored under the same key, replacing');
    const after = await ask(t, body, as.site(A));
    assert.deepEqual([after.cache, after.text], ['hit', `New plans ${tag}`]);
    // A shorter TTL: the answer is stored for 1 s; a request accepts only answers younger than its ttl.
    const short = q(`Do you ship abroad ${tag}`, { temperature: 0, cache: { ttl: 1 } });
    assert.equal((await ask(t, short, as.site(A))).cache, 'miss');
    assert.equal((await ask(t, short, as.site(A))).cache, 'hit');
    await new Promise((r) => setTimeout(r, 1300));
    const expired = await ask(t, { ...short, cache: undefined }, as.site(A));
    assert.equal(expired.cache, 'miss', 'an answer stored for 1 s is gone for everyone after it');
    const young = await ask(t, { ...short, cache: undefined }, as.site(A));
    assert.equal(young.cache, 'hit');
    assert.equal((await ask(t, { ...short, cache: { ttl: 1 } }, as.site(A))).cache, 'hit', 'younger than 1 s');
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(
      (await ask(t, { ...short, cache: { ttl: 1 } }, as.site(A))).cache,
      'miss',
      "older than the request's ttl",
    );
    const bad = await t.chat({ ...body, cache: { ttl: 0 } }, as.site(A));
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /cache/);
  },

  async 'widget control: a ttl longer than configured is capped'(t, tag) {
    // Configured ttl_seconds is 4 in this edge (see the runner).
    const body = q(`Is there a student discount ${tag}`, { temperature: 0, cache: { ttl: 86400 } });
    assert.equal((await ask(t, body, as.site(A))).cache, 'miss');
    assert.equal((await ask(t, body, as.site(A))).cache, 'hit');
    await new Promise((r) => setTimeout(r, 4300));
    assert.equal((await ask(t, body, as.site(A))).cache, 'miss');
  },
};

/** `cache.shared: true`: site keys share answers (not per-user ones). */
export async function sharedCase(t, tag) {
  const body = q(`Where is your office ${tag}`, { temperature: 0 });
  answerWith(t, `Shared answer ${tag}`);
  const a = await ask(t, body, as.site(A));
  const b = await ask(t, body, as.site(B));
  assert.deepEqual([b.cache, b.text, b.log.cache_key], ['hit', a.text, a.log.cache_key]);
  const x = await ask(t, body, as.user(U, 'X'));
  assert.equal(x.cache, 'miss', 'a per-user site key is never shared');
}

/** `max_entries` (5 in this edge) bounds an index: the oldest stored go first. */
export async function boundedCase(t, tag) {
  const questions = Array.from({ length: 8 }, (_, i) => `bq${i}r${tag} ok${i * 3}zz mm${i}${tag}n`);
  for (const c of questions) await ask(t, q(c, { temperature: 0.7 }), as.site(A));
  // Newest first, so the misses (which store again) come last.
  const kinds = [];
  for (const c of [...questions].reverse()) kinds.push((await ask(t, q(c, { temperature: 0.7 }), as.site(A))).kind);
  assert.deepEqual(kinds, ['semantic', 'semantic', 'semantic', 'semantic', 'semantic', null, null, null]);
}

const sdkCalls = (t) => t.up.requests().filter((r) => /\/(chat\/completions|messages)$/.test(r.path)).length;

/** Per-request control and scoping on the SDK routes (`cache.sdk: true`), through the official SDKs. */
export const sdkCases = {
  async 'sdk: temperature 0 is cached per site key; bypass, refresh and ttl by header'({ t, OpenAI }, tag) {
    const client = (key) => new OpenAI({ apiKey: key, baseURL: `${t.url}/v1`, maxRetries: 0 });
    const a = client(A);
    const req = { model: 'fast', temperature: 0, messages: [{ role: 'user', content: `SDK question ${tag}` }] };
    const call = async (c, opts) => {
      const before = sdkCalls(t);
      const { data, response } = await c.chat.completions.create(req, opts).withResponse();
      const log = await t.logFor(response.headers.get('x-request-id'));
      return { data, cache: response.headers.get('x-edgechat-cache'), log, upstream: sdkCalls(t) - before };
    };
    const m1 = await call(a);
    assert.deepEqual([m1.cache, m1.upstream], ['miss', 1]);
    const h1 = await call(a);
    assert.deepEqual(
      [h1.cache, h1.upstream, h1.log.cache_kind, h1.log.cache_key],
      ['hit', 0, 'exact', m1.log.cache_key],
    );
    assert.deepEqual(h1.data, m1.data, 'the stored response, byte for byte');
    const other = await call(client(B));
    assert.deepEqual([other.cache, other.upstream], ['miss', 1], 'another site key');
    const by = await call(a, { headers: { 'x-edgechat-cache': 'bypass' } });
    assert.deepEqual([by.cache, by.upstream], ['bypass', 1]);
    answerWith(t, `Refreshed ${tag}`);
    const re = await call(a, { headers: { 'x-edgechat-cache': 'refresh' } });
    assert.deepEqual([re.cache, re.upstream, re.log.cache_key], ['refresh', 1, m1.log.cache_key]);
    assert.equal(re.data.choices[0].message.content, `Refreshed ${tag}`);
    const now = await call(a);
    assert.deepEqual(
      [now.cache, now.data.choices[0].message.content],
      ['hit', `Refreshed ${tag}`],
      'the refreshed answer is stored now',
    );
    // Sampling requests go to the provider unless they ask for the cache.
    const sampled = { ...req, temperature: 0.7 };
    const s1 = await a.chat.completions.create(sampled).withResponse();
    assert.equal(s1.response.headers.get('x-edgechat-cache'), 'bypass');
    const use = { headers: { 'x-edgechat-cache': 'use', 'x-edgechat-cache-ttl': '1' } };
    assert.equal(
      (await a.chat.completions.create(sampled, use).withResponse()).response.headers.get('x-edgechat-cache'),
      'miss',
    );
    assert.equal(
      (await a.chat.completions.create(sampled, use).withResponse()).response.headers.get('x-edgechat-cache'),
      'hit',
    );
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(
      (await a.chat.completions.create(sampled, use).withResponse()).response.headers.get('x-edgechat-cache'),
      'miss',
      'ttl 1 s',
    );
    await assert.rejects(
      a.chat.completions.create(req, { headers: { 'x-edgechat-cache': 'always' } }),
      (e) => e.status === 400,
    );
  },

  async 'sdk: streams are replayed as streamed; Anthropic messages too'({ t, OpenAI, Anthropic }, tag) {
    const a = new OpenAI({ apiKey: A, baseURL: `${t.url}/v1`, maxRetries: 0 });
    const req = {
      model: 'fast',
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: `SDK stream ${tag}` }],
    };
    const run = async () => {
      const { data: stream, response } = await a.chat.completions.create(req).withResponse();
      let text = '';
      let usage = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        usage = chunk.usage ?? usage;
      }
      return { text, usage, cache: response.headers.get('x-edgechat-cache') };
    };
    const first = await run();
    const second = await run();
    assert.equal(first.cache, 'miss');
    assert.equal(second.cache, 'hit');
    assert.ok(first.text.length > 10);
    assert.deepEqual([second.text, second.usage], [first.text, first.usage]);
    const b = new OpenAI({ apiKey: B, baseURL: `${t.url}/v1`, maxRetries: 0 });
    const { response } = await b.chat.completions.create(req).withResponse();
    assert.equal(response.headers.get('x-edgechat-cache'), 'miss');
    await response.text();

    const claude = new Anthropic({ apiKey: A, baseURL: t.url, maxRetries: 0 });
    const mreq = {
      model: 'smart',
      max_tokens: 100,
      temperature: 0,
      messages: [{ role: 'user', content: `SDK anthropic ${tag}` }],
    };
    const m1 = await claude.messages.create(mreq).withResponse();
    const m2 = await claude.messages.create(mreq).withResponse();
    assert.deepEqual(
      [m1.response.headers.get('x-edgechat-cache'), m2.response.headers.get('x-edgechat-cache')],
      ['miss', 'hit'],
    );
    assert.deepEqual(m2.data, m1.data);

    const rreq = { model: 'resp', temperature: 0, input: `SDK responses ${tag}` };
    const r1 = await a.responses.create(rreq).withResponse();
    const r2 = await a.responses.create(rreq).withResponse();
    assert.deepEqual(
      [r1.response.headers.get('x-edgechat-cache'), r2.response.headers.get('x-edgechat-cache')],
      ['miss', 'hit'],
    );
    assert.equal(r2.data.output_text, r1.data.output_text);
  },
};

/** Without `cache.sdk` the SDK routes always go to the provider. */
export async function sdkOffCase({ t, OpenAI }, tag) {
  const a = new OpenAI({ apiKey: A, baseURL: `${t.url}/v1`, maxRetries: 0 });
  const req = { model: 'fast', temperature: 0, messages: [{ role: 'user', content: `SDK off ${tag}` }] };
  const before = sdkCalls(t);
  for (let i = 0; i < 2; i++) {
    const { response } = await a.chat.completions
      .create(req, { headers: { 'x-edgechat-cache': 'use' } })
      .withResponse();
    assert.equal(response.headers.get('x-edgechat-cache'), 'bypass');
  }
  assert.equal(sdkCalls(t) - before, 2);
}
