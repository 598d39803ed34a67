/**
 * A generated plan of about `lines` lines for the language server's benchmark and
 * tests: params, many small residual blocks, a network of one-line sections that
 * use them, two partitions with a proxy head, data and a schedule. Every line is
 * realistic plan text; the plan compiles without errors.
 */
export function generateLspPlan(lines = 1000): string {
  const blocks = Math.max(1, Math.round(lines / 10));
  const sections = Math.max(2, lines - 5 * blocks - 30);
  const out: string[] = ['plan generated', '', 'param width = 8', 'param classes = 10', ''];
  out.push('data synthetic(examples: 256, classes: classes, shape: [16, 16, 3]) {', '  batch 32', '  holdout 32', '}', '');
  for (let b = 0; b < blocks; b++) {
    out.push(`block unit${b}(f, stride = 1) {`, '  residual { conv(f, 3, stride: stride) bn relu conv(f, 3) bn }', '  relu', '}', '');
  }
  out.push('head probe(n) { global_avg_pool dense(n) }', '', 'network input [16, 16, 3] {', '  stem: conv(width, 3) bn relu');
  for (let s = 0; s < sections; s++) out.push(`  s${s}: unit${s % blocks}(width)`);
  out.push('  out: global_avg_pool dense(classes)', '}', '');
  const split = Math.floor(sections / 2);
  out.push(`partition p1 = stem .. s${split - 1} proxy probe(classes)`, `partition p2 = s${split} .. out`, '');
  out.push('schedule {', '  train p1 for 2 epochs with msgd(lr: 0.05, momentum: 0.9)', '  train p2 for 2 epochs with msgd(lr: 0.05) { lr cosine(to: 1e-3) }', '  finetune all for 1 epoch with adam(lr: 1e-3)', '}', '');
  return out.join('\n');
}
