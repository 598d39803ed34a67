// Training-mode batch normalisation over channels-last data, as loops over flat
// arrays: x is [rows, channels] (rows = every leading axis), statistics are per
// channel over the rows (biased variance, as tf.moments). Sums run in float64.
//
// y = (x - mean) * invStd * gamma + beta, invStd = 1 / sqrt(variance + eps).

export interface BatchNormShape {
  rows: number;
  channels: number;
}

/** Forward pass: writes y, mean and variance. Two passes over x. */
export function batchNormTrainForward(s: BatchNormShape, epsilon: number, x: Float32Array, gamma: Float32Array,
  beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array): void {
  const { rows, channels: c } = s;
  // Sums of x - k and (x - k)^2 with k = the first row: one pass, and no loss of
  // digits from a large common offset as long as k is near the mean.
  const k = Float64Array.from(x.subarray(0, c));
  const sum = new Float64Array(c);
  const squares = new Float64Array(c);
  for (let r = 0, at = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++, at++) {
      const d = x[at]! - k[ch]!;
      sum[ch] = sum[ch]! + d;
      squares[ch] = squares[ch]! + d * d;
    }
  }
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const m = sum[ch]! / rows;
    const v = Math.max(squares[ch]! / rows - m * m, 0);
    mean[ch] = k[ch]! + m;
    variance[ch] = v;
    scale[ch] = gamma[ch]! / Math.sqrt(v + epsilon);
    shift[ch] = beta[ch]! - mean[ch]! * scale[ch]!;
  }
  for (let r = 0, at = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++, at++) y[at] = x[at]! * scale[ch]! + shift[ch]!;
  }
}

/** Per channel: sum of dy and sum of dy * (x - mean). One pass. */
function gradientSums(s: BatchNormShape, x: Float32Array, dy: Float32Array, mean: Float32Array): {
  sumDy: Float64Array; sumDyCentred: Float64Array;
} {
  const { rows, channels: c } = s;
  const sumDy = new Float64Array(c);
  const sumDyCentred = new Float64Array(c);
  for (let r = 0, at = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++, at++) {
      const g = dy[at]!;
      sumDy[ch] = sumDy[ch]! + g;
      sumDyCentred[ch] = sumDyCentred[ch]! + g * (x[at]! - mean[ch]!);
    }
  }
  return { sumDy, sumDyCentred };
}

/** dgamma = sum(dy * xhat), dbeta = sum(dy). One pass. */
export function batchNormTrainParamGrads(s: BatchNormShape, epsilon: number, x: Float32Array, dy: Float32Array,
  mean: Float32Array, variance: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void {
  const { sumDy, sumDyCentred } = gradientSums(s, x, dy, mean);
  for (let ch = 0; ch < s.channels; ch++) {
    dgamma[ch] = sumDyCentred[ch]! / Math.sqrt(variance[ch]! + epsilon);
    dbeta[ch] = sumDy[ch]!;
  }
}

/**
 * dx with mean and variance depending on x, plus what reaches x through
 * gradients dmean, dvariance of the mean and variance outputs themselves:
 *   dx = gamma*invStd/N * (N*dy - sum(dy) - xhat*sum(dy*xhat)) + dmean/N + 2*dvariance*(x-mean)/N.
 * Per channel that is k1*dy + k2*(x - mean) + k3. Two passes.
 */
export function batchNormTrainInputGrad(s: BatchNormShape, epsilon: number, x: Float32Array, dy: Float32Array,
  mean: Float32Array, variance: Float32Array, gamma: Float32Array, dmean: Float32Array, dvariance: Float32Array,
  dx: Float32Array): void {
  const { rows, channels: c } = s;
  const { sumDy, sumDyCentred } = gradientSums(s, x, dy, mean);
  const k1 = new Float64Array(c);
  const k2 = new Float64Array(c);
  const k0 = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const invStd = 1 / Math.sqrt(variance[ch]! + epsilon);
    const g = gamma[ch]! * invStd;
    k1[ch] = g;
    k2[ch] = (-g * invStd * invStd * sumDyCentred[ch]! + 2 * dvariance[ch]!) / rows;
    const k3 = (-g * sumDy[ch]! + dmean[ch]!) / rows;
    k0[ch] = k3 - k2[ch]! * mean[ch]!;
  }
  for (let r = 0, at = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++, at++) dx[at] = k1[ch]! * dy[at]! + k2[ch]! * x[at]! + k0[ch]!;
  }
}
