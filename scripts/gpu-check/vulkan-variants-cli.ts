/**
 * Bundled by `scripts/gpu-check.sh --pack` into lib/vulkan-variants.mjs; run by `--run`:
 *
 *   vulkan-variants.mjs probe [--allow-cpu]
 *       loads dawn.node, asks for the high-performance adapter as mono does, prints one JSON
 *       line and exits: 0 a usable adapter (a GPU, or a CPU one with --allow-cpu), 2 none,
 *       3 only a CPU implementation. The shell runs it once per variant, under a time limit.
 *   vulkan-variants.mjs report DIR [--ld DIR] [--diagnostics FILE] [--json FILE] [--merge FILE]
 *       reads the attempts the shell left in DIR (see vulkan-variants.ts), prints their summary,
 *       writes the record to --json, and adds it as `vulkan` to the report at --merge.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isCpuAdapter } from '../../src/runtime/gpu/vulkan.js';
import {
  PROBE_CPU_ONLY,
  PROBE_NO_ADAPTER,
  PROBE_USABLE,
  readAttempt,
  summaryLines,
  vulkanReport,
  type ProbedAdapter,
} from './vulkan-variants.js';

interface DawnModule {
  create(flags: string[]): { requestAdapter(options: { powerPreference: string }): Promise<DawnAdapter | null> };
}
interface DawnAdapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  limits: { maxBufferSize: number };
}

async function probe(allowCpu: boolean): Promise<number> {
  // A variable specifier: esbuild leaves the native package to be found at run time.
  const specifier: string = 'webgpu';
  const dawn = (await import(specifier)) as DawnModule;
  const adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    console.log(JSON.stringify({ found: false } satisfies ProbedAdapter));
    return PROBE_NO_ADAPTER;
  }
  const info = adapter.info ?? {};
  const name = info.description || info.device || info.vendor || 'unnamed adapter';
  const cpu = isCpuAdapter(name, info);
  const found: ProbedAdapter = {
    found: true,
    name,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    cpu,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
  console.log(JSON.stringify(found));
  return cpu && !allowCpu ? PROBE_CPU_ONLY : PROBE_USABLE;
}

function report(dir: string, options: { ld?: string; diagnostics?: string; json?: string; merge?: string }): void {
  const numbered = readdirSync(dir)
    .map((file) => /^(\d+)\.meta$/.exec(file)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const ldDir = options.ld ?? path.join(dir, 'ld');
  const text = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : null);
  const attempts = numbered.map((index) => {
    const ldFiles = existsSync(ldDir) ? readdirSync(ldDir).filter((file) => file.startsWith(`${index}.`)) : [];
    const log = path.join(dir, `${index}.log`);
    return readAttempt({
      index,
      meta: readFileSync(path.join(dir, `${index}.meta`), 'utf8'),
      out: text(path.join(dir, `${index}.out`)),
      log: text(log),
      ldDebug: ldFiles.map((file) => readFileSync(path.join(ldDir, file), 'utf8')).join('\n'),
      logPath: existsSync(log) ? path.join(path.basename(dir), `${index}.log`) : null,
    });
  });
  for (const line of summaryLines(attempts)) console.log(line);
  const record = vulkanReport(options.diagnostics ? (text(options.diagnostics) ?? '') : '', attempts);
  if (options.json) writeFileSync(options.json, JSON.stringify(record, null, 2) + '\n');
  if (options.merge && existsSync(options.merge)) {
    const full = JSON.parse(readFileSync(options.merge, 'utf8')) as Record<string, unknown>;
    full['vulkan'] = record;
    writeFileSync(options.merge, JSON.stringify(full, null, 2) + '\n');
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'probe') {
  const { values } = parseArgs({ args: rest, options: { 'allow-cpu': { type: 'boolean', default: false } } });
  // process.exit: Dawn's instance would otherwise keep the process alive.
  process.exit(await probe(values['allow-cpu'] === true));
} else if (command === 'report') {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { ld: { type: 'string' }, diagnostics: { type: 'string' }, json: { type: 'string' }, merge: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new Error('usage: vulkan-variants.mjs report DIR [--ld DIR] [--diagnostics FILE] [--json FILE] [--merge FILE]');
  report(positionals[0]!, values);
} else {
  console.error('usage: vulkan-variants.mjs probe [--allow-cpu] | report DIR [--ld DIR] [--diagnostics FILE] [--json FILE] [--merge FILE]');
  process.exit(2);
}
