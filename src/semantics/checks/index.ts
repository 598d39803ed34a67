import { CheckRegistry } from '../registry.js';
import { checkParameterList, checkRecursiveBlocks } from './blocks.js';
import { checkDataNames } from './data.js';
import { checkLayerName } from './layer-names.js';
import { checkNetworkHasSections, checkSectionHasLayers } from './network.js';
import { checkPartitionNames } from './partitions.js';
import { checkPhaseNames, checkScheduleNames } from './phases.js';
import { checkStdpPhase } from './stdp.js';

/**
 * The name-level checks, which need only the symbol table, each registered for the
 * kind of node it looks at. Value, shape and layout checks happen while the plan is
 * resolved (they need evaluated values).
 */
export function createCheckRegistry(): CheckRegistry {
  return new CheckRegistry()
    .register('Plan', checkRecursiveBlocks)
    .register('Block', checkParameterList)
    .register('Head', checkParameterList)
    .register('LayerCall', checkLayerName)
    .register('Network', checkNetworkHasSections)
    .register('Section', checkSectionHasLayers)
    .register('Partition', checkPartitionNames)
    .register('Phase', checkPhaseNames, checkStdpPhase)
    .register('Schedule', checkScheduleNames)
    .register('Data', checkDataNames);
}
