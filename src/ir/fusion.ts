import type { IRNode } from './types.js';

/**
 * batchnorm -> relu pairs that training runs as one op (the runtime's fused BatchNorm,
 * src/runtime/kernels/batch-norm-train.ts; the memory model counts them so): batchnorm
 * id -> relu id, where within one section (a partition or a head) the relu is the
 * batchnorm's only consumer and the batchnorm's output is not the section's output,
 * so nothing else ever sees the value before the relu.
 */
export function fusedBatchNormRelu(nodes: readonly IRNode[], outputId: string): Map<string, string> {
  const consumers = new Map<string, IRNode[]>();
  for (const node of nodes) for (const id of node.inputs) consumers.set(id, [...(consumers.get(id) ?? []), node]);
  const pairs = new Map<string, string>();
  for (const node of nodes) {
    if (node.op !== 'batchnorm' || node.id === outputId) continue;
    const users = consumers.get(node.id) ?? [];
    if (users.length === 1 && users[0]!.op === 'relu' && users[0]!.inputs.length === 1) pairs.set(node.id, users[0]!.id);
  }
  return pairs;
}
