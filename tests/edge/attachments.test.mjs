// Attachments through the edge, in workerd and on plain Node: each provider gets its own content parts, model
// capabilities (`vision`, `documents`) and the limits (`max_attachments`, `max_attachment_bytes`,
// `attachment_types`, site-key overrides) refuse clearly before any provider request, the body limit makes room for
// base64 files, the caches tell images apart, and the SDK routes translate file parts between formats.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readSse } from '../support/edge.mjs';
import { pngOf } from '../upstream/content.mjs';
import { MODELS, RUNTIMES, config, setup } from './common.mjs';

const SITE = 'pk_tight';
const OPEN = 'pk_open';
const png = (w, h, pad = 0) => Buffer.concat([pngOf(w, h), Buffer.alloc(pad)]).toString('base64');
const PDF = Buffer.from('%PDF-1.4\n%EOF\n').toString('base64');
const image = (data, more = {}) => ({ kind: 'image', media_type: 'image/png', data, ...more });
const ask = (text, attachments, more = {}) => ({ messages: [{ role: 'user', content: text, attachments }], ...more });

const edgeConfig = config({
  models: { ...MODELS, blind: { provider: 'openai-chat', model: 'gpt-4o-mini', vision: false, documents: false } },
  site_keys: {
    [OPEN]: { origins: ['*'], allow_no_origin: true },
    [SITE]: { origins: ['*'], max_attachments: 1, attachment_types: ['image/jpeg'] },
  },
  cache: { semantic: { enabled: true, threshold: 0.8, provider: 'openai-chat' } },
  limits: { max_body_bytes: 4096, max_attachments: 3, max_attachment_bytes: 40_000 },
});

