/**
 * Whether this machine has a WebGPU adapter (Dawn on Vulkan: a GPU driver, or Mesa's
 * lavapipe from bookworm-backports, which .ci/run installs). Tests that need one skip
 * with the exact reason elsewhere, and fail in CI.
 */
import { probeWebgpuAdapter } from '../../src/runtime/kernels/webgpu/setup.js';
import { skipWithoutComponent } from './components.js';

const probe = await probeWebgpuAdapter();

export const webgpuAdapter = probe.found ? probe.adapter : undefined;

/** True when the webgpu tests must skip here (printed once per file); throws in CI. */
export const skipWithoutWebgpu = (): boolean =>
  skipWithoutComponent('a WebGPU adapter (Vulkan: a GPU driver, or Mesa lavapipe >= 25 from bookworm-backports)', probe.found, probe.found ? '' : probe.reason);
