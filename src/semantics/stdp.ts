/**
 * The checks of an `stdp` phase that need the expanded network: the layers of the
 * partition it trains, their kernels and thresholds, and the rule's arguments against
 * them (docs/stdp.md). The source-level ones are in checks/stdp.ts.
 */
import type { IRNode, ParamSpec, StdpSpec } from '../ir/types.js';
import type { SourceRange } from '../syntax/location.js';
import { STDP_DEFAULTS } from './catalog/optimizers.js';
import type { Reporter } from './reporter.js';
import type { BoundArguments } from './signature.js';
import { argumentLoc, numberArg, optionalNumberArg } from './signature.js';

/** What the checks need of the expanded network. */
export interface StdpNetworkView {
  /** Every node of the main network, in execution order. */
  nodes: readonly IRNode[];
  parameters: readonly ParamSpec[];
  /** Where a node's layer is written (the caret of a diagnostic), when known. */
  nodeLoc(id: string): SourceRange | undefined;
  /** The data's batch (undefined when the data block has errors). */
  dataBatch: number | undefined;
}

/** The IR spec of `stdp(...)` from its bound arguments (a_minus defaults to 0.75 a_plus). */
export function stdpSpec(args: BoundArguments): StdpSpec {
  const aPlus = numberArg(args, 'a_plus');
  const winners = optionalNumberArg(args, 'winners');
  return {
    type: 'stdp',
    aPlus,
    aMinus: optionalNumberArg(args, 'a_minus') ?? STDP_DEFAULTS.aMinusRatio * aPlus,
    growth: numberArg(args, 'growth'),
    growthEvery: numberArg(args, 'every'),
    aMax: numberArg(args, 'a_max'),
    winners: winners ?? null,
    batch: numberArg(args, 'batch'),
  };
}

const LAYER_WORDS: Partial<Record<IRNode['op'], string>> = {
  dense: 'dense',
  batchnorm: 'bn',
  add: 'residual',
  avgpool: 'avgpool',
  global_avg_pool: 'global_avg_pool',
  global_max_pool: 'global_max_pool',
  flatten: 'flatten',
  dropout: 'dropout',
  crop: 'residual',
};

/**
 * The layers of partition `partition` under the rule: conv, binary and maxpool only;
 * every conv without bias, with stdp_normal kernels, read by binary units and reading
 * binary spikes (directly or through maxpool). Reports each problem at its layer; true
 * when there was none.
 */
export function checkStdpLayers(partition: string, spec: StdpSpec, args: BoundArguments, at: SourceRange, view: StdpNetworkView, reporter: Reporter): boolean {
  const nodes = view.nodes.filter((node) => node.partition === partition);
  const byId = new Map(view.nodes.map((node) => [node.id, node]));
  const params = new Map(view.parameters.map((param) => [param.name, param]));
  const where = (node: IRNode) => view.nodeLoc(node.id) ?? at;
  let ok = true;
  const fail = (code: string, message: string, loc: SourceRange, hint?: string) => {
    reporter.error(code, message, loc, hint);
    ok = false;
  };
  let convs = 0;
  for (const node of nodes) {
    if (node.op === 'binary' || node.op === 'maxpool') continue;
    if (node.op !== 'conv2d') {
      const word = LAYER_WORDS[node.op] ?? node.op;
      fail(
        'stdp-layer',
        `stdp cannot train partition '${partition}': it holds ${word} (${node.path}), and the rule knows conv, binary and maxpool only`,
        where(node),
        `end partition '${partition}' before this layer; the next partition's phase can train it by gradient`,
      );
      continue;
    }
    convs++;
    const kernel = params.get(node.params[0]!);
    if (node.attrs['bias'] === true) fail('stdp-conv-bias', `stdp trains a conv's kernel only, but ${node.path} has a bias`, where(node), 'write bias: false (the threshold of the binary units after it plays its part)');
    if (kernel && kernel.init !== 'stdp_normal') {
      fail(
        'stdp-init',
        `stdp needs kernel weights in [0, 1] (its soft bound is w(1 - w)), but ${node.path} starts from ${kernel.init}`,
        where(node),
        'write init: stdp_normal (N(0.8, 0.01^2), the paper\'s start)',
      );
    }
    if (kernel?.sharedGroup !== undefined) fail('stdp-shared', `stdp cannot train ${node.path}: its kernel is shared with other layers (a shared repeat)`, where(node), "drop 'shared' from the repeat");
    const readers = view.nodes.filter((other) => other.inputs.includes(node.id));
    if (readers.length !== 1 || readers[0]!.op !== 'binary') {
      fail(
        'stdp-needs-binary',
        `stdp learns from the spikes of binary units, but ${node.path} is not followed by binary`,
        where(node),
        'put binary(threshold: T) right after the conv: the units fire when conv(x) >= T',
      );
    } else {
      const threshold = readers[0]!.attrs['threshold'];
      if (typeof threshold !== 'number' || threshold <= 0) {
        reporter.warning(
          'stdp-threshold',
          `the binary units after ${node.path} fire at ${typeof threshold === 'number' ? threshold : 0}: with weights in [0, 1] and spikes as input every unit fires, so only inhibition picks the winners`,
          view.nodeLoc(readers[0]!.id) ?? where(node),
          'give them a threshold, e.g. binary(threshold: 15) as in the paper',
        );
      }
    }
    const source = spikeSource(node, byId);
    if (source !== 'binary') {
      fail(
        'stdp-input-not-spikes',
        `stdp needs binary spikes as the input of ${node.path}, but it reads ${source === 'input' ? "the network's input" : `the output of ${source}`}`,
        where(node),
        "put binary in front of it (binary units turn the normalised pixels into spikes where x >= 0)",
      );
    }
    const maps = node.attrs['filters'];
    if (spec.winners !== null && typeof maps === 'number' && spec.winners > maps) {
      reporter.warning('stdp-winners', `winners: ${spec.winners} is more than the ${maps} maps of ${node.path}: every map that fires learns`, argumentLoc(args, 'winners', at));
    }
  }
  if (convs === 0 && nodes.length > 0 && ok) fail('stdp-no-conv', `partition '${partition}' has no conv for stdp to train`, at, 'the rule trains conv kernels of binary units');
  if (spec.aPlus > spec.aMax) {
    reporter.warning('stdp-rates', `a_plus ${spec.aPlus} is above a_max ${spec.aMax}: the rule runs at a_max from the start`, argumentLoc(args, 'a_max', at));
  }
  if (view.dataBatch !== undefined && spec.batch > view.dataBatch) {
    fail('stdp-batch', `stdp batch ${spec.batch} is larger than the data's batch ${view.dataBatch}: an update cannot span two batches`, argumentLoc(args, 'batch', at), `use at most batch: ${view.dataBatch}, or raise the data block's batch`);
  }
  return ok;
}

/** Where a conv's input comes from, through maxpools: 'binary', 'input', or the op of another layer. */
function spikeSource(node: IRNode, byId: ReadonlyMap<string, IRNode>): string {
  let id = node.inputs[0]!;
  for (;;) {
    if (id === 'input') return 'input';
    const producer = byId.get(id);
    if (!producer) return 'input';
    if (producer.op === 'binary') return 'binary';
    if (producer.op !== 'maxpool') return `${producer.op} (${producer.path})`;
    id = producer.inputs[0]!;
  }
}