for (const runtime of RUNTIMES) {
  describe(`attachments (${runtime})`, () => {
    let t;
    before(async () => {
      const s = await setup({ edgeConfig, runtime });
      // Every request carries a site key (the open one unless a test names another).
      const key = (h) => ({ 'x-edgechat-site-key': OPEN, ...h });
      t = { ...s, chat: (b, h = {}) => s.chat(b, key(h)), post: (p, b, h = {}) => s.post(p, b, key(h)) };
    });
    after(() => t?.stop());

    const sent = () => t.up.requests().at(-1);
    async function refused(res, kind, message) {
      const before = t.up.requests().length;
      const body = await res.json();
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.error.type, kind);
      assert.equal(body.error.param, 'messages');
      assert.match(body.error.message, message);
      assert.equal(t.up.requests().length, before, 'nothing reached the provider');
    }

    test('/api/config tells the widget what each model takes and the limits', async () => {
      const c = await (
        await fetch(`${t.edge.url}/api/config`, {
          headers: { 'x-edgechat-site-key': OPEN, origin: 'https://site.example' },
        })
      ).json();
      const m = Object.fromEntries(c.models.map((x) => [x.alias, x]));
      assert.deepEqual(
        [m.fast.vision, m.fast.documents, m.smart.vision, m.local.vision, m.blind.vision],
        [true, true, true, false, false],
      );
      assert.equal(c.limits.max_attachments, 3);
      assert.equal(c.limits.max_attachment_bytes, 40_000);
      assert.ok(c.limits.attachment_types.includes('application/pdf'));
      const tight = await fetch(`${t.edge.url}/api/config`, {
        headers: { 'x-edgechat-site-key': SITE, origin: 'https://site.example' },
      });
      const tl = (await tight.json()).limits;
      assert.deepEqual([tl.max_attachments, tl.attachment_types], [1, ['image/jpeg']]);
    });

    test('each provider gets its own content parts; a 30 KB image passes a 4 KB text body limit', async () => {
      const data = png(800, 600, 30_000);
      for (const [model, check] of [
        ['fast', (b) => assert.equal(b.messages[0].content[0].image_url.url, `data:image/png;base64,${data}`)],
        [
          'smart',
          (b) => assert.deepEqual(b.messages[0].content[0].source, { type: 'base64', media_type: 'image/png', data }),
        ],
        ['resp', (b) => assert.equal(b.input[0].content[0].type, 'input_image')],
      ]) {
        const res = await t.chat(ask('What is in the picture?', [image(data, { width: 800, height: 600 })], { model }));
        assert.equal(res.status, 200, await res.clone().text());
        const events = await readSse(res);
        assert.ok(
          events.some((e) => e.event === 'done'),
          model,
        );
        check(sent().body);
        assert.deepEqual(
          sent().files.map((f) => [f.kind, f.width, f.height]),
          [['image', 800, 600]],
          model,
        );
      }
      const doc = { kind: 'document', media_type: 'application/pdf', data: PDF, name: 'r.pdf' };
      const res = await t.chat(ask('Summarize', [doc], { model: 'smart' }));
      assert.equal(res.status, 200);
      await res.text();
      assert.equal(sent().body.messages[0].content[0].type, 'document');
    });

    test('capability and limit refusals name the rule; nothing reaches the provider', async () => {
      const small = png(10, 10);
      await refused(
        await t.chat(ask('x', [image(small)], { model: 'local' })),
        'attachment_not_supported',
        /"local" does not take images \(vision/,
      );
      const doc = { kind: 'document', media_type: 'application/pdf', data: PDF };
      await refused(await t.chat(ask('x', [doc], { model: 'blind' })), 'attachment_not_supported', /documents/);
      await refused(
        await t.chat(
          ask(
            'x',
            [1, 2, 3, 4].map(() => image(small)),
          ),
        ),
        'too_many_attachments',
        /4 attachments; at most 3/,
      );
      await refused(
        await t.chat(ask('x', [image(png(10, 10, 41_000))])),
        'attachment_too_large',
        /max_attachment_bytes/,
      );
      await refused(
        await t.chat(ask('x', [{ kind: 'image', media_type: 'image/png', url: 'http://img.example/a.png' }])),
        'invalid_attachment',
        /messages\[0\]\.attachments\[0\]: url must be an https/,
      );
      await refused(await t.chat(ask('x', [image(`data:image/png;base64,${small}`)])), 'invalid_attachment', /base64/);
      await refused(
        await t.chat(ask('x', [image(small)]), { 'x-edgechat-site-key': SITE }),
        'attachment_type_not_allowed',
        /image\/png/,
      );
      await refused(
        await t.chat(
          ask('x', [
            { ...image(small), media_type: 'image/jpeg' },
            { ...image(small), media_type: 'image/jpeg' },
          ]),
          {
            'x-edgechat-site-key': SITE,
          },
        ),
        'too_many_attachments',
        /at most 1/,
      );
    });

    test('the caches tell images apart: same text, another image is another answer', async () => {
      const calls = () => t.up.requests().filter((r) => r.path.endsWith('/chat/completions')).length;
      const once = async (data) => {
        const before = calls();
        const res = await t.chat(ask('Describe this picture in detail', [image(data)], { temperature: 0 }));
        assert.equal(res.status, 200);
        await readSse(res);
        return { cache: res.headers.get('x-edgechat-cache'), upstream: calls() - before };
      };
      const cat = png(20, 20, 100);
      const dog = png(30, 30, 100);
      assert.deepEqual(await once(cat), { cache: 'miss', upstream: 1 });
      await new Promise((r) => setTimeout(r, 300)); // the answer is stored after the stream ends
      assert.deepEqual(await once(cat), { cache: 'hit', upstream: 0 });
      const other = await once(dog);
      assert.equal(other.upstream, 1, 'not served from the exact or the semantic cache');
    });

    test('SDK routes translate file parts between formats and check them natively', async () => {
      const data = png(64, 48);
      // OpenAI Chat Completions in, Anthropic out.
      let res = await t.post('/v1/chat/completions', {
        model: 'smart',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is it?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${data}` } },
            ],
          },
        ],
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.json();
      assert.equal(sent().path, '/v1/messages');
      assert.deepEqual(sent().body.messages[0].content.slice(0, 2), [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data } },
        { type: 'text', text: 'What is it?' },
      ]);
      // Anthropic Messages in, OpenAI Chat out (a PDF too).
      res = await t.post('/v1/messages', {
        model: 'fast',
        max_tokens: 50,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'url', url: 'https://img.example/cat.png' } },
              {
                type: 'document',
                source: { type: 'base64', media_type: 'application/pdf', data: PDF },
                title: 'r.pdf',
              },
              { type: 'text', text: 'Compare' },
            ],
          },
        ],
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.json();
      assert.deepEqual(sent().body.messages.at(-1).content, [
        { type: 'image_url', image_url: { url: 'https://img.example/cat.png' } },
        { type: 'file', file: { filename: 'r.pdf', file_data: `data:application/pdf;base64,${PDF}` } },
        { type: 'text', text: 'Compare' },
      ]);
      // Native pass-through is checked too: the local model takes no images.
      const before = t.up.requests().length;
      res = await t.post('/v1/chat/completions', {
        model: 'local',
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${data}` } }] },
        ],
      });
      const body = await res.json();
      assert.equal(res.status, 400);
      assert.equal(body.error.type, 'attachment_not_supported');
      assert.match(body.error.message, /messages\[0\]\.content\[0\]/);
      assert.equal(t.up.requests().length, before);
      // A document by URL cannot go to Chat Completions: refused before the provider, naming why.
      res = await t.post('/v1/messages', {
        model: 'fast',
        max_tokens: 50,
        messages: [
          { role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://d.example/a.pdf' } }] },
        ],
      });
      assert.equal(res.status, 400);
      assert.match((await res.json()).error.message, /not by URL/);
    });

    // Last: the edge answers 413 before reading the upload, which may leave this origin's connection unusable.
    test('a body over the limit with its files counted is 413 before anything is parsed', async () => {
      const huge = await t.chat(
        ask(
          'x',
          [1, 2, 3, 4].map(() => image(png(10, 10, 40_000))),
        ),
      );
      assert.equal(huge.status, 413);
      await huge.text();
    });
  });
}
