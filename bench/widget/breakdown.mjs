#!/usr/bin/env node
// Groups a `twiggy top -f csv` listing of the widget's wasm (built with names kept) by where the code comes from.
// Usage: node bench/widget/breakdown.mjs top.csv [N]   (N: also list the N largest items of each group)
// bench/widget/breakdown.sh builds the wasm and runs twiggy and this script.
//
// Generic code is named after the crate that defines it, so view code the widget writes inside `view!` and
// inlined into tachys' generic `Render::build` shows up under the Leptos stack, and a closure the widget hands to
// `spawn_local` under wasm_bindgen/js_sys. Read the groups as "what pulls this in", not as exact ownership.
import fs from 'node:fs';

const [file, perGroup = '0'] = process.argv.slice(2);
if (!file) throw new Error('usage: breakdown.mjs top.csv [N]');

const LEPTOS = new Set([
  'tachys',
  'reactive_graph',
  'leptos',
  'leptos_dom',
  'any_spawner',
  'indexmap',
  'hashbrown',
  'slotmap',
  'send_wrapper',
  'throw_error',
  'or_poisoned',
  'guardian',
  'oco_ref',
  'either_of',
  'server_fn',
  'wasm_streams',
  'drain_filter_polyfill',
  'futures_util',
  'futures_core',
  'futures_channel',
  'futures_executor',
  'rustc_hash',
  'leptos_server',
  'reactive_stores',
  'hydration_context',
  'pin_project_lite',
]);
const GLUE = new Set(['wasm_bindgen', 'js_sys', 'web_sys', 'wasm_bindgen_futures']);
const FMT_PANIC =
  /core(\[[0-9a-f]+\])?::fmt|core(\[[0-9a-f]+\])?::panicking|std(\[[0-9a-f]+\])?::panicking|escape_debug|rust_panic|panic_fmt|unwrap_failed|expect_failed|slice_error_fail|slice_index_fail|slice_(start|end)_index|str_index|index_out_of_bounds|assert_failed|begin_panic|panic_bounds|capacity_overflow|handle_alloc_error|from_ascii_radix|TryFromSliceError|NulError/;
const ALLOC =
  /dlmalloc|__rdl_|__rust_alloc|__rust_dealloc|__rust_realloc|__rg_|alloc::alloc::|finish_grow|RawVecInner.*reserve/;

// A crate name at the start of a path, or after `<`, `&`, `dyn `; else the trait's crate in `<T as krate::...>`;
// else the pointee's crate in `drop_in_place<krate::...>`.
function crateOf(name) {
  const head = name.replace(/^<+/, '').replace(/^(&(mut )?|dyn |\*(const|mut) )+/, '');
  let m = head.match(/^([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
  let crate = m ? m[1] : null;
  m = name.match(
    /^(?:core|alloc)(?:\[[0-9a-f]+\])?::ptr::drop_in_place<(?:(?:alloc|core|std)::[a-z_:]*::[A-Za-z]+<)*([a-z_][a-z0-9_]*)::/,
  );
  if (m && !['core', 'alloc', 'std'].includes(m[1])) return m[1];
  if (!crate) {
    m = name.match(/ as ([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
    crate = m ? m[1] : null;
  }
  return crate;
}

function group(name) {
  if (name.startsWith('"function names"') || name.startsWith('"data names"')) return null; // stripped in dist/
  if (name.startsWith('data segment')) return 'data segments (strings, tables)';
  if (/intounderlying/i.test(name)) return 'server_fn/wasm-streams exports (dropped by the release build)';
  if (/^(import|export) |__externref|__wbindgen|__wbg/.test(name)) return 'web-sys glue: import/export shims';
  if (FMT_PANIC.test(name)) return 'fmt/panic machinery';
  if (ALLOC.test(name)) return 'allocator (dlmalloc) and vec growth';
  const c = crateOf(name);
  if (c === 'edgechat_www')
    return name.includes('::markdown::') ? 'widget: markdown renderer' : 'widget: api/state/views/json';
  if (c === 'edgechat' || c === 'memchr') return 'edgechat core (SSE parser, conversation)';
  if (c === 'serde' || c === 'serde_json') return 'serde';
  if (LEPTOS.has(c)) return 'Leptos (tachys, reactive_graph, indexmap, ...)';
  if (GLUE.has(c)) return 'web-sys glue: wasm_bindgen/js_sys/web_sys';
  if (c === 'core' || c === 'alloc' || c === 'std' || c === '__rustc') return 'core/alloc/std (other)';
  return 'unattributed (code[n], table, elem, types)';
}

const lines = fs.readFileSync(file, 'utf8').split('\n').slice(1).filter(Boolean);
const groups = new Map();
let total = 0;
for (const line of lines) {
  // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent; the name may be quoted and hold commas.
  const m = line.match(/^("(?:[^"]|"")*"|[^,]*),(\d+),/);
  if (!m) continue;
  const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1];
  const size = Number(m[2]);
  const g = group(name);
  if (!g) continue;
  total += size;
  const e = groups.get(g) ?? { size: 0, items: [] };
  e.size += size;
  e.items.push([size, name]);
  groups.set(g, e);
}
console.log(`wasm after wasm-opt -Oz, name section excluded: ${(total / 1024).toFixed(1)} KB raw`);
const sorted = [...groups].sort((a, b) => b[1].size - a[1].size);
for (const [g, e] of sorted) {
  console.log(
    `  ${(e.size / 1024).toFixed(1).padStart(6)} KB ${((100 * e.size) / total).toFixed(1).padStart(5)}%  ${String(e.items.length).padStart(4)} items  ${g}`,
  );
}
const n = Number(perGroup);
if (n > 0) {
  for (const [g, e] of sorted) {
    console.log(`\n${g}`);
    for (const [size, name] of e.items.sort((a, b) => b[0] - a[0]).slice(0, n))
      console.log(`  ${String(size).padStart(6)}  ${name.slice(0, 140)}`);
  }
}
