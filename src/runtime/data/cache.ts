/**
 * mono's data cache: where `mono data get` puts the data sets it downloads and where
 * plans find them. `MONO_DATA` names it; otherwise the platform's cache folder:
 * $XDG_CACHE_HOME/mono or ~/.cache/mono on Linux, ~/Library/Caches/mono on macOS,
 * %LOCALAPPDATA%\mono\cache on Windows.
 */
import os from 'node:os';
import path from 'node:path';

export function dataCacheRoot(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const chosen = env['MONO_DATA'];
  if (chosen !== undefined && chosen !== '') return path.resolve(chosen);
  const home = env['HOME'] || os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', 'mono');
  if (platform === 'win32') return path.join(env['LOCALAPPDATA'] || path.join(home, 'AppData', 'Local'), 'mono', 'cache');
  const xdg = env['XDG_CACHE_HOME'];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache'), 'mono');
}

/** The folders of the downloadable data sets inside the cache, by the name `mono data get` takes. */
export const CACHE_FOLDERS = { cifar10: 'cifar10', 'fashion-mnist': 'fashion-mnist', mnist: 'mnist' } as const;

export type DownloadableName = keyof typeof CACHE_FOLDERS;

/** The cache folder of one data set. */
export function cachedDataFolder(name: DownloadableName, cacheRoot: string): string {
  return path.join(cacheRoot, CACHE_FOLDERS[name]);
}
