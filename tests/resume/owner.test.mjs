// Only the creator may resume or stop a stream: same origin, same site key, same session subject.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startStack, chat, resume, stop, text, events, CONFIG } from './helpers.mjs';

const SESSION_SECRET = 'test-session-secret-0000';
function token(sub) {
  const payload = Buffer.from(JSON.stringify({ sub, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
  return `${payload}.${createHmac('sha256', SESSION_SECRET).update(payload).digest('base64url')}`;
}
const as = (site, sub) => ({
  'x-edgechat-site-key': site,
  ...(sub ? { authorization: `Bearer ${token(sub)}` } : {}),
});

let s;
before(async () => {
  const config = {
    ...CONFIG,
    allowed_origins: ['http://127.0.0.1:5173', 'http://localhost:5173'],
    site_keys: {
      pk_test_a: { origins: ['http://127.0.0.1:5173', 'http://localhost:5173'] },
      pk_test_b: { origins: ['http://127.0.0.1:5173'] },
    },
  };
  s = await startStack({ config, vars: { SESSION_SECRET } });
});
after(async () => {
  await s?.stop();
});

test('resume and stop need the same origin, site key and session subject', async () => {
  s.up.queue({ scenario: 'hold', after: 4 });
  const res = await chat(
    s.edge,
    { messages: [{ role: 'user', content: 'mine mock:words=20' }] },
    { headers: as('pk_test_a', 'alice') },
  );
  assert.equal(res.status, 200);
  const id = res.headers.get('x-edgechat-stream-id');
  await s.up.waitFor((reqs) => reqs.some((r) => r.held));
  for (const [label, headers] of [
    ['another subject', as('pk_test_a', 'mallory')],
    ['no session', as('pk_test_a')],
    ['another site key', as('pk_test_b', 'alice')],
    ['another origin', { ...as('pk_test_a', 'alice'), origin: 'http://localhost:5173' }],
  ]) {
    const r = await resume(s.edge, id, 0, { headers });
    assert.equal(r.status, 404, `resume as ${label}`);
    assert.equal((await r.json()).error.type, 'not_found');
    const st = await stop(s.edge, id, { headers });
    assert.equal(st.status, 404, `stop as ${label}`);
  }
  assert.equal(s.up.requests()[0].aborted, false, 'nobody else stopped it');
  // a bad token is refused before any stream lookup
  const bad = await resume(s.edge, id, 0, {
    headers: { 'x-edgechat-site-key': 'pk_test_a', authorization: 'Bearer e30.bad' },
  });
  assert.equal(bad.status, 401);
  // the owner can
  s.up.release();
  const mine = await resume(s.edge, id, 2, { headers: as('pk_test_a', 'alice') });
  assert.equal(mine.status, 200);
  const ev = events(await text(mine));
  assert.equal(ev[0].id, 3);
  assert.equal(ev.at(-1).name, 'done');
  await text(res);
});
