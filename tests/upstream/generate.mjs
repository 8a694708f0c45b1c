// Deterministic content for the mock upstream: answer text, token counting, tool-call arguments and JSON from a
// schema, and embeddings. Everything here is a pure function of the request, so tests can predict it exactly.

const VOCAB = [
  'river',
  'lantern',
  'copper',
  'meadow',
  'signal',
  'harbor',
  'violet',
  'engine',
  'summit',
  'pebble',
  'orbit',
  'canvas',
  'thunder',
  'willow',
  'beacon',
  'marble',
  'falcon',
  'garden',
  'silver',
  'compass',
  'ember',
  'glacier',
  'anchor',
  'prism',
  'cedar',
  'velvet',
  'tunnel',
  'meteor',
  'quartz',
  'saddle',
  'timber',
  'voyage',
  'bridge',
  'cobalt',
  'dune',
  'feather',
  'granite',
  'island',
  'jasmine',
  'kettle',
  'ladder',
  'mirror',
  'nectar',
  'oasis',
  'parcel',
  'quiver',
  'ribbon',
  'shadow',
  'tundra',
  'umber',
  'valley',
  'wander',
  'yonder',
  'zephyr',
  'amber',
  'basalt',
  'cinder',
  'delta',
  'echo',
  'fjord',
  'grove',
  'hollow',
  'ivory',
  'juniper',
];

/** FNV-1a 32-bit hash of a string. */
export function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A small deterministic PRNG (mulberry32) seeded from a string. */
export function rng(seedText) {
  let a = hash32(seedText) || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Splits text into mock "tokens": each token is a run of non-space characters with the whitespace before it.
 * Joining the tokens gives the text back exactly. Runs longer than 8 characters are split every 8.
 */
export function tokenize(text) {
  const out = [];
  const re = /\s*\S+|\s+$/g;
  for (const m of String(text).matchAll(re)) {
    let tok = m[0];
    while (tok.trimStart().length > 8) {
      const lead = tok.length - tok.trimStart().length;
      out.push(tok.slice(0, lead + 8));
      tok = tok.slice(lead + 8);
    }
    if (tok.length) out.push(tok);
  }
  return out;
}

/** Counts mock tokens in a text. */
export function countTokens(text) {
  return tokenize(text).length;
}

/** Directives like `mock:429`, `mock:disconnect=3`, `mock:words=50` found in a text, in order. */
export function parseDirectives(text) {
  const out = [];
  for (const m of String(text || '').matchAll(/mock:([a-z0-9_-]+)(?:=([0-9]+))?/gi)) {
    out.push({ name: m[1].toLowerCase(), value: m[2] === undefined ? undefined : Number(m[2]) });
  }
  return out;
}

/** The text with mock directives removed. */
export function stripDirectives(text) {
  return String(text || '')
    .replace(/mock:[a-z0-9_-]+(?:=[0-9]+)?/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function sentenceWords(rand, n) {
  const words = [];
  for (let i = 0; i < n; i++) words.push(VOCAB[Math.floor(rand() * VOCAB.length)]);
  return words;
}

/** Plain answer: an echo of the prompt, then filler sentences; exactly `words` tokens long (when >= 1). */
export function plainAnswer(prompt, words) {
  const clean = stripDirectives(prompt);
  const echoWords = clean.split(' ').filter(Boolean).slice(0, 8);
  const rand = rng(clean);
  const parts = [];
  parts.push('Mock', 'answer', 'to:');
  for (const w of echoWords) parts.push(w);
  while (parts.length < words) {
    const sentence = sentenceWords(rand, 6);
    sentence[0] = sentence[0][0].toUpperCase() + sentence[0].slice(1);
    sentence[sentence.length - 1] += '.';
    parts.push(...sentence);
  }
  return fitTokens(parts.join(' '), words);
}

/** Markdown answer with headings, emphasis, lists, a code fence and a table, then filler to reach `words` tokens. */
export function markdownAnswer(prompt, words) {
  const clean = stripDirectives(prompt) || 'nothing';
  const rand = rng(clean);
  const [a, b, c] = sentenceWords(rand, 3);
  const base =
    `# Mock answer\n\nYou asked: *${clean.split(' ').slice(0, 8).join(' ')}*.\n\n` +
    `## Key points\n\n- **${a}** comes first\n- \`${b}\` is inline code\n- a [link](https://example.com/${c})\n\n` +
    `1. first step\n2. second step\n\n` +
    '```js\nfunction add(a, b) {\n  return a + b;\n}\n```\n\n' +
    `| Name | Value |\n| --- | ---: |\n| ${a} | 1 |\n| ${b} | 2 |\n\n> ${c} is quoted.\n`;
  let text = base;
  while (countTokens(text) < words) text += ' ' + sentenceWords(rand, 6).join(' ') + '.';
  return text;
}

function fitTokens(text, n) {
  if (n === undefined || n <= 0) return text;
  return tokenize(text).slice(0, n).join('');
}

/** A JSON value matching (the common subset of) a JSON Schema, derived from `seed`. */
export function valueForSchema(schema, seed, depth = 0) {
  const s = schema && typeof schema === 'object' ? schema : {};
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  if (Array.isArray(s.anyOf) && s.anyOf.length) return valueForSchema(s.anyOf[0], seed, depth + 1);
  if (Array.isArray(s.oneOf) && s.oneOf.length) return valueForSchema(s.oneOf[0], seed, depth + 1);
  let type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') || 'null' : s.type;
  if (!type) type = s.properties ? 'object' : s.items ? 'array' : 'string';
  if (depth > 6) return null;
  switch (type) {
    case 'object': {
      const out = {};
      for (const [k, v] of Object.entries(s.properties || {})) out[k] = valueForSchema(v, `${seed}.${k}`, depth + 1);
      return out;
    }
    case 'array':
      return [valueForSchema(s.items, `${seed}[0]`, depth + 1)];
    case 'integer':
      return (hash32(seed) % 100) + (typeof s.minimum === 'number' ? s.minimum : 0);
    case 'number':
      return (hash32(seed) % 1000) / 10 + (typeof s.minimum === 'number' ? s.minimum : 0);
    case 'boolean':
      return hash32(seed) % 2 === 0;
    case 'null':
      return null;
    default:
      return VOCAB[hash32(seed) % VOCAB.length];
  }
}

/** Splits a string into fragments of 1..7 characters (deterministic), as providers fragment tool arguments. */
export function fragment(text, seed) {
  const rand = rng(seed);
  const out = [];
  let i = 0;
  while (i < text.length) {
    const n = 1 + Math.floor(rand() * 7);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Normalized hashed bag-of-words embedding of `text` with `dims` dimensions. */
export function embed(text, dims = 256) {
  const v = new Float64Array(dims);
  const words =
    String(text)
      .toLowerCase()
      .match(/[a-z0-9]+/g) || [];
  for (const w of words) {
    const h = hash32(w);
    v[h % dims] += (h >>> 16) & 1 ? 1 : -1;
    const h2 = hash32(w + '#');
    v[h2 % dims] += 0.5 * ((h2 >>> 16) & 1 ? 1 : -1);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    v[0] = 1;
    norm = 1;
  }
  return Array.from(v, (x) => x / norm);
}

/** Base64 of a float32 little-endian vector, as `encoding_format: "base64"` returns. */
export function embeddingBase64(vec) {
  const buf = Buffer.alloc(vec.length * 4);
  vec.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf.toString('base64');
}
