/**
 * The small plan the run-folder tests train through the CLI (faults, the report in a
 * browser): synthetic 6x6 images, two partitions (the first with a proxy head), three
 * epochs of a few seconds each on the cpu backend.
 */
export function tinyCliPlan(name: string): string {
  return `plan ${name}
data synthetic(examples: 120, classes: 3, shape: [6, 6, 1], noise: 0.3) {
  batch 20
  holdout 30
  seed 2
}
head probe(classes) { global_avg_pool dense(classes) }
network input [6, 6, 1] {
  stem: conv(4, 3) bn relu
  body: conv(4, 3) bn relu
  out: flatten dense(3)
}
partition p1 = stem proxy probe(3)
partition p2 = body .. out
schedule {
  train p1 for 1 epoch with msgd(lr: 0.05, momentum: 0.9)
  train p2 for 2 epochs with msgd(lr: 0.05, momentum: 0.9)
}
`;
}
