/**
 * Bilinear resizing of an image [h, w, c] (row-major, channels last) with half-pixel
 * centres: output pixel (y, x) samples the input at ((y + 0.5) * h / H - 0.5,
 * (x + 0.5) * w / W - 0.5), clamped at the edges, as TensorFlow's
 * resizeBilinear(halfPixelCenters: true) and OpenCV's INTER_LINEAR do. No
 * antialiasing: a large downscale skips pixels.
 */
export function resizeBilinear(source: Float32Array, from: readonly [number, number, number], to: readonly [number, number]): Float32Array {
  const [h, w, c] = from;
  const [outH, outW] = to;
  const out = new Float32Array(outH * outW * c);
  const scaleY = h / outH;
  const scaleX = w / outW;
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = sx - x0;
      for (let k = 0; k < c; k++) {
        const top = source[(y0 * w + x0) * c + k]! * (1 - fx) + source[(y0 * w + x1) * c + k]! * fx;
        const bottom = source[(y1 * w + x0) * c + k]! * (1 - fx) + source[(y1 * w + x1) * c + k]! * fx;
        out[(y * outW + x) * c + k] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}
