import { describe, expect, it } from 'vitest';
import { cudaReport, silentCpuFallbackWarning, CUDA_LIBRARIES } from '../../../src/runtime/gpu/cuda.js';
import { findSharedLibrary, nvidiaDriverVersion, realHost } from '../../../src/runtime/gpu/host.js';
import { compareVersions, explainNoAdapter, mesaVersionOf, mesaVersionOfLibrary, noGpuReason, vulkanReport } from '../../../src/runtime/gpu/vulkan.js';
import { fakeHost } from './fake-host.js';

const LDCONFIG = `12 libs found in cache \`/etc/ld.so.cache'
\tlibvulkan.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libvulkan.so.1
\tlibvulkan_lvp.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libvulkan_lvp.so
\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda-12/lib64/libcudart.so.12
`;
const NVIDIA_VERSION = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\nGCC version:  gcc version 12.2.0\n';
const LVP_ICD = JSON.stringify({ ICD: { api_version: '1.4.305', library_path: 'libvulkan_lvp.so' }, file_format_version: '1.0.0' });
const NVIDIA_ICD = JSON.stringify({ ICD: { api_version: '1.3.277', library_path: 'libGLX_nvidia.so.0' }, file_format_version: '1.0.0' });

describe('shared libraries and the NVIDIA driver', () => {
  it('finds a library in LD_LIBRARY_PATH first, then in the linker cache, then in the usual folders', () => {
    const host = fakeHost({ '/opt/cuda/lib/libcudart.so.12': '', '/usr/local/cuda/lib64/libcudnn.so.8': '' }, { env: { LD_LIBRARY_PATH: '/nowhere:/opt/cuda/lib' }, ldconfig: LDCONFIG });
    expect(findSharedLibrary('libcudart.so.12', host)).toBe('/opt/cuda/lib/libcudart.so.12');
    expect(findSharedLibrary('libvulkan.so.1', host)).toBe('/lib/x86_64-linux-gnu/libvulkan.so.1');
    expect(findSharedLibrary('libcudnn.so.8', host)).toBe('/usr/local/cuda/lib64/libcudnn.so.8');
    expect(findSharedLibrary('libcudart.so.11.0', host)).toBeUndefined();
  });

  it("reads the kernel driver's version, proprietary and open", () => {
    expect(nvidiaDriverVersion(fakeHost({ '/proc/driver/nvidia/version': NVIDIA_VERSION }))).toBe('550.54.15');
    expect(nvidiaDriverVersion(fakeHost({ '/proc/driver/nvidia/version': 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build\n' }))).toBe('570.86.15');
    expect(nvidiaDriverVersion(fakeHost({}))).toBeUndefined();
  });

  it('runs on this machine (ldconfig or not)', () => {
    expect(() => findSharedLibrary('libc.so.6', realHost)).not.toThrow();
  });
});

describe('what tfjs-node-gpu needs (CUDA 11.2, cuDNN 8.1)', () => {
  it('lists every missing piece and warns about the silent CPU fallback', () => {
    // A CUDA 12 machine: the driver is there, but not the CUDA 11 libraries libtensorflow 2.9 opens.
    const report = cudaReport(fakeHost({ '/proc/driver/nvidia/version': NVIDIA_VERSION }, { ldconfig: LDCONFIG }));
    expect(report.driver).toBe('550.54.15');
    expect(report.ready).toBe(false);
    expect(report.missing).toHaveLength(1);
    expect(report.missing[0]).toContain('libcudart.so.11.0 (the CUDA 11.2 runtime)');
    expect(report.missing[0]).toContain('libcudnn.so.8 (cuDNN 8.1)');
    expect(silentCpuFallbackWarning(report)).toMatch(/falls back to the CPU without an error/);
  });

  it('is ready with the driver and every library', () => {
    const files: Record<string, string> = { '/proc/driver/nvidia/version': NVIDIA_VERSION };
    for (const lib of CUDA_LIBRARIES) files[`/usr/local/cuda/lib64/${lib.soname}`] = '';
    const report = cudaReport(fakeHost(files));
    expect(report.ready).toBe(true);
    expect(report.missing).toEqual([]);
    expect(silentCpuFallbackWarning(report)).toBeUndefined();
  });

  it('says there is no driver', () => {
    expect(cudaReport(fakeHost({})).missing[0]).toBe('no NVIDIA driver (/proc/driver/nvidia/version is absent)');
  });
});

describe('why Dawn finds no Vulkan adapter', () => {
  const loader = { ldconfig: LDCONFIG };

  it('no Vulkan loader', () => {
    expect(explainNoAdapter(vulkanReport(fakeHost({})))).toMatch(/^no Vulkan loader: libvulkan.so.1 is not installed .*bookworm-backports mesa-vulkan-drivers libvulkan1/);
  });

  it('no driver manifest', () => {
    expect(explainNoAdapter(vulkanReport(fakeHost({}, loader)))).toMatch(/^no Vulkan driver \(ICD\): no manifest in \/usr\/share\/vulkan\/icd.d/);
    expect(explainNoAdapter(vulkanReport(fakeHost({}, { ...loader, env: { VK_ICD_FILENAMES: '/x/none.json' } })))).toBe('no readable Vulkan driver manifest in VK_ICD_FILENAMES=/x/none.json');
  });

  it("the NVIDIA driver without its Vulkan manifest (nvidia_icd.json)", () => {
    const host = fakeHost({ '/proc/driver/nvidia/version': NVIDIA_VERSION, '/usr/share/vulkan/icd.d/lvp_icd.json': LVP_ICD }, loader);
    expect(explainNoAdapter(vulkanReport(host))).toMatch(/^the NVIDIA driver 550.54.15 is loaded but its Vulkan driver manifest \(nvidia_icd.json, .*libGLX_nvidia.so.0\) is not present/);
    const withIcd = fakeHost({ '/proc/driver/nvidia/version': NVIDIA_VERSION, '/usr/share/vulkan/icd.d/nvidia_icd.json': NVIDIA_ICD }, loader);
    expect(vulkanReport(withIcd).icds).toEqual([{ file: '/usr/share/vulkan/icd.d/nvidia_icd.json', library: 'libGLX_nvidia.so.0', apiVersion: '1.3.277', kind: 'nvidia' }]);
    expect(explainNoAdapter(vulkanReport(withIcd))).toMatch(/^Dawn found no usable Vulkan adapter among the installed drivers: \/usr\/share\/vulkan\/icd.d\/nvidia_icd.json/);
  });

  it("a lavapipe too old for Dawn (Debian 12's Mesa 22.3), from the version in its library", () => {
    const library = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from('Mesa \0 junk Mesa 22.3.6-1+deb12u2\0'), Buffer.alloc(8)]);
    const host = fakeHost({ '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json': LVP_ICD, '/lib/x86_64-linux-gnu/libvulkan_lvp.so': library }, loader);
    const report = vulkanReport(host);
    expect(report.icds[0]!.kind).toBe('lavapipe');
    expect(mesaVersionOfLibrary('libvulkan_lvp.so', host)).toBe('22.3.6');
    expect(explainNoAdapter(report, (lib) => mesaVersionOfLibrary(lib, host))).toMatch(/^Mesa 22.3.6's lavapipe \(\/usr\/share\/vulkan\/icd.d\/lvp_icd.x86_64.json\) is too old for Dawn: .* runs on Mesa 25.0.7; add 'deb http:\/\/deb.debian.org\/debian bookworm-backports main'/);
    // A new enough lavapipe is not blamed.
    expect(explainNoAdapter(report, () => '25.0.7')).toMatch(/^Dawn found no usable Vulkan adapter/);
  });

  it('reads Mesa versions and compares dotted versions', () => {
    expect(mesaVersionOf(Buffer.from('xx Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)'))).toBe('25.0.7');
    expect(mesaVersionOf(Buffer.from('no version here'))).toBeUndefined();
    expect(compareVersions('22.3.6', '25.0.7')).toBe(-1);
    expect(compareVersions('25.0.7', '25.0.7')).toBe(0);
    expect(compareVersions('25.1', '25.0.7')).toBe(1);
  });

  it('knows when a Linux machine has no GPU device node at all', () => {
    expect(noGpuReason(fakeHost({}))).toMatch(/^no GPU here/);
    expect(noGpuReason(fakeHost({ '/dev/dri/renderD128': '' }))).toBeUndefined();
    expect(noGpuReason(fakeHost({ '/dev/nvidia0': '' }))).toBeUndefined();
    expect(noGpuReason(fakeHost({}, { platform: 'darwin' }))).toBeUndefined();
  });
});
