/**
 * Phases on the epoch axis shared by the report's charts and timeline: epochs are
 * counted across phases (1, 2, ...), as in the run folder's SVG plots. The plan's
 * phases come from the IR; without one, from the metrics lines themselves.
 */
import type { RunRecord } from '../types.js';

export interface PhaseSpan {
  name: string;
  /** The trained partition, or null for `finetune all`. */
  partition: string | null;
  /** The head whose loss trains the phase (a proxy head's name, or `network`). */
  head: string;
  /** First and last epoch on the overall clock, 1-based, inclusive. */
  first: number;
  last: number;
}

/** The phases of a run: the plan's (every planned epoch) when the IR is known, else those the metrics show. */
export function phaseSpans(run: RunRecord): PhaseSpan[] {
  const ir = run.ir;
  if (ir) {
    let clock = 0;
    return ir.phases.map((phase) => {
      const trained = phase.trainable[phase.trainable.length - 1];
      const head = phase.head === 'proxy' ? (ir.partitions.find((p) => p.name === trained)?.head?.name ?? 'network') : 'network';
      const span = { name: phase.name, partition: phase.partition, head, first: clock + 1, last: clock + phase.epochs };
      clock += phase.epochs;
      return span;
    });
  }
  const spans: PhaseSpan[] = [];
  run.metrics.forEach((line, i) => {
    const current = spans[spans.length - 1];
    if (current && current.name === line.phase) current.last = i + 1;
    else spans.push({ name: line.phase, partition: null, head: line.head, first: i + 1, last: i + 1 });
  });
  return spans;
}

/** Epochs the plan has (or the metrics show, without an IR). */
export function plannedEpochs(run: RunRecord): number {
  const spans = phaseSpans(run);
  return Math.max(run.metrics.length, spans.length > 0 ? spans[spans.length - 1]!.last : 0);
}

/** The head that trains each partition's parameters: its proxy head, or `network` for the last partition. */
export function headOfPartition(run: RunRecord, partition: string): string {
  const spec = run.ir?.partitions.find((p) => p.name === partition);
  if (!spec) return partition;
  return spec.head ? spec.head.name : 'network';
}
