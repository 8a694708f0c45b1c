// worker/src/rt/glue.mjs, the runtime calls the edge's wasm makes in one crossing each, run on Node's fetch API:
// header lines in order, a response header the runtime refuses left out (a request's refused), the request headers
// read in one call, a stream read handing over bytes and their length (or the end, or a chunk that is not bytes),
// and a streaming response fed by its writer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  edgeFetch,
  edgeRead,
  edgeRequestHeaders,
  edgeResponse,
  edgeStreamResponse,
  edgeWaitUntil,
  edgeWrite,
} from '../../worker/src/rt/glue.mjs';

test('edgeResponse: headers in order, a refused pair left out, an empty body as none', async () => {
  const r = edgeResponse(201, 'x-a\n1\nbad name\nz\nx-a\n2\ncontent-type\ntext/plain', '');
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('x-a'), '1, 2');
  assert.equal(r.headers.get('content-type'), 'text/plain');
  assert.equal([...r.headers.keys()].includes('bad name'), false);
  assert.equal(r.body, null);
  assert.equal(await edgeResponse(200, '', 'hello').text(), 'hello');
});

test('edgeFetch: a header the runtime refuses fails the request instead', () => {
  assert.throws(() => edgeFetch('http://127.0.0.1:9/x', 'POST', 'bad name\nz', new Uint8Array(0), undefined));
});

test('edgeRequestHeaders: each named header as +value, a missing one as -', () => {
  const req = new Request('http://127.0.0.1/', { headers: { origin: 'http://a', 'x-api-key': '' } });
  assert.equal(edgeRequestHeaders(req, 'origin\nauthorization\nx-api-key'), '+http://a\n-\n+');
});

test('edgeRead: bytes with their length, a string as UTF-8, a chunk that is not bytes, the end, an error', async () => {
  const chunks = [new Uint8Array([1, 2, 3]), 'é', 42];
  const stream = new ReadableStream({
    pull(c) {
      if (chunks.length) c.enqueue(chunks.shift());
      else c.close();
    },
  });
  const reader = stream.getReader();
  const got = [];
  const onChunk = (bytes, n) => got.push([bytes ? [...bytes] : bytes, n]);
  for (let i = 0; i < 4; i++) await edgeRead(reader, onChunk, (e) => got.push(['error', String(e)]));
  assert.deepEqual(got, [
    [[1, 2, 3], 3],
    [[0xc3, 0xa9], 2],
    [undefined, -2],
    [undefined, -1],
  ]);
  const failing = new ReadableStream({
    pull(c) {
      c.error(new Error('reset'));
    },
  }).getReader();
  const errors = [];
  await edgeRead(
    failing,
    () => errors.push('chunk'),
    (e) => errors.push(e.message),
  );
  assert.deepEqual(errors, ['reset']);
});

test('edgeStreamResponse and edgeWrite: the writes reach the body, each settles, and closed calls back', async () => {
  let closed = 0;
  const [response, writer] = edgeStreamResponse(200, 'content-type\ntext/event-stream', () => closed++);
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  const settled = [];
  const text = response.text();
  const bytes = new TextEncoder().encode('data: 1\n\n');
  edgeWrite(
    writer,
    bytes,
    () => settled.push('ok'),
    () => settled.push('err'),
  );
  bytes.fill(0); // the write took a copy
  edgeWrite(
    writer,
    new TextEncoder().encode('data: 2\n\n'),
    () => settled.push('ok'),
    () => settled.push('err'),
  );
  await writer.close();
  assert.equal(await text, 'data: 1\n\ndata: 2\n\n');
  assert.deepEqual(settled, ['ok', 'ok']);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(closed, 1);
});

test('edgeWaitUntil: calls ctx.waitUntil when there is one, and nothing otherwise', () => {
  const seen = [];
  const p = Promise.resolve();
  edgeWaitUntil({ waitUntil: (x) => seen.push(x) }, p);
  edgeWaitUntil(undefined, p);
  edgeWaitUntil({}, p);
  assert.deepEqual(seen, [p]);
});
