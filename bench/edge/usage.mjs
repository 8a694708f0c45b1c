#!/usr/bin/env node
// The usage store's and OpenTelemetry's cost on the hot path (issue #13): the edge's added time to first byte at
// c = 1 with both on (the USAGE Durable Object shards, spans to a local OTLP sink) and with both off
// (`usage.enabled: false`, no OTEL_EXPORTER_OTLP_ENDPOINT), the same build, in the same run, interleaved request by
// request with the mock upstream straight (the baseline each "added" subtracts). Not a timed test: it prints the
// figures and the difference (target: within 0.2 ms median), and checks the "on" edge kept every record and exported
// every span.
//
//   node bench/edge/usage.mjs [--n 200] [--json] [--control] [--swap]
//     --control: both edges off (an A/A run); --swap: start the "off" edge's process first
import http from 'node:http';
import { loadavg } from 'node:os';
import { startEdge } from '../../tests/support/edge.mjs';
import { streamOnce, median, pct, ms, option } from './measure.mjs';
import { benchVars, startUpstreamProcess, SITE_KEY } from './run.mjs';

const n = Number(option('n', 200));
// --control: both edges off (an A/A run: the difference two workerd processes show with nothing changed).
const control = process.argv.includes('--control');
const ADMIN_TOKEN = 'bench-admin-token-0000';

/** A local OTLP/HTTP sink: 200 for every export, counting the spans. */
async function startSink() {
  let spans = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      try {
        for (const rs of JSON.parse(body).resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
      } catch {
        /* counted as nothing */
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, spans: () => spans, close: () => server.close() };
}

function vars(upUrl, on, sinkUrl) {
  const v = benchVars(upUrl);
  const config = JSON.parse(v.EDGECHAT_CONFIG);
  config.usage = { enabled: on };
  v.EDGECHAT_CONFIG = JSON.stringify(config);
  v.ADMIN_TOKEN = ADMIN_TOKEN;
  if (on) v.OTEL_EXPORTER_OTLP_ENDPOINT = sinkUrl;
  return v;
}

const up = await startUpstreamProcess({ recordSends: false });
const sink = await startSink();
const build = process.env.EDGECHAT_EDGE_NO_BUILD !== '1';
// --swap: start the "off" edge first (the process started first answered ~1 ms sooner in A/A runs).
const swap = process.argv.includes('--swap');
const startOn = () => startEdge({ vars: vars(up.url, !control, sink.url), build: build && !swap });
const startOff = () => startEdge({ vars: vars(up.url, false, sink.url), build: build && swap });
const [on, off] = swap ? await startOff().then(async (o) => [await startOn(), o]) : [await startOn(), await startOff()];
const body = { model: 'fast', messages: [{ role: 'user', content: 'bench mock:words=8' }] };
const paths = {
  direct: () =>
    streamOnce(`${up.url}/v1/chat/completions`, {
      headers: { authorization: 'Bearer sk-test-openai-0000' },
      body: { model: 'gpt-4o-mini', stream: true, messages: body.messages },
      format: 'chat',
    }),
  on: () => streamOnce(`${on.url}/api/chat`, { headers: { 'x-edgechat-site-key': SITE_KEY }, body, format: 'widget' }),
  off: () =>
    streamOnce(`${off.url}/api/chat`, { headers: { 'x-edgechat-site-key': SITE_KEY }, body, format: 'widget' }),
};
const ttfb = { direct: [], on: [], off: [] };
const errors = [];
try {
  for (let i = 0; i < 10; i++) for (const f of Object.values(paths)) await f(); // warm-up (not counted)
  const names = Object.keys(paths);
  for (let i = 0; i < n; i++) {
    // Rotate the order every request, so no path always follows another.
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      const r = await paths[name]();
      if (r.error) errors.push(`${name}: ${r.error}`);
      else ttfb[name].push(r.ttfb);
    }
  }
  // The "on" edge kept every request (warm-up included) and exported every span.
  const expected = control ? 0 : n + 10;
  const deadline = Date.now() + 10_000;
  let kept = 0;
  while (Date.now() < deadline) {
    const res = await fetch(`${on.url}/api/admin/usage?group_by=model`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    kept = (await res.json()).totals.requests;
    if (control) break;
    if (kept >= expected && sink.spans() >= expected) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const added = (name) => median(ttfb[name]) - median(ttfb.direct);
  const result = {
    n,
    load: loadavg()[0],
    ttfb_median_ms: { direct: median(ttfb.direct), on: median(ttfb.on), off: median(ttfb.off) },
    ttfb_p99_ms: { direct: pct(ttfb.direct, 99), on: pct(ttfb.on, 99), off: pct(ttfb.off, 99) },
    added_median_ms: { on: added('on'), off: added('off') },
    on_minus_off_median_ms: median(ttfb.on) - median(ttfb.off),
    records_kept: kept,
    spans_exported: sink.spans(),
    expected,
    errors: errors.length,
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else {
    const what = control ? 'A/A control: both edges off' : 'usage store + OTel on vs off';
    console.log(`${what}, /api/chat at c=1, n=${n} each, interleaved (load ${result.load.toFixed(2)})`);
    for (const name of ['direct', 'on', 'off'])
      console.log(`  ${name.padEnd(6)} TTFB median ${ms(median(ttfb[name]))}  p99 ${ms(pct(ttfb[name], 99))}`);
    console.log(`  added TTFB median: on ${ms(result.added_median_ms.on)}, off ${ms(result.added_median_ms.off)}`);
    const d = result.on_minus_off_median_ms;
    console.log(`  on - off (median): ${ms(d)}  (target: within 0.2 ms) ${Math.abs(d) <= 0.2 ? 'OK' : 'OVER'}`);
    console.log(
      `  records kept ${kept}/${expected}, spans exported ${sink.spans()}/${expected}, errors ${errors.length}`,
    );
    if (errors.length) console.log(`  first error: ${errors[0]}`);
  }
} finally {
  await on.stop();
  await off.stop();
  sink.close();
  await up.close();
}
