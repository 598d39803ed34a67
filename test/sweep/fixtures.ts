/** A tiny plan for sweep tests: synthetic data, cpu-sized, a few params to vary. */
export const TINY_PLAN = `plan tiny
param width = 4
param lr = 0.05
param p2_epochs = 2
param tag = "x"

data synthetic(examples: 120, classes: 3, shape: [6, 6, 1], noise: 0.3) {
  batch 20
  holdout 30
  seed 2
}

head probe(classes) { global_avg_pool dense(classes) }

network input [6, 6, 1] {
  stem: conv(width, 3) bn relu
  body: conv(width, 3) bn relu
  out: flatten dense(3)
}

partition p1 = stem proxy probe(3)
partition p2 = body .. out

schedule {
  train p1 for 1 epoch with msgd(lr: lr, momentum: 0.9)
  train p2 for p2_epochs epochs with msgd(lr: lr, momentum: 0.9)
}
`;
