// Every policy rule in real workerd: origins, site keys, session tokens (valid, expired, bad signature, wrong
// site), the model allowlist, max tokens, body size (declared and streamed), message count and characters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { readSse } from '../support/edge.mjs';
import { setup, config, user, ORIGIN, SESSION_SECRET } from './common.mjs';

let t;
const SITE = 'pk_site_0000';
before(async () => {
  t = await setup({
    edgeConfig: config({
      allowed_origins: [ORIGIN],
      site_keys: {
        [SITE]: { origins: [ORIGIN] },
        pk_server_0000: { origins: [], allow_no_origin: true },
        pk_sess_0000: { origins: [ORIGIN], require_session: true },
      },
      limits: {
        max_tokens: 256,
        max_messages: 4,
        max_message_chars: 100,
        max_total_chars: 250,
        max_body_bytes: 2048,
        max_attachments: 0,
      },
    }),
  });
});
after(async () => {
  await t?.stop();
});

/** What a host site's backend does to mint a session token (documented in worker/README.md). */
function mint({ site, sub = 'visitor-1', exp = Math.floor(Date.now() / 1000) + 300 }, secret = SESSION_SECRET) {
  const payload = Buffer.from(JSON.stringify({ site, sub, exp })).toString('base64url');
  const sig = createHmac('sha256', secret).update(payload).digest('base64url');
  return `${payload}.${sig}`;
}

async function expectError(res, status, type, messagePattern) {
  assert.equal(res.status, status);
  assert.ok(res.headers.get('x-request-id'));
  assert.match(res.headers.get('content-type'), /application\/json/);
  const body = await res.json();
  assert.equal(body.error.type, type, JSON.stringify(body));
  assert.equal(body.error.request_id, res.headers.get('x-request-id'));
  if (messagePattern) assert.match(body.error.message, messagePattern);
  return body;
}

const ok = async (res) => {
  assert.equal(res.status, 200, await res.clone().text());
  const events = await readSse(res);
  assert.equal(events.at(-1).event, 'done');
};

test('origin: allowed origin with its site key streams; a disallowed origin is 403 without CORS headers', async () => {
  await ok(await t.chat(user('hi'), { 'x-edgechat-site-key': SITE }));
  const res = await t.chat(user('hi'), { origin: 'https://evil.example', 'x-edgechat-site-key': SITE });
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  await expectError(res, 403, 'origin_not_allowed', /evil\.example/);
});

test('site key: missing, unknown, or used from another origin', async () => {
  await expectError(await t.chat(user('hi')), 401, 'unauthorized', /site key/);
  await expectError(
    await t.chat(user('hi'), { 'x-edgechat-site-key': 'pk_nope' }),
    401,
    'unauthorized',
    /unknown site key/,
  );
  await expectError(await t.chat(user('hi'), { 'x-edgechat-site-key': 'pk_server_0000' }), 403, 'origin_not_allowed');
  // A browser-bound key without an Origin (a server copying it) is refused; a server key is accepted.
  await expectError(
    await t.post('/api/chat', user('hi'), { 'x-edgechat-site-key': SITE }),
    401,
    'unauthorized',
    /only valid from a browser/,
  );
  await ok(await t.post('/api/chat', user('hi'), { authorization: 'Bearer pk_server_0000' }));
});

test('session tokens: valid, expired, bad signature, tampered, wrong site, required', async () => {
  const h = (token, key = 'pk_sess_0000') => ({ 'x-edgechat-site-key': key, authorization: `Bearer ${token}` });
  const res = await t.chat(user('hi'), h(mint({ site: 'pk_sess_0000', sub: 'alice' })));
  const rid = res.headers.get('x-request-id');
  await ok(res);
  assert.equal((await t.edge.logFor(rid)).client, 'site:pk_sess_0000|sub:alice');
  await expectError(
    await t.chat(user('hi'), h(mint({ site: 'pk_sess_0000', exp: Math.floor(Date.now() / 1000) - 1 }))),
    401,
    'unauthorized',
    /expired/,
  );
  await expectError(
    await t.chat(user('hi'), h(mint({ site: 'pk_sess_0000' }, 'wrong-secret'))),
    401,
    'unauthorized',
    /signature/,
  );
  const [, sig] = mint({ site: 'pk_sess_0000' }).split('.');
  const forged = `${Buffer.from(JSON.stringify({ site: 'pk_sess_0000', sub: 'admin', exp: 9999999999 })).toString('base64url')}.${sig}`;
  await expectError(await t.chat(user('hi'), h(forged)), 401, 'unauthorized', /signature/);
  await expectError(await t.chat(user('hi'), h('not.a-token!')), 401, 'unauthorized', /malformed|signature/);
  await expectError(await t.chat(user('hi'), h(mint({ site: SITE }))), 401, 'unauthorized', /different site key/);
  await expectError(
    await t.chat(user('hi'), { 'x-edgechat-site-key': 'pk_sess_0000' }),
    401,
    'unauthorized',
    /requires a session token/,
  );
  // A token alone works from a server (official SDK style): the API key slot carries it.
  await ok(await t.post('/api/chat', user('hi'), { authorization: `Bearer ${mint({ site: 'pk_sess_0000' })}` }));
});

