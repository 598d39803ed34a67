/** The backends `--backend` can force, in mono's order of preference (no TensorFlow.js import: the CLI's help uses it). */
export const BACKEND_CHOICES = ['node-gpu', 'node', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export function isBackendChoice(name: string): name is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(name);
}
