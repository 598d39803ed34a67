/** The dry-run summary as readable text (what `mono compile --dry-run` prints). */
import type { PrefixCachePlan } from './prefix-cache.js';
import type { MemorySummary, PhaseMemorySummary, PhaseSummary, PlanSummary } from './summarize.js';
import { renderTable } from './table.js';
import { formatBytes, formatCount, formatFlops, formatShape, formatValue } from './units.js';

export function renderSummary(summary: PlanSummary): string {
  const { params, batch } = summary;
  const out: string[] = [];
  out.push(`plan ${summary.plan} (${summary.file})`);
  out.push(
    `input ${formatShape(summary.input)} -> ${summary.classes} classes, ${summary.layers} layers; data ${summary.data.source}, ` +
      `batch ${batch}, holdout ${summary.data.holdout}` +
      (summary.data.augment.length > 0 ? `, augment ${summary.data.augment.join(', ')}` : '') +
      `, normalize ${summary.data.normalize}`,
  );
  const tasks = summary.data.tasks;
  if (tasks) out.push(`tasks ${tasks.length} (single head over all classes): ${tasks.map((task, i) => `${i + 1}: [${task.join(' ')}]`).join('  ')}`);
  out.push('');

  out.push('Totals');
  out.push(
    renderTable(
      [{ title: '' }, { title: '' }],
      [
        [
          'parameters',
          `${formatCount(params.total)} trainable in the network (${params.total.toLocaleString('en-US')}); ` +
            `${formatCount(params.heads)} in proxy heads; ${formatCount(params.nonTrainable)} non-trainable (BatchNorm statistics)`,
        ],
        [
          'FLOPs',
          `${formatFlops(summary.flopsPerExample)} per example, forward pass (proxy heads: ${formatFlops(summary.headFlopsPerExample)})`,
        ],
        [
          'activations',
          `${formatBytes(summary.activationBytes)} end to end: float32 outputs of every node x batch ${batch}`,
        ],
        [
          '',
          summary.partitionPeakPhase === null
            ? 'no partition phase'
            : `${formatBytes(summary.partitionPeakActivationBytes)} peak while training one partition (phase ${summary.partitionPeakPhase}): ` +
              `its input + node outputs + proxy head x batch ${batch}`,
        ],
      ],
      { header: false },
    ),
  );
  out.push('');

  out.push('Sections');
  out.push(
    renderTable(
      [
        { title: 'section' },
        { title: 'partition' },
        { title: 'layers', align: 'right' },
        { title: 'output' },
        { title: 'params', align: 'right' },
        { title: 'FLOPs/example', align: 'right' },
        { title: 'activations', align: 'right' },
      ],
      summary.sections.map((s) => [
        s.name,
        s.partition,
        String(s.layers),
        formatShape(s.outputShape),
        formatCount(s.params),
        formatFlops(s.flops),
        formatBytes(s.activationBytes),
      ]),
    ),
  );
  out.push('');

  out.push('Partitions (proxy heads apart)');
  out.push(
    renderTable(
      [
        { title: 'partition' },
        { title: 'sections' },
        { title: 'input' },
        { title: 'output' },
        { title: 'params', align: 'right' },
        { title: 'FLOPs/example', align: 'right' },
        { title: 'activations', align: 'right' },
        { title: 'proxy head' },
      ],
      summary.partitions.map((p) => [
        p.name,
        p.sections.length > 1 ? `${p.sections[0]} .. ${p.sections[p.sections.length - 1]}` : (p.sections[0] ?? ''),
        formatShape(p.inputShape),
        formatShape(p.outputShape),
        formatCount(p.params),
        formatFlops(p.flops),
        formatBytes(p.activationBytes),
        p.head
          ? `${p.head.name} = ${p.head.declaration}: ${formatCount(p.head.params)} params, ${formatFlops(p.head.flops)}, ${formatBytes(p.head.activationBytes)}`
          : '- (trains through the network output)',
      ]),
    ),
  );
  out.push('');

  out.push(`Phases (${summary.epochs} epochs)`);
  for (const phase of summary.phases) {
    const what = (phase.kind === 'finetune' ? 'finetune all' : `train ${phase.partition ?? ''}`) + (phase.task ? ` on task ${phase.task.number} [${phase.task.classes.join(' ')}]` : '');
    const epochs = phase.epochs === 1 ? `epoch ${phase.firstEpoch}` : `epochs ${phase.firstEpoch}-${phase.lastEpoch}`;
    // The IR's phase name only tells something new when a partition is trained twice (`p1#2`).
    const name = phase.name === phase.partition || phase.name === 'finetune' ? '' : `  [${phase.name}]`;
    const trained = phase.trainable.join(', ') + (phase.loss === 'network' ? '' : ` + proxy head ${phase.loss}`);
    out.push(`  ${phase.index}. ${what}: ${epochs} (${phase.epochs} ${phase.epochs === 1 ? 'epoch' : 'epochs'})${name}`);
    out.push(
      renderTable(
        [{ title: '' }, { title: '' }],
        [
          ['trains', `${trained} (${formatCount(phase.trainableParams)} params)`],
          ['frozen', phase.frozen.length > 0 ? `${phase.frozen.join(', ')} (forward only, BatchNorm in inference mode)` : '-'],
          ['loss', phase.loss === 'network' ? 'network output' : phase.loss === 'none' ? 'none (stdp learns without labels)' : `proxy head ${phase.loss}`],
          ['optimizer', phase.optimizer],
          ['lr', phase.lr],
          ['momentum', phase.momentum],
          ...phase.lrMultipliers.map((m) => ['lr_mult', `"${m.pattern}" x${formatValue(m.factor)}`]),
          ...(phase.noiseProbe ? [['noise probe', describeNoiseProbe(phase.noiseProbe, phase.epochs)]] : []),
          ...(phase.synapseCost ? [['regularize', `synapse_cost(${phase.synapseCost}): consolidated at the task's end`]] : []),
          ['activations', formatBytes(phase.activationBytes)],
        ],
        { indent: '       ', header: false },
      ),
    );
  }
  out.push('');
  out.push(...renderMemory(summary.memory));
  return out.join('\n') + '\n';
}

