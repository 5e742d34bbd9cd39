/**
 * Runs every benchmark in turn (each prints its ratios against the raw SDKs measured in the
 * same run and writes bench/results/<area>.md), then gathers them into bench/RESULTS.md.
 *
 *   npm run bench               # all
 *   npm run bench -- files      # one area
 *   npm run bench -- --collect  # only gather bench/results/*.md into bench/RESULTS.md
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const AREAS = ['files', 'fs-chunks', 'datatable', 'ducklake', 'scale'];
const here = import.meta.dirname;
const collectOnly = process.argv.includes('--collect');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));

let failed = false;
for (const area of AREAS.filter((a) => !collectOnly && (only.length === 0 || only.includes(a)))) {
  console.log(`\n=== bench/${area}.ts`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${area}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}

// bench/tpcds runs on its own (npm run bench:tpcds, minutes at SF1); its last results are gathered too, and the
// reshape's before/after table (bench/results/reshape.md, written by hand from the runs it names).
const sections = [...AREAS, 'tpcds', 'reshape'].map((a) => join(here, 'results', `${a}.md`))
  .filter((f) => existsSync(f))
  .map((f) => readFileSync(f, 'utf8').trim().replace(/^# /gm, '## '));
writeFileSync(
  join(here, 'RESULTS.md'),
  `# Benchmark results\n\nPrinted by \`npm run bench\` (bench/run.ts); each area's figures are the ones its run printed.\n\n${sections.join('\n\n')}\n`,
);
console.log('\nwrote bench/RESULTS.md');
process.exit(failed ? 1 : 0);
