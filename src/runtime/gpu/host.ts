/**
 * What this machine offers a GPU backend, read from files and the dynamic linker's
 * cache without loading any library: shared libraries, the NVIDIA kernel driver,
 * programs on PATH. Every probe takes a `Host` so tests can describe any machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The machine, as the GPU probes see it. */
export interface Host {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  exists(file: string): boolean;
  /** The file's text, or undefined when it cannot be read. */
  readText(file: string): string | undefined;
  /** The file's bytes, or undefined when it cannot be read. */
  readBytes(file: string): Buffer | undefined;
  /** The names in a folder, or [] when it cannot be listed. */
  list(folder: string): string[];
  /** `ldconfig -p`'s listing, or '' where there is none. */
  linkerCache(): string;
}

let cachedListing: string | undefined;

/** This machine. `ldconfig -p` runs at most once per process. */
export const realHost: Host = {
  env: process.env,
  platform: process.platform,
  exists: (file) => existsSync(file),
  readText: (file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  readBytes: (file) => {
    try {
      return readFileSync(file);
    } catch {
      return undefined;
    }
  },
  list: (folder) => {
    try {
      return readdirSync(folder);
    } catch {
      return [];
    }
  },
  linkerCache: () => {
    if (cachedListing !== undefined) return cachedListing;
    cachedListing = '';
    for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
      try {
        cachedListing = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
        break;
      } catch {
        // Not there (or not Linux): try the next, else scan folders only.
      }
    }
    return cachedListing;
  },
};

/** Folders the dynamic linker searches besides its cache, plus where CUDA usually lives. */
const LIBRARY_FOLDERS = [
  '/usr/local/cuda/lib64',
  '/usr/local/cuda/targets/x86_64-linux/lib',
  '/usr/lib/x86_64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib',
];

/**
 * Where the dynamic linker would find `soname` (e.g. `libcudart.so.11.0`): a folder of
 * LD_LIBRARY_PATH, the linker cache, or a usual folder; undefined when nowhere.
 */
export function findSharedLibrary(soname: string, host: Host = realHost): string | undefined {
  const fromEnv = (host.env['LD_LIBRARY_PATH'] ?? '').split(':').filter((folder) => folder !== '');
  for (const folder of fromEnv) {
    const file = path.join(folder, soname);
    if (host.exists(file)) return file;
  }
  for (const line of host.linkerCache().split('\n')) {
    const match = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
    if (match && match[1] === soname) return match[2]!;
  }
  for (const folder of LIBRARY_FOLDERS) {
    const file = path.join(folder, soname);
    if (host.exists(file)) return file;
  }
  return undefined;
}

/** The NVIDIA kernel driver's version (`/proc/driver/nvidia/version`), or undefined without one. */
export function nvidiaDriverVersion(host: Host = realHost): string | undefined {
  const text = host.readText('/proc/driver/nvidia/version');
  if (text === undefined) return undefined;
  const match = /Kernel Module(?: for [^\s]+)?\s+([0-9]+(?:\.[0-9]+)+)/.exec(text) ?? /\s([0-9]{3,}\.[0-9]+(?:\.[0-9]+)?)\s/.exec(text);
  return match ? match[1]! : 'unknown version';
}

/** The first `program` on PATH, or undefined. */
export function findOnPath(program: string, host: Host = realHost): string | undefined {
  for (const folder of (host.env['PATH'] ?? '').split(path.delimiter)) {
    if (folder === '') continue;
    const file = path.join(folder, program);
    if (host.exists(file)) return file;
  }
  return undefined;
}

/** The first NVIDIA GPU's memory in bytes, as `nvidia-smi` reports it; undefined without one. */
export function nvidiaGpuMemoryBytes(host: Host = realHost): number | undefined {
  const smi = findOnPath('nvidia-smi', host);
  if (smi === undefined) return undefined;
  try {
    const text = execFileSync(smi, ['--query-gpu=memory.total', '--format=csv,noheader,nounits'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    const mib = Number(text.trim().split('\n')[0]);
    return Number.isFinite(mib) && mib > 0 ? mib * 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}
