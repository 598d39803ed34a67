/**
 * Mutual information between predicted class and true label, estimated from
 * the confusion counts over held-out data (the plug-in estimator). This is
 * mono's reconstruction of the "MI between the network's output and the true
 * outcomes" of Vasudevan (Entropy 2020); the paper does not publish its
 * estimator. See docs/optimizers.md.
 */

export interface MutualInformation {
  /** I(Yhat; Y) in bits. */
  bits: number;
  /** I / H(Y) in [0, 1]: 1 = perfect prediction, 0 = no information (0 when H(Y) = 0). */
  normalized: number;
  /** H(Y) in bits. */
  entropyTruth: number;
  /** H(Yhat) in bits. */
  entropyPredicted: number;
}

function checkLabel(label: number, classes: number, what: string, index: number): void {
  if (!Number.isInteger(label) || label < 0 || label >= classes) {
    throw new RangeError(`${what}[${index}] = ${label} is not a class in [0, ${classes})`);
  }
}

/** Confusion counts as a row-major classes x classes table: index predicted * classes + truth. */
export function confusionCounts(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
  classes: number,
): Float64Array {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`classes must be a positive integer, got ${classes}`);
  }
  if (predicted.length !== truth.length) {
    throw new RangeError(
      `predicted and truth differ in length (${predicted.length} vs ${truth.length})`,
    );
  }
  const counts = new Float64Array(classes * classes);
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i] as number;
    const y = truth[i] as number;
    checkLabel(p, classes, 'predicted', i);
    checkLabel(y, classes, 'truth', i);
    counts[p * classes + y] = (counts[p * classes + y] as number) + 1;
  }
  return counts;
}

/** Shannon entropy in bits of a distribution given by non-negative counts summing to `total`. */
function entropyBits(counts: Float64Array, total: number): number {
  let h = 0;
  for (const c of counts) {
    if (c > 0) h -= (c / total) * Math.log2(c / total);
  }
  return h;
}

/**
 * I(Yhat; Y) = sum p(yhat, y) log2(p(yhat, y) / (p(yhat) p(y))) from a confusion
 * table laid out as by `confusionCounts`. Counts may be fractional (weighted).
 * An empty table gives all zeros.
 */
export function mutualInformation(counts: ArrayLike<number>, classes: number): MutualInformation {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`classes must be a positive integer, got ${classes}`);
  }
  if (counts.length !== classes * classes) {
    throw new RangeError(`expected ${classes * classes} counts, got ${counts.length}`);
  }
  const predictedTotals = new Float64Array(classes);
  const truthTotals = new Float64Array(classes);
  let total = 0;
  for (let p = 0; p < classes; p++) {
    for (let y = 0; y < classes; y++) {
      const c = counts[p * classes + y] as number;
      if (!(c >= 0) || !Number.isFinite(c)) {
        throw new RangeError(`count [${p}][${y}] = ${c} is not a finite non-negative number`);
      }
      predictedTotals[p] = (predictedTotals[p] as number) + c;
      truthTotals[y] = (truthTotals[y] as number) + c;
      total += c;
    }
  }
  if (total === 0) return { bits: 0, normalized: 0, entropyTruth: 0, entropyPredicted: 0 };

  const entropyTruth = entropyBits(truthTotals, total);
  const entropyPredicted = entropyBits(predictedTotals, total);
  let bits = 0;
  for (let p = 0; p < classes; p++) {
    for (let y = 0; y < classes; y++) {
      const c = counts[p * classes + y] as number;
      if (c === 0) continue;
      // c * total / (row * col): each factor is > 0 here since c > 0.
      const ratio = (c * total) / ((predictedTotals[p] as number) * (truthTotals[y] as number));
      bits += (c / total) * Math.log2(ratio);
    }
  }
  // `bits` is left unclamped (rounding may put it ~1e-15 outside [0, min(H)]);
  // the normalised value is clamped because the lr schedules rely on [0, 1].
  const normalized = entropyTruth > 0 ? Math.min(1, Math.max(0, bits / entropyTruth)) : 0;
  return { bits, normalized, entropyTruth, entropyPredicted };
}
