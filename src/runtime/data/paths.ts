import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Where relative data paths start from. */
export interface DataPathOptions {
  /** The plan file's folder, tried first. */
  baseDir?: string;
  /** mono's data cache (dataCacheRoot()), tried last; where `mono data get` puts the sets. */
  cacheDir?: string;
}

/** Where a plan's data path may live: relative paths try the plan's folder, then the cwd, then the data cache. */
export function candidateFolders(path: string, options: DataPathOptions = {}): string[] {
  if (isAbsolute(path)) return [path];
  const candidates = options.baseDir === undefined ? [] : [resolve(options.baseDir, path)];
  candidates.push(resolve(process.cwd(), path));
  if (options.cacheDir !== undefined) candidates.push(resolve(options.cacheDir, path));
  return [...new Set(candidates)];
}

/** A folder as a shell argument in a suggested command: relative to the cwd when inside it, quoted when needed. */
export function commandArgument(folder: string): string {
  const rel = relative(process.cwd(), folder);
  const shown = rel !== '' && !isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`) ? rel : folder;
  return /^[\w@%+=:,./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` that exists as a file in `folder`, as a full path. */
export async function findFile(folder: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const path = join(folder, name);
    if (await isFile(path)) return path;
  }
  return undefined;
}

/** The first candidate folder that holds one of `markerNames`. */
export async function findFolderWith(candidates: readonly string[], markerNames: readonly string[]): Promise<string | undefined> {
  for (const folder of candidates) {
    if ((await findFile(folder, markerNames)) !== undefined) return folder;
  }
  return undefined;
}

export function describeCandidates(candidates: readonly string[]): string {
  return candidates.length === 1 ? candidates[0]! : candidates.map((folder) => `\n  ${folder}`).join('');
}
