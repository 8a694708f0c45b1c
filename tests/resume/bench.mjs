// Measures what resumable streams cost: time to the first event byte with and without the STREAMS object, and
// the time to replay a finished stream. Not a test; run: node tests/resume/bench.mjs [runs=20]
import { startStack, chat, resume, text, events } from './helpers.mjs';

const runs = Number(process.argv[2] ?? 20);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const body = { messages: [{ role: 'user', content: 'bench mock:words=24' }] };

async function firstByte(edge) {
  const t0 = performance.now();
  const res = await chat(edge, body);
  const reader = res.body.getReader();
  await reader.read();
  const ms = performance.now() - t0;
  for (;;) if ((await reader.read()).done) break;
  return ms;
}

const out = {};
for (const streams of [false, true]) {
  const s = await startStack({ streams });
  try {
    await firstByte(s.edge); // warm up
    const ttfb = [];
    for (let i = 0; i < runs; i++) ttfb.push(await firstByte(s.edge));
    out[streams ? 'ttfb_ms_with_streams' : 'ttfb_ms_stateless'] = Number(median(ttfb).toFixed(1));
    if (streams) {
      const id = events(await text(await chat(s.edge, body)))[0].data.stream_id;
      const replay = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await text(await resume(s.edge, id, 0));
        replay.push(performance.now() - t0);
      }
      out.full_replay_ms = Number(median(replay).toFixed(1));
    }
  } finally {
    await s.stop();
  }
}
console.log(JSON.stringify({ runs, ...out }));
