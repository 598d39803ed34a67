/**
 * Why Dawn (the `webgpu` package) finds no Vulkan adapter, in words, read from files
 * only: no Vulkan loader, no driver manifest (ICD), a lavapipe too old for Dawn, an
 * NVIDIA driver whose Vulkan manifest is not installed.
 */
import path from 'node:path';
import { findSharedLibrary, nvidiaDriverVersion, realHost, type Host } from './host.js';

/** Where the Vulkan loader looks for driver manifests on Linux (and where NVIDIA's usually is). */
export const ICD_FOLDERS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** Dawn 0.6.2 (npm `webgpu`) refuses lavapipe of Mesa 22.3 (Debian 12's own) and runs on 25.0.7 (bookworm-backports). */
export const MESA_KNOWN_GOOD = '25.0.7';
export const MESA_KNOWN_REFUSED = '22.3';

/**
 * Whether Dawn's adapter is a CPU implementation of Vulkan (lavapipe, SwiftShader): correct,
 * and slower than wasm. `name` is the adapter's description (or device) as mono shows it.
 */
export function isCpuAdapter(name: string, info: { device?: string; isFallbackAdapter?: boolean }): boolean {
  return info.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader/i.test(`${name} ${info.device ?? ''}`);
}

export interface IcdManifest {
  file: string;
  /** `library_path` of the manifest. */
  library: string;
  /** `api_version` of the manifest ('' when it has none). */
  apiVersion: string;
  kind: 'lavapipe' | 'nvidia' | 'other';
}

export interface VulkanReport {
  /** libvulkan.so.1 (the loader), or null. */
  loader: string | null;
  /** VK_ICD_FILENAMES or VK_DRIVER_FILES when set. */
  icdOverride: string | null;
  icds: IcdManifest[];
  /** The NVIDIA kernel driver's version, or null. */
  nvidiaDriver: string | null;
}

function kindOf(file: string, library: string): IcdManifest['kind'] {
  const names = `${path.basename(file)} ${path.basename(library)}`;
  if (/lvp/.test(names)) return 'lavapipe';
  if (/nvidia/i.test(names)) return 'nvidia';
  return 'other';
}

function readManifest(file: string, host: Host): IcdManifest | undefined {
  const text = host.readText(file);
  if (text === undefined) return undefined;
  try {
    const json = JSON.parse(text) as { ICD?: { library_path?: unknown; api_version?: unknown } };
    const library = typeof json.ICD?.library_path === 'string' ? json.ICD.library_path : '';
    const apiVersion = typeof json.ICD?.api_version === 'string' ? json.ICD.api_version : '';
    return { file, library, apiVersion, kind: kindOf(file, library) };
  } catch {
    return undefined;
  }
}

/** The Vulkan loader, the driver manifests it would read, and the NVIDIA driver. */
export function vulkanReport(host: Host = realHost): VulkanReport {
  const override = host.env['VK_ICD_FILENAMES'] || host.env['VK_DRIVER_FILES'] || null;
  const files = override
    ? override.split(':').filter((f) => f !== '')
    : ICD_FOLDERS.flatMap((folder) => host.list(folder).filter((name) => name.endsWith('.json')).map((name) => path.join(folder, name)));
  const icds = files.map((file) => readManifest(file, host)).filter((m): m is IcdManifest => m !== undefined);
  return {
    loader: findSharedLibrary('libvulkan.so.1', host) ?? null,
    icdOverride: override,
    icds,
    nvidiaDriver: nvidiaDriverVersion(host) ?? null,
  };
}

/** The Mesa version compiled into a lavapipe library (`Mesa 25.0.7-2~bpo12+1` -> `25.0.7`), or undefined. */
export function mesaVersionOf(libraryBytes: Buffer): string | undefined {
  const at = libraryBytes.indexOf('Mesa ');
  for (let from = at; from >= 0; from = libraryBytes.indexOf('Mesa ', from + 5)) {
    const text = libraryBytes.subarray(from, from + 40).toString('latin1');
    const match = /^Mesa ([0-9]+\.[0-9]+(?:\.[0-9]+)?)/.exec(text);
    if (match) return match[1];
  }
  return undefined;
}

/** The Mesa version of a lavapipe library named as a manifest names it (a path, or a name the linker finds). */
export function mesaVersionOfLibrary(library: string, host: Host = realHost): string | undefined {
  const file = path.isAbsolute(library) ? library : findSharedLibrary(library, host);
  const bytes = file === undefined ? undefined : host.readBytes(file);
  return bytes === undefined ? undefined : mesaVersionOf(bytes);
}

/** -1, 0 or 1 as dotted version a is below, equal to or above b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const BACKPORTS =
  `add 'deb http://deb.debian.org/debian bookworm-backports main' to the apt sources, then ` +
  `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`;

/**
 * Why no adapter was found, given the report and (for lavapipe) the Mesa version of
 * its library: what is missing and how to get it. `mesaOf` reads a library's version.
 */
export function explainNoAdapter(report: VulkanReport, mesaOf: (library: string) => string | undefined = () => undefined): string {
  if (report.loader === null) {
    return `no Vulkan loader: libvulkan.so.1 is not installed (Debian/Ubuntu: apt-get install libvulkan1; for a CPU adapter in CI: ${BACKPORTS})`;
  }
  const nvidia = report.icds.find((icd) => icd.kind === 'nvidia');
  if (report.nvidiaDriver !== null && nvidia === undefined) {
    return (
      `the NVIDIA driver ${report.nvidiaDriver} is loaded but its Vulkan driver manifest (nvidia_icd.json, in ` +
      `${ICD_FOLDERS.join(' or ')}, pointing at libGLX_nvidia.so.0) is not present` +
      (report.icdOverride ? ` among VK_ICD_FILENAMES=${report.icdOverride}` : '') +
      `; install the driver's Vulkan part (e.g. the libnvidia-gl package of the same version) or set VK_ICD_FILENAMES to its nvidia_icd.json`
    );
  }
  if (report.icds.length === 0) {
    return report.icdOverride
      ? `no readable Vulkan driver manifest in VK_ICD_FILENAMES=${report.icdOverride}`
      : `no Vulkan driver (ICD): no manifest in ${ICD_FOLDERS.join(', ')}; a GPU's driver installs one, and for a CPU adapter: ${BACKPORTS}`;
  }
  const lavapipe = report.icds.find((icd) => icd.kind === 'lavapipe');
  if (lavapipe !== undefined) {
    const version = mesaOf(lavapipe.library);
    if (version !== undefined && compareVersions(version, MESA_KNOWN_GOOD) < 0) {
      return (
        `Mesa ${version}'s lavapipe (${lavapipe.file}) is too old for Dawn: it refuses Mesa ${MESA_KNOWN_REFUSED} ` +
        `(Debian 12's own; "Vulkan shaderUniform*ArrayDynamicIndexing required") and runs on Mesa ${MESA_KNOWN_GOOD}; ${BACKPORTS}`
      );
    }
  }
  const listed = report.icds.map((icd) => `${icd.file} (${icd.library || 'no library_path'})`).join(', ');
  return `Dawn found no usable Vulkan adapter among the installed drivers: ${listed}; Dawn's own reason, if any, is on stderr above`;
}

/**
 * Why this Linux machine can have no GPU Vulkan adapter, or undefined when it may have
 * one: a GPU's Vulkan driver needs a DRM render node (/dev/dri/renderD*: AMD, Intel,
 * Nouveau), the NVIDIA driver's /dev/nvidia0, or WSL's /dev/dxg. The automatic choice
 * skips Dawn without one (loading it and enumerating lavapipe costs ~1 s and prints
 * Dawn's warnings, for an adapter it would not choose). Other systems: undefined
 * (Dawn uses Metal or Direct3D there).
 */
export function noGpuReason(host: Host = realHost): string | undefined {
  if (host.platform !== 'linux') return undefined;
  if (host.list('/dev/dri').some((name) => name.startsWith('renderD'))) return undefined;
  if (host.exists('/dev/nvidia0') || host.exists('/dev/dxg')) return undefined;
  return 'no GPU here (no /dev/dri render node, no /dev/nvidia0, no /dev/dxg), so Dawn is not started; --backend webgpu uses a CPU implementation of Vulkan if one is installed';
}
