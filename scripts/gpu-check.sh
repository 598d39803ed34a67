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
#                                          there (no Node.js, no network): unpack DIR, find the NVIDIA
#                                          Vulkan driver, run the check; the report goes to
#                                          OUT/gpu-check.txt and OUT/gpu-check.json
#   scripts/gpu-check.sh --self-test       here: --pack into a temporary folder, check its size, then
#                                          --run a copy with node off PATH, on whatever adapter this
#                                          machine has (lavapipe), at the smallest settings
#
# The pack: the Node.js binary that runs here (xz), mono's runtime, CLI and the check
# bundled into one file by esbuild, dawn.node for linux-x64 (xz), tfjs-backend-wasm's
# .wasm files, the plans, bench/pytorch_replica.py, and Debian's Vulkan loader and its
# companions (apt-get download), used there only for what the machine itself lacks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACK_LIMIT_MIB=60
# Debian packages whose libraries the NVIDIA Vulkan driver (libGLX_nvidia.so.0) and Dawn may need.
DEBS=(libvulkan1 libglvnd0 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0)

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
    echo "$(basename "$deb")" >> "$libs/PACKAGES"
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

# Is a library with this soname known to the dynamic linker (cache or usual folders)?
has_library() {
  /sbin/ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$1 " && return 0
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do [ -e "$d/$1" ] && return 0; done
  return 1
}

library_path() {
  local found
  found="$(/sbin/ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n {print $NF; exit}')"
  if [ -n "$found" ]; then echo "$found"; return; fi
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do [ -e "$d/$1" ] && { echo "$d/$1"; return; }; done
  return 0
}

run() {
  local dir="$ROOT/.gpu-pack" out="" backend="" extra=()
  if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then dir="$1"; shift; fi
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      --backend) backend="$2"; shift 2 ;;
      --) shift; extra=("$@"); break ;;
      *) die "unknown option for --run: $1" ;;
    esac
  done
  [ -f "$dir/lib/mono-gpu-check.mjs" ] || die "$dir holds no pack (make one here with: scripts/gpu-check.sh --pack $dir)"
  dir="$(cd "$dir" && pwd)"
  local work="${TMPDIR:-/tmp}/mono-gpu-check-$$"
  mkdir -p "$work/libs"
  # Unpacked outside the pack: the carried folder may be read-only there.
  cp -r "$dir/lib" "$dir/plans" "$dir/pytorch_replica.py" "$work/"
  unxz_to "$dir/bin/node.xz" "$work/node" && chmod +x "$work/node"
  unxz_to "$dir/lib/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$work/lib/node_modules/webgpu/dist/linux-x64/dawn.node"
  rm -f "$work/lib/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  # The machine's own libraries first; the packed ones only for what it lacks.
  mkdir -p "$work/packed"
  unxz_to "$dir/libs.tar.xz" "$work/libs.tar" && tar -xf "$work/libs.tar" -C "$work/packed" && rm -f "$work/libs.tar"
  for so in "$work"/packed/*.so.*; do
    local name; name="$(basename "$so")"
    [ "$name" = libstdc++.so.6 ] && continue
    if ! has_library "$name"; then cp "$so" "$work/libs/$name"; echo "gpu-check: using the packed $name (Debian: $(tr '\n' ' ' < "$work/packed/PACKAGES"))"; fi
  done
  local stdcxx; stdcxx="$(library_path libstdc++.so.6)"
  if [ -z "$stdcxx" ] || ! grep -q GLIBCXX_3.4.30 "$stdcxx"; then
    cp "$work/packed/libstdc++.so.6" "$work/libs/"
    echo "gpu-check: using the packed libstdc++.so.6 (this machine's lacks GLIBCXX_3.4.30, which dawn.node needs)"
  fi
  local ld_extra="$work/libs"
  # The NVIDIA Vulkan driver: its manifest (nvidia_icd.json) pointing at libGLX_nvidia.so.0.
  local icd=""
  for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json; do [ -e "$f" ] && { icd="$f"; break; }; done
  local glx; glx="$(library_path libGLX_nvidia.so.0)"
  if [ -e /proc/driver/nvidia/version ]; then
    echo "gpu-check: NVIDIA driver $(awk '/Kernel Module/ {for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+\.[0-9.]+$/) {print $i; exit}}' /proc/driver/nvidia/version)"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    if [ -n "$icd" ]; then echo "gpu-check: NVIDIA Vulkan manifest $icd"
    elif [ -n "$glx" ]; then
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" > "$work/nvidia_icd.json"
      export VK_ICD_FILENAMES="$work/nvidia_icd.json"
      echo "gpu-check: no nvidia_icd.json installed; wrote one for $glx and set VK_ICD_FILENAMES=$VK_ICD_FILENAMES"
    else
      echo "gpu-check: warning: the NVIDIA driver's Vulkan part is absent (no nvidia_icd.json, no libGLX_nvidia.so.0): in a container it needs NVIDIA_DRIVER_CAPABILITIES to include 'graphics'; webgpu will find no GPU adapter"
    fi
  else
    echo "gpu-check: no NVIDIA driver (/proc/driver/nvidia/version is absent)"
  fi
  local args=()
  if [ -n "$backend" ]; then args+=(--backends "$backend,wasm" --epoch-backend "$backend"); fi
  local report_dir="${out:-$work}"
  mkdir -p "$report_dir"
  local python="python3"; command -v python3 >/dev/null || python="none"
  set +e
  (cd "$work" && MONO_ROOT="$work" LD_LIBRARY_PATH="$ld_extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$work/node" "$work/lib/mono-gpu-check.mjs" --python "$python" --json "$report_dir/gpu-check.json" "${args[@]}" "${extra[@]}") 2>&1 | tee "$report_dir/gpu-check.txt"
  local status=${PIPESTATUS[0]}
  set -e
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
  for tool in bash sh cat cp mv rm mkdir chmod ln ls tar xz awk grep sed tr tee cut du basename dirname mktemp env head tail uname id nvidia-smi; do
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
  env -i HOME="$tmp" PATH="$tmp/path" TMPDIR="$tmp" \
    bash "$tmp/carried/gpu-check.sh" --run "$tmp/carried" --out "$tmp/out" -- \
    --widths 1 --backends webgpu,wasm --steps 1 --kernel-runs 1 \
    --epoch-width 1 --epoch-examples 160 --epoch-backend webgpu --python "$python_arg" --torch-device cpu
  grep -q '"kernelsPass": true' "$tmp/out/gpu-check.json" || die "self-test: the kernel checks did not pass"
  grep -q '"backend": "wasm"' "$tmp/out/gpu-check.json" || die "self-test: no wasm step was timed"
  grep -q '"backend": "webgpu"' "$tmp/out/gpu-check.json" || die "self-test: no webgpu step was timed"
  grep -q '"code": 0' "$tmp/out/gpu-check.json" || die "self-test: the epoch of mono run did not finish"
  if [ -n "$python" ]; then
    "$python" -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["torch"] else 1)' "$tmp/out/gpu-check.json" \
      || die "self-test: PyTorch is here but its step was not timed"
  fi
  echo "gpu-check: self-test passed"
}

case "${1:-}" in
  --pack) shift; pack "$@" ;;
  --run) shift; run "$@" ;;
  --self-test) shift; self_test "$@" ;;
  -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) cd "$ROOT" && exec node --import tsx bench/gpu-check.ts "$@" ;;
esac
