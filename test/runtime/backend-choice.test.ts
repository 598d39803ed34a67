// Which backend mono chooses, and what doctor says: native backends on purpose
// (tfjs-node-gpu an explicit install), webgpu only on a GPU adapter by default.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/command.js';
import { BACKEND_CHOICES, BackendError, selectBackend } from '../../src/runtime/backend.js';
import { mono } from '../cli/harness.js';
import { skipWithoutWebgpu, webgpuAdapter } from '../support/webgpu.js';

describe('choosing a backend', () => {
  it('prefers node-gpu, node, webgpu, wasm, cpu, in that order', () => {
    expect(BACKEND_CHOICES).toEqual(['node-gpu', 'node', 'webgpu', 'wasm', 'cpu']);
  });

  it('never chooses a CPU implementation of Vulkan by default: it is slower than wasm', async () => {
    const chosen = await selectBackend();
    const webgpu = chosen.probes.find((p) => p.name === 'webgpu');
    if (chosen.name === 'webgpu') expect(chosen.adapter?.cpu).toBe(false);
    else {
      expect(webgpu?.available).toBe(false);
      expect(webgpu?.detail.length).toBeGreaterThan(0);
    }
    if (webgpuAdapter?.cpu) expect(chosen.name).not.toBe('webgpu');
  });

  it('says that tfjs-node-gpu is an explicit install when it is forced and absent', async () => {
    const installed = await import('@tensorflow/tfjs-node-gpu' as string).then(() => true, () => false);
    if (installed) return;
    await expect(selectBackend({ force: 'node-gpu' })).rejects.toThrow(BackendError);
    await expect(selectBackend({ force: 'node-gpu' })).rejects.toThrow(/not installed: an explicit install \(npm install @tensorflow\/tfjs-node-gpu\), which downloads libtensorflow for CUDA 11.2 and cuDNN 8.1/);
  });

  it.skipIf(skipWithoutWebgpu())('runs on webgpu when asked by name, on whatever adapter there is', async () => {
    const active = await selectBackend({ force: 'webgpu' });
    expect(active.name).toBe('webgpu');
    expect(active.tfName).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(active.adapter?.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    const sum = tf.sum(tf.tensor1d([1, 2, 3]));
    expect(Array.from(await sum.data())).toEqual([6]);
    sum.dispose();
    await selectBackend({ force: 'cpu' });
  });
});

describe('mono doctor', () => {
  it('reports the webgpu adapter or why there is none, what a GPU run needs, and the webgpu kernels', async () => {
    const result = await mono(['doctor', '--json']);
    expect(result.code).toBe(EXIT_OK);
    const report = JSON.parse(result.stdout) as {
      backends: { name: string; available: boolean; detail: string; adapter?: { name: string; cpu: boolean; limits: Record<string, number> } }[];
      chosen: string;
      cuda: { driver: string | null; libraries: { soname: string; path: string | null }[]; ready: boolean; missing: string[] };
      webgpuKernels?: { kernel: string; status: string }[];
      onnxruntime: { active: boolean; detail: string };
    };
    expect(report.backends.map((b) => b.name)).toEqual([...BACKEND_CHOICES]);
    // onnxruntime-node's CPU library comes inside the npm package: it loads on every machine the tests run on.
    expect(report.onnxruntime).toEqual({ active: true, detail: expect.stringMatching(/^on, onnxruntime-node \d+\.\d+\.\d+ \(CPU\)/) });
    const webgpu = report.backends.find((b) => b.name === 'webgpu')!;
    if (webgpuAdapter) {
      expect(webgpu.adapter?.name).toBe(webgpuAdapter.name);
      expect(webgpu.adapter?.limits['maxBufferSize']).toBeGreaterThan(0);
      expect(report.webgpuKernels?.filter((k) => k.status === 'mono').map((k) => k.kernel).sort()).toEqual(['AvgPoolGrad', 'MaxPoolGrad']);
    } else {
      expect(webgpu.available).toBe(false);
      expect(webgpu.detail).toMatch(/Vulkan|not installed|adapter/);
    }
    expect(report.cuda.libraries.map((l) => l.soname)).toContain('libcudart.so.11.0');
    expect(report.cuda.libraries.map((l) => l.soname)).toContain('libcudnn.so.8');
    expect(report.cuda.ready).toBe(report.cuda.missing.length === 0);
    const text = await mono(['doctor']);
    expect(text.stdout).toMatch(/\nwebgpu \(Dawn on Vulkan\):\n  (adapter |no adapter: )/);
    expect(text.stdout).toMatch(/\nWhat a node-gpu run needs \(tfjs-node-gpu 4.x: libtensorflow 2.9.1, CUDA 11.2, cuDNN 8.1, NVIDIA driver > 450\):\n  NVIDIA driver: /);
    if (!report.cuda.ready) expect(text.stdout).toContain('tfjs-node-gpu falls back to the CPU without an error');
    expect(text.stdout).toMatch(/\n  onnxruntime \(convolutions of 32\+ channels, frozen partitions, evaluation\): on, onnxruntime-node /);
  });

  it('takes --backend only with --bench', async () => {
    expect((await mono(['doctor', '--backend', 'wasm'])).code).toBe(EXIT_USAGE);
    expect((await mono(['doctor', '--bench', '--backend', 'tpu'])).code).toBe(EXIT_USAGE);
  });
});
