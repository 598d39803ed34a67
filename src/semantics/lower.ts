import { createHash } from 'node:crypto';
import type { Analysis, AnalyzedPartition } from './analyze.js';
import { shapeSize } from './shapes.js';
import type { HeadSpec, IR, ParamSpec, PartitionSpec } from '../ir/types.js';
import { IR_VERSION } from '../ir/types.js';

/**
 * Assembles the IR from a checked plan. The network was already expanded into
 * nodes and parameter specs during analysis (shape inference needs the expanded
 * graph); this step adds the per-partition totals, the heads and the source digest.
 */
export function lowerToIr(analysis: Analysis, file: string, text: string): IR {
  const trainableByPartition = new Map<string, number>();
  const trainableByHead = new Map<string, number>();
  for (const param of analysis.parameters) {
    if (!param.trainable) continue;
    const size = shapeSize(param.shape);
    if (param.head !== undefined) trainableByHead.set(param.head, (trainableByHead.get(param.head) ?? 0) + size);
    else trainableByPartition.set(param.partition, (trainableByPartition.get(param.partition) ?? 0) + size);
  }
  const partitions = analysis.partitions.map((partition) => lowerPartition(partition, trainableByPartition, trainableByHead));
  return {
    irVersion: IR_VERSION,
    plan: analysis.plan,
    source: { file, sha256: createHash('sha256').update(text).digest('hex') },
    params: analysis.params,
    input: { shape: analysis.inputShape },
    classes: analysis.classes,
    data: analysis.data,
    nodes: analysis.nodes,
    output: analysis.output,
    parameters: analysis.parameters as ParamSpec[],
    partitions,
    phases: analysis.phases,
    best: analysis.best,
  };
}

function lowerPartition(partition: AnalyzedPartition, trainableByPartition: Map<string, number>, trainableByHead: Map<string, number>): PartitionSpec {
  const spec: PartitionSpec = {
    name: partition.name,
    sections: partition.sections,
    nodes: partition.nodes.map((node) => node.id),
    input: partition.input,
    inputShape: partition.inputShape,
    output: partition.output,
    outputShape: partition.outputShape,
    params: trainableByPartition.get(partition.name) ?? 0,
    flops: sumFlops(partition.nodes),
  };
  if (partition.head) {
    const head: HeadSpec = {
      name: partition.head.name,
      declaration: partition.head.declaration,
      nodes: partition.head.nodes,
      output: partition.head.output,
      params: trainableByHead.get(partition.head.name) ?? 0,
      flops: sumFlops(partition.head.nodes),
    };
    spec.head = head;
  }
  return spec;
}

function sumFlops(nodes: readonly { flops: number }[]): number {
  let total = 0;
  for (const node of nodes) total += node.flops;
  return total;
}
