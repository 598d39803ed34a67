#!/usr/bin/env bash
# The GPU check (issue 8 item 10, issue 11 item 5): mono doctor's report, the kernel
# checks on webgpu, the train-step benchmark at width 1, 4 and 10 on webgpu and wasm
# with PyTorch on CUDA beside it, and one epoch of monolithnet at width 4 on synthetic
# CIFAR-shaped data (bench/gpu-check.ts says what each part does).
#
#   scripts/gpu-check.sh [ARGS]            here, from source (node_modules): bench/gpu-check.ts ARGS
#   scripts/gpu-check.sh --pack [DIR]      here: build DIR (default .gpu-pack), one folder well under
#                                          64 MiB that carries everything the GPU machine lacks
#   scripts/gpu-check.sh --run [DIR] [--out OUT] [--backend webgpu] [-- ARGS]
#                                          there (no Node.js, no network): unpack DIR, look at the NVIDIA
#                                          driver's Vulkan part, try one setting after another until Dawn
#                                          finds a GPU adapter, run the check with it; the report goes to
#                                          OUT/gpu-check.txt and OUT/gpu-check.json, each attempt's loader
#                                          log to OUT/vulkan-probe/
#       testing options of --run: --allow-cpu-adapter (lavapipe counts as found), --icd-dir DIR (look
#       for nvidia_icd*.json there instead), --extra-icd FILE (one more variant: that manifest alone)
#   scripts/gpu-check.sh --self-test       here: --pack into a temporary folder, check its size, then
#                                          --run a copy with node off PATH at the smallest settings:
#                                          a fake NVIDIA manifest fails, lavapipe (an extra variant) is
#                                          found and used; then manifests written for the driver's GLX
#                                          and EGL libraries (stand-ins); then a run where none works
#
# The pack: the Node.js binary that runs here (xz), mono's runtime, CLI and the check
# bundled into one file by esbuild, dawn.node for linux-x64 (xz), tfjs-backend-wasm's
# .wasm files, the plans, bench/pytorch_replica.py, and Debian's Vulkan loader and its
# companions (apt-get download), used there only for what the machine itself lacks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACK_LIMIT_MIB=60
# Debian packages whose libraries the NVIDIA Vulkan driver (libGLX_nvidia.so.0) and Dawn may need.
# libegl1, libglx0 and libopengl0 are libglvnd's front ends (libEGL.so.1, ...): the driver loads
# them at run time, so ldd does not show them missing (docs/runtime.md, "The GPU check").
DEBS=(libvulkan1 libglvnd0 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libegl1 libglx0 libopengl0)
# Of those, the ones only some variants put on LD_LIBRARY_PATH (the first variant is the first run's setting).
GLVND_FRONTS=(libEGL.so.1 libGLX.so.0 libOpenGL.so.0)
# Each variant's probe may take this long (a failing one takes about a second) ...
PROBE_TIMEOUT_S=12
# ... and no variant starts once the search has taken this long.
VARIANT_BUDGET_S=50

die() { echo "gpu-check: $*" >&2; exit 1; }

# xz -6 of FILE into OUT, through a cache in node_modules/.cache keyed by the file's path, size
# and mtime: compressing the 99 MB Node.js binary takes minutes on two busy cores.
xz_cached() {
  local file="$1" out="$2" cache="$ROOT/node_modules/.cache/mono-gpu-check"
  local key
  key="$(printf '%s' "$(realpath "$file")-$(stat -c '%s-%Y' "$file")" | sha256sum | cut -c1-16)"
  mkdir -p "$cache"
  if [ ! -f "$cache/$key.xz" ]; then
    xz -T0 -6 -c "$file" > "$cache/$key.xz.partial" && mv "$cache/$key.xz.partial" "$cache/$key.xz"
  fi
  cp "$cache/$key.xz" "$out"
}

