/**
 * The record of scripts/gpu-check.sh's search for a Vulkan adapter on the GPU machine.
 * The shell tries one setting ("variant") after another (which driver manifest, which
 * libraries on LD_LIBRARY_PATH, which Vulkan loader); for each it runs
 * `vulkan-variants.mjs probe` under VK_LOADER_DEBUG=all and LD_DEBUG=libs and leaves in
 * a folder, per attempt N:
 *
 *   N.meta   lines `name=`, `description=`, `env=KEY=VALUE` (repeated), then `skipped=REASON`
 *            or `rc=` and `ms=`
 *   N.out    the probe's one JSON line (what requestAdapter gave)
 *   N.log    its stderr: the loader's and Dawn's messages
 *   LD/N.*   glibc's LD_DEBUG=libs output, one file per process (in a folder of its own)
 *
 * This module reads that folder back into one report (text for gpu-check.txt, an object
 * for gpu-check.json). Pure functions; the CLI is vulkan-variants-cli.ts.
 */

/** What the probe prints: Dawn's adapter, or none. */
export interface ProbedAdapter {
  found: boolean;
  name?: string;
  vendor?: string;
  architecture?: string;
  cpu?: boolean;
  maxBufferSize?: number;
}

export interface VariantAttempt {
  index: number;
  name: string;
  description: string;
  /** The settings the probe ran under (KEY=VALUE), beyond the script's own environment. */
  env: string[];
  /** Why this variant was not run (same settings as an earlier one, over the time budget, ...). */
  skipped: string | null;
  exitCode: number | null;
  seconds: number | null;
  timedOut: boolean;
  adapter: ProbedAdapter | null;
  /** Whether this attempt's adapter is the one the check goes on with. */
  usable: boolean;
  /** The loader's and Dawn's error and warning lines, most telling first. */
  messages: string[];
  /** Libraries the process looked for and never loaded (LD_DEBUG=libs): what a driver's dlopen missed. */
  notLoaded: string[];
  /** The full stderr of the attempt, relative to the report folder. */
  log: string | null;
}

/** Exit codes of `vulkan-variants.mjs probe`. */
export const PROBE_USABLE = 0;
export const PROBE_NO_ADAPTER = 2;
export const PROBE_CPU_ONLY = 3;

/** `KEY=VALUE` lines into a map; repeated keys keep every value in order. */
export function parseMeta(text: string): Map<string, string[]> {
  const meta = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    meta.set(key, [...(meta.get(key) ?? []), line.slice(eq + 1)]);
  }
  return meta;
}

/**
 * Sonames a process searched for and never initialised, from glibc's LD_DEBUG=libs output
 * (`find library=NAME [0]; searching` without a later `calling init: .../NAME`). A library
 * the NVIDIA driver dlopens at run time (libEGL.so.1, libnvidia-glvkspirv.so.VERSION) and
 * cannot find shows up here, where ldd of the driver shows nothing.
 */
export function librariesNotLoaded(ldDebug: string): string[] {
  const searched = new Set<string>();
  const loaded = new Set<string>();
  for (const line of ldDebug.split('\n')) {
    const find = /find library=(\S+) \[\d+\]; searching/.exec(line);
    if (find) searched.add(find[1]!);
    const init = /calling init: (\S+)/.exec(line);
    if (init) loaded.add(init[1]!.split('/').pop()!);
    // A library loaded by an absolute path, or one without an init function, is mapped here.
    const mapped = /file=(\S+) \[\d+\];\s+generating link map/.exec(line);
    if (mapped) loaded.add(mapped[1]!.split('/').pop()!);
  }
  return [...searched].filter((name) => !loaded.has(name)).sort();
}

// What a driver's own failure looks like, most telling first; the loader's summary
// ("Found no drivers", VK_ERROR_INCOMPATIBLE_DRIVER) comes after.
const TELLING = [
  /vk_icdGetInstanceProcAddr|vk_icdNegotiate|Could not get/i,
  /cannot open shared object|unable to open|Failed loading library|Failed to CreateInstance in ICD/i,
  /no drivers|INCOMPATIBLE_DRIVER|Found no/i,
];

/** Dawn repeats the loader's messages as `Warning: ...`; one line per message, whoever said it. */
function messageKey(line: string): string {
  return line.replace(/^(\[Vulkan Loader\]\s*)?(ERROR|WARNING|Warning|INFO|DEBUG)(\s*\|\s*[A-Z]+)?:\s*/, '').replace(/\s+/g, ' ');
}

/**
 * The loader's and Dawn's error and warning lines from an attempt's stderr (at most
 * `max`, deduplicated): the lines naming the driver's failure first, then the rest in order.
 */
