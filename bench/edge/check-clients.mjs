#!/usr/bin/env node
// Checks what `node bench/edge/run.mjs --clients distinct` relies on, in the benchmark's own setup (Miniflare, the
// LIMITER Durable Object bound, its storage persisted to a temporary directory so the objects can be counted):
//   1. a `cf-connecting-ip` the client sends reaches the edge through Miniflare's entry worker (which sets the header
//      to the socket's address only when the request has none): the request's log line has it in `client`;
//   2. it selects the limiter: with `concurrent_streams: 1`, a second stream from the same address while the first
//      is open gets 429, one from another address gets 200;
//   3. one limiter object per address: after N requests from N addresses, N objects have storage (each release
//      writes the client's budget), against one object for N requests from one address.
// Exits 1 when any check fails.
//
//   node bench/edge/check-clients.mjs [--n 8]
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchVars, distinctClientIp, startUpstreamProcess } from './run.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SITE_KEY = 'pk_bench_0000';

function parseArgs(argv) {
  const o = { n: 8 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--n') {
      o.n = Number(argv[++i]);
      if (!Number.isInteger(o.n) || o.n < 2 || o.n > 256) throw new Error('--n needs an integer from 2 to 256');
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

/** Files of Durable Object storage under `dir` (workerd writes one `<object id>.sqlite` per object with storage). */
function objectFiles(dir) {
  const out = [];
  const walk = (d, depth) => {
    if (depth > 4) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
      else if (/^[0-9a-f]{64}\.sqlite$/.test(name)) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { startEdge } = await import(join(root, 'tests', 'support', 'edge.mjs'));
  const up = await startUpstreamProcess();
  const persist = mkdtempSync(join(tmpdir(), 'edgechat-bench-clients-'));
  const vars = benchVars(up.url);
  const config = JSON.parse(vars.EDGECHAT_CONFIG);
  config.limits.concurrent_streams = 1;
  vars.EDGECHAT_CONFIG = JSON.stringify(config);
  const edge = await startEdge({ vars, build: process.env.EDGECHAT_EDGE_NO_BUILD !== '1', persist });
  const failures = [];
  const check = (ok, what) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failures.push(what);
  };
  const chat = (text, ip) =>
    fetch(`${edge.url}/api/chat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: 'http://127.0.0.1:8080',
        'x-edgechat-site-key': SITE_KEY,
        ...(ip ? { 'cf-connecting-ip': ip } : {}),
      },
      body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: text }] }),
    });
  const logOf = async (res) => {
    await res.text();
    return edge.logFor(res.headers.get('x-request-id'));
  };
  try {
    // 1. The header reaches the edge; without one, Miniflare's entry worker supplies the socket's address.
    const sent = await logOf(await chat('mock:words=2 one', distinctClientIp(41)));
    check(
      sent.client.endsWith(`|ip:${distinctClientIp(41)}`),
      `cf-connecting-ip ${distinctClientIp(41)} sent -> log client ${JSON.stringify(sent.client)}, limiter ${sent.limiter}`,
    );
    check(sent.limiter === 'durable_object', 'the Durable Object limiter counted it');
    const none = await logOf(await chat('mock:words=2 none'));
    check(
      none.client.endsWith('|ip:127.0.0.1'),
      `no header sent -> log client ${JSON.stringify(none.client)} (Miniflare's entry worker)`,
    );

    // 2. The address selects the limiter: concurrent_streams 1 per client.
    const a = distinctClientIp(50);
    const first = await chat('mock:delay=100 mock:words=10 long', a);
    const same = await chat('mock:words=2 same', a);
    const other = await chat('mock:words=2 other', distinctClientIp(51));
    check(first.status === 200, `first stream from ${a}: HTTP ${first.status}`);
    check(same.status === 429, `second stream from ${a} while the first is open: HTTP ${same.status} (expected 429)`);
    check(other.status === 200, `a stream from ${distinctClientIp(51)} meanwhile: HTTP ${other.status} (expected 200)`);
    await Promise.all([first.text(), same.text(), other.text()]);

    // 3. One limiter object per address.
    await new Promise((r) => setTimeout(r, 300)); // the last releases' storage writes
    const before = objectFiles(persist).length;
    const sequential = async (ips) => {
      for (const ip of ips) await logOf(await chat('mock:words=2 count', ip));
    };
    await sequential(Array.from({ length: opts.n }, () => distinctClientIp(100)));
    await new Promise((r) => setTimeout(r, 300));
    const afterOne = objectFiles(persist).length;
    await sequential(Array.from({ length: opts.n }, (_, i) => distinctClientIp(200 + i)));
    await new Promise((r) => setTimeout(r, 300));
    const afterDistinct = objectFiles(persist).length;
    check(
      afterOne - before === 1,
      `${opts.n} requests from one address: ${afterOne - before} new limiter object(s) with storage (expected 1)`,
    );
    check(
      afterDistinct - afterOne === opts.n,
      `${opts.n} requests from ${opts.n} addresses: ${afterDistinct - afterOne} new limiter objects (expected ${opts.n})`,
    );
  } finally {
    await edge.stop();
    await up.close();
    rmSync(persist, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('all checks passed');
}

main().catch((err) => {
  console.error(`check failed: ${err.stack || err}`);
  process.exit(1);
});
