import { describe, expect, it } from 'vitest';
import type { IR } from '../../src/ir/types.js';
import { compileOk, plan } from './helpers.js';

const single = (input: string, layers: string) =>
  compileOk(
    plan({
      data: '',
      network: `network input ${input} {\n  a: ${layers}\n}`,
      partitions: '',
      schedule: 'schedule { train main for 1 epoch with msgd(lr: 0.1) }',
    }),
  );

const paramCount = (ir: IR, predicate: (name: string) => boolean = () => true) =>
  ir.parameters.filter((p) => p.trainable && predicate(p.name)).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);

describe('lowering: layers', () => {
  it('counts conv parameters: conv(16, 3) on [32, 32, 3] has 3*3*3*16 = 432', () => {
    const ir = single('[32, 32, 3]', 'conv(16, 3) global_avg_pool dense(10)');
    const conv = ir.nodes[0]!;
    expect(conv).toMatchObject({ id: 'a.conv1', op: 'conv2d', inputs: ['input'], shape: [32, 32, 16], params: ['a.conv1.kernel'], path: 'a/conv#1' });
    expect(conv.attrs).toEqual({ filters: 16, kernel: 3, stride: 1, padding: 'same', bias: false });
    expect(ir.parameters[0]).toEqual({ name: 'a.conv1.kernel', shape: [3, 3, 3, 16], init: 'he_normal', partition: 'main', trainable: true, lrMult: 1, uses: 1 });
    expect(paramCount(ir, (name) => name.startsWith('a.conv1'))).toBe(432);
    expect(conv.flops).toBe(2 * 432 * 32 * 32);
  });

  it('gives conv a bias only when asked and dense one by default', () => {
    const ir = single('[8, 8, 3]', 'conv(4, 3, bias: true) flatten dense(10) dense(10, bias: false)');
    expect(ir.nodes.map((n) => n.params)).toEqual([['a.conv1.kernel', 'a.conv1.bias'], [], ['a.dense1.kernel', 'a.dense1.bias'], ['a.dense2.kernel']]);
    expect(ir.parameters.find((p) => p.name === 'a.dense1.bias')).toMatchObject({ shape: [10], init: 'zeros' });
    expect(ir.nodes[2]!.flops).toBe(2 * 256 * 10 + 10);
  });

  it("gives conv and dense kernels he_normal, or fan_in_uniform when asked (PyTorch's default)", () => {
    const ir = single('[8, 8, 3]', 'conv(4, 3, init: fan_in_uniform) conv(4, 3, init: he_normal) flatten dense(10, init: fan_in_uniform) dense(10)');
    expect(ir.parameters.filter((p) => p.trainable).map((p) => [p.name, p.init])).toEqual([
      ['a.conv1.kernel', 'fan_in_uniform'],
      ['a.conv2.kernel', 'he_normal'],
      ['a.dense1.kernel', 'fan_in_uniform'],
      ['a.dense1.bias', 'zeros'],
      ['a.dense2.kernel', 'he_normal'],
      ['a.dense2.bias', 'zeros'],
    ]);
  });

  it('lowers batchnorm to four parameters, two of them trainable', () => {
    const ir = single('[16]', 'bn(momentum: 0.9, eps: 1e-5) dense(10)');
    expect(ir.nodes[0]!.attrs).toEqual({ momentum: 0.9, epsilon: 1e-5 });
    expect(ir.parameters.slice(0, 4).map((p) => [p.name, p.init, p.trainable])).toEqual([
      ['a.bn1.gamma', 'ones', true],
      ['a.bn1.beta', 'zeros', true],
      ['a.bn1.moving_mean', 'zeros', false],
      ['a.bn1.moving_variance', 'ones', false],
    ]);
  });

  it('lowers pooling and activation attributes', () => {
    const ir = single('[8, 8, 2]', 'maxpool(size: 3, stride: 2, padding: same) leaky_relu(alpha: 0.1) binary dropout(0.25) global_max_pool dense(10)');
    expect(ir.nodes.slice(0, 4).map((n) => [n.op, n.attrs, n.shape])).toEqual([
      ['maxpool', { size: 3, stride: 2, padding: 'same' }, [4, 4, 2]],
      ['leaky_relu', { alpha: 0.1 }, [4, 4, 2]],
      ['binary', { tau: 0.5, threshold: 0 }, [4, 4, 2]],
      ['dropout', { rate: 0.25 }, [4, 4, 2]],
    ]);
  });
});

