/** The examples of one incremental task: a split restricted to the task's classes (docs/tasks.md). */
import type { IR, PhaseSpec } from '../../ir/types.js';
import { RuntimeFailure } from '../errors.js';
import { exampleLength, type LoadedData, type Split } from './types.js';

/** The examples of `split` whose label is one of `classes`, in their original order. */
export function restrictToClasses(split: Split, classes: readonly number[]): Split {
  const wanted = new Set(classes);
  const length = exampleLength(split.shape);
  let count = 0;
  for (let i = 0; i < split.count; i++) if (wanted.has(split.labels[i]!)) count++;
  const images = new Float32Array(count * length);
  const labels = new Int32Array(count);
  let next = 0;
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i]!;
    if (!wanted.has(label)) continue;
    images.set(split.images.subarray(i * length, (i + 1) * length), next * length);
    labels[next++] = label;
  }
  return { images, labels, count, shape: [...split.shape] };
}

/** The classes of task `task` (0-based), which `phase` trains; a RuntimeFailure when the IR has no such task. */
export function taskClasses(ir: IR, task: number, phase: PhaseSpec): readonly number[] {
  const classes = ir.data.tasks?.[task];
  if (!classes) throw new RuntimeFailure(`phase ${phase.name} trains task ${task + 1}, but the IR's data has ${ir.data.tasks?.length ?? 0} tasks`);
  return classes;
}

/**
 * The training examples a phase trains on (and its LR range test sweeps): its task's
 * classes in an incremental plan (`each task`), else the whole training split. A
 * RuntimeFailure when the task has no training examples.
 */
export function phaseTrainSplit(data: LoadedData, ir: IR, phase: PhaseSpec): Split {
  if (phase.task === undefined) return data.train;
  const classes = taskClasses(ir, phase.task, phase);
  const train = restrictToClasses(data.train, classes);
  if (train.count === 0) throw new RuntimeFailure(`phase ${phase.name}: task ${phase.task + 1} (classes ${classes.join(', ')}) has no training examples in ${data.origin}`);
  return train;
}
