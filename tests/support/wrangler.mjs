// The edge's Workers settings as worker/wrangler.toml declares them, so the tests (Miniflare) run the edge with the
// compatibility date and flags it is deployed with.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const toml = () => readFileSync(join(import.meta.dirname, '..', '..', 'worker', 'wrangler.toml'), 'utf8');

/** `{ compatibilityDate, compatibilityFlags }` from the top of worker/wrangler.toml. */
export function workerCompat() {
  const text = toml();
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text);
  const flags = /^compatibility_flags\s*=\s*(\[[^\]]*\])/m.exec(text);
  if (!date) throw new Error('worker/wrangler.toml has no compatibility_date');
  return { compatibilityDate: date[1], compatibilityFlags: flags ? JSON.parse(flags[1]) : [] };
}

/** The `[build]` table of worker/wrangler.toml: `{ command, watch_dir }` (strings as written), or null. */
export function workerBuild() {
  const m = /^\[build\]\n((?:[^[\n].*\n|\n)*)/m.exec(toml());
  if (!m) return null;
  const out = {};
  for (const line of m[1].split('\n')) {
    const kv = /^(\w+)\s*=\s*(.+)$/.exec(line.trim());
    if (kv) out[kv[1]] = JSON.parse(kv[2]);
  }
  return out;
}
