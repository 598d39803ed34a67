import { describe, expect, it } from 'vitest';
import type { IR, IRNode, ParamSpec, PhaseSpec } from '../../src/ir/types.js';
import { describeOptimizer, describeSchedule, renderSummary, summarizeIR } from '../../src/summary/index.js';
import { formatBytes, formatCount, formatFlops, formatValue } from '../../src/summary/units.js';

const node = (id: string, section: string, partition: string, shape: number[], flops: number, params: string[] = []): IRNode => ({
  id,
  op: params.length > 0 ? 'dense' : 'relu',
  attrs: {},
  inputs: [],
  shape,
  params,
  section,
  partition,
  path: `${section}/${id}`,
  flops,
});
const param = (name: string, shape: number[], partition: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({
  name,
  shape,
  init: 'he_normal',
  partition,
  trainable: true,
  lrMult: 1,
  uses: 1,
  ...extra,
});
const phase = (extra: Partial<PhaseSpec> & Pick<PhaseSpec, 'name'>): PhaseSpec => ({
  kind: 'train',
  partition: 'p1',
  epochs: 2,
  frozen: [],
  trainable: ['p1'],
  head: 'proxy',
  optimizer: { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, lars: null },
  lr: { type: 'cosine', to: 1e-3 },
  momentum: { type: 'anneal', to: 0.5, from: 0.8, shape: 'linear' },
  lrMultipliers: [],
  ...extra,
});

/**
 * Two partitions: p1 = section a (dense 4->8 + bn stats + a shared pair of nodes),
 * with a proxy head; p2 = section b (dense 8->3).
 */
function smallIR(): IR {
  const nodes = [
    node('a1', 'a', 'p1', [8], 64, ['a1.kernel', 'a1.bias']),
    node('a2', 'a', 'p1', [8], 0, ['a2.gamma', 'a2.beta', 'a2.mean', 'a2.var']),
    node('a3', 'a', 'p1', [8], 128, ['s.kernel']),
    node('a4', 'a', 'p1', [8], 128, ['s.kernel']),
    node('b1', 'b', 'p2', [3], 48, ['b1.kernel']),
  ];
  const headNode = node('p1.head.d', 'a', 'p1', [3], 48, ['p1.head.d.kernel']);
  const parameters = [
    param('a1.kernel', [4, 8], 'p1'),
    param('a1.bias', [8], 'p1'),
    param('a2.gamma', [8], 'p1'),
    param('a2.beta', [8], 'p1'),
    param('a2.mean', [8], 'p1', { trainable: false }),
    param('a2.var', [8], 'p1', { trainable: false }),
    param('s.kernel', [8, 8], 'p1', { sharedGroup: 's', uses: 2 }),
    param('b1.kernel', [8, 3], 'p2'),
    param('p1.head.d.kernel', [8, 3], 'p1', { head: 'p1.head' }),
  ];
  return {
    irVersion: 1,
    plan: 'small',
    source: { file: 'small.mono', sha256: '0'.repeat(64) },
    params: {},
    input: { shape: [4] },
    classes: 3,
    data: { source: { type: 'mnist' }, batch: 10, holdout: 5, augment: [], normalize: { type: 'none' }, seed: 1, limit: 0 },
    nodes,
    output: 'b1',
    parameters,
    partitions: [
      {
        name: 'p1',
        sections: ['a'],
        nodes: ['a1', 'a2', 'a3', 'a4'],
        input: 'input',
        inputShape: [4],
        output: 'a4',
        outputShape: [8],
        params: 0,
        flops: 0,
        head: { name: 'p1.head', declaration: 'probe', nodes: [headNode], output: 'p1.head.d', params: 24, flops: 48 },
      },
      { name: 'p2', sections: ['b'], nodes: ['b1'], input: 'a4', inputShape: [8], output: 'b1', outputShape: [3], params: 0, flops: 0 },
    ],
    phases: [
      phase({ name: 'p1' }),
      phase({ name: 'p2', partition: 'p2', epochs: 3, frozen: ['p1'], trainable: ['p2'], head: 'network' }),
      phase({ name: 'finetune', kind: 'finetune', partition: null, epochs: 1, trainable: ['p1', 'p2'], head: 'network' }),
    ],
  };
}

describe('summarizeIR', () => {
  const summary = summarizeIR(smallIR());

  it('counts trainable parameters once per shared name, heads apart', () => {
    // p1: 32 + 8 (dense) + 16 (bn gamma/beta) + 64 (shared, once) = 120; p2: 24
    expect(summary.params.byPartition).toEqual({ p1: 120, p2: 24 });
    expect(summary.params.total).toBe(144);
    expect(summary.params.heads).toBe(24);
    expect(summary.params.byHead).toEqual({ 'p1.head': 24 });
    expect(summary.params.nonTrainable).toBe(16);
  });

  it('sums forward FLOPs of the main network, heads apart', () => {
    expect(summary.flopsPerExample).toBe(64 + 128 + 128 + 48);
    expect(summary.headFlopsPerExample).toBe(48);
  });

  it('measures activations as float32 node outputs x batch', () => {
    // 4 nodes of 8 + 1 of 3 = 35 floats x 4 bytes x batch 10
    expect(summary.activationBytes).toBe(35 * 4 * 10);
    expect(summary.sections.map((s) => [s.name, s.layers, s.activationBytes])).toEqual([
      ['a', 4, 32 * 40],
      ['b', 1, 3 * 40],
    ]);
  });

  it('gives each phase the working set of its active partitions', () => {
    const [p1, p2, finetune] = summary.phases;
    expect(p1!.activationBytes).toBe((4 + 32 + 3) * 40); // input + p1 nodes + proxy head
    expect(p2!.activationBytes).toBe((8 + 3) * 40); // p1 output (frozen boundary) + p2 node
    expect(finetune!.activationBytes).toBe((4 + 35) * 40);
    // the partition peak ignores `finetune all`, whose working set is the whole network's
    expect(summary.partitionPeakPhase).toBe('p1');
    expect(summary.partitionPeakActivationBytes).toBe(39 * 40);
    expect(p1!.trainableParams).toBe(120 + 24);
    expect(p1!.loss).toBe('p1.head');
    expect(p2!.loss).toBe('network');
  });

  it('lays phases on one epoch clock', () => {
    expect(summary.phases.map((p) => [p.firstEpoch, p.lastEpoch])).toEqual([
      [1, 2],
      [3, 5],
      [6, 6],
    ]);
    expect(summary.epochs).toBe(6);
  });

  it('renders every section, partition, head and phase in the text', () => {
    const text = renderSummary(summary);
    for (const word of ['Sections', 'Partitions', 'p1.head = probe', 'epochs 3-5', 'epoch 6', 'cosine 0.1 -> 1e-3', 'frozen'])
      expect(text).toContain(word);
    expect(text).toContain('float32 outputs of every node x batch 10');
  });
});

describe('human numbers', () => {
  it('formats counts, FLOPs and bytes', () => {
    expect(formatCount(437_234_123)).toBe('437.2M');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(999_960)).toBe('1M');
    expect(formatFlops(1.3e9)).toBe('1.3 GFLOP');
    expect(formatFlops(512)).toBe('512 FLOP');
    expect(formatBytes(512 * 1024 * 1024)).toBe('512 MiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatValue(5e-4)).toBe('5e-4');
    expect(formatValue(0.9)).toBe('0.9');
  });

  it('describes schedules in words', () => {
    expect(describeSchedule({ type: 'anneal', to: 0.5, from: 0.8, shape: 'linear' }, 0.9)).toBe(
      '0.9, annealed (linear) to 0.5 from 80% of the phase',
    );
    expect(describeSchedule({ type: 'warmup', epochs: 1, from: 0, then: { type: 'cosine', to: 0 } }, 0.1)).toBe(
      'warmup 0 -> 0.1 over 1 epochs, then cosine 0.1 -> 0',
    );
  });

  it('describes optimizers with their own settings', () => {
    expect(describeOptimizer({ type: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-7, momentum: 0.5, weightDecay: 1e-4 })).toBe('rmsprop(lr 0.01, rho 0.9, momentum 0.5, decay 1e-4)');
    expect(describeOptimizer({ type: 'rmsprop', lr: 0.01, rho: 0.99, epsilon: 1e-7, momentum: 0, weightDecay: 0 })).toBe('rmsprop(lr 0.01, rho 0.99)');
    expect(describeOptimizer({ type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 0, lars: { eta: 0.001 } })).toBe('msgd(lr 0.1, momentum 0.9, lars 1e-3)');
  });
});
