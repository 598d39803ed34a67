/**
 * Hand-written IRs for runtime tests (no compiler needed): a tiny conv net with
 * 2 partitions, each conv -> bn -> relu, a gap+dense proxy head on p1, and the
 * network's own gap+dense head at the end of p2. Optionally p2 repeats one shared
 * conv twice in a residual block.
 */
import type { IR, IRNode, OptimizerSpec, ParamSpec, PartitionSpec, PhaseSpec, ScheduleSpec } from '../../src/ir/types.js';

export interface TinyOptions {
  classes?: number;
  shape?: [number, number, number];
  filters?: number;
  examples?: number;
  noise?: number;
  batch?: number;
  holdout?: number;
  epochs?: number[];
  finetune?: number;
  shared?: boolean;
  dropout?: number;
  optimizer?: OptimizerSpec;
  /** How the heads reduce the feature map: flatten keeps where things are (learns fast), gap does not. */
  pool?: 'flatten' | 'gap';
  lr?: ScheduleSpec;
}

function node(id: string, op: IRNode['op'], inputs: string[], shape: number[], partition: string, attrs: IRNode['attrs'] = {}, params: string[] = []): IRNode {
  return { id, op, attrs, inputs, shape, params, section: partition === 'p1' ? 'stem' : 'body', partition, path: id, flops: 0 };
}

export function tinyIR(options: TinyOptions = {}): IR {
  const classes = options.classes ?? 3;
  const [h, w, c] = options.shape ?? [6, 6, 1];
  const f = options.filters ?? 4;
  const parameters: ParamSpec[] = [];
  const param = (name: string, shape: number[], init: ParamSpec['init'], partition: string, extra: Partial<ParamSpec> = {}) => {
    parameters.push({ name, shape, init, partition, trainable: true, lrMult: 1, uses: 1, ...extra });
    return name;
  };
  const bnParams = (id: string, partition: string) => [
    param(`${id}.gamma`, [f], 'ones', partition),
    param(`${id}.beta`, [f], 'zeros', partition),
    param(`${id}.moving_mean`, [f], 'zeros', partition, { trainable: false }),
    param(`${id}.moving_variance`, [f], 'ones', partition, { trainable: false }),
  ];
  const conv = { filters: f, kernel: 3, stride: 1, padding: 'same', bias: false };
  const bn = { momentum: 0.9, epsilon: 1e-3 };
  const p1Nodes: IRNode[] = [
    node('c1', 'conv2d', ['input'], [h, w, f], 'p1', conv, [param('c1.kernel', [3, 3, c, f], 'he_normal', 'p1')]),
    node('bn1', 'batchnorm', ['c1'], [h, w, f], 'p1', bn, bnParams('bn1', 'p1')),
    node('r1', 'relu', ['bn1'], [h, w, f], 'p1'),
  ];
  const pool = options.pool ?? 'flatten';
  const pooled = pool === 'gap' ? f : h * w * f;
  const poolOp = pool === 'gap' ? 'global_avg_pool' : 'flatten';
  const headNodes: IRNode[] = [
    node('p1.head/pool', poolOp, ['r1'], [pooled], 'p1'),
    node('p1.head/dense', 'dense', ['p1.head/pool'], [classes], 'p1', { units: classes, bias: true }, [
      param('p1.head/dense.kernel', [pooled, classes], 'glorot_uniform', 'p1', { head: 'p1.head' }),
      param('p1.head/dense.bias', [classes], 'zeros', 'p1', { head: 'p1.head' }),
    ]),
  ];
  const p2Nodes: IRNode[] = [];
  let last = 'r1';
  if (options.shared) {
    // Two uses of one kernel: residual r1 + 0.5 * conv_shared(conv_shared(r1)).
    const kernel = param('shared.kernel', [3, 3, f, f], 'he_normal', 'p2', { sharedGroup: 'shared', uses: 2 });
    p2Nodes.push(node('s1', 'conv2d', ['r1'], [h, w, f], 'p2', conv, [kernel]));
    p2Nodes.push(node('s2', 'conv2d', ['s1'], [h, w, f], 'p2', conv, [kernel]));
    p2Nodes.push(node('res', 'add', ['r1', 's2'], [h, w, f], 'p2', { scale: 0.5 }));
    last = 'res';
  }
  p2Nodes.push(node('c2', 'conv2d', [last], [h, w, f], 'p2', conv, [param('c2.kernel', [3, 3, f, f], 'he_normal', 'p2')]));
  p2Nodes.push(node('bn2', 'batchnorm', ['c2'], [h, w, f], 'p2', bn, bnParams('bn2', 'p2')));
  p2Nodes.push(node('r2', 'relu', ['bn2'], [h, w, f], 'p2'));
  last = 'r2';
  if (options.dropout) {
    p2Nodes.push(node('drop', 'dropout', ['r2'], [h, w, f], 'p2', { rate: options.dropout }));
    last = 'drop';
  }
  p2Nodes.push(node('pool', poolOp, [last], [pooled], 'p2'));
  p2Nodes.push(
    node('out', 'dense', ['pool'], [classes], 'p2', { units: classes, bias: true }, [
      param('out.kernel', [pooled, classes], 'glorot_uniform', 'p2'),
      param('out.bias', [classes], 'zeros', 'p2'),
    ]),
  );
  const partitions: PartitionSpec[] = [
    {
      name: 'p1',
      sections: ['stem'],
      nodes: p1Nodes.map((n) => n.id),
      input: 'input',
      inputShape: [h, w, c],
      output: 'r1',
      outputShape: [h, w, f],
      params: 0,
      flops: 0,
      head: { name: 'p1.head', declaration: 'gap', nodes: headNodes, output: 'p1.head/dense', params: 0, flops: 0 },
    },
    { name: 'p2', sections: ['body'], nodes: p2Nodes.map((n) => n.id), input: 'r1', inputShape: [h, w, f], output: 'out', outputShape: [classes], params: 0, flops: 0 },
  ];
  const optimizer: OptimizerSpec = options.optimizer ?? { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4, lars: null };
  const lr: ScheduleSpec = options.lr ?? { type: 'cosine', to: 0.01 };
  const [e1, e2] = options.epochs ?? [2, 2];
  const phases: PhaseSpec[] = [
    { name: 'p1', kind: 'train', partition: 'p1', epochs: e1!, frozen: [], trainable: ['p1'], head: 'proxy', optimizer, lr, momentum: { type: 'constant' }, lrMultipliers: [] },
    { name: 'p2', kind: 'train', partition: 'p2', epochs: e2!, frozen: ['p1'], trainable: ['p2'], head: 'network', optimizer, lr, momentum: { type: 'constant' }, lrMultipliers: [] },
  ];
  if (options.finetune) {
    phases.push({ name: 'finetune', kind: 'finetune', partition: null, epochs: options.finetune, frozen: [], trainable: ['p1', 'p2'], head: 'network', optimizer, lr, momentum: { type: 'constant' }, lrMultipliers: [] });
  }
  return {
    irVersion: 1,
    plan: 'tiny',
    source: { file: 'tiny.mono', sha256: 'f'.repeat(64) },
    params: {},
    input: { shape: [h, w, c] },
    classes,
    data: {
      source: { type: 'synthetic', examples: options.examples ?? 240, classes, shape: [h, w, c], noise: options.noise ?? 0.3 },
      batch: options.batch ?? 16,
      holdout: options.holdout ?? 60,
      augment: [],
      normalize: { type: 'per_channel' },
      seed: 7,
      limit: 0,
    },
    nodes: [...p1Nodes, ...p2Nodes],
    output: 'out',
    parameters,
    partitions,
    phases,
  };
}
