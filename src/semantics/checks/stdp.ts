import type { PhaseDeclaration } from '../../syntax/ast.js';
import type { CheckContext } from '../registry.js';
import type { SymbolTable } from '../symbols.js';
import { IMPLICIT_PARTITION } from './phases.js';

/** Phase settings that steer a gradient and a loss: an stdp phase has neither. */
const GRADIENT_ONLY_SETTINGS: Readonly<Record<string, string>> = {
  lr: 'stdp has no learning rate to schedule: its rates are a_plus and a_minus, which grow by growth every `every` images',
  momentum: 'stdp has no momentum',
  lr_mult: 'stdp has no learning rate to scale',
  regularize: 'a regularizer adds to a loss, and stdp learns without one',
  stop: 'stop early watches a hold-out metric of a head, and an stdp phase trains none',
  probe: 'the noise probe measures gradients, and stdp follows none',
  each: 'stdp learns without labels: training it task by task changes nothing but the images it sees',
};

/**
 * An `stdp` phase, as far as the source shows: it trains one partition (not `finetune
 * all`), that partition has no proxy head (the rule needs no loss, and a head would stay
 * untrained) and is not the last (whose output is the class scores), and the phase has
 * no gradient settings. The layers themselves are checked once the network is expanded
 * (src/semantics/stdp.ts).
 */
export function checkStdpPhase(phase: PhaseDeclaration, { symbols, reporter }: CheckContext): void {
  if (phase.optimizer.callee.name !== 'stdp') return;
  const at = phase.optimizer.callee.loc;
  if (phase.mode === 'finetune') {
    reporter.error('stdp-finetune', 'stdp trains one partition of binary units, not the whole network', at, "write 'train PARTITION for N epochs with stdp(...)' for the feature partition, and finetune with a gradient optimizer");
    return;
  }
  const target = phase.target.name;
  const declaration = symbols.partitionsByName.get(target);
  if (declaration?.proxy) {
    reporter.error(
      'stdp-proxy-head',
      `partition '${target}' has a proxy head, but stdp learns without labels or loss: the head would never be trained`,
      declaration.proxy.loc,
      `remove 'proxy ${declaration.proxy.callee.name}(...)' from partition '${target}'; the next partition's phase trains the classifier`,
    );
  }
  if (isLastPartition(symbols, target)) {
    reporter.error(
      'stdp-last-partition',
      `partition '${target}' gives the network's class scores, which an unsupervised rule cannot learn`,
      phase.target.loc,
      'put the STDP feature layers in a partition of their own before the classifier, and train the classifier by gradient',
    );
  }
  for (const setting of phase.settings) {
    const why = GRADIENT_ONLY_SETTINGS[setting.name.name];
    if (why !== undefined) reporter.error('stdp-setting', `'${setting.name.name}' does not apply to an stdp phase: ${why}`, setting.name.loc, 'remove it, or train this phase with a gradient optimizer');
  }
}

function isLastPartition(symbols: SymbolTable, name: string): boolean {
  if (symbols.partitions.length === 0) return name === IMPLICIT_PARTITION;
  return symbols.partitions[symbols.partitions.length - 1]!.name.name === name;
}

/** Partitions that only `stdp` phases train (at least one): they need no proxy head. */
export function stdpOnlyPartitions(symbols: SymbolTable): Set<string> {
  const stdp = new Set<string>();
  const gradient = new Set<string>();
  for (const phase of symbols.schedule?.phases ?? []) {
    if (phase.mode !== 'train') continue;
    (phase.optimizer.callee.name === 'stdp' ? stdp : gradient).add(phase.target.name);
  }
  for (const name of gradient) stdp.delete(name);
  return stdp;
}
