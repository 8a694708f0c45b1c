// Syntax highlighting for the markdown renderer's code blocks (www/src/markdown/dom.rs loads this module with
// import() on the first code block with a language, never before). A small tokenizer per language family: keyword
// lists plus scanning for comments, strings, numbers, types and calls. Inert by construction: the code's text is
// split into text nodes and <span class="ec-hl-…"> elements whose textContent is a slice of it; nothing is parsed
// as HTML. The colours are CSS custom properties (--ec-hl-keyword, -string, -comment, -number, -type, -function,
// -tag, -attr), with light and dark defaults in the stylesheet this module adopts into the code block's root.

const w = (s) => new Set(s.split(' '));
const C_KW =
  'auto break case char const continue default do double else enum extern float for goto if inline int long register return short signed sizeof static struct switch typedef union unsigned void volatile while';
const JS_KW =
  'async await break case catch class const continue debugger default delete do else export extends finally for from function get if import in instanceof let new of return set static super switch this throw try typeof var void while with yield';
const LANGS = {
  js: { kw: w(JS_KW), lit: w('true false null undefined NaN Infinity'), q: '"\'`', line: '//', block: 1 },
  ts: {
    kw: w(
      `${JS_KW} abstract as declare enum implements interface keyof namespace private protected public readonly type satisfies`,
    ),
    lit: w('true false null undefined NaN Infinity'),
    types: w('string number boolean any unknown never object symbol bigint'),
    q: '"\'`',
    line: '//',
    block: 1,
  },
  python: {
    kw: w(
      'and as assert async await break class continue def del elif else except finally for from global if import in is lambda match case nonlocal not or pass raise return try while with yield self',
    ),
    lit: w('True False None'),
    types: w('int float str bool list dict set tuple bytes object type'),
    q: '"\'',
    line: '#',
    triple: 1,
  },
  rust: {
    kw: w(
      'as async await break const continue crate dyn else enum extern fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait type unsafe use where while',
    ),
    lit: w('true false None Some Ok Err'),
    types: w('i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str String Vec Option Result Box'),
    q: '"',
    line: '//',
    block: 1,
    rust: 1,
  },
  go: {
    kw: w(
      'break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var',
    ),
    lit: w('true false nil iota'),
    types: w(
      'int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 float32 float64 string bool byte rune error any',
    ),
    q: '"\'`',
    line: '//',
    block: 1,
  },
  java: {
    kw: w(
      'abstract assert break case catch class const continue default do else enum extends final finally for if implements import instanceof interface native new package private protected public return static super switch synchronized this throw throws transient try var void volatile while record',
    ),
    lit: w('true false null'),
    types: w('int long short byte char boolean float double String Object'),
    q: '"\'',
    line: '//',
    block: 1,
  },
  c: { kw: w(C_KW), lit: w('NULL true false'), q: '"\'', line: '//', block: 1, pre: 1 },
  cpp: {
    kw: w(
      `${C_KW} alignas auto bool catch class constexpr delete explicit friend mutable namespace new noexcept nullptr operator override private protected public template this throw try typename using virtual`,
    ),
    lit: w('true false nullptr NULL'),
    types: w('std string vector size_t'),
    q: '"\'',
    line: '//',
    block: 1,
    pre: 1,
  },
  bash: {
    kw: w(
      'if then else elif fi for while until do done case esac in function return exit local export readonly set unset echo cd source alias shift break continue',
    ),
    lit: w('true false'),
    q: '"\'',
    line: '#',
    vars: 1,
  },
  sql: {
    kw: w(
      'select from where and or not insert into values update set delete create table drop alter index view join inner left right outer full on as group by order having limit offset union all distinct case when then else end is null like in between exists primary key foreign references default constraint returning with begin commit rollback',
    ),
    lit: w('true false null'),
    types: w('int integer bigint smallint text varchar char boolean date timestamp numeric decimal real serial'),
    q: '\'"',
    line: '--',
    block: 1,
    nocase: 1,
  },
  json: { lit: w('true false null'), q: '"', keys: 1 },
  yaml: { lit: w('true false null yes no on off'), q: '"\'', line: '#', keys: 1, yaml: 1 },
  css: { q: '"\'', block: 1, css: 1 },
  xml: {},
};
const ALIAS = {
  javascript: 'js',
  jsx: 'js',
  mjs: 'js',
  cjs: 'js',
  node: 'js',
  typescript: 'ts',
  tsx: 'ts',
  py: 'python',
  python3: 'python',
  rs: 'rust',
  golang: 'go',
  h: 'c',
  'c++': 'cpp',
  cc: 'cpp',
  cxx: 'cpp',
  hpp: 'cpp',
  sh: 'bash',
  shell: 'bash',
  zsh: 'bash',
  console: 'bash',
  shellsession: 'bash',
  yml: 'yaml',
  jsonc: 'json',
  json5: 'json',
  html: 'xml',
  htm: 'xml',
  xhtml: 'xml',
  svg: 'xml',
  vue: 'xml',
  scss: 'css',
  less: 'css',
  postgres: 'sql',
  postgresql: 'sql',
  mysql: 'sql',
  sqlite: 'sql',
  kotlin: 'java',
  csharp: 'java',
  cs: 'java',
};

