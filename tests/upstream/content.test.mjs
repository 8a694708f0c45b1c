// The mock upstream validates file content parts (images, PDFs) as each provider does: well-formed parts are
// accepted and recorded (`files`: type, size, image dimensions); malformed ones get the provider's 400 shape.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from './server.mjs';
import { imageInfo, pngOf } from './content.mjs';

let up;
const OA = { authorization: 'Bearer sk-test-openai-0000', 'content-type': 'application/json' };
const AN = { 'x-api-key': 'sk-ant-test-0000', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };

before(async () => {
  up = await startUpstream({ delayMs: 1 });
});
after(() => up.close());
beforeEach(() => up.reset());

const PNG = pngOf(640, 480).toString('base64');
const PDF = Buffer.from('%PDF-1.4\n%EOF\n').toString('base64');

async function post(path, headers, body) {
  const res = await fetch(up.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const chat = (content) => post('/v1/chat/completions', OA, { model: 'gpt-4o', messages: [{ role: 'user', content }] });
const responses = (content) => post('/v1/responses', OA, { model: 'gpt-4o', input: [{ role: 'user', content }] });
const messages = (content) =>
  post('/v1/messages', AN, { model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content }] });

test('image headers: PNG, GIF, JPEG and WebP dimensions', () => {
  assert.deepEqual(imageInfo(pngOf(3, 2)), { type: 'image/png', width: 3, height: 2 });
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 20, 0, 30, 3, 1, 0x22, 0]);
  assert.deepEqual(imageInfo(jpeg), { type: 'image/jpeg', width: 30, height: 20 });
  const gif = Buffer.from('GIF89a\x05\x00\x07\x00', 'latin1');
  assert.deepEqual(imageInfo(gif), { type: 'image/gif', width: 5, height: 7 });
  assert.equal(imageInfo(Buffer.from('not an image')), null);
});

test('chat completions: image_url and file parts are accepted and recorded', async () => {
  const r = await chat([
    { type: 'text', text: 'What is this?' },
    { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
    { type: 'image_url', image_url: { url: 'https://img.example/cat.jpg', detail: 'low' } },
    { type: 'file', file: { filename: 'a.pdf', file_data: `data:application/pdf;base64,${PDF}` } },
  ]);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(up.requests().at(-1).files, [
    { kind: 'image', mediaType: 'image/png', width: 640, height: 480, size: 33 },
    { kind: 'image', url: 'https://img.example/cat.jpg' },
    { kind: 'document', mediaType: 'application/pdf', size: 14 },
  ]);
});

test('chat completions: malformed parts get OpenAI 400s naming the param', async () => {
  const cases = [
    [{ type: 'image', url: 'x' }, 'messages[0].content[0].type', /Invalid value: 'image'/],
    [{ type: 'image_url' }, 'messages[0].content[0].image_url', /Missing required parameter/],
    [
      { type: 'image_url', image_url: { url: 'data:image/tiff;base64,AAAA' } },
      'messages[0].content[0].image_url.url',
      /unsupported MIME type 'image\/tiff'/,
    ],
    [{ type: 'image_url', image_url: { url: PNG } }, 'messages[0].content[0].image_url.url', /Invalid image URL/],
    [
      { type: 'image_url', image_url: { url: 'data:image/png;base64,bm90IGFuIGltYWdl' } },
      'messages[0].content[0].image_url.url',
      /unsupported image/,
    ],
    [{ type: 'file', file: { file_data: PDF } }, 'messages[0].content[0].file.file_data', /data URL/],
  ];
  for (const [part, param, message] of cases) {
    const r = await chat([part]);
    assert.equal(r.status, 400, JSON.stringify(part));
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.equal(r.json.error.param, param);
    assert.match(r.json.error.message, message);
  }
});

test('responses: input_image needs detail; input_file by data or URL', async () => {
  const ok = await responses([
    { type: 'input_image', image_url: `data:image/png;base64,${PNG}`, detail: 'auto' },
    { type: 'input_file', filename: 'a.pdf', file_data: `data:application/pdf;base64,${PDF}` },
    { type: 'input_file', file_url: 'https://docs.example/a.pdf' },
    { type: 'input_text', text: 'Compare.' },
  ]);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(up.requests().at(-1).files.length, 3);
  const bad = await responses([{ type: 'input_image', image_url: `data:image/png;base64,${PNG}` }]);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.param, 'input[0].content[0].detail');
  const wrong = await responses([{ type: 'image_url', image_url: { url: 'https://x/a.png' } }]);
  assert.equal(wrong.json.error.param, 'input[0].content[0].type');
});

test('anthropic: image and document blocks with base64 or url sources; errors in its shape', async () => {
  const ok = await messages([
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    { type: 'document', source: { type: 'url', url: 'https://docs.example/a.pdf' } },
    { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'a.pdf' },
    { type: 'text', text: 'What is this?' },
  ]);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(up.requests().at(-1).files[0].width, 640);
  const cases = [
    [
      { type: 'image', source: { type: 'base64', media_type: 'image/tiff', data: PNG } },
      /media_type: Input should be 'image\/jpeg', 'image\/png', 'image\/gif' or 'image\/webp'/,
    ],
    [
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG } },
      /does not match the provided media type image\/jpeg/,
    ],
    [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }, /base64\.data: Field required/],
    [{ type: 'image', source: { type: 'url', url: 'ftp://x/a.png' } }, /valid URL/],
    [{ type: 'image', source: { type: 'file', file_id: 'f' } }, /does not match any of the expected tags/],
    [
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PNG } },
      /PDF specified was not valid/,
    ],
  ];
  for (const [part, message] of cases) {
    const r = await messages([part, { type: 'text', text: 'x' }]);
    assert.equal(r.status, 400, JSON.stringify(part));
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.match(r.json.error.message, /^messages\.0\.content\.0/);
    assert.match(r.json.error.message, message);
  }
});
