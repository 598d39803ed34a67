/** `mono doctor`: which tfjs backends this machine can run, which one mono picks, and why. */
import type { Command, CommandIO } from '../command.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'report the TensorFlow.js backends: available or not and why, which one runs, the GPU paths, the training kernels',
  help: `Usage: mono doctor [--json] [--bench [--backend NAME]]

Tries every backend in mono's order of preference: node-gpu (@tensorflow/tfjs-node-gpu,
an explicit install), node (@tensorflow/tfjs-node, an optional dependency), webgpu
(@tensorflow/tfjs-backend-webgpu on Dawn; chosen by default only on a GPU adapter), wasm
(@tensorflow/tfjs-backend-wasm), cpu (pure JavaScript), and prints for each whether it is
available and why not (the native packages are probed in child processes). Then the one
mono run chooses by default and its thread count; the webgpu adapter (name, vendor, CPU or
GPU, limits) or exactly what is missing for one (Vulkan loader, driver manifest, Mesa
version, the NVIDIA Vulkan manifest); what a node-gpu run needs (NVIDIA driver, the CUDA
11.2 and cuDNN 8.1 libraries: found or not; tfjs-node-gpu falls back to the CPU silently
without them); who supplies each kernel and gradient that training needs on wasm and
webgpu: native (tfjs), mono (mono's own training kernels), or missing; and whether
onnxruntime runs the wide convolutions and the inference passes of wasm runs
(MONO_ONNXRUNTIME=off turns it off).

Options:
  --json          print the report as JSON
  --bench         also time training steps of a small fixed net (monolithnet width=1 depth=1,
                  a few seconds) and record the backend's FLOP/s in mono's cache folder, for
                  the time estimates of mono compile and mono run
  --backend NAME  with --bench: measure NAME instead of the chosen backend
  -h, --help      show this help

Exit codes: 0 always (a machine with only the cpu backend still trains, slowly); 2 usage error.

Examples:
  mono doctor
  mono doctor --bench --backend webgpu
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    // TensorFlow.js and the runtime load only when this command runs, so that
    // compile, check and fmt start without them.
    const { doctorAction } = await import('./doctor-action.js');
    return doctorAction(args, io);
  },
};
