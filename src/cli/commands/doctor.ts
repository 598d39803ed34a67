/** `mono doctor`: which tfjs backends this machine can run, which one mono picks, and why. */
import type { Command, CommandIO } from '../command.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'report the TensorFlow.js backends: available or not and why, which one runs, the wasm kernels',
  help: `Usage: mono doctor [--json]

Tries every backend in mono's order of preference: node-gpu (@tensorflow/tfjs-node-gpu),
node (@tensorflow/tfjs-node), wasm (@tensorflow/tfjs-backend-wasm), cpu (pure JavaScript),
and prints for each whether it is available and why not (tfjs-node and tfjs-node-gpu are
optional dependencies whose install downloads libtensorflow). Then the one mono run
chooses by default, its thread count, and who supplies each kernel and gradient that
training needs on wasm: native (tfjs), mono (mono's own training kernels), or missing.

Options:
  --json      print the report as JSON
  -h, --help  show this help

Exit codes: 0 always (a machine with only the cpu backend still trains, slowly); 2 usage error.

Example:
  mono doctor
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    // TensorFlow.js and the runtime load only when this command runs, so that
    // compile, check and fmt start without them.
    const { doctorAction } = await import('./doctor-action.js');
    return doctorAction(args, io);
  },
};
