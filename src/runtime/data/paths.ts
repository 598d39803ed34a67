import { stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';

/** Where a plan's data path may live: relative paths try the plan's folder first, then the cwd. */
export function candidateFolders(path: string, baseDir?: string): string[] {
  if (isAbsolute(path)) return [path];
  const candidates = baseDir === undefined ? [] : [resolve(baseDir, path)];
  candidates.push(resolve(process.cwd(), path));
  return [...new Set(candidates)];
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
