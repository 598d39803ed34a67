// The committed SIMD kernels (src/runtime/kernels/simd/binaries.ts) are what wasm/*.ts
// compiles to with the assemblyscript devDependency, and they can run on tfjs's heap:
// they import its memory and have nothing that would write to it when instantiated.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderWasmBinaries, WASM_BINARIES_FILE } from '../../scripts/build-wasm.js';
import { SIMD_WASM } from '../../src/runtime/kernels/simd/binaries.js';

const root = join(import.meta.dirname, '..', '..');

/** WebAssembly's JS API, typed here: the project's TS lib has no DOM types. */
interface ModuleDescriptor { module?: string; name: string; kind: string }
interface WasmJsApi {
  Module: { new (bytes: Uint8Array): object; imports(m: object): ModuleDescriptor[]; exports(m: object): ModuleDescriptor[] };
}
const webAssembly = (globalThis as unknown as { WebAssembly: WasmJsApi }).WebAssembly;

/** The ids of a wasm binary's sections (1 type, 2 import, 6 global, 8 start, 11 data, ...). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    ids.push(bytes[at]!);
    at++;
    let size = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++]!;
      size |= (byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    at += size;
  }
  return ids;
}

describe('mono\'s SIMD kernels (npm run build:wasm)', () => {
  it('are committed as the sources compile to (run npm run build:wasm after changing wasm/)', async () => {
    expect(readFileSync(join(root, WASM_BINARIES_FILE), 'utf8')).toBe(await renderWasmBinaries());
  }, 120_000);

  it('import tfjs\'s memory and nothing else, and carry no data, globals or start function', () => {
    for (const [variant, base64] of Object.entries(SIMD_WASM)) {
      const bytes = Buffer.from(base64, 'base64');
      const module = new webAssembly.Module(bytes);
      expect(webAssembly.Module.imports(module), variant).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      expect(webAssembly.Module.exports(module).map((e) => e.name).sort(), variant).toEqual(['affine', 'convFilterGradient', 'gradientSums', 'inputGradient', 'maxPoolGradient', 'moments', 'scatterPhase', 'zeroFill']);
      const ids = sectionIds(bytes);
      for (const forbidden of [6, 8, 11]) expect(ids, `${variant}: section ${forbidden}`).not.toContain(forbidden);
    }
  });
});
