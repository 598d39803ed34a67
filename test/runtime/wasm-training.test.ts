import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/runtime/backend.js';
import { loadData } from '../../src/runtime/data/dataset.js';
import { Network } from '../../src/runtime/graph.js';
import { runRngs, Trainer, type EpochMetrics } from '../../src/runtime/trainer.js';
import { tinyIR } from './tiny-ir.js';

async function trainOn(backend: string): Promise<EpochMetrics[]> {
  await selectBackend({ force: backend });
  const ir = tinyIR({ epochs: [1, 1], examples: 120, holdout: 30 });
  const data = await loadData(ir.data);
  const network = new Network(ir, runRngs(9).init);
  const metrics: EpochMetrics[] = [];
  await new Trainer({ network, data, seed: 9, hooks: { onEpoch: (m) => void metrics.push(m) } }).run();
  network.dispose();
  return metrics;
}

describe('training on wasm', () => {
  it('trains conv + BatchNorm partitions on wasm and matches the cpu backend', async () => {
    const wasm = await trainOn('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const cpu = await trainOn('cpu');
    expect(wasm.map((m) => m.phase)).toEqual(['p1', 'p2']);
    wasm.forEach((m, i) => {
      expect(m.loss!).toBeCloseTo(cpu[i]!.loss!, 3);
      expect(m.val_loss!).toBeCloseTo(cpu[i]!.val_loss!, 3);
      expect(m.val_acc).toBe(cpu[i]!.val_acc);
    });
  });
});
