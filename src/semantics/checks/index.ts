import { CheckRegistry } from '../registry.js';
import { checkParameterList, checkRecursiveBlocks } from './blocks.js';
import { checkDataNames } from './data.js';
import { checkLayerNames } from './layer-names.js';
import { checkSections } from './network.js';
import { checkPartitionNames } from './partitions.js';
import { checkPhaseNames } from './phases.js';

/**
 * The name-level checks, which need only the symbol table. Value, shape and
 * layout checks happen while the plan is resolved (they need evaluated values).
 */
export function createCheckRegistry(): CheckRegistry {
  return new CheckRegistry()
    .register('Plan', checkRecursiveBlocks)
    .register('Block', checkParameterList, (block, context) => checkLayerNames(block.body, context))
    .register('Head', checkParameterList, (head, context) => checkLayerNames(head.body, context))
    .register('Network', checkSections, (network, context) => {
      for (const section of network.sections) checkLayerNames(section.body, context);
    })
    .register('Partition', checkPartitionNames)
    .register('Schedule', checkPhaseNames)
    .register('Data', checkDataNames);
}
