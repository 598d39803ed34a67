import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../../src/compile.js';
import type { IR } from '../../../src/ir/types.js';
import { selectBackend } from '../../../src/runtime/backend.js';
import { loadData, loadDataFor } from '../../../src/runtime/data/dataset.js';
import { DataMismatchError } from '../../../src/runtime/data/errors.js';
import { checkDataFitsNetwork, checkLabels, networkExpectation } from '../../../src/runtime/data/fit.js';
import { RuntimeFailure } from '../../../src/runtime/errors.js';
import { Network } from '../../../src/runtime/graph.js';
import { runRngs, Trainer } from '../../../src/runtime/trainer.js';
import { idxBytes, tempDir, writeClassPatternIdxFolder } from './fixtures.js';
import { tinyIR } from '../tiny-ir.js';

const folders: string[] = [];
function freshDir(): string {
  const dir = tempDir();
  folders.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});
beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
});

/** A dense network on `input` ending in dense(units), reading `data`. */
function denseIR(data: string, units: number, input = '[6, 6, 1]', settings = 'batch 16\n  holdout 20'): IR {
  const source = `plan fit
data ${data} {
  ${settings}
}
network input ${input} {
  body: flatten dense(16) relu
  out: dense(${units})
}
schedule { train main for 1 epoch with sgd(lr: 0.1) }
`;
  const compiled = compilePlan(source, 'fit.mono');
  if (!compiled.ir) throw new Error(compiled.diagnostics.map((d) => d.message).join('\n'));
  return compiled.ir;
}

const thrown = async (promise: Promise<unknown>): Promise<Error> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  return error;
};

describe('the data against the network', () => {
  it('describes the network output by its layer and path', () => {
    expect(networkExpectation(denseIR('synthetic(examples: 100, classes: 10)', 10))).toEqual({
      inputShape: [6, 6, 1],
      classes: 10,
      output: 'the network ends in dense(10) at out/dense#1',
    });
  });

  it('accepts labels inside the classes, fewer classes included, and refuses labels beyond them with the numbers', () => {
    const expected = { inputShape: [2], classes: 10, output: 'the network ends in dense(10) at out/dense#1' };
    const split = (labels: number[]) => ({ images: new Float32Array(labels.length * 2), labels: Int32Array.from(labels), count: labels.length, shape: [2] });
    expect(() => checkLabels('here', [split([0, 9, 3])], expected)).not.toThrow();
    expect(() => checkLabels('here', [split([0, 1])], expected)).not.toThrow();
    expect(() => checkLabels('here', [split([0, 1]), split([10])], expected)).toThrow(
      new DataMismatchError('here', 'labels run 0..10 (11 classes), but the network ends in dense(10) at out/dense#1: 10 classes; expected labels 0..9, or a network that ends in dense(11)'),
    );
    expect(() => checkLabels('here', [split([-1, 3])], expected)).toThrow('here: labels run -1..3, but the network ends in dense(10) at out/dense#1: 10 classes; expected labels 0..9');
  });

  it('refuses a 47-class IDX set for dense(10) before anything is normalised, and loads it for dense(47)', async () => {
    const dir = freshDir();
    writeClassPatternIdxFolder(dir, { classes: 47, perClass: 2, rows: 6, cols: 6 });
    const refused = await thrown(loadDataFor(denseIR(`idx("${dir}")`, 10)));
    expect(refused).toBeInstanceOf(DataMismatchError);
    expect(refused).toBeInstanceOf(RuntimeFailure);
    expect(refused.message).toBe(
      `${dir}: labels run 0..46 (47 classes), but the network ends in dense(10) at out/dense#1: 10 classes; expected labels 0..9, or a network that ends in dense(47)`,
    );
    const data = await loadDataFor(denseIR(`idx("${dir}")`, 47));
    expect(data).toMatchObject({ classes: 47, origin: dir, train: { count: 74, shape: [6, 6, 1] }, holdout: { count: 20 } });
  });

  it('refuses examples of another shape than the network input, before a fixed normalisation could trip over the channels', async () => {
    const dir = freshDir();
    writeClassPatternIdxFolder(dir, { classes: 3, perClass: 10, rows: 4, cols: 5 });
    const ir = denseIR(`idx("${dir}")`, 3, '[6, 6, 3]', 'batch 16\n  holdout 5\n  normalize fixed(mean: [0.5, 0.5, 0.5], std: [1])');
    const refused = await thrown(loadDataFor(ir));
    expect(refused).toBeInstanceOf(DataMismatchError);
    expect(refused.message).toBe(
      `${dir}: examples are [4, 5, 1], but the network input is [6, 6, 3]; expected examples of the input shape (write 'network input [4, 5, 1]' in the plan, or use data of that shape)`,
    );
    // Loaded without the network, the same plan fails at the normalisation, also naming the folder.
    await expect(loadData(ir.data)).rejects.toThrow(`${dir}: normalize fixed: mean has 3 values, but the examples [4, 5, 1] have 1 channel; expected 1 value`);
  });

  it('refuses a hold-out that leaves no training examples, naming the data and the count', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes([3, 6, 6], new Uint8Array(108)));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([3], Uint8Array.from([0, 1, 2])));
    // idx's example count is unknown at compile time, so the default hold-out (1000) compiles.
    const ir = denseIR(`idx("${dir}")`, 3, '[6, 6, 1]', 'batch 16');
    expect(ir.data.holdout).toBe(1000);
    const refused = await thrown(loadDataFor(ir));
    expect(refused).toBeInstanceOf(DataMismatchError);
    expect(refused.message).toBe(`${dir}: holdout 1000 leaves no training examples: there are 3; expected a holdout below 3 (set 'holdout N' in the plan's data block)`);
  });

  it('is checked by the Trainer too, before any step, for data loaded without the network', async () => {
    const ir = tinyIR({ classes: 3 });
    const other = await loadData(tinyIR({ classes: 3, shape: [5, 5, 1] }).data);
    const network = new Network(ir, runRngs(1).init);
    try {
      expect(() => new Trainer({ network, data: other, seed: 1 })).toThrow(/examples are \[5, 5, 1\], but the network input is \[6, 6, 1\]/);
      const fits = await loadData(ir.data);
      expect(() => checkDataFitsNetwork(fits, networkExpectation(ir))).not.toThrow();
    } finally {
      network.dispose();
    }
  });
});
