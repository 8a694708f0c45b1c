// The code highlighter (www/highlight/ec-highlight.js) without a browser: every language's tokens cover the source
// exactly (the highlighted block's text is the code), and the classes land where they should. The DOM side (spans,
// loading on first use) is tests/browser/highlight.test.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { language, tokenize } from '../../www/highlight/ec-highlight.js';

const SAMPLES = {
  js: 'import x from "y";\n// note\nconst a = `t` + 0x1f; function f() { return null; }\n',
  ts: 'interface A { b: string }\nexport type T = A | null; /* c */ let n: number = 3.5e2;\n',
  python: 'def f(x):\n    """doc"""\n    return x + 1  # c\nprint(f(True), None, \'s\')\n',
  rust: 'fn main() {\n    let s: &\'static str = r#"raw"#; // c\n    println!("{}", s.len() as u64);\n}\n',
  json: '{"a": 1, "b": [true, null, "x\\"y"], "c": -2.5}\n',
  bash: '#!/bin/sh\nfor f in *.txt; do echo "$f $' + '{HOME}" # c\ndone\nexport A=1\n',
  xml: '<!-- c --><div class="a" id=\'b\'>text &amp; <br/></div>\n<?xml version="1.0"?>\n',
  css: '@media (max-width: 600px) { .a > b { color: #fff; margin: 0 4px; } } /* c */\n',
  go: 'package main\nimport "fmt"\nfunc main() { var x int = 1; fmt.Println(x, nil) }\n',
  java: 'public class A { static int f(String s) { return s == null ? 0 : 1; } } // c\n',
  c: '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; } /* c */\n',
  cpp: 'template <typename T> class V { public: std::vector<T> v; }; // c\n',
  sql: "SELECT a, count(*) FROM t WHERE b = 'x' -- c\nGROUP BY a;\n",
  yaml: '# c\nname: app\nlist:\n  - "a"\n  - 3\nflag: true\n',
};

test('every language: the tokens are the source, in order', () => {
  for (const [lang, src] of Object.entries(SAMPLES)) {
    const L = language(lang);
    assert.ok(L, lang);
    const toks = tokenize(src, L);
    assert.equal(toks.map((t) => t[1]).join(''), src, lang);
    assert.ok(
      toks.some(([cls]) => cls !== ''),
      `${lang} has highlighted tokens`,
    );
  }
});

test('aliases and unknown languages', () => {
  for (const a of ['javascript', 'TypeScript', 'py', 'rs', 'sh', 'shell', 'html', 'yml', 'golang', 'c++', 'PostgreSQL'])
    assert.ok(language(a), a);
  assert.equal(language('brainfuck'), undefined);
});

test('classes land on the right tokens', () => {
  const cls = (lang, src, text) => tokenize(src, language(lang)).find(([, t]) => t === text)?.[0];
  assert.equal(cls('js', 'const a = "s"; // c', 'const'), 'k');
  assert.equal(cls('js', 'const a = "s"; // c', '"s"'), 's');
  assert.equal(cls('js', 'const a = "s"; // c', '// c'), 'c');
  assert.equal(cls('python', 'x = 42\n', '42'), 'n');
  assert.equal(cls('rust', 'let v: Vec<u8> = f();', 'Vec'), 't');
  assert.equal(cls('rust', 'let v = f();', 'f'), 'f');
  assert.equal(cls('json', '{"k": "v"}', '"k"'), 'a');
  assert.equal(cls('json', '{"k": "v"}', '"v"'), 's');
  assert.equal(cls('sql', 'select 1', 'select'), 'k');
  assert.equal(cls('yaml', 'key: 1\n', 'key'), 'a');
  assert.equal(cls('bash', 'echo $HOME', '$HOME'), 'v');
  assert.equal(cls('xml', '<a href="x">', '<a'), 'g');
  assert.equal(cls('xml', '<a href="x">', 'href'), 'a');
  // Markup inside a string or comment is just that token's text.
  assert.equal(cls('js', 'let s = "<script>alert(1)</script>";', '"<script>alert(1)</script>"'), 's');
});

test('unterminated strings and comments end with the text', () => {
  for (const src of ['"abc', '/* open', "'x", '`tpl\nmore', '<!-- open', '<div class="a'])
    for (const lang of ['js', 'xml', 'css', 'python', 'rust'])
      assert.equal(
        tokenize(src, language(lang))
          .map((t) => t[1])
          .join(''),
        src,
      );
});
