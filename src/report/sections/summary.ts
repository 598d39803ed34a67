/** The plan and its summary (src/summary/: parameters, FLOPs, memory per phase), and the plan's source. */
import { formatBytes, formatCount, formatFlops, formatShape, formatValue, summarizeIR, type PlanSummary } from '../../summary/index.js';
import { absent, escapeHtml, htmlTable, section } from '../html.js';
import type { RunRecord } from '../types.js';

const e = escapeHtml;

function runFacts(run: RunRecord): string {
  const info = run.info;
  if (!info) return absent('run.json is missing or damaged: the seed, --set values and backend are unknown.');
  const set = Object.entries(info.set);
  const rows: [string, string][] = [
    ['plan', e(info.plan)],
    ['plan file', e(info.planFile ?? '?')],
    ['seed', e(String(info.seed))],
    ['--set', set.length > 0 ? e(set.map(([k, v]) => `${k}=${v}`).join(', ')) : 'none'],
    ['backend', e(info.backend)],
    ['started', e(info.startedAt)],
  ];
  if (info.initFrom) rows.push(['initialised from', e(info.initFrom)]);
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function summaryTables(summary: PlanSummary): string {
  const overview = `<p>${e(formatCount(summary.params.total))} trainable parameters in the network, ${e(formatCount(summary.params.heads))} in proxy heads, ${e(
    formatCount(summary.params.nonTrainable),
  )} non-trainable (BatchNorm statistics); ${e(formatFlops(summary.flopsPerExample))} per example forward; ${summary.layers} layers; input ${e(formatShape(summary.input))}, ${summary.classes} classes; ${summary.epochs} epochs in ${summary.phases.length} phases.</p>
<p>Data: ${e(summary.data.source)}, batch ${summary.batch}, hold-out ${summary.data.holdout}, augment ${e(summary.data.augment.join(', ') || 'none')}, normalize ${e(summary.data.normalize)}.</p>`;
  const partitions = htmlTable(
    ['partition', 'sections', 'layers', 'input', 'output', 'params', 'FLOPs/example', 'proxy head', 'head params'],
    summary.partitions.map((p) => [
      e(p.name),
      e(p.sections.join(', ')),
      String(p.layers),
      e(formatShape(p.inputShape)),
      e(formatShape(p.outputShape)),
      e(formatCount(p.params)),
      e(formatFlops(p.flops)),
      p.head ? e(`${p.head.name} (${p.head.declaration})`) : 'network output',
      p.head ? e(formatCount(p.head.params)) : '',
    ]),
    'partitions',
  );
  const memoryByPhase = new Map(summary.memory.phases.map((m) => [m.phase, m]));
  const phases = htmlTable(
    ['#', 'phase', 'epochs', 'trains', 'frozen', 'loss from', 'trainable params', 'optimizer', 'lr', 'momentum', 'memory peak', 'fits'],
    summary.phases.map((p) => {
      const memory = memoryByPhase.get(p.name);
      return [
        String(p.index),
        e(p.name),
        `${p.epochs} (${p.firstEpoch}&ndash;${p.lastEpoch})`,
        e(p.trainable.join(', ')),
        e(p.frozen.join(', ') || '-'),
        e(p.loss),
        e(formatCount(p.trainableParams)),
        e(p.optimizer),
        e(p.lr),
        e(p.momentum),
        memory ? e(`${formatBytes(memory.peakBytes)} at ${memory.peakAt}`) : '',
        memory ? (memory.fits ? 'yes' : `<strong class="bad">no</strong> (largest batch ${memory.largestBatch})`) : '',
      ];
    }),
    'phases',
  );
  const limit = `<p class="note">Memory: the estimated peak of one training step (weights, optimizer slots, gradients, activations; docs/runtime.md), held against ${e(
    formatBytes(summary.memory.limit.bytes),
  )} (${e(summary.memory.limit.source)}).</p>`;
  const params = Object.entries(summary.params.byPartition).map(([name, count]) => `${name} ${formatCount(count)}`);
  return `${overview}\n<h3>Partitions</h3>\n${partitions}\n<p class="note">Parameters by partition: ${e(params.join(', '))}.</p>\n<h3>Phases</h3>\n${phases}\n${limit}`;
}

export function summarySection(run: RunRecord): string {
  let body = runFacts(run);
  if (run.ir) {
    try {
      body += '\n' + summaryTables(summarizeIR(run.ir));
    } catch (error) {
      body += absent(`The plan summary could not be computed from ir.json: ${(error as Error).message}`);
    }
    const params = Object.entries(run.ir.params);
    if (params.length > 0) body += `\n<p>Plan params: ${e(params.map(([k, v]) => `${k} = ${typeof v === 'number' ? formatValue(v) : String(v)}`).join(', '))}</p>`;
  } else body += absent('No plan summary: ir.json is missing or damaged.');
  body += run.source !== null ? `\n<details><summary>plan.mono as run</summary><pre class="source">${e(run.source)}</pre></details>` : absent('plan.mono is missing.');
  return section('plan', 'Plan and summary', body);
}
