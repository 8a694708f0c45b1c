// A deterministic long markdown answer split into LLM-like tokens (a word with its leading space, punctuation and
// markup split off), cycling through headings, paragraphs with inline markup, lists, code blocks, tables, quotes.
const WORDS =
  'the quick brown fox jumps over lazy dogs while streaming tokens render incrementally into blocks of markdown text'.split(
    ' ',
  );

function section(i) {
  const w = (k) => WORDS[(i * 7 + k) % WORDS.length];
  const sentence = (n, k = 0) => Array.from({ length: n }, (_, j) => w(j + k)).join(' ');
  return [
    `## Section ${i}: ${sentence(3)}`,
    '',
    `${sentence(18)} with **${w(3)} ${w(4)}**, *${w(5)}*, \`code_${i}\` and a [link](https://example.com/${i}). ${sentence(14, 5)}.`,
    '',
    `- ${sentence(6)}`,
    `- ${sentence(5, 2)} \`x${i}\``,
    `  - nested ${sentence(4, 3)}`,
    `- ${sentence(7, 1)}`,
    '',
    '```rust',
    `fn section_${i}(x: u32) -> u32 {`,
    `    let y = x * ${i} + 1; // ${sentence(4)}`,
    '    y.saturating_sub(2)',
    '}',
    '```',
    '',
    '| name | value | note |',
    '|:-----|------:|------|',
    `| ${w(1)} | ${i} | ${sentence(3)} |`,
    `| ${w(2)} | ${i * 2} | ${sentence(2, 4)} |`,
    '',
    `> ${sentence(12, 6)}.`,
    '',
  ].join('\n');
}

/** `n` tokens of markdown. */
export function tokens(n) {
  const out = [];
  for (let i = 0; out.length < n; i++) {
    const text = section(i) + '\n';
    out.push(...text.match(/\s*[A-Za-z0-9_]+|\s*[^A-Za-z0-9_\s]|\s+$/g));
  }
  return out.slice(0, n);
}
