// mono's fused training kernels for the tfjs wasm backend, in AssemblyScript, compiled to
// WebAssembly with SIMD by `npm run build:wasm` (scripts/build-wasm.ts). The module imports
// tfjs-backend-wasm's own memory: every pointer is a byte offset into tfjs's heap, where the
// tensors already are, so nothing is copied in or out. It has no static data and allocates
// nothing (the caller passes scratch space), so instantiating it writes no byte of that heap.
//
// Layout: channels last, x is [rows, channels] (rows = every leading axis), statistics per
// channel. Sums run in float32 over blocks of BLOCK rows, each block added into float64.

const BLOCK: i32 = 128;

/** Zeroes `count` float32 values at `p`. */
function zeroF32(p: usize, count: i32): void {
  for (let i = 0; i < count; i++) store<f32>(p + (<usize>i << 2), 0);
}

/** Adds `count` float32 block sums at `from` into float64 totals at `to`. */
function addBlock(from: usize, to: usize, count: i32): void {
  for (let i = 0; i < count; i++) {
    const at = to + (<usize>i << 3);
    store<f64>(at, load<f64>(at) + <f64>load<f32>(from + (<usize>i << 2)));
  }
}

/**
 * Per channel: sums[c] = sum over rows of (x - shift[c]), squares[c] = sum of (x - shift[c])^2,
 * as float64 (`sums`, `squares`: channels f64 each). `blockSums`, `blockSquares`: channels
 * f32 scratch each. A shift near the mean (the first row) keeps the variance's digits.
 */
export function moments(x: usize, rows: i32, channels: i32, shift: usize, sums: usize, squares: usize,
  blockSums: usize, blockSquares: usize): void {
  const vectorChannels = channels & ~3;
  const rowBytes = <usize>channels << 2;
  for (let c = 0; c < channels; c++) {
    store<f64>(sums + (<usize>c << 3), 0);
    store<f64>(squares + (<usize>c << 3), 0);
  }
  for (let start = 0; start < rows; start += BLOCK) {
    const end = min(start + BLOCK, rows);
    zeroF32(blockSums, channels);
    zeroF32(blockSquares, channels);
    let row = x + <usize>start * rowBytes;
    for (let r = start; r < end; r++, row += rowBytes) {
      let c = 0;
      for (; c < vectorChannels; c += 4) {
        const o = <usize>c << 2;
        const d = f32x4.sub(v128.load(row + o), v128.load(shift + o));
        v128.store(blockSums + o, f32x4.add(v128.load(blockSums + o), d));
        v128.store(blockSquares + o, f32x4.add(v128.load(blockSquares + o), f32x4.mul(d, d)));
      }
      for (; c < channels; c++) {
        const o = <usize>c << 2;
        const d = load<f32>(row + o) - load<f32>(shift + o);
        store<f32>(blockSums + o, load<f32>(blockSums + o) + d);
        store<f32>(blockSquares + o, load<f32>(blockSquares + o) + d * d);
      }
    }
    addBlock(blockSums, sums, channels);
    addBlock(blockSquares, squares, channels);
  }
}

/** y = x * scale[c] + shift[c], then max(y, 0) when `relu`. */
export function affine(x: usize, rows: i32, channels: i32, scale: usize, shift: usize, relu: bool, y: usize): void {
  const vectorChannels = channels & ~3;
  const rowBytes = <usize>channels << 2;
  const zero = f32x4.splat(0);
  let inRow = x;
  let outRow = y;
  for (let r = 0; r < rows; r++, inRow += rowBytes, outRow += rowBytes) {
    let c = 0;
    for (; c < vectorChannels; c += 4) {
      const o = <usize>c << 2;
      let v = f32x4.add(f32x4.mul(v128.load(inRow + o), v128.load(scale + o)), v128.load(shift + o));
      if (relu) v = f32x4.max(v, zero);
      v128.store(outRow + o, v);
    }
    for (; c < channels; c++) {
      const o = <usize>c << 2;
      let v = load<f32>(inRow + o) * load<f32>(scale + o) + load<f32>(shift + o);
      if (relu && !(v > 0)) v = 0;
      store<f32>(outRow + o, v);
    }
  }
}

