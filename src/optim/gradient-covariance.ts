/**
 * The shape of SGD's noise: statistics of the covariance of per-example gradients,
 * C = (1/n) sum_i (g_i - mean)(g_i - mean)^T, computed from the n x n Gram matrix of
 * the centred gradients, K = G_c G_c^T / n. K has the same non-zero eigenvalues as
 * C (d x d, d = parameters), so C is never formed: the cost is the n^2 d of K plus an
 * O(n^3) dense eigensolver on K, and every eigenvalue comes out (multiplicities
 * included, which single-vector Lanczos or power iteration cannot resolve).
 */

/** What the noise probe reports for one set of parameters. */
export interface GradientNoiseStatistics {
  /** Examples the gradients were taken on (n). */
  examples: number;
  /** Parameters (d). */
  params: number;
  /** tr(C): the total variance of a single example's gradient. */
  trace: number;
  /** The largest eigenvalues of C, descending. */
  top: number[];
  /** lambda_1 / tr(C): 1/d for isotropic noise, 1 when it lies along one direction. */
  lambda1_share: number;
  /**
   * tr(C)^2 / ||C||_F^2 = (sum lambda_i)^2 / sum lambda_i^2 (the participation ratio):
   * the number of directions the noise is spread over, r for r equal eigenvalues; at
   * most min(n - 1, d).
   */
  effective_rank: number;
  /** |mean gradient|^2: the signal, beside the noise's trace. */
  mean_sq_norm: number;
}

/**
 * Statistics of C from the centred Gram matrix K (n x n, row-major, K = G_c G_c^T / n)
 * and the squared norm of the mean gradient.
 */
export function noiseStatistics(gram: Float64Array, n: number, params: number, meanSqNorm: number, top: number): GradientNoiseStatistics {
  if (gram.length !== n * n) throw new RangeError(`a Gram matrix of ${n} examples has ${n * n} entries, got ${gram.length}`);
  // Rounding leaves tiny negative eigenvalues where C is singular (rank <= n - 1): they are zeros.
  const eigenvalues = symmetricEigenvalues(gram, n).map((value) => Math.max(0, value));
  eigenvalues.sort((a, b) => b - a);
  const trace = eigenvalues.reduce((sum, value) => sum + value, 0);
  const squares = eigenvalues.reduce((sum, value) => sum + value * value, 0);
  return {
    examples: n,
    params,
    trace,
    top: Array.from(eigenvalues.subarray(0, Math.min(top, n))),
    lambda1_share: trace > 0 ? eigenvalues[0]! / trace : 0,
    effective_rank: trace > 0 ? (trace * trace) / squares : 0,
    mean_sq_norm: meanSqNorm,
  };
}

/**
 * The eigenvalues of a real symmetric matrix (row-major, n x n; not modified), in no
 * particular order: Householder reduction to tridiagonal form, then the implicit QL
 * iteration with Wilkinson-style shifts (Golub and Van Loan, 4th ed., 8.3; Wilkinson
 * and Reinsch's tql1 for the eigenvalues-only variant).
 */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  const { diagonal, offDiagonal } = tridiagonalize(matrix, n);
  implicitQl(diagonal, offDiagonal);
  return diagonal;
}

/** Householder reflections H_k = I - 2 v v^T zero column k below its subdiagonal; H A H keeps the eigenvalues. */
function tridiagonalize(matrix: Float64Array, n: number): { diagonal: Float64Array; offDiagonal: Float64Array } {
  const a = Float64Array.from(matrix);
  const offDiagonal = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // The column is scaled by its largest entry before squaring: squares of entries near
    // 1e-162 fall into the subnormals, whose few bits made H non-orthogonal and moved
    // eigenvalues by 6% (FC_SEED=119554979 in the Jacobi property test).
    let largest = 0;
    for (let i = k + 1; i < n; i++) largest = Math.max(largest, Math.abs(a[i * n + k]!));
    const x0 = a[(k + 1) * n + k]!;
    if (largest === 0) {
      offDiagonal[k] = 0;
      continue;
    }
    let norm2 = 0;
    for (let i = k + 1; i < n; i++) norm2 += (a[i * n + k]! / largest) ** 2;
    const norm = largest * Math.sqrt(norm2);
    // alpha takes the sign opposite to x0 so v0 = x0 - alpha does not cancel.
    const alpha = x0 > 0 ? -norm : norm;
    let vNorm2 = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = (i === k + 1 ? x0 - alpha : a[i * n + k]!) / largest;
      vNorm2 += v[i]! * v[i]!;
    }
    offDiagonal[k] = alpha;
    if (vNorm2 === 0) continue;
    const scale = 1 / Math.sqrt(vNorm2);
    for (let i = k + 1; i < n; i++) v[i]! *= scale;
    // Trailing block A22 <- H A22 H = A22 - 2 v q^T - 2 q v^T, with p = A22 v, q = p - (v^T p) v.
    let vp = 0;
    for (let i = k + 1; i < n; i++) {
      let sum = 0;
      const row = i * n;
      for (let j = k + 1; j < n; j++) sum += a[row + j]! * v[j]!;
      p[i] = sum;
      vp += v[i]! * sum;
    }
    for (let i = k + 1; i < n; i++) p[i] = p[i]! - vp * v[i]!;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i]!;
      const qi = p[i]!;
      for (let j = k + 1; j < n; j++) a[row + j] = a[row + j]! - 2 * (vi * p[j]! + qi * v[j]!);
    }
  }
  const diagonal = new Float64Array(n);
  for (let i = 0; i < n; i++) diagonal[i] = a[i * n + i]!;
  if (n >= 2) offDiagonal[n - 2] = a[(n - 1) * n + (n - 2)]!;
  offDiagonal[n - 1] = 0;
  return { diagonal, offDiagonal };
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix (d on the diagonal, e[i] coupling
 * d[i] and d[i + 1]; e[n - 1] = 0), in place into d. Each sweep chases a bulge with
 * plane rotations after a shift from the trailing 2 x 2 block of the unreduced part.
 */
function implicitQl(d: Float64Array, e: Float64Array): void {
  const n = d.length;
  // An off-diagonal entry below EPSILON times the matrix's norm moves no eigenvalue by more
  // than rounding does: it splits the matrix even where the diagonal beside it is zero
  // (the relative test alone never deflates e = 1e-300 between two zeros).
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]!) + Math.abs(e[i]!));
  const negligible = Number.EPSILON * norm;
  for (let l = 0; l < n; l++) {
    for (let iteration = 0; ; iteration++) {
      let m = l;
      for (; m < n - 1; m++) {
        const scale = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        const off = Math.abs(e[m]!);
        if (off <= Number.EPSILON * scale || off <= negligible) break;
      }
      if (m === l) break;
      if (iteration === 100) throw new Error(`the QL iteration did not converge for eigenvalue ${l} of ${n}`);
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // An exact zero split the matrix: the rotation is skipped and the sweep restarts.
          d[i + 1] = d[i + 1]! - p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      d[l] = d[l]! - p;
      e[l] = g;
      e[m] = 0;
    }
  }
}
