// Runs a Worker in raw workerd (no Miniflare entry worker in front), for the benchmark's `--runtime raw` mode.
// The modules are copied into a temporary directory next to a generated Cap'n Proto config; outbound fetches may
// reach loopback (workerd's default `restrictPeers` would block the local mock upstream).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const WORKERD = join(root, 'node_modules', '@cloudflare', 'workerd-linux-64', 'bin', 'workerd');

const capnpString = (s) => JSON.stringify(String(s)); // JSON string escapes are valid Cap'n Proto text escapes

/** A free loopback port. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts connections; throws if `child` (named `what`) exits first or `timeoutMs` passes. */
export async function waitListening(port, child, what = 'workerd', timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not start listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts workerd serving one Worker. `modules`: [{ name, path, type: 'esModule' | 'wasm' }] with the entry first
 * (names are the import paths the modules use); `vars`: text bindings; `inspector`: also serve the DevTools
 * inspector protocol (CPU profiles; bench/edge/profile.mjs). Returns { url, pid, inspectorUrl, output, stop }.
 * `EDGECHAT_V8_FLAGS` (space-separated) passes V8 flags to workerd, e.g. `--perf-basic-prof` so `perf record` can
 * name the wasm and JS frames (bench/edge/README.md, "where the CPU goes").
 */
export async function startRawWorkerd({
  modules,
  vars = {},
  compatibilityDate = '2025-09-01',
  compatibilityFlags = [],
  inspector = false,
}) {
  const w = await startRawWorkerdMany({
    workers: { main: { modules, vars, compatibilityDate, compatibilityFlags } },
    inspector,
  });
  return { ...w, url: w.urls.main };
}

/**
 * Starts ONE workerd process serving several Workers, each on a loopback port of its own (the same runtime, thread
 * and event loop for all: what a same-run comparison of Workers wants). `workers`: { name: { modules, vars,
 * compatibilityDate, compatibilityFlags } } as [startRawWorkerd] takes them. Returns { urls: { name: url }, pid,
 * inspectorUrl, output, stop }.
 */
export async function startRawWorkerdMany({ workers, inspector = false }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgechat-bench-workerd-'));
  const services = [];
  const sockets = [];
  const consts = [];
  const urls = {};
  for (const [name, w] of Object.entries(workers)) {
    if (!/^[a-z][a-z0-9]*$/i.test(name)) throw new Error(`worker name ${name}: letters and digits only`);
    for (const m of w.modules) {
      mkdirSync(dirname(join(dir, name, m.name)), { recursive: true });
      copyFileSync(m.path, join(dir, name, m.name));
    }
    const port = await freePort();
    urls[name] = `http://127.0.0.1:${port}`;
    const mods = w.modules
      .map((m) => `(name = ${capnpString(m.name)}, ${m.type} = embed ${capnpString(`${name}/${m.name}`)})`)
      .join(',\n      ');
    const binds = Object.entries(w.vars ?? {})
      .map(([k, v]) => `(name = ${capnpString(k)}, text = ${capnpString(v)})`)
      .join(',\n      ');
    services.push(`(name = ${capnpString(name)}, worker = .${name}Worker)`);
    sockets.push(
      `(name = ${capnpString(`http-${name}`)}, address = "127.0.0.1:${port}", http = (), service = ${capnpString(name)})`,
    );
    consts.push(`const ${name}Worker :Workerd.Worker = (
  modules = [
      ${mods}
  ],
  bindings = [
      ${binds}
  ],
  compatibilityDate = "${w.compatibilityDate ?? '2025-09-01'}",
  compatibilityFlags = [${(w.compatibilityFlags ?? []).map(capnpString).join(', ')}],
  globalOutbound = "internet",
);`);
  }
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${services.join(',\n    ')},
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    ${sockets.join(',\n    ')}
  ],
  v8Flags = [${(process.env.EDGECHAT_V8_FLAGS ?? '').split(' ').filter(Boolean).map(capnpString).join(', ')}],
);
${consts.join('\n')}
`,
  );
  let output = '';
  const inspectorPort = inspector ? await freePort() : null;
  const args = ['serve', join(dir, 'config.capnp'), '--experimental'];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const child = spawn(WORKERD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  try {
    for (const url of Object.values(urls)) await waitListening(Number(new URL(url).port), child);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${err.message}\n${output.slice(-2000)}`);
  }
  return {
    urls,
    pid: child.pid,
    inspectorUrl: inspectorPort ? `http://127.0.0.1:${inspectorPort}` : null,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        await new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The JS a wasm-bindgen build in `pkg` imports (its `snippets/`), as modules by the paths it names. */
function snippets(pkg) {
  if (!existsSync(join(pkg, 'snippets'))) return [];
  return readdirSync(join(pkg, 'snippets'), { recursive: true })
    .filter((f) => /\.m?js$/.test(f))
    .map((f) => ({ name: `pkg/snippets/${f}`, path: join(pkg, 'snippets', f), type: 'esModule' }));
}

/** The edge's Worker (worker/entry.mjs + worker/pkg, or the wasm-bindgen output in `pkg`), for [startRawWorkerdMany]. */
export function edgeWorker(vars, { pkg = join(root, 'worker', 'pkg') } = {}) {
  return {
    vars,
    compatibilityFlags: ['enable_request_signal'], // as worker/wrangler.toml
    modules: [
      { name: 'entry.mjs', path: join(root, 'worker', 'entry.mjs'), type: 'esModule' },
      { name: 'pkg/edgechat_worker.js', path: join(pkg, 'edgechat_worker.js'), type: 'esModule' },
      { name: 'pkg/edgechat_worker_bg.wasm', path: join(pkg, 'edgechat_worker_bg.wasm'), type: 'wasm' },
      // The JS the wasm imports (the usage store, OpenTelemetry, the runtime glue).
      ...snippets(pkg),
    ],
  };
}

/**
 * The reference Worker (bench/edge/reference-worker.mjs) against the upstream at `upstreamUrl`; `vars`: more text
 * bindings (`MARKS`: bench/edge/marks.mjs).
 */
export function referenceWorker(upstreamUrl, vars = {}) {
  return {
    vars: { UP: upstreamUrl, ...vars },
    modules: [
      { name: 'reference-worker.mjs', path: join(import.meta.dirname, 'reference-worker.mjs'), type: 'esModule' },
    ],
  };
}

/** Builds the wasm floor (bench/edge/wasm-floor/build.sh: cargo, wasm-bindgen, wasm-opt, offline). */
export function buildWasmFloor() {
  const b = spawnSync('bash', [join(import.meta.dirname, 'wasm-floor', 'build.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (b.status !== 0) throw new Error('bench/edge/wasm-floor/build.sh failed');
}

/**
 * The wasm floor (bench/edge/wasm-floor: the reference's `/widget` with its computing in Rust; [buildWasmFloor]
 * makes it) against the upstream at `upstreamUrl`; `vars` as [referenceWorker]'s. `rustIo`: the variant whose I/O
 * Rust drives too (`worker-async.mjs`), as the edge does.
 */
export function wasmFloorWorker(upstreamUrl, vars = {}, { rustIo = false } = {}) {
  const dir = join(import.meta.dirname, 'wasm-floor');
  const pkg = join(dir, 'pkg');
  return {
    vars: { UP: upstreamUrl, ...vars },
    modules: [
      { name: 'worker.mjs', path: join(dir, rustIo ? 'worker-async.mjs' : 'worker.mjs'), type: 'esModule' },
      { name: 'reference-worker.mjs', path: join(import.meta.dirname, 'reference-worker.mjs'), type: 'esModule' },
      { name: 'pkg/edgechat_wasm_floor.js', path: join(pkg, 'edgechat_wasm_floor.js'), type: 'esModule' },
      { name: 'pkg/edgechat_wasm_floor_bg.wasm', path: join(pkg, 'edgechat_wasm_floor_bg.wasm'), type: 'wasm' },
      ...snippets(pkg),
    ],
  };
}

/**
 * The edge (worker/entry.mjs + worker/pkg, or the wasm-bindgen output in `pkg`, e.g. a copy of an earlier build)
 * in raw workerd, without Durable Object or KV bindings.
 */
export function startRawEdge(vars, { pkg = join(root, 'worker', 'pkg'), inspector = false } = {}) {
  return startRawWorkerd({ ...edgeWorker(vars, { pkg }), inspector });
}

/** bench/edge/reference-worker.mjs in raw workerd ([referenceWorker]'s `vars`). */
export function startRawReference(upstreamUrl, vars = {}) {
  return startRawWorkerd(referenceWorker(upstreamUrl, vars));
}

/** The wasm floor in raw workerd ([wasmFloorWorker]'s arguments). */
export function startRawWasmFloor(upstreamUrl, vars = {}, opts = {}) {
  return startRawWorkerd(wasmFloorWorker(upstreamUrl, vars, opts));
}