/** `256 examples after epochs 2, 4 and 5, top 8 eigenvalues; per-example gradients 12.3 MiB` */
function describeNoiseProbe(probe: NonNullable<PhaseSummary['noiseProbe']>, epochs: number): string {
  const at: number[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) if (epoch % probe.every === 0 || epoch === epochs) at.push(epoch);
  const list = at.length === 1 ? `epoch ${at[0]}` : `epochs ${at.slice(0, -1).join(', ')} and ${at[at.length - 1]}`;
  return `${probe.examples} examples after ${list}, top ${probe.top} eigenvalues; per-example gradients ${formatBytes(probe.gradientBytes)}`;
}

const LIMIT_WORDS: Record<MemorySummary['limit']['source'], string> = {
  wasm: "what the wasm backend's 4 GiB heap holds in tensors (mono run's default backend)",
  machine: "this machine's memory",
  'typed-array': 'one typed array per tensor',
  '--memory': 'from --memory',
  webgpu: "the webgpu adapter's largest binding",
  gpu: "the GPU's memory",
};

/** The frozen prefix's outputs held once per phase: their size, `no` when they are recomputed, `-` without frozen partitions. */
function prefixCacheCell(plan: PrefixCachePlan): string {
  if (plan.cached) return formatBytes(plan.bytes);
  return plan.reason === 'no frozen partitions' ? '-' : 'no';
}

function prefixCacheNotes(phases: readonly PhaseMemorySummary[]): string[] {
  const notes = phases.filter((p) => !p.prefixCache.cached && p.prefixCache.reason !== 'no frozen partitions')
    .map((p) => `  prefix of ${p.phase} recomputed every step: ${p.prefixCache.reason}`);
  const cached = phases.filter((p) => p.prefixCache.cached);
  if (cached.length > 0) {
    notes.unshift('  prefix cache: the frozen partitions\' outputs for every training example, computed once per phase (no augmentation), beside the step');
  }
  return notes;
}

function renderMemory(memory: MemorySummary): string[] {
  return [
    `Memory: estimated peak of one training step (weights, optimizer slots, gradients, activations and what backprop keeps; docs/runtime.md, "Memory")`,
    `  limit ${formatBytes(memory.limit.bytes)}, ${LIMIT_WORDS[memory.limit.source]}`,
    renderTable(
      [
        { title: 'phase' },
        { title: 'batch', align: 'right' },
        { title: 'peak', align: 'right' },
        { title: 'at' },
        { title: 'weights', align: 'right' },
        { title: 'optimizer', align: 'right' },
        { title: 'gradients', align: 'right' },
        { title: 'activations', align: 'right' },
        { title: 'fits' },
        { title: 'largest batch', align: 'right' },
        { title: 'prefix cache', align: 'right' },
      ],
      memory.phases.map((p) => [
        p.phase,
        String(p.batch),
        formatBytes(p.peakBytes),
        p.peakAt,
        formatBytes(p.weightsBytes),
        formatBytes(p.optimizerBytes),
        formatBytes(p.gradientBytes),
        formatBytes(p.activationBytes),
        p.fits ? 'yes' : 'no',
        p.largestBatch >= 1 ? p.largestBatch.toLocaleString('en-US') : 'none',
        prefixCacheCell(p.prefixCache),
      ]),
    ),
    ...prefixCacheNotes(memory.phases),
  ];
}
