/** A machine described by its files, for the GPU probes (src/runtime/gpu/host.ts). */
import path from 'node:path';
import type { Host } from '../../../src/runtime/gpu/host.js';

export function fakeHost(files: Record<string, string | Buffer>, options: { env?: NodeJS.ProcessEnv; ldconfig?: string; platform?: NodeJS.Platform } = {}): Host {
  const read = (file: string) => files[file];
  return {
    env: options.env ?? {},
    platform: options.platform ?? 'linux',
    exists: (file) => file in files || Object.keys(files).some((f) => f.startsWith(file + '/')),
    readText: (file) => {
      const content = read(file);
      return content === undefined ? undefined : content.toString();
    },
    readBytes: (file) => {
      const content = read(file);
      return content === undefined ? undefined : Buffer.from(content);
    },
    list: (folder) => Object.keys(files).filter((f) => path.dirname(f) === folder).map((f) => path.basename(f)),
    linkerCache: () => options.ldconfig ?? '',
  };
}