export function loaderMessages(log: string, max = 6): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of log.split('\n')) {
    const line = raw.trim();
    if (line === '' || !/error|warn|cannot|unable|failed/i.test(line) || /^\s*at /.test(raw)) continue;
    if (/\bINFO\b|DEBUG \|/.test(line) && !TELLING.some((re) => re.test(line))) continue;
    const key = messageKey(line);
    if (seen.has(key)) continue;
    seen.add(key);
    const shown = line.replace(/\s+/g, ' ');
    lines.push(shown.length > 240 ? `${shown.slice(0, 237)}...` : shown);
  }
  const rank = (line: string) => {
    const i = TELLING.findIndex((re) => re.test(line));
    return i < 0 ? TELLING.length : i;
  };
  return lines
    .map((line, order) => ({ line, order }))
    .sort((a, b) => rank(a.line) - rank(b.line) || a.order - b.order)
    .slice(0, max)
    .map((entry) => entry.line);
}

/** The probe's JSON line, or null when it printed none (a crash, a timeout). */
export function parseProbeOutput(text: string): ProbedAdapter | null {
  for (const line of text.split('\n').reverse()) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as ProbedAdapter;
      if (typeof value.found === 'boolean') return value;
    } catch {
      // not the probe's line
    }
  }
  return null;
}

export interface AttemptFiles {
  index: number;
  meta: string;
  out: string | null;
  log: string | null;
  ldDebug: string;
  logPath: string | null;
}

/** One attempt's record from the text of its files. */
export function readAttempt(files: AttemptFiles): VariantAttempt {
  const meta = parseMeta(files.meta);
  const one = (key: string) => meta.get(key)?.[0] ?? null;
  const skipped = one('skipped');
  const rc = one('rc');
  const ms = one('ms');
  const exitCode = rc === null ? null : Number(rc);
  const adapter = files.out === null ? null : parseProbeOutput(files.out);
  return {
    index: files.index,
    name: one('name') ?? `variant ${files.index}`,
    description: one('description') ?? '',
    env: meta.get('env') ?? [],
    skipped,
    exitCode,
    seconds: ms === null ? null : Number(ms) / 1000,
    timedOut: exitCode === 124 || exitCode === 137,
    adapter,
    usable: skipped === null && exitCode === PROBE_USABLE && adapter?.found === true,
    messages: files.log === null ? [] : loaderMessages(files.log),
    notLoaded: librariesNotLoaded(files.ldDebug),
    log: files.logPath,
  };
}

function outcome(attempt: VariantAttempt): string {
  if (attempt.skipped !== null) return `skipped: ${attempt.skipped}`;
  const time = attempt.seconds === null ? '' : ` (${attempt.seconds.toFixed(1)} s)`;
  if (attempt.timedOut) return `no answer: the probe was stopped after its time limit${time}`;
  const adapter = attempt.adapter;
  if (adapter?.found) {
    const what = `${adapter.name ?? 'unnamed'}${adapter.vendor ? ` (${adapter.vendor})` : ''}`;
    if (attempt.usable) return `ADAPTER ${what}${adapter.cpu ? ', a CPU implementation (accepted: --allow-cpu-adapter)' : ''}${time}`;
    return `only a CPU implementation: ${what}, not a GPU${time}`;
  }
  if (adapter !== null) return `no adapter${time}`;
  return `the probe failed (exit ${attempt.exitCode ?? '?'}) and printed no answer${time}`;
}

/** The lines gpu-check.txt shows for the attempts, and which one was chosen. */
export function summaryLines(attempts: VariantAttempt[]): string[] {
  const lines: string[] = [];
  const width = Math.max(0, ...attempts.map((a) => a.name.length));
  for (const attempt of attempts) {
    lines.push(`${String(attempt.index).padStart(2)} ${attempt.name.padEnd(width)}  ${outcome(attempt)}`);
    lines.push(`     ${attempt.description}`);
    if (attempt.skipped !== null) continue;
    if (attempt.env.length > 0) lines.push(`     settings: ${attempt.env.join(' ')}`);
    for (const message of attempt.messages) lines.push(`     | ${message}`);
    if (attempt.notLoaded.length > 0) lines.push(`     looked for and never loaded (LD_DEBUG=libs): ${attempt.notLoaded.join(', ')}`);
  }
  const chosen = attempts.find((a) => a.usable);
  lines.push(
    chosen
      ? `chosen: ${chosen.index} ${chosen.name}; the check below runs with its settings`
      : `no variant gave a usable adapter; the check below runs with the first variant's settings (webgpu will be missing; wasm and PyTorch are still measured)`,
  );
  return lines;
}

/** What gpu-check.json records under `vulkan`. */
export interface VulkanReport {
  diagnostics: string[];
  attempts: VariantAttempt[];
  chosen: string | null;
}

export function vulkanReport(diagnostics: string, attempts: VariantAttempt[]): VulkanReport {
  return {
    diagnostics: diagnostics.split('\n').filter((line) => line.trim() !== ''),
    attempts,
    chosen: attempts.find((a) => a.usable)?.name ?? null,
  };
}
