/** The body of `mono data` (src/cli/commands/data.ts holds its name, summary and help). */
import path from 'node:path';
import { dataCacheRoot, DOWNLOADABLE, DOWNLOADABLE_NAMES, getDataSet, isDownloadable, ProgressReporter } from '../../runtime/index.js';
import { didYouMean } from '../../diagnostics/suggest.js';
import { expectPositionals, parseCommandArgs } from '../args.js';
import { EXIT_OK, UsageError, type CommandIO } from '../command.js';
import { shownPath } from '../io.js';

const options = {
  dir: { type: 'string' },
  url: { type: 'string' },
  sha256: { type: 'string', multiple: true },
} as const;

const SHA256 = /^[0-9a-fA-F]{64}$/;

/** `--sha256 HEX` (a one-file set) or `--sha256 FILE=HEX` (repeatable) -> expected sha256 by file name. */
function parseSha256(values: readonly string[] | undefined, files: readonly string[]): Record<string, string> | undefined {
  if (values === undefined) return undefined;
  const wanted: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    const file = equals < 0 ? undefined : value.slice(0, equals);
    const hex = equals < 0 ? value : value.slice(equals + 1);
    if (!SHA256.test(hex)) throw new UsageError(`--sha256 expects 64 hexadecimal digits${files.length > 1 ? ' after FILE=' : ''}, got '${value}'`);
    if (file === undefined) {
      if (files.length > 1) throw new UsageError(`--sha256 needs FILE=HEX for a set of several files (${files.join(', ')})`);
      wanted[files[0]!] = hex.toLowerCase();
    } else {
      if (!files.includes(file)) throw new UsageError(`--sha256 names '${file}', which is not one of ${files.join(', ')}`);
      wanted[file] = hex.toLowerCase();
    }
  }
  return wanted;
}

export async function dataAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  const [verb, name] = expectPositionals(positionals, `what to do: mono data get ${DOWNLOADABLE_NAMES.join('|')}`, { min: 1, max: 2 });
  if (verb !== 'get') throw new UsageError(`unknown action '${verb}'; expected: mono data get ${DOWNLOADABLE_NAMES.join('|')}`);
  if (name === undefined) throw new UsageError(`missing the data set: mono data get ${DOWNLOADABLE_NAMES.join('|')}`);
  if (!isDownloadable(name)) {
    const suggestion = didYouMean(name, DOWNLOADABLE_NAMES);
    throw new UsageError(`unknown data set '${name}' (one of ${DOWNLOADABLE_NAMES.join(', ')})${suggestion ? `; ${suggestion}` : ''}`);
  }
  const set = DOWNLOADABLE[name];
  if (values.url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(values.url);
    } catch {
      throw new UsageError(`--url expects an http:// or https:// URL, got '${values.url}'`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url expects an http:// or https:// URL, got '${values.url}'`);
  }
  const sha256 = parseSha256(values.sha256, set.files.map((file) => file.name));

  const progress = new ProgressReporter(io.stdout);
  const cacheRoot = dataCacheRoot(io.env);
  try {
    const result = await getDataSet(name, {
      cacheRoot,
      ...(values.dir !== undefined ? { dir: path.resolve(io.cwd, values.dir) } : {}),
      ...(values.url !== undefined ? { url: values.url } : {}),
      ...(sha256 ? { sha256 } : {}),
      onProgress: (p) => progress.transfer(p),
      onMessage: (text) => progress.message(`mono data: ${text}`),
    });
    const where = shownPath(io.cwd, result.folder);
    const useIt = values.dir === undefined ? set.planLine : set.planLine.replace(/^data (\w+)(\("[^"]*"\))?/, (_all, source: string) => `data ${source}("${where}")`);
    if (result.alreadyThere) {
      progress.message(`mono data: ${name} is already in ${where}; use it with: ${useIt}`);
    } else {
      for (const file of result.files) {
        const sha256 = file.checked.startsWith('sha256') ? '' : ` (its sha256: ${file.sha256})`;
        progress.message(`mono data: ${file.name}: ${file.bytes} bytes, ${file.checked} verified${sha256}`);
      }
      progress.message(`mono data: ${name} is in ${where}; use it with: ${useIt}`);
    }
    return EXIT_OK;
  } finally {
    progress.clear();
  }
}
