/**
 * Front-end benchmark: parse + check + lower (compilePlan) on generated plans of
 * 10, 1,000 and 10,000 residual blocks, then the dry-run of plans/monolithnet.mono.
 * Prints ms, layers/s (IR nodes, heads included) and the growth per 10x blocks.
 * Goal: linear growth and >= 100,000 layers/s.   Run: npx tsx bench/frontend.ts
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { compilePlan } from '../src/compile.js';
import { hasErrors } from '../src/diagnostics/diagnostic.js';
import { renderDiagnostics } from '../src/diagnostics/render.js';
import { renderSummary, summarizeIR } from '../src/summary/index.js';
import { parsePlan } from '../src/syntax/parse.js';

const BLOCKS_PER_SECTION = 10;

/** A plan of `blocks` residual units (7 IR nodes each), 10 per section, in two partitions. */
function generatePlan(blocks: number): string {
  const sections: string[] = [];
  for (let start = 0; start < blocks; start += BLOCKS_PER_SECTION) {
    const count = Math.min(BLOCKS_PER_SECTION, blocks - start);
    sections.push(`  s${sections.length}: ${Array.from({ length: count }, () => 'unit(f)').join(' ')}`);
  }
  const split = Math.floor(sections.length / 2); // p2 starts at section s<split>
  return `plan bench
param f = 8
data synthetic(examples: 256, classes: 4, shape: [8, 8, 1], noise: 0.1) {
  batch 32
  holdout 32
}
block unit(f) {
  residual { conv(f, 3) bn relu conv(f, 3) bn }
  relu
}
head probe(classes) { global_avg_pool dense(classes) }
network input [8, 8, 1] {
  stem: conv(f, 3) bn relu
${sections.join('\n')}
  out: global_avg_pool dense(4)
}
partition p1 = stem${split > 0 ? ` .. s${split - 1}` : ''} proxy probe(4)
partition p2 = s${split} .. out
schedule {
  train p1 for 1 epoch with msgd(lr: 0.1, momentum: 0.9)
  train p2 for 1 epoch with msgd(lr: 0.1, momentum: 0.9) { lr cosine(to: 0.001) }
  finetune all for 1 epoch with msgd(lr: 0.01, momentum: 0.9)
}
`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeIt(runs: number, work: () => void): number {
  // Warm-up until the JIT has settled (at least 0.5 s of work): a cold first compile
  // of a small plan costs several times its steady-state time.
  const warmUntil = performance.now() + 500;
  do work();
  while (performance.now() < warmUntil);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return median(times);
}

function compileChecked(text: string, file: string, set: Record<string, string> = {}) {
  const result = compilePlan(text, file, { set });
  if (hasErrors(result.diagnostics) || result.ir === undefined)
    throw new Error(`${file} does not compile:\n${renderDiagnostics(result.diagnostics, { [file]: text })}`);
  return result.ir;
}

const rows: { blocks: number; layers: number; ms: number; parseMs: number }[] = [];
for (const blocks of [10, 1_000, 10_000]) {
  const text = generatePlan(blocks);
  const ir = compileChecked(text, `bench-${blocks}.mono`);
  const layers = ir.nodes.length + ir.partitions.reduce((sum, p) => sum + (p.head?.nodes.length ?? 0), 0);
  const runs = blocks >= 10_000 ? 5 : 9;
  const ms = timeIt(runs, () => compilePlan(text, `bench-${blocks}.mono`));
  const parseMs = timeIt(runs, () => parsePlan(text, `bench-${blocks}.mono`));
  rows.push({ blocks, layers, ms, parseMs });
}

console.log('front end: parse + check + lower + schema validation (compilePlan), median of runs after a warm-up');
console.log('  blocks    layers    total ms   parse ms     layers/s');
for (const row of rows)
  console.log(
    `  ${String(row.blocks).padStart(6)}  ${String(row.layers).padStart(8)}  ${row.ms.toFixed(2).padStart(10)}  ${row.parseMs
      .toFixed(2)
      .padStart(9)}  ${Math.round(row.layers / (row.ms / 1000)).toLocaleString('en-US').padStart(11)}`,
  );
for (let i = 1; i < rows.length; i++) {
  const [a, b] = [rows[i - 1]!, rows[i]!];
  const decades = Math.log10(b.blocks / a.blocks);
  const perDecade = (b.ms / a.ms) ** (1 / decades);
  console.log(`  growth ${a.blocks} -> ${b.blocks} blocks: x${(b.ms / a.ms).toFixed(1)} time, x${perDecade.toFixed(2)} per 10x (linear = 10)`);
}

const monolithnet = readFileSync(new URL('../plans/monolithnet.mono', import.meta.url), 'utf8');
let parameters = 0;
const dryRunMs = timeIt(5, () => {
  const summary = summarizeIR(compileChecked(monolithnet, 'plans/monolithnet.mono'));
  renderSummary(summary);
  parameters = summary.params.total;
});
console.log(`monolithnet dry-run (compile + summary, ${(parameters / 1e6).toFixed(1)}M parameters): ${dryRunMs.toFixed(2)} ms`);
