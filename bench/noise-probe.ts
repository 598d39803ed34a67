/**
 * What a gradient-noise probe costs (npm run bench:noise-probe [-- --backend wasm]
 * [--examples 256] [--plan plans/quickstart.mono]): for each phase of the plan, the
 * seconds of one `probe noise(examples: N)` over its trained partitions (per-example
 * gradients and the spectrum together), with the lambda1 share and effective rank it
 * finds. The network is freshly initialised (the cost does not depend on the
 * weights); the data is the plan's own. Prints a markdown table.
 */
import { parseArgs } from 'node:util';
import { compileFile } from '../src/compile.js';
import { selectBackend } from '../src/runtime/backend.js';
import { loadData } from '../src/runtime/data/dataset.js';
import { Network } from '../src/runtime/graph.js';
import { probeGradientNoise } from '../src/runtime/noise-probe.js';
import { phaseGraph } from '../src/runtime/step.js';
import { runRngs } from '../src/runtime/trainer.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    examples: { type: 'string', default: '256' },
    plan: { type: 'string', default: 'plans/quickstart.mono' },
  },
});
const backend = await selectBackend({ force: args.backend! });
const compiled = compileFile(args.plan!);
if (!compiled.ir) throw new Error(`${args.plan} does not compile`);
const ir = compiled.ir;
const data = await loadData(ir.data);
const network = new Network(ir, runRngs(1).init);
const examples = Number(args.examples);

console.log(`${args.plan} on ${backend.name}; ${examples} examples per probe; ${new Date().toISOString()}\n`);
console.log('| phase | partition | parameters | seconds | lambda1 share | effective rank |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const phase of ir.phases) {
  const graph = phaseGraph(network, phase);
  // One untimed probe of a few examples first: kernels compile and caches warm on first use.
  await probeGradientNoise(network, graph, data.train, { examples: 2, top: 1 });
  const started = performance.now();
  const stats = await probeGradientNoise(network, graph, data.train, { examples, top: 8 });
  const seconds = (performance.now() - started) / 1000;
  for (const [partition, s] of Object.entries(stats)) {
    console.log(`| ${phase.name} | ${partition} | ${s.params} | ${seconds.toFixed(1)} | ${s.lambda1_share.toFixed(3)} | ${s.effective_rank.toFixed(1)} |`);
  }
}
network.dispose();
