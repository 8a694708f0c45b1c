// The edge's calls into the runtime, one crossing of the wasm boundary per step instead of one per header, field or
// object (worker/src/rt/js.rs binds them): the one place the edge's wasm touches the fetch API's objects. Cutting a
// request's crossings from ~466 to ~256 this way changed neither its latency nor its CPU beyond noise
// (bench/edge/README.md, 2026-12-07 17:55): the crossings are not where the edge's time goes. Header lists travel
// as one string, `name\nvalue\n…`: names and values cannot hold a newline.

/**
 * A `Headers` from `name\nvalue\n…` lines, appended in order (a repeated name combines). `skipInvalid`: a pair the
 * runtime refuses is left out (a response's headers) instead of failing the call (a request's).
 */
function headersOf(lines, skipInvalid = false) {
  const headers = new Headers();
  const p = lines ? lines.split('\n') : [];
  for (let i = 0; i + 1 < p.length; i += 2) {
    try {
      headers.append(p[i], p[i + 1]);
    } catch (e) {
      if (!skipInvalid) throw e;
    }
  }
  return headers;
}

/**
 * `fetch(url, init)`. The body (a view of wasm memory) is copied (`slice`) before the runtime reads it. Given a
 * `Request` object instead of a URL and an init, Node's fetch pipes its body through one more stream and writes it
 * as an iterable (~0.4 ms more per request there, measured).
 */
export function edgeFetch(url, method, lines, body, signal) {
  return fetch(url, { method, headers: headersOf(lines), body: body.length ? body.slice() : undefined, signal });
}

/** A response with a body: a string (none when empty), or a stream (or none: `undefined`). */
export function edgeResponse(status, lines, body) {
  return new Response(body === '' ? null : body, { status, headers: headersOf(lines, true) });
}

/**
 * A streaming response and the writer that feeds it: workerd's native `IdentityTransformStream` where the runtime
 * has it (bytes only, as every write is; the runtime reads its readable side itself, chunk by chunk), else a
 * standard `TransformStream` (Node). `onClosed` is called when `writer.closed` settles, either way: the client went
 * away, or the stream ended. Returns `[response, writer]`.
 */
export function edgeStreamResponse(status, lines, onClosed) {
  const ts = typeof IdentityTransformStream === 'function' ? new IdentityTransformStream() : new TransformStream();
  const writer = ts.writable.getWriter();
  writer.closed.then(onClosed, onClosed);
  return [new Response(ts.readable, { status, headers: headersOf(lines, true) }), writer];
}

/**
 * One read of `reader`: `onChunk(bytes, n)` with a chunk of `n` bytes (a string chunk as its UTF-8), or
 * `onChunk(undefined, -1)` at the end of the stream and `onChunk(undefined, -2)` for a chunk that is not bytes;
 * `onError(e)` when the read fails. Returns the promise that settles once the callback has run.
 */
export function edgeRead(reader, onChunk, onError) {
  return reader.read().then((r) => {
    if (r.done) return onChunk(undefined, -1);
    const v = typeof r.value === 'string' ? new TextEncoder().encode(r.value) : r.value;
    return v instanceof Uint8Array ? onChunk(v, v.length) : onChunk(undefined, -2);
  }, onError);
}

/** One write of a copy of `bytes` (a view of wasm memory); `ok` or `err` is called when it settles. */
export function edgeWrite(writer, bytes, ok, err) {
  writer.write(bytes.slice()).then(ok, err);
}

/**
 * One mark of a build with the `phase-marks` feature (src/rt/marks.rs): `Date.now()` at point `k` of a request.
 * The marks since the last print are printed as one `MARKS [k, ms, …]` line at a `write` that follows others; a
 * write alone (each later chunk) is dropped.
 */
let marks = [];
export function edgeMark(k, write) {
  marks.push(k, Date.now());
  if (!write) return;
  if (marks.length > 2) console.log(`MARKS ${JSON.stringify(marks)}`);
  marks = [];
}

/** `ctx.waitUntil(promise)`, when the runtime has it. */
export function edgeWaitUntil(ctx, promise) {
  if (typeof ctx?.waitUntil === 'function') ctx.waitUntil(promise);
}

/**
 * The request headers named in `names` (`name\n…`), in that order, as one string: each value as `+value`, or `-`
 * when the request has no such header, joined by `\n`.
 */
export function edgeRequestHeaders(request, names) {
  const h = request.headers;
  return names
    .split('\n')
    .map((n) => {
      const v = h.get(n);
      return v === null ? '-' : `+${v}`;
    })
    .join('\n');
}
