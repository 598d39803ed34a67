/** The work of `mono doctor`: which tfjs backends this machine can run, which one mono picks, and why. */
import { probeBackends, wasmKernels } from '../../runtime/index.js';
import { parseCommandArgs } from '../args.js';
import { EXIT_OK, UsageError, type CommandIO } from '../command.js';

const options = { json: { type: 'boolean' } } as const;

/** The body of `mono doctor` (src/cli/commands/doctor.ts holds its name, summary and help). */
export async function doctorAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const { probes, chosen, threads } = await probeBackends();
  const kernels = await wasmKernels();
  if (values.json) {
    io.stdout.write(JSON.stringify({ backends: probes, chosen, threads, wasmKernels: kernels }, null, 2) + '\n');
    return EXIT_OK;
  }
  const width = Math.max(...probes.map((p) => p.name.length));
  const lines = ['Backends (in order of preference):'];
  for (const p of probes) lines.push(`  ${p.available ? 'ok ' : '-- '} ${p.name.padEnd(width)}  ${p.package}: ${p.detail}`);
  lines.push('', chosen ? `Chosen: ${chosen} (${threads} thread${threads === 1 ? '' : 's'}); force another with mono run --backend NAME` : 'Chosen: none');
  lines.push('', 'wasm training kernels and gradients:');
  const byStatus = (status: string) => kernels.filter((k) => k.status === status).map((k) => k.kernel);
  for (const status of ['mono', 'native', 'missing'] as const) {
    const names = byStatus(status);
    if (names.length > 0) lines.push(`  ${status.padEnd(7)} (${names.length}): ${names.join(', ')}`);
  }
  io.stdout.write(lines.join('\n') + '\n');
  return EXIT_OK;
}
