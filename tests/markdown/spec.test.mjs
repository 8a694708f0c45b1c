// The markdown renderer (www/src/markdown/) against the CommonMark spec's 652 examples (npm commonmark-spec 0.31.2):
//  - conformance: each example rendered whole has the same structure as the spec's HTML (see `normalize`), except
//    the examples that differ by design (`BY_DESIGN`, each with its reason);
//  - streaming invariance: each example streamed in pieces of every size from 1 to 8 characters and in 8 seeded
//    random mixes of sizes 1 to 8 renders exactly (the same HTML, so the same DOM) as rendered whole.
// The renderer runs natively: www/examples/markdown_html.rs drives it as the widget's MarkdownDom does and writes
// through the same `render` module as the DOM. Prints its figures; fails below CONFORMANCE_MIN or on any streaming
// difference.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const { tests: examples } = require('commonmark-spec');

/** Share of the compared (not by-design) examples that must match. */
const CONFORMANCE_MIN = 0.9;

// Different by design, by example number. Sections "HTML blocks" (148-191) and "Raw HTML" (613-632) are left out
// whole: raw HTML is shown as text. Images are not left out: the spec's <img src alt> is compared as the link the
// renderer shows instead (<a href=src>image: alt</a>).
const BY_DESIGN_SECTIONS = { 'HTML blocks': 'raw HTML is shown as text', 'Raw HTML': 'raw HTML is shown as text' };
const RAW_HTML = 'raw HTML is shown as text';
const SCHEME = 'an autolink with another scheme than http, https, mailto stays text';
const BARE_URL = 'GFM: a bare http(s):// URL is a link';
const BY_DESIGN = process.env.MARKDOWN_SPEC_NO_EXCLUSIONS
  ? {}
  : {
      // Raw HTML elsewhere in the spec: the reference output holds the raw HTML as elements.
      ...Object.fromEntries(
        [21, 31, 201, 308, 309, 344, 475, 476, 477, 491, 494, 524, 536, 642, 643].map((n) => [n, RAW_HTML]),
      ),
      ...Object.fromEntries([596, 598, 599, 601].map((n) => [n, SCHEME])),
      ...Object.fromEntries([602, 608, 611].map((n) => [n, BARE_URL])),
    };

const cargo = spawnSync('cargo', ['build', '--quiet', '--locked', '-p', 'edgechat-www', '--example', 'markdown_html'], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (cargo.status !== 0) throw new Error('cargo build of the markdown_html example failed');

function render(texts) {
  const bin = path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target'), 'debug/examples/markdown_html');
  const run = spawnSync(bin, { input: texts.map((t) => JSON.stringify(t)).join('\n') + '\n', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`markdown_html failed: ${run.stderr}`);
  return run.stdout
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

const VOID = new Set(['br', 'hr', 'img', 'input']);
const BLOCK = new Set([
  'p',
  'li',
  'ul',
  'ol',
  'blockquote',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'pre',
  'table',
  'thead',
  'tbody',
  'tr',
  'td',
  'th',
  'div',
]);
const decode = (s) =>
  s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot);/gi, (_, e) => {
    if (e[0] === '#')
      return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : +e.slice(1));
    return { amp: '&', lt: '<', gt: '>', quot: '"' }[e.toLowerCase()];
  });

/** A tag tree from HTML as both sides write it (no comments, no raw text elements). */
function parse(html) {
  const root = { tag: '#root', attrs: {}, kids: [] };
  const stack = [root];
  const re = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+(?:="[^"]*")?)*)\s*\/?>|([^<]+|<)/g;
  for (const m of html.matchAll(re)) {
    const top = stack.at(-1);
    if (m[4] !== undefined) {
      top.kids.push(decode(m[4]));
    } else if (m[1]) {
      const i = stack.findLastIndex((n) => n.tag === m[2]);
      if (i > 0) stack.length = i;
    } else {
      const attrs = {};
      for (const a of m[3].matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) attrs[a[1]] = decode(a[2] ?? '');
      const node = { tag: m[2].toLowerCase(), attrs, kids: [] };
      top.kids.push(node);
      if (!VOID.has(node.tag)) stack.push(node);
    }
  }
  return root;
}

const url = (u) => {
  try {
    return decodeURI(u);
  } catch {
    return u;
  }
};

/** The tree reduced to what is compared: tags, the attributes that carry meaning (a href percent-decoded, ol start,
 * code class, input type/checked/disabled), text with whitespace runs collapsed (exact inside pre), whitespace-only
 * text dropped. The renderer's own chrome is removed (a code block's header and wrapper, a table's wrapper); the
 * spec's images become the links the renderer shows. Returns a string. */
