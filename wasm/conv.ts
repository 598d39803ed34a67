// mono's convolution gradient kernels for the tfjs wasm backend, in AssemblyScript with
// SIMD (compiled with wasm/batch-norm.ts by `npm run build:wasm`). Pointers are byte
// offsets into tfjs's heap; nothing is allocated.
//
// Layout: NHWC input x [batch, inH, inW, inC], dy [batch, outH, outW, outC], filter
// [fh, fw, inC, outC], no dilation.

/**
 * The filter gradient, read straight from NHWC (no transposes):
 * dw[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*sh + kh - padTop, ow*sw + kw - padLeft, ci] * dy[n, oh, ow, co].
 *
 * For each image and filter tap it is a small matrix product, dw[tap] (inC x outC) +=
 * X_tap^T dy, over the output pixels whose input pixel is inside the image (a contiguous
 * range of ow per row, so no test in the inner loop). A tile of 4 input channels x 8
 * output channels stays in 8 SIMD registers over all of an image's pixels; one image's x
 * and dy stay in cache for all taps.
 */
export function convFilterGradient(x: usize, dy: usize, dw: usize, batch: i32, inH: i32, inW: i32, inC: i32,
  outH: i32, outW: i32, outC: i32, fh: i32, fw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32): void {
  const total = fh * fw * inC * outC;
  for (let i = 0; i < total; i++) store<f32>(dw + (<usize>i << 2), 0);
  const xImage = <usize>inH * inW * inC << 2;
  const dyImage = <usize>outH * outW * outC << 2;
  for (let n = 0; n < batch; n++) {
    const xn = x + <usize>n * xImage;
    const dyn = dy + <usize>n * dyImage;
    for (let kh = 0; kh < fh; kh++) {
      // Output rows whose input row oh*sh + kh - padTop is inside the image.
      const oh0 = max(0, ceilDiv(padTop - kh, sh));
      const oh1 = min(outH, floorDiv(inH - 1 + padTop - kh, sh) + 1);
      if (oh0 >= oh1) continue;
      for (let kw = 0; kw < fw; kw++) {
        const ow0 = max(0, ceilDiv(padLeft - kw, sw));
        const ow1 = min(outW, floorDiv(inW - 1 + padLeft - kw, sw) + 1);
        if (ow0 >= ow1) continue;
        const tap = dw + (<usize>(kh * fw + kw) * inC * outC << 2);
        // The first pixel of the range, for input channel 0 / output channel 0.
        const x0 = xn + (<usize>((oh0 * sh + kh - padTop) * inW + ow0 * sw + kw - padLeft) * inC << 2);
        const dy0 = dyn + (<usize>(oh0 * outW + ow0) * outC << 2);
        const rows = oh1 - oh0;
        const cols = ow1 - ow0;
        const xRowStep = <usize>sh * inW * inC << 2;
        const xColStep = <usize>sw * inC << 2;
        const dyRowStep = <usize>outW * outC << 2;
        const dyColStep = <usize>outC << 2;
        let ci = 0;
        for (; ci + 4 <= inC; ci += 4) {
          let co = 0;
          for (; co + 8 <= outC; co += 8) {
            tile4x8(x0 + (<usize>ci << 2), dy0 + (<usize>co << 2), tap + (<usize>(ci * outC + co) << 2), outC, rows, cols,
              xRowStep, xColStep, dyRowStep, dyColStep);
          }
          for (; co < outC; co++) {
            for (let c = ci; c < ci + 4; c++) {
              tile1x1(x0 + (<usize>c << 2), dy0 + (<usize>co << 2), tap + (<usize>(c * outC + co) << 2), rows, cols,
                xRowStep, xColStep, dyRowStep, dyColStep);
            }
          }
        }
        for (; ci < inC; ci++) {
          let co = 0;
          for (; co + 8 <= outC; co += 8) {
            tile1x8(x0 + (<usize>ci << 2), dy0 + (<usize>co << 2), tap + (<usize>(ci * outC + co) << 2), rows, cols,
              xRowStep, xColStep, dyRowStep, dyColStep);
          }
          for (; co < outC; co++) {
            tile1x1(x0 + (<usize>ci << 2), dy0 + (<usize>co << 2), tap + (<usize>(ci * outC + co) << 2), rows, cols,
              xRowStep, xColStep, dyRowStep, dyColStep);
          }
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function ceilDiv(a: i32, b: i32): i32 {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// @ts-ignore: decorator
@inline function floorDiv(a: i32, b: i32): i32 {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/** out[4 x 8] (row stride outC floats) += sum over the pixels of x[0..3] (outer) dy[0..7]. */
function tile4x8(x: usize, dy: usize, out: usize, outC: i32, rows: i32, cols: i32,
  xRowStep: usize, xColStep: usize, dyRowStep: usize, dyColStep: usize): void {
  const stride = <usize>outC << 2;
  let a0 = v128.load(out);
  let b0 = v128.load(out, 16);
  let a1 = v128.load(out + stride);
  let b1 = v128.load(out + stride, 16);
  let a2 = v128.load(out + 2 * stride);
  let b2 = v128.load(out + 2 * stride, 16);
  let a3 = v128.load(out + 3 * stride);
  let b3 = v128.load(out + 3 * stride, 16);
  for (let r = 0; r < rows; r++) {
    let xp = x + <usize>r * xRowStep;
    let dp = dy + <usize>r * dyRowStep;
    for (let c = 0; c < cols; c++) {
      const d0 = v128.load(dp);
      const d1 = v128.load(dp, 16);
      const x0 = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(x0, d0));
      b0 = f32x4.add(b0, f32x4.mul(x0, d1));
      const x1 = v128.load32_splat(xp, 4);
      a1 = f32x4.add(a1, f32x4.mul(x1, d0));
      b1 = f32x4.add(b1, f32x4.mul(x1, d1));
      const x2 = v128.load32_splat(xp, 8);
      a2 = f32x4.add(a2, f32x4.mul(x2, d0));
      b2 = f32x4.add(b2, f32x4.mul(x2, d1));
      const x3 = v128.load32_splat(xp, 12);
      a3 = f32x4.add(a3, f32x4.mul(x3, d0));
      b3 = f32x4.add(b3, f32x4.mul(x3, d1));
      xp += xColStep;
      dp += dyColStep;
    }
  }
  v128.store(out, a0);
  v128.store(out, b0, 16);
  v128.store(out + stride, a1);
  v128.store(out + stride, b1, 16);
  v128.store(out + 2 * stride, a2);
  v128.store(out + 2 * stride, b2, 16);
  v128.store(out + 3 * stride, a3);
  v128.store(out + 3 * stride, b3, 16);
}

/** out[1 x 8] += sum over the pixels of x[0] dy[0..7]. */
function tile1x8(x: usize, dy: usize, out: usize, rows: i32, cols: i32,
  xRowStep: usize, xColStep: usize, dyRowStep: usize, dyColStep: usize): void {
  let a = v128.load(out);
  let b = v128.load(out, 16);
  for (let r = 0; r < rows; r++) {
    let xp = x + <usize>r * xRowStep;
    let dp = dy + <usize>r * dyRowStep;
    for (let c = 0; c < cols; c++) {
      const xv = v128.load32_splat(xp);
      a = f32x4.add(a, f32x4.mul(xv, v128.load(dp)));
      b = f32x4.add(b, f32x4.mul(xv, v128.load(dp, 16)));
      xp += xColStep;
      dp += dyColStep;
    }
  }
  v128.store(out, a);
  v128.store(out, b, 16);
}

/** out[0] += sum over the pixels of x[0] dy[0]. */
function tile1x1(x: usize, dy: usize, out: usize, rows: i32, cols: i32,
  xRowStep: usize, xColStep: usize, dyRowStep: usize, dyColStep: usize): void {
  let s: f32 = 0;
  for (let r = 0; r < rows; r++) {
    let xp = x + <usize>r * xRowStep;
    let dp = dy + <usize>r * dyRowStep;
    for (let c = 0; c < cols; c++) {
      s += load<f32>(xp) * load<f32>(dp);
      xp += xColStep;
      dp += dyColStep;
    }
  }
  store<f32>(out, load<f32>(out) + s);
}

/**
 * Writes one stride phase of an NHWC tensor: dst[n, a*sh + rh, b*sw + rw, :] = src[n, a, b, :]
 * for src [batch, rows, cols, channels] and dst [batch, dstH, dstW, channels]. The input
 * gradient of a strided convolution is computed phase by phase (no zeros inserted into
 * dy) and put together with this.
 */
export function scatterPhase(src: usize, dst: usize, batch: i32, rows: i32, cols: i32, channels: i32,
  dstH: i32, dstW: i32, rh: i32, rw: i32, sh: i32, sw: i32): void {
  const pixelBytes = <usize>channels << 2;
  const vectorBytes = <usize>(channels & ~3) << 2;
  const colStep = <usize>sw * pixelBytes;
  let from = src;
  for (let n = 0; n < batch; n++) {
    for (let a = 0; a < rows; a++) {
      let to = dst + (<usize>((n * dstH + a * sh + rh) * dstW + rw) * pixelBytes);
      for (let b = 0; b < cols; b++) {
        let o: usize = 0;
        for (; o < vectorBytes; o += 16) v128.store(to + o, v128.load(from + o));
        for (; o < pixelBytes; o += 4) store<f32>(to + o, load<f32>(from + o));
        from += pixelBytes;
        to += colStep;
      }
    }
  }
}

/** Zeroes `count` float32 values at `p`. */
export function zeroFill(p: usize, count: i32): void {
  const vectors = count & ~3;
  let i = 0;
  const zero = f32x4.splat(0);
  for (; i < vectors; i += 4) v128.store(p + (<usize>i << 2), zero);
  for (; i < count; i++) store<f32>(p + (<usize>i << 2), 0);
}

/**
 * dx of max pooling (NHWC): each output's gradient goes to the first (row-major) largest
 * input of its window, as the cpu backend does (a later equal value does not win; NaN
 * never does); overlapping windows add up. Four channels at a time: per lane the best
 * value and its element index, then the four additions.
 */
export function maxPoolGradient(x: usize, dy: usize, dx: usize, batch: i32, inH: i32, inW: i32, channels: i32,
  outH: i32, outW: i32, fh: i32, fw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32): void {
  zeroFill(dx, batch * inH * inW * channels);
  const vectorC = channels & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  const none = i32x4.splat(-1);
  const lowest = f32x4.splat(-Infinity);
  let dyAt = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const rowStart = oh * sh - padTop;
      const rowFrom = max(rowStart, 0);
      const rowTo = min(rowStart + fh, inH);
      for (let ow = 0; ow < outW; ow++, dyAt += channels) {
        const colStart = ow * sw - padLeft;
        const colFrom = max(colStart, 0);
        const colTo = min(colStart + fw, inW);
        let c = 0;
        for (; c < vectorC; c += 4) {
          let best = lowest;
          let bestAt = none;
          for (let r = rowFrom; r < rowTo; r++) {
            for (let col = colFrom; col < colTo; col++) {
              const at = ((b * inH + r) * inW + col) * channels + c;
              const v = v128.load(x + (<usize>at << 2));
              const greater = f32x4.gt(v, best);
              best = v128.bitselect(v, best, greater);
              bestAt = v128.bitselect(i32x4.add(i32x4.splat(at), lanes), bestAt, greater);
            }
          }
          const d = v128.load(dy + (<usize>(dyAt + c) << 2));
          addAt(dx, i32x4.extract_lane(bestAt, 0), f32x4.extract_lane(d, 0));
          addAt(dx, i32x4.extract_lane(bestAt, 1), f32x4.extract_lane(d, 1));
          addAt(dx, i32x4.extract_lane(bestAt, 2), f32x4.extract_lane(d, 2));
          addAt(dx, i32x4.extract_lane(bestAt, 3), f32x4.extract_lane(d, 3));
        }
        for (; c < channels; c++) {
          let best: f32 = -Infinity;
          let bestAt = -1;
          for (let r = rowFrom; r < rowTo; r++) {
            for (let col = colFrom; col < colTo; col++) {
              const at = ((b * inH + r) * inW + col) * channels + c;
              const v = load<f32>(x + (<usize>at << 2));
              if (v > best) {
                best = v;
                bestAt = at;
              }
            }
          }
          addAt(dx, bestAt, load<f32>(dy + (<usize>(dyAt + c) << 2)));
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function addAt(dx: usize, at: i32, value: f32): void {
  if (at >= 0) {
    const p = dx + (<usize>at << 2);
    store<f32>(p, load<f32>(p) + value);
  }
}
