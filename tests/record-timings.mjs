// Copies the suite times of the last `scripts/test.sh` run (tests/artifacts/timings.tsv) into the "time here" column
// of the table in tests/README.md. Suites that run did not are left as they were.
//   scripts/test.sh && node tests/record-timings.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const readmePath = join(here, 'README.md');
const times = new Map(
  readFileSync(join(here, 'artifacts', 'timings.tsv'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'))
    .map(([name, secs, status]) => [name, status === 'ok' ? `${secs} s` : `${secs} s (failed)`]),
);
let updated = 0;
const lines = readFileSync(readmePath, 'utf8')
  .split('\n')
  .map((line) => {
    const m = /^\| `([\w-]+)` \|/.exec(line);
    if (!m || !times.has(m[1])) return line;
    const cells = line.split(' | ');
    cells[cells.length - 1] = `${times.get(m[1])} |`;
    updated += 1;
    return cells.join(' | ');
  });
writeFileSync(readmePath, lines.join('\n'));
console.log(
  `tests/README.md: ${updated} suite times updated${times.has('setup') ? ` (setup took ${times.get('setup')})` : ''}`,
);