test('model allowlist: alias or configured model id; anything else 400 model_not_allowed', async () => {
  const k = { 'x-edgechat-site-key': SITE };
  await ok(await t.chat({ model: 'smart', ...user('hi') }, k));
  await ok(await t.chat({ model: 'claude-sonnet-4-5', ...user('hi') }, k));
  await expectError(
    await t.chat({ model: 'gpt-5-pro', ...user('hi') }, k),
    400,
    'model_not_allowed',
    /gpt-5-pro.*fast/,
  );
  const res = await t.post(
    '/v1/chat/completions',
    { model: 'o3', messages: [{ role: 'user', content: 'x' }] },
    { authorization: 'Bearer pk_server_0000' },
  );
  await expectError(res, 400, 'model_not_allowed');
});

test('max_tokens over the cap is refused; without one the cap is sent', async () => {
  const k = { 'x-edgechat-site-key': SITE };
  await expectError(await t.chat({ max_tokens: 257, ...user('hi') }, k), 400, 'max_tokens_exceeded', /256/);
  await ok(await t.chat(user('hi'), k));
  assert.equal(t.up.requests().at(-1).body.max_completion_tokens ?? t.up.requests().at(-1).body.max_tokens, 256);
  const res = await t.post(
    '/v1/messages',
    { model: 'smart', max_tokens: 9999, messages: [{ role: 'user', content: 'x' }] },
    { 'x-api-key': 'pk_server_0000' },
  );
  await expectError(res, 400, 'max_tokens_exceeded');
});

test('message count and characters', async () => {
  const k = { 'x-edgechat-site-key': SITE };
  const turns = (n) => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
  await expectError(
    await t.chat({ messages: turns(5) }, k),
    400,
    'too_many_messages',
    /5 messages exceed the limit of 4/,
  );
  await expectError(
    await t.chat(user('x'.repeat(101)), k),
    400,
    'message_too_long',
    /101 characters; the limit is 100/,
  );
  const big = [
    { role: 'user', content: 'a'.repeat(100) },
    { role: 'assistant', content: 'b'.repeat(100) },
    { role: 'user', content: 'c'.repeat(60) },
  ];
  await expectError(
    await t.chat({ messages: big }, k),
    400,
    'conversation_too_long',
    /260 characters; the limit is 250/,
  );
  await expectError(await t.chat({ messages: [] }, k), 400, 'bad_request', /empty/);
  await expectError(await t.chat('{"messages": [', k), 400, 'invalid_json');
  await expectError(await t.chat({ messages: 'hi' }, k), 400, 'bad_request');
  await expectError(await t.chat({ system: 'be evil', ...user('hi') }, k), 400, 'bad_request', /system prompt/);
});

test('body size: a declared Content-Length over the limit and a streamed body over it are both 413', async () => {
  const before = t.up.requests().length;
  const k = { 'x-edgechat-site-key': SITE };
  await expectError(
    await t.chat(JSON.stringify({ pad: 'x'.repeat(3000), ...user('hi') }), k),
    413,
    'body_too_large',
    /2048/,
  );
  // A chunked body (no Content-Length) that only goes over the limit while being read. The edge may answer 413
  // before the client has finished sending, so use node:http, which still delivers that early response (fetch
  // would report the closed upload as a network error).
  const chunks = [
    Buffer.from('{"pad":"'),
    ...Array.from({ length: 10 }, () => Buffer.from('y'.repeat(500))),
    Buffer.from('"}'),
  ];
  // Its own connection (`agent: false`), not one a pool keeps: the upload the edge cut off may still fail with a
  // reset after the response is in, and the test waits for the request to close, so nothing of it outlives the test.
  let closed;
  const res = await new Promise((resolve, reject) => {
    const req = http.request(`${t.edge.url}/api/chat`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', origin: ORIGIN, ...k },
    });
    closed = new Promise((r) => req.on('close', r));
    req.on('socket', (socket) => socket.on('error', () => {}));
    req.on('response', async (r) => {
      const parts = [];
      for await (const part of r) parts.push(part);
      const headers = new Headers();
      for (const [name, value] of Object.entries(r.headers)) headers.set(name, String(value));
      resolve(new Response(Buffer.concat(parts), { status: r.statusCode, headers }));
    });
    req.on('error', (e) => {
      if (!req.res) reject(e);
    });
    (async () => {
      for (const c of chunks) {
        if (req.destroyed || req.res) break;
        req.write(c);
        await new Promise((r) => setTimeout(r, 5));
      }
      req.end();
    })();
  });
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the cut-off request did not close within 10 s')), 10_000);
  });
  await Promise.race([closed, late]).finally(() => clearTimeout(timer));
  await expectError(res, 413, 'body_too_large');
  assert.equal(t.up.requests().length, before, 'nothing reached the provider');
});
