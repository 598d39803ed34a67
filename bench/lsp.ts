/**
 * Language-server benchmark: time from a didChange on a generated 1,000-line plan to
 * the publishDiagnostics of that version, through a real client over stdio (the
 * server started as `mono lsp --stdio` from source). Each edit changes one number
 * (a section's block argument, so the whole network is checked again); the next
 * edit is sent once the previous one's diagnostics arrived. Goal: median < 50 ms.
 *   npm run bench:lsp [-- EDITS]
 */
import { performance } from 'node:perf_hooks';
import { compilePlan } from '../src/compile.js';
import { startLspClient } from '../test/support/lsp-client.js';
import { generateLspPlan } from './lsp-plan.js';

const EDITS = Number(process.argv[2] ?? 100);
const WARM_UP = 10;
const URI = 'file:///bench/generated.mono';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  const text = generateLspPlan(1000);
  const lines = text.split('\n');
  // The section lines `  sN: unitK(width)`: an edit turns `(width)` into `(width + 0)`, `(width + 1)`, ...
  const sectionLines = lines.flatMap((line, i) => (/^ {2}s\d+: unit\d+\(width\)$/.test(line) ? [i] : []));
  const client = await startLspClient();
  client.open(URI, text);
  const first = await client.diagnostics(URI, 1);
  if (first.diagnostics.length > 0) throw new Error(`the generated plan has diagnostics: ${first.diagnostics[0]!.message}`);

  const latencies: number[] = [];
  for (let edit = 0; edit < WARM_UP + EDITS; edit++) {
    const line = sectionLines[(edit * 37) % sectionLines.length]!;
    const character = lines[line]!.indexOf('width') + 'width'.length;
    const version = edit + 2;
    const started = performance.now();
    // Ranged (incremental) edits, as an editor sends them: insert ` + 0` once, then change its digit.
    const change = edit % 2 === 0 ? { text: ` * ${1 + (edit % 3)}` } : { text: '' };
    const range =
      edit % 2 === 0
        ? { start: { line, character }, end: { line, character } }
        : { start: { line: sectionLineOf(edit - 1), character: charOf(edit - 1) }, end: { line: sectionLineOf(edit - 1), character: charOf(edit - 1) + 4 } };
    client.change(URI, version, [{ range, ...change }]);
    const published = await client.diagnostics(URI, version);
    if (published.version !== version) throw new Error(`diagnostics for version ${published.version}, expected ${version}`);
    if (published.diagnostics.some((d) => d.severity === 1)) throw new Error(`edit ${edit} made an error: ${published.diagnostics[0]!.message}`);
    if (edit >= WARM_UP) latencies.push(performance.now() - started);
  }
  await client.stop();

  function sectionLineOf(edit: number): number {
    return sectionLines[(edit * 37) % sectionLines.length]!;
  }
  function charOf(edit: number): number {
    return lines[sectionLineOf(edit)]!.indexOf('width') + 'width'.length;
  }

  // The compile alone, in this process, for comparison (the server adds the protocol and the debounce).
  const compileTimes: number[] = [];
  for (let i = 0; i < 5 + 30; i++) {
    const started = performance.now();
    compilePlan(text, URI, { lower: false });
    if (i >= 5) compileTimes.push(performance.now() - started);
  }

  const sorted = [...latencies].sort((a, b) => a - b);
  const compileSorted = [...compileTimes].sort((a, b) => a - b);
  console.log(`plan: ${lines.length} lines; ${EDITS} edits after ${WARM_UP} warm-up edits`);
  console.log(`didChange -> publishDiagnostics: median ${fmt(percentile(sorted, 0.5))}, p90 ${fmt(percentile(sorted, 0.9))}, min ${fmt(sorted[0]!)}, max ${fmt(sorted[sorted.length - 1]!)}`);
  console.log(`compile (checks, no IR) in-process: median ${fmt(percentile(compileSorted, 0.5))}, min ${fmt(compileSorted[0]!)}`);
  console.log(`goal: median < 50 ms -> ${percentile(sorted, 0.5) < 50 ? 'met' : 'NOT met'}`);
}

await main();