pack() {
  local dir="${1:-$ROOT/.gpu-pack}"
  command -v xz >/dev/null || die "--pack needs xz (apt-get install xz-utils)"
  local esbuild="$ROOT/node_modules/.bin/esbuild"
  [ -x "$esbuild" ] || die "--pack needs esbuild from node_modules (npm ci)"
  [ -f "$ROOT/node_modules/webgpu/dist/linux-x64/dawn.node" ] || die "--pack needs the webgpu package (npm ci): node_modules/webgpu/dist/linux-x64/dawn.node is missing"
  rm -rf "$dir"
  mkdir -p "$dir/bin" "$dir/lib/node_modules/webgpu/dist/linux-x64" "$dir/lib/node_modules/@tensorflow/tfjs-backend-wasm/dist" "$dir/plans"
  local node_bin
  node_bin="$(node -p process.execPath)"
  echo "gpu-check: packing $node_bin ($(node --version))"
  xz_cached "$node_bin" "$dir/bin/node.xz"
  # --ignore-annotations: tfjs-backend-cpu marks its Node bundle side-effect free, and its registration would be dropped.
  "$esbuild" "$ROOT/bench/gpu-check.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --outfile="$dir/lib/mono-gpu-check.mjs" \
    --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:webgpu --ignore-annotations \
    --banner:js="import { createRequire as monoCreateRequire } from 'node:module'; import { fileURLToPath as monoFileURLToPath } from 'node:url'; const require = monoCreateRequire(import.meta.url); const __filename = monoFileURLToPath(import.meta.url); const __dirname = monoFileURLToPath(new URL('.', import.meta.url));"
  "$esbuild" "$ROOT/scripts/gpu-check/vulkan-variants-cli.ts" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --outfile="$dir/lib/vulkan-variants.mjs" --external:webgpu
  # Found at run time through node_modules next to the bundle: dawn.node (a native addon),
  # and tfjs-backend-wasm's .wasm binaries (wasm-setup.ts finds them through the package).
  cp "$ROOT/node_modules/webgpu/package.json" "$ROOT/node_modules/webgpu/index.js" "$dir/lib/node_modules/webgpu/"
  xz_cached "$ROOT/node_modules/webgpu/dist/linux-x64/dawn.node" "$dir/lib/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  local wasm="$ROOT/node_modules/@tensorflow/tfjs-backend-wasm"
  cp "$wasm/package.json" "$dir/lib/node_modules/@tensorflow/tfjs-backend-wasm/"
  cp "$wasm/dist/tf-backend-wasm.node.js" "$wasm"/dist/*.wasm "$dir/lib/node_modules/@tensorflow/tfjs-backend-wasm/dist/"
  # The emscripten glue of the threaded-SIMD binary and its worker, which wasm-threads.ts loads by path.
  mkdir -p "$dir/lib/node_modules/@tensorflow/tfjs-backend-wasm/wasm-out"
  cp "$wasm"/wasm-out/*.js "$dir/lib/node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/"
  # Chevrotain's single-file bundle, which src/syntax/chevrotain.ts loads by file URL next to its entry point.
  local chevrotain="$ROOT/node_modules/chevrotain"
  mkdir -p "$dir/lib/node_modules/chevrotain/lib/src"
  cp "$chevrotain/package.json" "$dir/lib/node_modules/chevrotain/"
  cp "$chevrotain/lib/chevrotain.mjs" "$dir/lib/node_modules/chevrotain/lib/"
  cp "$chevrotain/lib/src/api.js" "$dir/lib/node_modules/chevrotain/lib/src/"
  cp "$ROOT/plans/monolithnet.mono" "$ROOT/plans/quickstart.mono" "$dir/plans/"
  cp "$ROOT/bench/pytorch_replica.py" "$dir/"
  cp "$ROOT/scripts/gpu-check.sh" "$dir/"
  # Shared libraries the GPU machine may lack, as one tar (no dpkg needed there): Debian's
  # Vulkan loader and what libGLX_nvidia.so.0 links against, and this machine's libstdc++
  # (dawn.node needs GLIBCXX_3.4.30, GCC 12's). There, each is used only if missing or older.
  local debs="$dir/.debs" libs="$dir/.libs"
  mkdir -p "$debs" "$libs"
  (cd "$debs" && apt-get download "${DEBS[@]}" >/dev/null 2>&1) || die "apt-get download ${DEBS[*]} failed (network? Debian/Ubuntu?)"
  for deb in "$debs"/*.deb; do
    dpkg-deb -x "$deb" "$debs/x"
    basename "$deb" >> "$libs/PACKAGES"
  done
  find "$debs/x" -path '*/x86_64-linux-gnu/*.so.*' -name '*.so.[0-9]*' ! -name '*.so.*.*' -exec cp -L {} "$libs/" \;
  cp -L "$(ldd "$node_bin" | awk '/libstdc\+\+/ {print $3}')" "$libs/libstdc++.so.6"
  tar -cf - -C "$libs" . | xz -T0 -6 > "$dir/libs.tar.xz"
  rm -rf "$debs" "$libs"
  local bytes
  bytes="$(du -sb "$dir" | cut -f1)"
  echo "gpu-check: packed $dir: $((bytes / 1048576)) MiB ($bytes bytes)"
  [ "$bytes" -lt $((PACK_LIMIT_MIB * 1048576)) ] || die "the pack is $((bytes / 1048576)) MiB, over the ${PACK_LIMIT_MIB} MiB this script allows (64 MiB may be carried in all)"
}

# Decompresses an .xz file: with xz, else with Python's lzma (the GPU machine has Python).
unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

# Where the dynamic linker would find a library with this soname: LD_LIBRARY_PATH (the GPU
# image may keep the driver's libraries in /usr/local/nvidia/lib64 that way), its cache, the
# usual folders. Prints nothing when the library is nowhere.
library_path() {
  local found d dirs=()
  IFS=: read -r -a dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}"; do [ -n "$d" ] && [ -e "$d/$1" ] && { echo "$d/$1"; return; }; done
  found="$(/sbin/ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n {print $NF; exit}')"
  if [ -n "$found" ]; then echo "$found"; return; fi
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do [ -e "$d/$1" ] && { echo "$d/$1"; return; }; done
  return 0
}

has_library() { [ -n "$(library_path "$1")" ]; }

now_ms() { date +%s%3N; }

# Runs a command under a time limit where coreutils' timeout exists (exit 124 when it ran out).
with_time_limit() {
  local seconds="$1"; shift
  if command -v timeout >/dev/null; then timeout -k 2 "$seconds" "$@"; else "$@"; fi
}

# What the NVIDIA driver's Vulkan part needs and what this machine has of it (for the report).
# Reads run()'s variables: manifests, icd_dirs, glx, egl, driver_version, sys_loader, work.
vulkan_diagnostics() {
  echo "user id $(id -u 2>/dev/null || echo '?'); NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-(unset)}; NVIDIA_VISIBLE_DEVICES=${NVIDIA_VISIBLE_DEVICES:-(unset)}; DISPLAY=${DISPLAY:-(unset)}"
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-(unset)}"
  echo "device nodes: $(ls -d /dev/nvidia* /dev/dri /dev/dri/* 2>/dev/null | tr '\n' ' ')"
  local node
  for node in /dev/nvidia-modeset /dev/dri; do
    [ -e "$node" ] || echo "  absent: $node (a container gets it only if its runtime passes it in; some reports say the NVIDIA Vulkan driver needs it)"
  done
  echo "NVIDIA kernel module: ${driver_version:-none}"
  local manifest
  for manifest in "${manifests[@]}"; do echo "manifest $manifest: $(tr -s ' \n' ' ' < "$manifest")"; done
  [ ${#manifests[@]} -gt 0 ] || echo "no nvidia_icd*.json in ${icd_dirs[*]}"
  local name lib real version wanted missing present candidate
  for name in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
    lib="$(library_path "$name")"
    if [ -z "$lib" ]; then echo "$name: not found"; continue; fi
    real="$(readlink -f "$lib")"
    version="${real##*.so.}"
    echo "$name: $lib -> $real"
    if [ -n "$driver_version" ] && [ "$version" != "$driver_version" ]; then
      echo "  WARNING: its version $version is not the kernel module's $driver_version"
    fi
    if command -v ldd >/dev/null; then
      missing="$(LD_LIBRARY_PATH="$work/libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$lib" 2>&1 | grep -i 'not found' | tr -s ' \t' ' ' | tr '\n' ';' || true)"
      echo "  ldd (with the packed libraries): ${missing:-every linked library resolves}"
    fi
    # Libraries the driver names inside itself and loads at run time, where ldd cannot see them.
    wanted="$(grep -aoE 'lib(nvidia-[a-z0-9_-]+|EGL|GLX|GLdispatch|OpenGL|GLESv2|vulkan|X11|Xext|xcb|wayland-[a-z]+|gbm|drm)\.so(\.[0-9]+)*' "$real" 2>/dev/null | sort -u || true)"
    missing=""; present=""
    for candidate in $wanted; do
      # A bare name.so is completed with the driver's version (libnvidia-glvkspirv.so.580.159.04).
      case "$candidate" in *.so) candidate="$candidate.$version" ;; esac
      if has_library "$candidate" || [ -e "$(dirname "$real")/$candidate" ]; then present="$present $candidate"; else missing="$missing $candidate"; fi
    done
    echo "  named inside it and present:${present:- none}"
    echo "  named inside it and MISSING:${missing:- none}"
  done
  if [ -n "$glx" ]; then
    echo "libnvidia-* beside $(basename "$glx"): $(find "$(dirname "$(readlink -f "$glx")")" -maxdepth 1 -name 'libnvidia-*' -printf '%f ' 2>/dev/null)"
  fi
  for name in libEGL.so.1 libGLX.so.0 libGLdispatch.so.0 libOpenGL.so.0; do
    lib="$(library_path "$name")"
    if [ -n "$lib" ]; then echo "$name (libglvnd): $lib"
    elif [ -e "$work/glvnd/$name" ] || [ -e "$work/libs/$name" ]; then echo "$name (libglvnd): absent here; the pack's copy is used where a variant says so"
    else echo "$name (libglvnd): absent"; fi
  done
  echo "EGL vendor files: $(ls /usr/share/glvnd/egl_vendor.d/ /etc/glvnd/egl_vendor.d/ 2>/dev/null | tr '\n' ' ')"
  local machine_loader="none on the machine"
  [ -z "$sys_loader" ] || machine_loader="the machine's $sys_loader -> $(readlink -f "$sys_loader")"
  echo "Vulkan loader: $machine_loader; packed: $(grep -h '^libvulkan1_' "$work/packed/PACKAGES" 2>/dev/null || echo '?')"
}

# One variant: the probe under these settings (KEY=VALUE ...), its outcome written to
# $probe_dir/N.*. Does nothing once a variant has given a usable adapter. Reads and sets run()'s
# variables: chosen, chosen_env, first_env, tried, attempt, loop_start, probe_args.
try_variant() {
  local name="$1" description="$2"; shift 2
  [ -z "$chosen" ] || return 0
  attempt=$((attempt + 1))
  local meta="$probe_dir/$attempt.meta" setting
  { echo "name=$name"; echo "description=$description"; for setting in "$@"; do echo "env=$setting"; done; } > "$meta"
  local key; key="$(printf '%s\n' "$@" | sort | tr '\n' ' ')"
  if [ -n "${tried[$key]:-}" ]; then echo "skipped=the same settings as variant ${tried[$key]}" >> "$meta"; return 0; fi
  tried[$key]=$attempt
  [ ${#first_env[@]} -gt 0 ] || first_env=("$@")
  local start; start="$(now_ms)"
  if [ $((start - loop_start)) -gt $((VARIANT_BUDGET_S * 1000)) ]; then
    echo "skipped=the search had already taken over ${VARIANT_BUDGET_S} s" >> "$meta"; return 0
  fi
  local rc=0
  (cd "$work" && with_time_limit "$PROBE_TIMEOUT_S" env "$@" VK_LOADER_DEBUG=all LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/ld/$attempt" \
    "$work/node" "$work/lib/vulkan-variants.mjs" probe "${probe_args[@]}") > "$probe_dir/$attempt.out" 2> "$probe_dir/$attempt.log" || rc=$?
  { echo "rc=$rc"; echo "ms=$(($(now_ms) - start))"; } >> "$meta"
  # VK_LOADER_DEBUG=all can run to megabytes; the start of the log holds the driver's story.
  head -c 262144 "$probe_dir/$attempt.log" > "$probe_dir/$attempt.log.head" && mv "$probe_dir/$attempt.log.head" "$probe_dir/$attempt.log"
  local outcome="the probe failed (exit $rc)"
  case "$rc" in
    0) outcome="adapter found" ;;
    2) outcome="no adapter" ;;
    3) outcome="only a CPU adapter" ;;
    124|137) outcome="no answer in ${PROBE_TIMEOUT_S} s" ;;
  esac
  echo "gpu-check: variant $attempt ($name): $outcome"
  if [ "$rc" -eq 0 ]; then chosen="$attempt $name"; chosen_env=("$@"); fi
  return 0
}

run() {
  local dir="$ROOT/.gpu-pack" out="" backend="" extra=() icd_dirs=() extra_icds=() probe_args=()
  if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then dir="$1"; shift; fi
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      --backend) backend="$2"; shift 2 ;;
      --allow-cpu-adapter) probe_args=(--allow-cpu); shift ;;
      --icd-dir) icd_dirs+=("$2"); shift 2 ;;
      --extra-icd) extra_icds+=("$2"); shift 2 ;;
      --) shift; extra=("$@"); break ;;
      *) die "unknown option for --run: $1" ;;
    esac
  done
  [ ${#icd_dirs[@]} -gt 0 ] || icd_dirs=(/usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d)
  [ -f "$dir/lib/mono-gpu-check.mjs" ] || die "$dir holds no pack (make one here with: scripts/gpu-check.sh --pack $dir)"
  dir="$(cd "$dir" && pwd)"
  local work="${TMPDIR:-/tmp}/mono-gpu-check-$$"
  mkdir -p "$work/libs" "$work/glvnd" "$work/loader" "$work/icd" "$work/ld"
  # Unpacked outside the pack: the carried folder may be read-only there.
  cp -r "$dir/lib" "$dir/plans" "$dir/pytorch_replica.py" "$work/"
  unxz_to "$dir/bin/node.xz" "$work/node" && chmod +x "$work/node"
  unxz_to "$dir/lib/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$work/lib/node_modules/webgpu/dist/linux-x64/dawn.node"
  rm -f "$work/lib/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  # The machine's own libraries first; the packed ones only for what it lacks. libglvnd's front
  # ends go aside, for the variants that add them; the packed loader too, for the variant that
  # tries it in front of the machine's.
  mkdir -p "$work/packed"
  unxz_to "$dir/libs.tar.xz" "$work/libs.tar" && tar -xf "$work/libs.tar" -C "$work/packed" && rm -f "$work/libs.tar"
  local so name
  for so in "$work"/packed/*.so.*; do
    name="$(basename "$so")"
    case "$name" in
      libstdc++.so.6) continue ;;
      libvulkan.so.1) cp "$so" "$work/loader/" ;;
    esac
    has_library "$name" && continue
    if [[ " ${GLVND_FRONTS[*]} " == *" $name "* ]]; then cp "$so" "$work/glvnd/$name"; echo "gpu-check: the machine lacks $name; the pack's copy is there for the variants that add libglvnd"
    else cp "$so" "$work/libs/$name"; echo "gpu-check: using the packed $name"; fi
  done
  local stdcxx; stdcxx="$(library_path libstdc++.so.6)"
  if [ -z "$stdcxx" ] || ! grep -q GLIBCXX_3.4.30 "$stdcxx"; then
    cp "$work/packed/libstdc++.so.6" "$work/libs/"
    echo "gpu-check: using the packed libstdc++.so.6 (this machine's lacks GLIBCXX_3.4.30, which dawn.node needs)"
  fi
  local report_dir="${out:-$work}"
  mkdir -p "$report_dir"
  local probe_dir="$report_dir/vulkan-probe"
  rm -rf "$probe_dir" && mkdir -p "$probe_dir"

  # The NVIDIA driver and its Vulkan part: manifests (nvidia_icd.json), libGLX_nvidia.so.0
  # (what they name), libEGL_nvidia.so.0 (the same driver's EGL side, also a Vulkan ICD).
  local driver_version=""
  if [ -e /proc/driver/nvidia/version ]; then
    driver_version="$(awk '/Kernel Module/ {for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+\.[0-9.]+$/) {print $i; exit}}' /proc/driver/nvidia/version)"
    echo "gpu-check: NVIDIA driver $driver_version"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  else
    echo "gpu-check: no NVIDIA driver (/proc/driver/nvidia/version is absent)"
  fi
  local manifests=() d f
  for d in "${icd_dirs[@]}"; do for f in "$d"/nvidia_icd*.json; do [ -e "$f" ] && manifests+=("$f"); done; done
  local glx egl sys_loader
  glx="$(library_path libGLX_nvidia.so.0)"; egl="$(library_path libEGL_nvidia.so.0)"; sys_loader="$(library_path libvulkan.so.1)"
  if [ -n "$driver_version" ] && [ ${#manifests[@]} -eq 0 ] && [ -z "$glx" ] && [ -z "$egl" ]; then
    echo "gpu-check: warning: the NVIDIA driver's Vulkan part is absent (no nvidia_icd.json, no libGLX_nvidia.so.0, no libEGL_nvidia.so.0): in a container it needs NVIDIA_DRIVER_CAPABILITIES to include 'graphics'; webgpu will find no GPU adapter"
  fi
  vulkan_diagnostics > "$probe_dir/diagnostics.txt" 2>&1 || true

  # The variants, most likely first (docs/runtime.md, "The GPU check", says why each).
  local api="1.3.0"
  if [ ${#manifests[@]} -gt 0 ]; then
    api="$(grep -o '"api_version"[^,}]*' "${manifests[0]}" | grep -o '[0-9][0-9.]*' | head -n 1 || true)"; api="${api:-1.3.0}"
  fi
  local glx_json="" egl_json="" system_icds=""
  if [ -n "$glx" ]; then
    glx_json="$work/icd/nvidia_glx_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"%s"}}\n' "$(readlink -f "$glx")" "$api" > "$glx_json"
  fi
  if [ -n "$egl" ]; then
    egl_json="$work/icd/nvidia_egl_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"%s"}}\n' "$(readlink -f "$egl")" "$api" > "$egl_json"
  fi
  if [ ${#manifests[@]} -gt 0 ]; then system_icds="$(IFS=:; echo "${manifests[*]}")"; else system_icds="$glx_json"; fi
  local base_ld="$work/libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" glvnd_ld
  glvnd_ld="$base_ld"
  if [ -n "$(ls -A "$work/glvnd")" ]; then glvnd_ld="$work/glvnd:$base_ld"; fi
  local egl_vendor=()
  if [ -n "$egl" ] && ! ls /usr/share/glvnd/egl_vendor.d/*nvidia*.json /etc/glvnd/egl_vendor.d/*nvidia*.json >/dev/null 2>&1; then
    mkdir -p "$work/egl_vendor.d"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s"}}\n' "$(readlink -f "$egl")" > "$work/egl_vendor.d/10_nvidia.json"
    egl_vendor=("__EGL_VENDOR_LIBRARY_FILENAMES=$work/egl_vendor.d/10_nvidia.json")
  fi
  local chosen="" chosen_env=() first_env=() attempt=0 loop_start
  local -A tried=()
  loop_start="$(now_ms)"
  if [ -n "$system_icds" ]; then
    local other_loader="" label="the machine's NVIDIA manifest"
    [ ${#manifests[@]} -gt 0 ] || label="a manifest written for $glx (none is installed)"
    try_variant machine "$label and libraries, as in the first run (packed libraries only for what the machine lacks)" \
      "VK_DRIVER_FILES=$system_icds" "VK_ICD_FILENAMES=$system_icds" "LD_LIBRARY_PATH=$base_ld"
    try_variant glvnd "the same, with libglvnd's libEGL.so.1, libGLX.so.0, libOpenGL.so.0 from the pack where the machine lacks them, and an EGL vendor file for libEGL_nvidia where none is installed" \
      "VK_DRIVER_FILES=$system_icds" "VK_ICD_FILENAMES=$system_icds" "LD_LIBRARY_PATH=$glvnd_ld" "${egl_vendor[@]}"
    if [ -n "$egl_json" ]; then
      try_variant egl-icd "a manifest for the driver's EGL library ($egl) instead of libGLX_nvidia, with libglvnd" \
        "VK_DRIVER_FILES=$egl_json" "VK_ICD_FILENAMES=$egl_json" "LD_LIBRARY_PATH=$glvnd_ld" "${egl_vendor[@]}"
    fi
    if [ -n "$glx_json" ]; then
      try_variant glx-path "a manifest naming libGLX_nvidia by its full path ($(readlink -f "$glx")), with libglvnd" \
        "VK_DRIVER_FILES=$glx_json" "VK_ICD_FILENAMES=$glx_json" "LD_LIBRARY_PATH=$glvnd_ld" "${egl_vendor[@]}"
    fi
    if [ -n "$sys_loader" ]; then
      other_loader="$work/loader:"
      try_variant packed-loader "the pack's Vulkan loader in front of the machine's ($sys_loader), with the machine's manifest and libglvnd" \
        "VK_DRIVER_FILES=$system_icds" "VK_ICD_FILENAMES=$system_icds" "LD_LIBRARY_PATH=$other_loader$glvnd_ld" "${egl_vendor[@]}"
      if [ -n "$egl_json" ]; then
        try_variant egl-icd+packed-loader "the EGL manifest with the pack's Vulkan loader" \
          "VK_DRIVER_FILES=$egl_json" "VK_ICD_FILENAMES=$egl_json" "LD_LIBRARY_PATH=$other_loader$glvnd_ld" "${egl_vendor[@]}"
      fi
    fi
  fi
  local icd
  for icd in "${extra_icds[@]}"; do
    try_variant "extra:$(basename "$icd" .json)" "the manifest $icd alone (--extra-icd)" \
      "VK_DRIVER_FILES=$icd" "VK_ICD_FILENAMES=$icd" "LD_LIBRARY_PATH=$glvnd_ld"
  done
  try_variant loader-search "no manifest named: the loader's own search of every installed manifest, with libglvnd" \
    "LD_LIBRARY_PATH=$glvnd_ld" "${egl_vendor[@]}"
  local main_env=("${chosen_env[@]}")
  [ -n "$chosen" ] || main_env=("${first_env[@]}")

  local report_tool=("$work/node" "$work/lib/vulkan-variants.mjs" report "$probe_dir" --ld "$work/ld" --diagnostics "$probe_dir/diagnostics.txt")
  {
    echo "== Vulkan: the NVIDIA driver's Vulkan part on this machine"
    cat "$probe_dir/diagnostics.txt"
    echo
    echo "== Vulkan: looking for an adapter, one setting after another (VK_LOADER_DEBUG=all, LD_DEBUG=libs; each log in vulkan-probe/N.log)"
    "${report_tool[@]}" --json "$probe_dir/vulkan-variants.json" || echo "gpu-check: the variants' report failed"
  } 2>&1 | tee "$report_dir/gpu-check.txt"

  local args=()
  if [ -n "$backend" ]; then args+=(--backends "$backend,wasm" --epoch-backend "$backend"); fi
  local python="python3"; command -v python3 >/dev/null || python="none"
  set +e
  (cd "$work" && env "${main_env[@]}" MONO_ROOT="$work" \
    "$work/node" "$work/lib/mono-gpu-check.mjs" --python "$python" --json "$report_dir/gpu-check.json" "${args[@]}" "${extra[@]}") 2>&1 | tee -a "$report_dir/gpu-check.txt"
  local status=${PIPESTATUS[0]}
  set -e
  "${report_tool[@]}" --merge "$report_dir/gpu-check.json" > /dev/null || echo "gpu-check: could not add the variants to $report_dir/gpu-check.json"
  echo "gpu-check: report in $report_dir/gpu-check.txt and $report_dir/gpu-check.json (exit $status)"
  [ -n "$out" ] && rm -rf "$work" || true
  return "$status"
}

self_test() {
  local tmp; tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  pack "$tmp/pack"
  # There: no node on PATH, no node_modules, no repository; only the pack and common tools.
  cp -r "$tmp/pack" "$tmp/carried"
  mkdir -p "$tmp/path"
  for tool in bash sh cat cp mv rm mkdir chmod ln ls tar xz awk grep sed tr tee cut du basename dirname mktemp env head tail uname id \
      date timeout sort find readlink ldd nvidia-smi; do
    command -v "$tool" >/dev/null && ln -sf "$(command -v "$tool")" "$tmp/path/$tool"
  done
  # A Python with PyTorch if there is one (Debian's, which .ci/run installs, before a shim
  # such as pyenv's that needs this HOME), as the GPU machine's python3.
  local python=""
  for candidate in /usr/bin/python3 "$(command -v python3 || true)"; do
    if [ -n "$candidate" ] && "$candidate" -c 'import torch' 2>/dev/null; then python="$candidate"; break; fi
  done
  local python_arg=none
  if [ -n "$python" ]; then ln -sf "$python" "$tmp/path/python3"; python_arg=python3; fi
  env -i HOME="$tmp" PATH="$tmp/path" TMPDIR="$tmp" bash -c 'command -v node' && die "self-test: node is still on the sandbox PATH"
  # The search for an adapter: an NVIDIA manifest that fails (its library is not there), then
  # lavapipe's manifest as an extra variant, accepted here because it is the only driver.
  local lavapipe
  lavapipe="$(find /usr/share/vulkan/icd.d /etc/vulkan/icd.d -name 'lvp_icd*.json' 2>/dev/null | head -n 1)"
  [ -n "$lavapipe" ] || die "self-test: needs Mesa's lavapipe (lvp_icd*.json; apt-get install -t bookworm-backports mesa-vulkan-drivers)"
  mkdir -p "$tmp/fake-icd"
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.4.312"}}\n' "$tmp/fake-icd/libGLX_nvidia_absent.so.0" > "$tmp/fake-icd/nvidia_icd.json"
  env -i HOME="$tmp" PATH="$tmp/path" TMPDIR="$tmp" \
    bash "$tmp/carried/gpu-check.sh" --run "$tmp/carried" --out "$tmp/out" --allow-cpu-adapter --icd-dir "$tmp/fake-icd" --extra-icd "$lavapipe" -- \
    --widths 1 --backends webgpu,wasm --steps 1 --kernel-runs 1 \
    --epoch-width 1 --epoch-examples 160 --epoch-backend webgpu --python "$python_arg" --torch-device cpu
  node - "$tmp/out/gpu-check.json" "$tmp/fake-icd" <<'JS' || die "self-test: the variants were not recorded as expected (above)"
const [file, fakeDir] = process.argv.slice(2);
const { vulkan } = JSON.parse(require('node:fs').readFileSync(file, 'utf8'));
const fail = (why) => { console.error(`self-test: ${why}: ${JSON.stringify(vulkan, null, 1).slice(0, 3000)}`); process.exit(1); };
if (!vulkan) fail('no vulkan record in gpu-check.json');
const [first] = vulkan.attempts;
if (first?.name !== 'machine' || first.usable || first.exitCode !== 2) fail('the fake NVIDIA manifest was not tried first, or did not fail with "no adapter"');
if (!first.messages.some((m) => m.includes(`${fakeDir}/libGLX_nvidia_absent.so.0`))) fail("the loader's message about the fake driver library is not in the record");
const chosen = vulkan.attempts.find((a) => a.usable);
if (!chosen?.name.startsWith('extra:lvp') || chosen.adapter?.cpu !== true || vulkan.chosen !== chosen.name) fail('lavapipe (--extra-icd, --allow-cpu-adapter) was not the chosen variant');
if (vulkan.attempts.some((a) => a.index > chosen.index)) fail('variants were tried after one was found');
JS
  grep -q "^chosen: .*extra:lvp" "$tmp/out/gpu-check.txt" || die "self-test: gpu-check.txt does not name the chosen variant"
  grep -q '"kernelsPass": true' "$tmp/out/gpu-check.json" || die "self-test: the kernel checks did not pass"
  grep -q '"backend": "wasm"' "$tmp/out/gpu-check.json" || die "self-test: no wasm step was timed"
  grep -q '"backend": "webgpu"' "$tmp/out/gpu-check.json" || die "self-test: no webgpu step was timed"
  grep -q '"code": 0' "$tmp/out/gpu-check.json" || die "self-test: the epoch of mono run did not finish"
  if [ -n "$python" ]; then
    "$python" -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["torch"] else 1)' "$tmp/out/gpu-check.json" \
      || die "self-test: PyTorch is here but its step was not timed"
  fi
  # No manifest installed, but the driver's two libraries found through LD_LIBRARY_PATH: a
  # "libGLX_nvidia.so.0" that is no Vulkan driver (libz) and a "libEGL_nvidia.so.0" that is
  # lavapipe's. The manifest written for the GLX library fails, with and without libglvnd's
  # EGL vendor file; the one written for the EGL library is chosen.
  local lavapipe_lib libz
  lavapipe_lib="$(node -p 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).ICD.library_path' "$lavapipe")"
  case "$lavapipe_lib" in /*) ;; *) lavapipe_lib="$(library_path "$lavapipe_lib")" ;; esac
  libz="$(library_path libz.so.1)"
  [ -n "$lavapipe_lib" ] && [ -n "$libz" ] || die "self-test: needs lavapipe's library and libz.so.1"
  mkdir -p "$tmp/fake-lib" "$tmp/no-icd"
  ln -sf "$libz" "$tmp/fake-lib/libGLX_nvidia.so.0"
  ln -sf "$lavapipe_lib" "$tmp/fake-lib/libEGL_nvidia.so.0"
  env -i HOME="$tmp" PATH="$tmp/path" TMPDIR="$tmp" LD_LIBRARY_PATH="$tmp/fake-lib" \
    bash "$tmp/carried/gpu-check.sh" --run "$tmp/carried" --out "$tmp/out-egl" --allow-cpu-adapter --icd-dir "$tmp/no-icd" -- \
    --widths 1 --backends wasm --steps 1 --kernel-runs 1 --no-epoch --python none
  node - "$tmp/out-egl/gpu-check.json" <<'JS' || die "self-test: the GLX and EGL manifests were not tried as expected (above)"
const { vulkan } = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const fail = (why) => { console.error(`self-test: ${why}: ${JSON.stringify(vulkan, null, 1).slice(0, 3000)}`); process.exit(1); };
const names = vulkan.attempts.map((a) => a.name).join(',');
if (names !== 'machine,glvnd,egl-icd') fail(`tried ${names}, not machine,glvnd,egl-icd`);
const [machine, glvnd, eglIcd] = vulkan.attempts;
if (machine.usable || !machine.messages.some((m) => m.includes('vk_icdGetInstanceProcAddr') && m.includes('libz'))) fail('the GLX manifest (libz) did not fail with the loader naming the library');
if (glvnd.usable || !glvnd.env.some((e) => e.startsWith('__EGL_VENDOR_LIBRARY_FILENAMES='))) fail('the glvnd variant did not add an EGL vendor file');
if (!eglIcd.usable || vulkan.chosen !== 'egl-icd' || !eglIcd.env.some((e) => e.includes('nvidia_egl_icd.json'))) fail('the manifest written for libEGL_nvidia was not chosen');
JS

  # No usable adapter: the same fake manifest, lavapipe refused (no --allow-cpu-adapter). Every
  # variant is recorded, none is chosen, and the check still measures wasm (exit 1: no webgpu).
  local status=0
  env -i HOME="$tmp" PATH="$tmp/path" TMPDIR="$tmp" \
    bash "$tmp/carried/gpu-check.sh" --run "$tmp/carried" --out "$tmp/out-none" --icd-dir "$tmp/fake-icd" -- \
    --widths 1 --backends wasm --steps 1 --kernel-runs 1 --no-epoch --python none || status=$?
  [ "$status" -ne 0 ] || die "self-test: the run without a usable adapter exited 0"
  node - "$tmp/out-none/gpu-check.json" <<'JS' || die "self-test: the run without a usable adapter was not recorded as expected (above)"
const report = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const { vulkan } = report;
const fail = (why) => { console.error(`self-test: ${why}: ${JSON.stringify(vulkan, null, 1).slice(0, 3000)}`); process.exit(1); };
if (!vulkan || vulkan.chosen !== null || vulkan.attempts.some((a) => a.usable)) fail('a variant was chosen');
const last = vulkan.attempts.at(-1);
if (last?.name !== 'loader-search' || last.exitCode !== 3 || last.adapter?.cpu !== true) fail('the loader\'s own search did not end with lavapipe refused as a CPU adapter');
if (!JSON.stringify(report.steps ?? report).includes('"wasm"')) fail('no wasm step was timed');
JS
  grep -q "^no variant gave a usable adapter" "$tmp/out-none/gpu-check.txt" || die "self-test: gpu-check.txt does not say that no variant worked"
  echo "gpu-check: self-test passed"
}

case "${1:-}" in
  --pack) shift; pack "$@" ;;
  --run) shift; run "$@" ;;
  --self-test) shift; self_test "$@" ;;
  -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) cd "$ROOT" && exec node --import tsx bench/gpu-check.ts "$@" ;;
esac