function normalize(node, pre = false) {
  if (typeof node === 'string') {
    const t = (pre ? node : node.replace(/\s+/g, ' ')).replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
    return t === ' ' ? '' : t;
  }
  const cls = node.attrs.class ?? '';
  if (node.tag === 'div' && cls === 'ec-code-head') return '';
  if (node.tag === 'div' && (cls === 'ec-code' || cls === 'ec-table'))
    return node.kids.map((k) => normalize(k, pre)).join('');
  if (node.tag === 'img')
    return normalize({ tag: 'a', attrs: { href: node.attrs.src ?? '' }, kids: [`image: ${node.attrs.alt ?? ''}`] });
  const keep = { a: ['href'], ol: ['start'], code: ['class'], input: ['type', 'checked', 'disabled'] }[node.tag] ?? [];
  const attrs = keep
    .filter((k) => k in node.attrs)
    .map((k) => ` ${k}="${k === 'href' ? url(node.attrs[k]) : node.attrs[k]}"`)
    .join('');
  const inPre = pre || node.tag === 'pre';
  const parts = node.kids.map((k) => ({
    text: typeof k === 'string',
    block: BLOCK.has(k.tag),
    s: normalize(k, inPre),
  }));
  // Whitespace next to a block boundary does not render.
  if (!inPre)
    parts.forEach((p, i) => {
      if (!p.text) return;
      if (i === 0 || parts[i - 1].block || node.kids[i - 1].tag === 'br') p.s = p.s.trimStart();
      if (i === parts.length - 1 || parts[i + 1].block) p.s = p.s.trimEnd();
    });
  const inner = parts.map((p) => p.s).join('');
  if (node.tag === '#root') return inner;
  return VOID.has(node.tag) ? `<${node.tag}${attrs}>` : `<${node.tag}${attrs}>${inner}</${node.tag}>`;
}

const results = render(examples.map((e) => e.markdown.replaceAll('→', '\t')));
const reference = (e) => e.html.replaceAll('→', '\t');

test('CommonMark spec: conformance and streaming invariance', () => {
  let pass = 0;
  let compared = 0;
  let invariant = 0;
  const failing = [];
  const variant = [];
  examples.forEach((e, i) => {
    const r = results[i];
    if (r.streamed.length === 0) invariant++;
    else variant.push({ number: e.number, markdown: e.markdown, whole: r.html, ...r.streamed[0] });
    const reason = BY_DESIGN_SECTIONS[e.section] ?? BY_DESIGN[e.number];
    if (reason) return;
    compared++;
    const want = normalize(parse(reference(e)));
    const got = normalize(parse(r.html));
    if (want === got) pass++;
    else failing.push({ number: e.number, section: e.section, markdown: e.markdown, want, got });
  });
  if (process.env.MARKDOWN_SPEC_VERBOSE)
    for (const f of failing)
      console.log(`#${f.number} ${f.section}\n${JSON.stringify(f.markdown)}\n  want ${f.want}\n  got  ${f.got}`);
  for (const v of variant)
    console.log(
      `streaming differs: #${v.number} ${JSON.stringify(v.markdown)} (${v.name})\n  whole    ${v.whole}  streamed ${v.html}`,
    );
  const byDesign = examples.length - compared;
  console.log(
    `CommonMark ${examples.length} examples: ${pass} pass, ${compared - pass} differ, ${byDesign} different by design; ` +
      `conformance ${pass}/${compared} compared (${((100 * pass) / compared).toFixed(1)} %), ${pass}/${examples.length} of all`,
  );
  console.log(`streaming invariance: ${invariant}/${examples.length} examples render the same streamed (16 ways each)`);
  console.log(`differing: ${failing.map((f) => f.number).join(' ')}`);
  assert.equal(invariant, examples.length, 'every example renders the same streamed as whole');
  assert.ok(pass / compared >= CONFORMANCE_MIN, `conformance ${pass}/${compared} is below ${CONFORMANCE_MIN * 100} %`);
});

test('the normalization tells structures apart', () => {
  // The comparison must be able to fail: different nesting, tags, hrefs and code text are different.
  const n = (h) => normalize(parse(h));
  assert.notEqual(n('<p><em>a</em></p>'), n('<p><strong>a</strong></p>'));
  assert.notEqual(n('<ul><li>a</li></ul>'), n('<ul><li><p>a</p></li></ul>'));
  assert.notEqual(n('<p><a href="/x">a</a></p>'), n('<p><a href="/y">a</a></p>'));
  assert.notEqual(n('<pre><code>a  b\n</code></pre>'), n('<pre><code>a b\n</code></pre>'));
  assert.equal(n('<p>a\nb</p>\n'), n('<p>a b</p>'));
  assert.equal(n('<p><img src="/i.png" alt="cat" /></p>'), n('<p><a href="/i.png" rel="x">image: cat</a></p>'));
});
