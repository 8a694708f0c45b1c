// Reading server-sent events in the JS tests, through npm `eventsource-parser` (the WHATWG parsing rules), instead
// of a hand-written reader per suite.
//
//   import { parseSse, readSse, sseStream } from '../support/sse.mjs';
//   const events = await readSse(res);             // [{ id, event, data }] once the body has ended
//   const s = sseStream(res);                      // incremental: await s.next() -> event or null; s.cancel()
//   parseSse(text, { json: false })                // from a string; `data` kept as text
//
// An event is `{ id, event, data, retry }`: `id` null when the event set none, `event` 'message' when it named
// none, `data` JSON-parsed when it parses (`[DONE]` and other text stay strings) unless `json: false`. Comments
// (keep-alives) are not events; `comments` counts them on the result of parseSse/readSse. A final event without its
// blank line is still delivered when the body ends (a test should see what arrived, even from a cut stream).
import { createParser } from 'eventsource-parser';

function decodeData(raw, json) {
  if (!json) return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function parser(onEvent, { json = true } = {}) {
  let retry = null;
  let comments = 0;
  const p = createParser({
    onEvent: (e) => onEvent({ id: e.id ?? null, event: e.event ?? 'message', data: decodeData(e.data, json), retry }),
    onRetry: (ms) => {
      retry = ms;
    },
    onComment: () => {
      comments += 1;
    },
  });
  return {
    feed: (text) => p.feed(text),
    end: () => p.feed('\n\n'),
    comments: () => comments,
  };
}

/** Parses a whole SSE text into events; the array also has `comments` (the number of comment lines). */
export function parseSse(text, options) {
  const events = [];
  const p = parser((e) => events.push(e), options);
  p.feed(text);
  p.end();
  events.comments = p.comments();
  return events;
}

/** Reads a whole SSE response body into events (see parseSse). */
export async function readSse(res, options) {
  return parseSse(await res.text(), options);
}

/** The `data` of each event, as text: what an OpenAI-style stream's chunks are (`[DONE]` last). */
export async function readSseData(res) {
  return (await readSse(res, { json: false })).map((e) => e.data);
}

/**
 * Reads events from a response as they arrive: `next()` resolves with the next event, or null once the body has
 * ended; `cancel()` drops the connection.
 */
export function sseStream(res, options) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const queue = [];
  let ended = false;
  const p = parser((e) => queue.push(e), options);
  return {
    async next() {
      for (;;) {
        if (queue.length) return queue.shift();
        if (ended) return null;
        const { done, value } = await reader.read();
        if (done) {
          ended = true;
          p.feed(decoder.decode());
          p.end();
        } else {
          p.feed(decoder.decode(value, { stream: true }));
        }
      }
    },
    async cancel() {
      await reader.cancel().catch(() => {});
    },
  };
}
