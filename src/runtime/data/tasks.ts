/** The examples of one incremental task: a split restricted to the task's classes (docs/tasks.md). */
import { exampleLength, type Split } from './types.js';

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