/** The language config for a code block's language name, or undefined. */
export const language = (name) => {
  const n = String(name).toLowerCase();
  return LANGS[ALIAS[n] ?? n];
};

const isWord = (c) => /[\w$]/.test(c);

/** Tokens of `src` as [class or '', text] pairs whose texts concatenate to `src`. */
export function tokenize(src, L) {
  const out = [];
  const put = (cls, text) => {
    if (!text) return;
    const last = out.at(-1);
    if (last && last[0] === cls) last[1] += text;
    else out.push([cls, text]);
  };
  if (L === LANGS.xml) {
    markup(src, put);
    return out;
  }
  let i = 0;
  const n = src.length;
  const until = (end, from) => {
    const k = src.indexOf(end, from);
    return k < 0 ? n : k + end.length;
  };
  const lineEnd = (from) => {
    const k = src.indexOf('\n', from);
    return k < 0 ? n : k;
  };
  let lineStart = true;
  while (i < n) {
    const c = src[i];
    const rest2 = src.slice(i, i + 2);
    let j = i + 1;
    let cls = '';
    if (c === '\n') {
      lineStart = true;
      put('', c);
      i++;
      continue;
    }
    if (L.line && src.startsWith(L.line, i) && !(L.line === '#' && i > 0 && L.vars && src[i - 1] === '$')) {
      j = lineEnd(i);
      cls = 'c';
    } else if (L.block && rest2 === '/*') {
      j = until('*/', i + 2);
      cls = 'c';
    } else if (L.pre && c === '#' && lineStart) {
      j = lineEnd(i);
      cls = 'm';
    } else if (L.triple && (src.startsWith('"""', i) || src.startsWith("'''", i))) {
      j = until(src.slice(i, i + 3), i + 3);
      cls = 's';
    } else if (L.rust && c === 'r' && /^r#*"/.test(src.slice(i, i + 10))) {
      const hashes = src.slice(i + 1).match(/^#*/)[0];
      j = until(`"${hashes}`, i + 2 + hashes.length);
      cls = 's';
    } else if (L.rust && c === "'" && !/^'(\\.|[^\\'\n])'/.test(src.slice(i, i + 12))) {
      j = i + 1 + src.slice(i + 1).match(/^\w*/)[0].length;
      cls = 't'; // a lifetime
    } else if (L.q?.includes(c)) {
      j = i + 1;
      while (j < n && src[j] !== c && !(src[j] === '\n' && c !== '`')) j += src[j] === '\\' ? 2 : 1;
      j = Math.min(j + 1, n);
      cls = L.keys && /^\s*:/.test(src.slice(j, j + 20)) ? 'a' : 's';
    } else if (/\d/.test(c) && !isWord(src[i - 1] ?? ' ')) {
      j = i + src.slice(i).match(/^(0x[\da-f_]+|[\d_]*\.?[\d_]+(e[+-]?\d+)?)[\w%]*/i)[0].length;
      cls = 'n';
    } else if (L.vars && c === '$') {
      j =
        i + 1 + (src[i + 1] === '{' ? until('}', i) - i - 1 : src.slice(i + 1).match(/^(\w+|[@#?$!*\d-]?)/)[0].length);
      cls = 'v';
    } else if (L.css) {
      j = css(src, i, put);
    } else if (isWord(c) || (L.yaml && lineStart)) {
      const m = src.slice(i).match(L.yaml ? /^[^\s:#][^:\n#]*(?=:(\s|$))|^[\w$]+/ : /^[\w$]+/);
      if (!m) {
        put('', c);
        i++;
        continue;
      }
      const word = m[0];
      j = i + word.length;
      const key = L.nocase ? word.toLowerCase() : word;
      if (L.yaml && /^:(\s|$)/.test(src.slice(j, j + 2)) && lineStart) cls = 'a';
      else if (L.kw?.has(key)) cls = 'k';
      else if (L.lit?.has(key)) cls = 'l';
      else if (L.types?.has(key) || (!L.nocase && !L.vars && /^[A-Z][a-z]\w*$/.test(word))) cls = 't';
      else if (/^\s*\(/.test(src.slice(j, j + 8)) && !L.nocase) cls = 'f';
      else if (L.rust && src[j] === '!') cls = 'f';
    }
    if (j === i) j = i + 1;
    if (!/\s/.test(c)) lineStart = false;
    if (cls !== '' || !L.css) put(cls, src.slice(i, j));
    i = j;
  }
  return out;
}

/** CSS from `i`: puts one token, returns where it ended. */
function css(src, i, put) {
  const rest = src.slice(i);
  const m =
    rest.match(/^@[\w-]+/) ??
    rest.match(/^#[\da-f]{3,8}\b/i) ??
    rest.match(/^-?[\d.]+[a-z%]*/i) ??
    rest.match(/^[\w-]+(?=\s*:[^:])/) ??
    rest.match(/^[\w-]+(?=\()/) ??
    rest.match(/^[\w-]+/);
  if (!m) {
    put('', src[i]);
    return i + 1;
  }
  const t = m[0];
  const cls =
    t[0] === '@'
      ? 'k'
      : t[0] === '#' || /^-?[\d.]/.test(t)
        ? 'n'
        : /\s*:/.test(rest.slice(t.length, t.length + 3)) && !/[{]/.test(t)
          ? 'a'
          : src[i + t.length] === '('
            ? 'f'
            : '';
  put(cls, t);
  return i + t.length;
}

/** HTML and XML: comments, tags, attribute names and values. */
function markup(src, put) {
  let i = 0;
  const n = src.length;
  while (i < n) {
    if (src.startsWith('<!--', i)) {
      const k = src.indexOf('-->', i + 4);
      const j = k < 0 ? n : k + 3;
      put('c', src.slice(i, j));
      i = j;
      continue;
    }
    const tag = src[i] === '<' && src.slice(i).match(/^<\/?[\w:.-]+|^<[!?][\w-]*/);
    if (!tag) {
      const k = src.indexOf('<', i + 1);
      const j = k < 0 ? n : k;
      put('', src.slice(i, j));
      i = j;
      continue;
    }
    put('g', tag[0]);
    i += tag[0].length;
    while (i < n && src[i] !== '>' && src[i] !== '<') {
      const m = src.slice(i).match(/^\s+|^[^\s=>/<"']+|^=|^"[^"]*"?|^'[^']*'?|^\/|^./);
      const t = m[0];
      put(/^["']/.test(t) ? 's' : /^[^\s=/]/.test(t) ? 'a' : '', t);
      i += t.length;
    }
    if (src[i] === '>') {
      put('g', '>');
      i++;
    }
  }
}

const STYLE = `
.ec-hl-k{color:var(--ec-hl-keyword,#8a3fc7)}.ec-hl-s{color:var(--ec-hl-string,#17693a)}
.ec-hl-c{color:var(--ec-hl-comment,#6a737d);font-style:italic}.ec-hl-n,.ec-hl-l{color:var(--ec-hl-number,#9a4a00)}
.ec-hl-t{color:var(--ec-hl-type,#0a6a8a)}.ec-hl-f{color:var(--ec-hl-function,#2457d6)}
.ec-hl-g{color:var(--ec-hl-tag,#a0302a)}.ec-hl-a,.ec-hl-v,.ec-hl-m{color:var(--ec-hl-attr,#8a5a00)}
@media (prefers-color-scheme:dark){
.ec-hl-k{color:var(--ec-hl-keyword,#d7a6f2)}.ec-hl-s{color:var(--ec-hl-string,#7ee2a0)}
.ec-hl-c{color:var(--ec-hl-comment,#8b949e)}.ec-hl-n,.ec-hl-l{color:var(--ec-hl-number,#ffb870)}
.ec-hl-t{color:var(--ec-hl-type,#6cd0f0)}.ec-hl-f{color:var(--ec-hl-function,#8ab4f8)}
.ec-hl-g{color:var(--ec-hl-tag,#ff9b8f)}.ec-hl-a,.ec-hl-v,.ec-hl-m{color:var(--ec-hl-attr,#f0c674)}}`;
let sheet;

/** Highlights `code` (a code block's <code> element holding its text) as language `lang`; unknown languages are
 * left alone. */
export function highlight(code, lang) {
  const L = language(lang);
  if (!L) return;
  const src = code.textContent;
  const frag = code.ownerDocument.createDocumentFragment();
  for (const [cls, text] of tokenize(src, L)) {
    if (!cls) {
      frag.append(text);
      continue;
    }
    const span = code.ownerDocument.createElement('span');
    span.className = `ec-hl-${cls}`;
    span.textContent = text;
    frag.append(span);
  }
  code.replaceChildren(frag);
  code.classList.add('ec-hl');
  // A block rendered detached is attached right after: adopt the colours into its root (document or shadow root)
  // once it is.
  if (code.isConnected) adopt(code);
  else queueMicrotask(() => adopt(code));
}

function adopt(code) {
  const root = code.getRootNode();
  if (!root.adoptedStyleSheets) return;
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
  }
  if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
}
