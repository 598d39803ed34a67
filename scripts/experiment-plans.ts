/**
 * Writes the optimizer experiment's plans (docs/experiments/plans/<dataset>-<arm>.mono)
 * and sweep files (docs/experiments/<dataset>-tune.sweep, -tune-edge.sweep, <dataset>.sweep) from the one template in
 * scripts/experiment/plans.ts, so that every arm has the same network, data and phases.
 *
 *   npx tsx scripts/experiment-plans.ts [--out docs/experiments]
 *
 * The experiment itself runs with mono sweep (docs/experiments.md).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ARMS, DATASETS, FULL_SIZE, planText, sweepText } from './experiment/plans.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = path.resolve(values.out ?? path.join(REPO, 'docs', 'experiments'));
await fs.mkdir(path.join(out, 'plans'), { recursive: true });
for (const dataset of DATASETS) {
  for (const arm of ARMS) await fs.writeFile(path.join(out, 'plans', `${dataset}-${arm}.mono`), planText(arm, dataset, FULL_SIZE));
  await fs.writeFile(path.join(out, `${dataset}-tune.sweep`), sweepText(dataset, 'tune')!);
  const edge = sweepText(dataset, 'edge');
  if (edge !== null) await fs.writeFile(path.join(out, `${dataset}-tune-edge.sweep`), edge);
  const evaluation = sweepText(dataset, 'eval');
  if (evaluation !== null) await fs.writeFile(path.join(out, `${dataset}.sweep`), evaluation);
  else console.log(`${dataset}: not every arm is tuned yet (TUNED_LR in scripts/experiment/plans.ts): no ${dataset}.sweep`);
}
console.log(`wrote ${DATASETS.length * ARMS.length} plans and the sweep files into ${path.relative(process.cwd(), out) || '.'}`);
