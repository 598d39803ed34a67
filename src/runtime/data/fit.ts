/**
 * Does the data fit the network? Checked once after loading, before the first step:
 * examples of another shape than the network input would either die deep inside a
 * matMul or (conv + global pooling) train silently on the wrong thing, and labels
 * beyond the network's output units would train silently to chance accuracy.
 */
import type { IR } from '../../ir/types.js';
import { DataMismatchError } from './errors.js';
import { formatExampleShape, type Split } from './types.js';

/** What the data must match: the IR's input shape, output units and the output node, for messages. */
export interface NetworkExpectation {
  inputShape: readonly number[];
  classes: number;
  /** The logits node in words, e.g. `the network ends in dense(10) at out/dense#1`. */
  output: string;
}

export function networkExpectation(ir: IR): NetworkExpectation {
  const node = ir.nodes.find((candidate) => candidate.id === ir.output);
  const units = node?.attrs['units'];
  const output =
    node === undefined
      ? `the network's output ${ir.output}`
      : node.op === 'dense' && typeof units === 'number'
        ? `the network ends in dense(${units}) at ${node.path}`
        : `the network ends in ${node.op} at ${node.path}`;
  return { inputShape: ir.input.shape, classes: ir.classes, output };
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((size, i) => size === b[i]);

/** Examples of `shape` for a network whose input is `expected`; throws DataMismatchError otherwise. */
export function checkExampleShape(origin: string, shape: readonly number[], expected: NetworkExpectation): void {
  if (sameShape(shape, expected.inputShape)) return;
  throw new DataMismatchError(
    origin,
    `examples are ${formatExampleShape(shape)}, but the network input is ${formatExampleShape(expected.inputShape)}; ` +
      `expected examples of the input shape (write 'network input ${formatExampleShape(shape)}' in the plan, or use data of that shape)`,
  );
}

/** Every label of the splits is a class of the network's output; throws DataMismatchError otherwise. */
export function checkLabels(origin: string, splits: readonly (Split | undefined)[], expected: NetworkExpectation): void {
  let min = Infinity;
  let max = -Infinity;
  for (const split of splits) {
    if (!split) continue;
    for (const label of split.labels) {
      if (label < min) min = label;
      if (label > max) max = label;
    }
  }
  if (max === -Infinity || (min >= 0 && max < expected.classes)) return;
  const found = min >= 0 ? `labels run 0..${max} (${max + 1} classes)` : `labels run ${min}..${max}`;
  const fix = min >= 0 ? `; expected labels 0..${expected.classes - 1}, or a network that ends in dense(${max + 1})` : `; expected labels 0..${expected.classes - 1}`;
  throw new DataMismatchError(origin, `${found}, but ${expected.output}: ${expected.classes} classes${fix}`);
}

/** The whole check: shape of every split and the label range. */
export function checkDataFitsNetwork(data: { origin: string; train: Split; holdout?: Split; test?: Split }, expected: NetworkExpectation): void {
  for (const split of [data.train, data.holdout, data.test]) if (split) checkExampleShape(data.origin, split.shape, expected);
  checkLabels(data.origin, [data.train, data.holdout, data.test], expected);
}