/**
 * The sums the BatchNorm gradient needs, per channel, as float64: sumDy[c] = sum of g and
 * sumDyCentred[c] = sum of g * (x - mean[c]), where g = dy, or with `relu` dy where the
 * forward output x * scale + shift was positive (computed as `affine` does, so the mask
 * is the forward pass's exactly) and 0 elsewhere.
 */
export function gradientSums(x: usize, dy: usize, rows: i32, channels: i32, mean: usize, scale: usize, shift: usize,
  relu: bool, sumDy: usize, sumDyCentred: usize, blockA: usize, blockB: usize): void {
  const vectorChannels = channels & ~3;
  const rowBytes = <usize>channels << 2;
  const zero = f32x4.splat(0);
  for (let c = 0; c < channels; c++) {
    store<f64>(sumDy + (<usize>c << 3), 0);
    store<f64>(sumDyCentred + (<usize>c << 3), 0);
  }
  for (let start = 0; start < rows; start += BLOCK) {
    const end = min(start + BLOCK, rows);
    zeroF32(blockA, channels);
    zeroF32(blockB, channels);
    let xRow = x + <usize>start * rowBytes;
    let dyRow = dy + <usize>start * rowBytes;
    for (let r = start; r < end; r++, xRow += rowBytes, dyRow += rowBytes) {
      let c = 0;
      for (; c < vectorChannels; c += 4) {
        const o = <usize>c << 2;
        const xv = v128.load(xRow + o);
        let g = v128.load(dyRow + o);
        if (relu) {
          const y = f32x4.add(f32x4.mul(xv, v128.load(scale + o)), v128.load(shift + o));
          g = v128.and(g, f32x4.gt(y, zero));
        }
        v128.store(blockA + o, f32x4.add(v128.load(blockA + o), g));
        v128.store(blockB + o, f32x4.add(v128.load(blockB + o), f32x4.mul(g, f32x4.sub(xv, v128.load(mean + o)))));
      }
      for (; c < channels; c++) {
        const o = <usize>c << 2;
        const xv = load<f32>(xRow + o);
        let g = load<f32>(dyRow + o);
        if (relu && !(xv * load<f32>(scale + o) + load<f32>(shift + o) > 0)) g = 0;
        store<f32>(blockA + o, load<f32>(blockA + o) + g);
        store<f32>(blockB + o, load<f32>(blockB + o) + g * (xv - load<f32>(mean + o)));
      }
    }
    addBlock(blockA, sumDy, channels);
    addBlock(blockB, sumDyCentred, channels);
  }
}

/** dx = k1[c] * g + k2[c] * x + k0[c], g masked as in `gradientSums`. */
export function inputGradient(x: usize, dy: usize, rows: i32, channels: i32, scale: usize, shift: usize, relu: bool,
  k1: usize, k2: usize, k0: usize, dx: usize): void {
  const vectorChannels = channels & ~3;
  const rowBytes = <usize>channels << 2;
  const zero = f32x4.splat(0);
  let xRow = x;
  let dyRow = dy;
  let dxRow = dx;
  for (let r = 0; r < rows; r++, xRow += rowBytes, dyRow += rowBytes, dxRow += rowBytes) {
    let c = 0;
    for (; c < vectorChannels; c += 4) {
      const o = <usize>c << 2;
      const xv = v128.load(xRow + o);
      let g = v128.load(dyRow + o);
      if (relu) {
        const y = f32x4.add(f32x4.mul(xv, v128.load(scale + o)), v128.load(shift + o));
        g = v128.and(g, f32x4.gt(y, zero));
      }
      const v = f32x4.add(f32x4.add(f32x4.mul(v128.load(k1 + o), g), f32x4.mul(v128.load(k2 + o), xv)), v128.load(k0 + o));
      v128.store(dxRow + o, v);
    }
    for (; c < channels; c++) {
      const o = <usize>c << 2;
      const xv = load<f32>(xRow + o);
      let g = load<f32>(dyRow + o);
      if (relu && !(xv * load<f32>(scale + o) + load<f32>(shift + o) > 0)) g = 0;
      store<f32>(dxRow + o, load<f32>(k1 + o) * g + load<f32>(k2 + o) * xv + load<f32>(k0 + o));
    }
  }
}
