import { didYouMean } from '../../diagnostics/suggest.js';
import type { PhaseDeclaration, ScheduleDeclaration, Setting } from '../../syntax/ast.js';
import { optimizerCatalog, PHASE_SETTINGS } from '../catalog/optimizers.js';
import { SCHEDULE_SETTINGS } from '../catalog/stopping.js';
import type { CheckContext } from '../registry.js';

/** A phase's target, optimizer name and setting names. */
export function checkPhaseNames(phase: PhaseDeclaration, context: CheckContext): void {
  const { symbols, reporter } = context;
  const target = phase.target;
  if (phase.mode === 'finetune') {
    if (target.name !== 'all')
      reporter.error('finetune-target', `finetune trains the whole network: write 'finetune all', not 'finetune ${target.name}'`, target.loc, "did you mean 'all'?");
  } else if (!symbols.partitionsByName.has(target.name) && !(symbols.partitions.length === 0 && target.name === IMPLICIT_PARTITION)) {
    const candidates = symbols.partitions.length === 0 ? [IMPLICIT_PARTITION] : symbols.partitionsByName.keys();
    reporter.error('unknown-partition', `unknown partition '${target.name}'`, target.loc, didYouMean(target.name, candidates));
  }
  const optimizer = phase.optimizer.callee;
  if (!optimizerCatalog.has(optimizer.name)) {
    reporter.error(
      'unknown-optimizer',
      `unknown optimizer '${optimizer.name}'; expected one of ${[...optimizerCatalog.keys()].join(', ')}`,
      optimizer.loc,
      didYouMean(optimizer.name, optimizerCatalog.keys()),
    );
  }
  checkSettingNames(phase.settings, PHASE_SETTINGS, 'phase', ['lr_mult'], context);
}

/** The schedule's own setting names (`best`), before its phases. */
export function checkScheduleNames(schedule: ScheduleDeclaration, context: CheckContext): void {
  checkSettingNames(schedule.settings, SCHEDULE_SETTINGS, 'schedule', [], context);
}

/** The name of the single partition of a plan without partition declarations. */
export const IMPLICIT_PARTITION = 'main';

/** Setting names are known, and each (except `repeatable` ones) appears at most once. */
export function checkSettingNames(
  settings: readonly Setting[],
  known: readonly string[],
  where: string,
  repeatable: readonly string[],
  { reporter }: CheckContext,
): void {
  const seen = new Map<string, Setting>();
  for (const setting of settings) {
    const name = setting.name.name;
    if (!known.includes(name)) {
      reporter.error('unknown-setting', `unknown ${where} setting '${name}'; expected one of ${known.join(', ')}`, setting.name.loc, didYouMean(name, known));
      continue;
    }
    const previous = seen.get(name);
    if (previous && !repeatable.includes(name)) {
      reporter.error('duplicate-setting', `'${name}' is already set on line ${previous.loc.start.line}`, setting.name.loc);
    }
    seen.set(name, setting);
  }
}