describe('lowering: residuals, repeats and shared parameters', () => {
  it('inserts a strided 1x1 projection with batchnorm when the branch changes shape', () => {
    const ir = single('[8, 8, 4]', 'residual { conv(8, 3, stride: 2) } global_avg_pool dense(10)');
    const byId = new Map(ir.nodes.map((n) => [n.id, n]));
    expect(byId.get('a.proj1')).toMatchObject({ op: 'conv2d', inputs: ['input'], shape: [4, 4, 8], attrs: { filters: 8, kernel: 1, stride: 2, padding: 'same', bias: false } });
    expect(byId.get('a.proj_bn1')).toMatchObject({ op: 'batchnorm', inputs: ['a.proj1'] });
    expect(byId.get('a.add1')).toMatchObject({ op: 'add', inputs: ['a.proj_bn1', 'a.conv1'], attrs: { scale: 1 }, shape: [4, 4, 8] });
  });

  it("initialises the projection's kernel from the residual's init argument", () => {
    const init = (residual: string) => single('[8, 8, 4]', `${residual} { conv(8, 3, stride: 2) } flatten residual(init: fan_in_uniform) { dense(5) } dense(10)`).parameters.filter((p) => p.name.startsWith('a.proj') && p.name.endsWith('.kernel')).map((p) => [p.name, p.init]);
    expect(init('residual')).toEqual([['a.proj1.kernel', 'he_normal'], ['a.proj2.kernel', 'fan_in_uniform']]);
    expect(init('residual(init: fan_in_uniform)')).toEqual([['a.proj1.kernel', 'fan_in_uniform'], ['a.proj2.kernel', 'fan_in_uniform']]);
  });

  it("gives the projection the branch's own stride and crops to its windows: residual { maxpool } on 7x7", () => {
    // maxpool(2) 'valid' on 7 rows has windows 0-1, 2-3, 4-5 (row 6 unused): the skip must
    // sample rows 0, 2, 4 (stride 2 over the first 5 rows), not 0, 3, 6 (stride 3).
    const ir = single('[7, 7, 4]', 'residual { maxpool conv(8, 1) } global_avg_pool dense(10)');
    const byId = new Map(ir.nodes.map((n) => [n.id, n]));
    expect(byId.get('a.proj_crop1')).toMatchObject({ op: 'crop', inputs: ['input'], shape: [5, 5, 4], attrs: { height: 5, width: 5 }, params: [], flops: 0 });
    expect(byId.get('a.proj1')).toMatchObject({ op: 'conv2d', inputs: ['a.proj_crop1'], shape: [3, 3, 8], attrs: { kernel: 1, stride: 2 } });
    expect(byId.get('a.add1')).toMatchObject({ inputs: ['a.proj_bn1', 'a.conv1'], shape: [3, 3, 8] });
    expect(ir.partitions[0]!.nodes.slice(0, 6)).toEqual(['a.maxpool1', 'a.conv1', 'a.proj_crop1', 'a.proj1', 'a.proj_bn1', 'a.add1']);
  });

  it('multiplies the strides along the branch, through nested residuals, and crops only where windows drop pixels', () => {
    const strided = (input: string, branch: string) => {
      const ir = single(input, `residual { ${branch} } global_avg_pool dense(10)`);
      // The outer residual's projection: the last one built (a nested residual's comes first).
      const projection = ir.nodes.filter((n) => /^a\.proj\d+$/.test(n.id)).at(-1)!;
      const crop = ir.nodes.find((n) => n.op === 'crop' && n.id === projection.inputs[0]);
      return { stride: projection.attrs.stride, crop: crop ? crop.shape : null, shape: projection.shape };
    };
    // 'same' everywhere: ceil(h / s) already matches, no crop (the classic ResNet projection).
    expect(strided('[7, 7, 2]', 'conv(4, 3, stride: 2) bn relu conv(4, 3)')).toEqual({ stride: 2, crop: null, shape: [4, 4, 4] });
    expect(strided('[8, 8, 2]', 'maxpool conv(4, 1)')).toEqual({ stride: 2, crop: null, shape: [4, 4, 4] });
    // 9x9 maxpool -> 4x4: refused before (no s with ceil(9 / s) = 4), now stride 2 over rows 0-6.
    expect(strided('[9, 9, 2]', 'maxpool conv(4, 1)')).toEqual({ stride: 2, crop: [7, 7, 2], shape: [4, 4, 4] });
    // conv 'valid' 3x3 stride 2 (windows start at 0, 2, 4, 6), then maxpool 'same' (stride 4 overall).
    expect(strided('[9, 9, 2]', 'conv(4, 3, stride: 2, padding: valid) maxpool(padding: same)')).toEqual({ stride: 4, crop: [5, 5, 2], shape: [2, 2, 4] });
    // A nested residual counts through its own branch.
    expect(strided('[8, 8, 2]', 'residual { conv(4, 3, stride: 2) } conv(6, 3, stride: 2)')).toEqual({ stride: 4, crop: null, shape: [2, 2, 6] });
    // Non-square: each axis gets its own crop.
    expect(strided('[7, 8, 2]', 'maxpool conv(4, 1)')).toEqual({ stride: 2, crop: [5, 7, 2], shape: [3, 4, 4] });
  });

  it('adds no projection when the shape is kept', () => {
    const ir = single('[8, 8, 4]', 'residual(scale: 0.5) { conv(4, 3) bn } global_avg_pool dense(10)');
    expect(ir.nodes.map((n) => n.id)).toEqual(['a.conv1', 'a.bn1', 'a.add1', 'a.global_avg_pool1', 'a.dense1']);
    expect(ir.nodes[2]).toMatchObject({ inputs: ['input', 'a.bn1'], attrs: { scale: 0.5 } });
  });

  it('unrolls repeats and expands blocks with readable unique ids', () => {
    const ir = compileOk(plan({ partitions: 'partition p1 = stem .. stage1 proxy gap(10)\npartition p2 = out', network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: repeat 2 { basic(4) } repeat 2 relu\n  out: global_avg_pool dense(10)\n}' }));
    const ids = ir.nodes.map((n) => n.id);
    expect(ids).toContain('stage1.basic2.conv2');
    expect(ids).toContain('stage1.relu2');
    expect(new Set(ids).size).toBe(ids.length);
    expect(ir.nodes.find((n) => n.id === 'stage1.basic2.conv2')!.path).toBe('stage1/basic#2/conv#2');
  });

  it('shares one parameter set across a shared repeat, scaling residuals by 1/N', () => {
    const ir = single('[4, 4, 8]', 'repeat 4 shared residual { conv(8, 3) bn } global_avg_pool dense(10)');
    const convs = ir.nodes.filter((n) => n.op === 'conv2d');
    expect(convs).toHaveLength(4);
    expect(new Set(convs.map((n) => n.params[0]))).toEqual(new Set(['a.conv1.kernel']));
    const kernel = ir.parameters.find((p) => p.name === 'a.conv1.kernel')!;
    expect(kernel).toMatchObject({ uses: 4, sharedGroup: 'a.shared1' });
    expect(ir.nodes.filter((n) => n.op === 'add').map((n) => n.attrs.scale)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(paramCount(ir)).toBe(3 * 3 * 8 * 8 + 16 + 8 * 10 + 10);
    // gamma and beta are shared; each depth keeps its own BatchNorm running statistics.
    const bns = ir.nodes.filter((n) => n.op === 'batchnorm');
    expect(new Set(bns.map((n) => n.params[0])).size).toBe(1);
    expect(new Set(bns.map((n) => n.params[2])).size).toBe(4);
    const movingMean = ir.parameters.find((p) => p.name === bns[3]!.params[2])!;
    expect(movingMean).toMatchObject({ trainable: false, uses: 1 });
    expect(movingMean.sharedGroup).toBeUndefined();
  });

  it('takes an explicit shared scale', () => {
    const ir = single('[4, 4, 8]', 'repeat 3 shared(scale: 0.5) residual { conv(8, 3) } global_avg_pool dense(10)');
    expect(ir.nodes.filter((n) => n.op === 'add').map((n) => n.attrs.scale)).toEqual([0.5, 0.5, 0.5]);
  });
});

describe('lowering: partitions and heads', () => {
  it('instantiates proxy heads with their own ids and parameters, attributed to the partition', () => {
    const ir = compileOk(plan());
    const [p1, p2] = ir.partitions;
    expect(p1!.head!.name).toBe('p1.head');
    expect(p1!.head!.declaration).toBe('gap');
    expect(p1!.head!.nodes.map((n) => n.id)).toEqual(['p1.head.global_avg_pool1', 'p1.head.dense1']);
    expect(p1!.head!.nodes[0]!.inputs).toEqual([p1!.output]);
    expect(p1!.head!.nodes.every((n) => n.partition === 'p1' && n.section === 'stage1')).toBe(true);
    expect(ir.parameters.filter((p) => p.head === 'p1.head').map((p) => p.name)).toEqual(['p1.head.dense1.kernel', 'p1.head.dense1.bias']);
    expect(p1!.head!.params).toBe(8 * 10 + 10);
    expect(p2!.head).toBeUndefined();
    expect(p2!.input).toBe(p1!.output);
    expect(p2!.inputShape).toEqual(p1!.outputShape);
    expect(ir.output).toBe(p2!.output);
  });

  it('sums trainable parameters and flops per partition', () => {
    const ir = compileOk(plan());
    for (const partition of ir.partitions) {
      const own = ir.parameters.filter((p) => p.partition === partition.name && p.head === undefined && p.trainable);
      expect(partition.params).toBe(own.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0));
      const nodes = ir.nodes.filter((n) => n.partition === partition.name);
      expect(partition.nodes).toEqual(nodes.map((n) => n.id));
      expect(partition.flops).toBe(nodes.reduce((sum, n) => sum + n.flops, 0));
    }
  });

  it('records the plan params after --set and the source digest', () => {
    const ir = compileOk(plan(), { set: { width: '2' } });
    expect(ir.params).toEqual({ width: 2 });
    expect(ir.nodes[0]!.shape).toEqual([8, 8, 2]);
    expect(ir.source.file).toBe('plan.mono');
    expect(ir.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ir.irVersion).toBe(1);
    expect(ir.classes).toBe(10);
    expect(ir.input.shape).toEqual([8, 8, 3]);
  });
});
