/**
 * `mono check` and `mono compile` warn about each phase whose training step would not
 * fit a memory limit (the one `mono run` would refuse), located at the phase's
 * `train` / `finetune` line. Warnings: the exit code stays 0.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { IR } from '../ir/types.js';
import { NO_RANGE } from '../syntax/location.js';
import type { Plan } from '../syntax/ast.js';
import { describeOverLimit, phasesOverLimit, type MemoryLimit } from './limits.js';

export function memoryWarnings(ir: IR, plan: Plan, file: string, limit: MemoryLimit): Diagnostic[] {
  const declarations = plan.declarations.flatMap((d) => (d.kind === 'Schedule' ? d.phases : []));
  const batchSetting = plan.declarations.flatMap((d) => (d.kind === 'Data' ? d.settings : [])).find((s) => s.name.name === 'batch');
  const batchWhere = batchSetting ? ` (line ${batchSetting.loc.start.line})` : '';
  return phasesOverLimit(ir, limit).map((over) => {
    // The IR has one phase per schedule line, in order.
    const declaration = declarations[ir.phases.indexOf(over.phase)];
    const hint =
      over.largestBatch >= 1
        ? `lower the data block's batch${batchWhere}, or train smaller partitions; docs/runtime.md, "Memory", says what the estimate counts`
        : `no batch fits: make the network or the trained partition smaller; docs/runtime.md, "Memory", says what the estimate counts`;
    return {
      severity: 'warning',
      code: 'memory-limit',
      message: describeOverLimit(over),
      file,
      range: declaration?.loc ?? NO_RANGE,
      hint,
    };
  });
}
