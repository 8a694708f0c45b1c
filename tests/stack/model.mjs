// The local model server for the whole-stack tests (local-model/server.mjs on a free port).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../browser/support/stack.mjs';

/** Starts the local model; resolves with `{ url, stop }` once it says it is ready (60 s at most). */
export function startModel() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'local-model/server.mjs'), '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`local model not ready in 60 s: ${out}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/ready on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          stop: () =>
            new Promise((r) => {
              child.once('exit', r);
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`local model exited (${code}) before ready: ${out}`)));
  });
}
