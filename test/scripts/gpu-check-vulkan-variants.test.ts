import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  librariesNotLoaded,
  loaderMessages,
  parseMeta,
  parseProbeOutput,
  readAttempt,
  summaryLines,
  vulkanReport,
  type AttemptFiles,
} from '../../scripts/gpu-check/vulkan-variants.js';

// What the first run on the H200 printed on stderr (docs/gpu/2026-11-30-h200-gpu-check.txt).
const H200_LOG = [
  "Warning: loader_scanned_icd_add: Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr' for ICD libGLX_nvidia.so.0",
  'Warning: vkCreateInstance: Found no drivers!',
  'Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER',
  '    at CheckVkSuccessImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/VulkanError.cpp:106)',
].join('\n');

function ldDebug(searched: string[], initialised: string[], mapped: string[] = []): string {
  return [
    ...searched.map((name) => `     42:\tfind library=${name} [0]; searching`),
    ...searched.map((name) => `     42:\t  trying file=/usr/lib/x86_64-linux-gnu/${name}`),
    ...mapped.map((name) => `     42:\tfile=/opt/${name} [0];  generating link map`),
    ...initialised.map((name) => `     42:\tcalling init: /usr/lib/x86_64-linux-gnu/${name}`),
  ].join('\n');
}

function files(index: number, meta: string[], out: string | null, log: string | null = null, ld = ''): AttemptFiles {
  return { index, meta: meta.join('\n'), out, log, ldDebug: ld, logPath: log === null ? null : `vulkan-probe/${index}.log` };
}

describe('the GPU check: Vulkan variants', () => {
  it('finds the libraries a process looked for and never loaded (LD_DEBUG=libs)', () => {
    const text = ldDebug(['libEGL.so.1', 'libGLdispatch.so.0', 'libnvidia-glvkspirv.so.580.159.04'], ['libGLdispatch.so.0'], ['libnvidia-glvkspirv.so.580.159.04']);
    expect(librariesNotLoaded(text)).toEqual(['libEGL.so.1']);
    expect(librariesNotLoaded('')).toEqual([]);
  });

  it('reports exactly the searched libraries that were not initialised', () => {
    const soname = fc.stringMatching(/^lib[a-z]{1,6}\.so\.[0-9]$/);
    fc.assert(
      fc.property(fc.uniqueArray(soname, { maxLength: 8 }), fc.uniqueArray(soname, { maxLength: 8 }), (searched, initialised) => {
        const expected = searched.filter((name) => !initialised.includes(name)).sort();
        expect(librariesNotLoaded(ldDebug(searched, initialised))).toEqual(expected);
      }),
    );
  });

  it("puts the driver's own failure first among the loader's messages, without stack lines or repeats", () => {
    const messages = loaderMessages(`INFO: Found manifest\n${H200_LOG}\n${H200_LOG}`);
    expect(messages[0]).toContain("via 'vk_icdGetInstanceProcAddr' for ICD libGLX_nvidia.so.0");
    expect(messages).toHaveLength(3);
    expect(messages.some((m) => m.includes('CheckVkSuccessImpl'))).toBe(false);
    expect(messages.some((m) => m.includes('Found manifest'))).toBe(false);
    expect(loaderMessages(H200_LOG, 1)).toHaveLength(1);
    // The loader's own line and Dawn's echo of it are one message; the missing library before the summary.
    const echoed = loaderMessages(
      [
        'ERROR | DRIVER: vkCreateInstance: Found no drivers!',
        'ERROR: /x/libGLX_nvidia.so.0: cannot open shared object file: No such file or directory',
        'Warning: /x/libGLX_nvidia.so.0: cannot open shared object file: No such file or directory',
        'Warning: vkCreateInstance: Found no drivers!',
      ].join('\n'),
    );
    expect(echoed).toEqual(['ERROR: /x/libGLX_nvidia.so.0: cannot open shared object file: No such file or directory', 'ERROR | DRIVER: vkCreateInstance: Found no drivers!']);
  });

  it("reads the probe's JSON line and nothing else", () => {
    expect(parseProbeOutput('noise\n{"found":true,"name":"NVIDIA H200","cpu":false}\n')).toMatchObject({ found: true, name: 'NVIDIA H200' });
    expect(parseProbeOutput('{"found":false}')).toEqual({ found: false });
    expect(parseProbeOutput('{not json\n')).toBeNull();
    expect(parseProbeOutput('')).toBeNull();
  });

  it('keeps every env line of a variant in order', () => {
    const meta = parseMeta('name=glvnd\nenv=VK_DRIVER_FILES=/a.json\nenv=LD_LIBRARY_PATH=/x:/y\n\nnot a pair\n');
    expect(meta.get('env')).toEqual(['VK_DRIVER_FILES=/a.json', 'LD_LIBRARY_PATH=/x:/y']);
    expect(meta.get('name')).toEqual(['glvnd']);
  });

  it('counts an attempt usable only when the probe exited 0 with an adapter', () => {
    const failed = readAttempt(files(1, ['name=machine', 'description=as found', 'env=VK_DRIVER_FILES=/n.json', 'rc=2', 'ms=850'], '{"found":false}', H200_LOG, ldDebug(['libEGL.so.1'], [])));
    expect(failed).toMatchObject({ name: 'machine', usable: false, exitCode: 2, seconds: 0.85, timedOut: false, notLoaded: ['libEGL.so.1'] });
    expect(failed.messages[0]).toContain('vk_icdGetInstanceProcAddr');
    const cpuOnly = readAttempt(files(2, ['name=loader-search', 'rc=3', 'ms=900'], '{"found":true,"name":"llvmpipe","cpu":true}'));
    expect(cpuOnly.usable).toBe(false);
    const timedOut = readAttempt(files(3, ['name=egl-icd', 'rc=124', 'ms=12000'], ''));
    expect(timedOut).toMatchObject({ timedOut: true, usable: false, adapter: null });
    const skipped = readAttempt(files(4, ['name=glx-path', 'skipped=the same settings as variant 1'], null));
    expect(skipped).toMatchObject({ skipped: 'the same settings as variant 1', usable: false, exitCode: null });
    const found = readAttempt(files(5, ['name=glvnd', 'rc=0', 'ms=1500'], '{"found":true,"name":"NVIDIA H200","vendor":"nvidia","cpu":false}'));
    expect(found.usable).toBe(true);

    const report = vulkanReport('device nodes: /dev/nvidia0\n\n', [failed, cpuOnly, timedOut, skipped, found]);
    expect(report.chosen).toBe('glvnd');
    expect(report.diagnostics).toEqual(['device nodes: /dev/nvidia0']);
    const lines = summaryLines([failed, cpuOnly, timedOut, skipped, found]);
    expect(lines.at(-1)).toBe('chosen: 5 glvnd; the check below runs with its settings');
    expect(lines.some((l) => l.includes('only a CPU implementation: llvmpipe'))).toBe(true);
    expect(lines.some((l) => l.includes('ADAPTER NVIDIA H200 (nvidia) (1.5 s)'))).toBe(true);
    expect(lines.some((l) => l.includes('looked for and never loaded (LD_DEBUG=libs): libEGL.so.1'))).toBe(true);
    expect(summaryLines([failed]).at(-1)).toMatch(/^no variant gave a usable adapter/);
    expect(vulkanReport('', [failed]).chosen).toBeNull();
  });
});
