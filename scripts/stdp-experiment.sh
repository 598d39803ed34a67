#!/bin/sh
# The experiment of docs/experiments/stdp-features.md: plans/stdp-features.mono (STDP
# features + a gradient-trained classifier) beside two baselines with the same classifier:
# the same network with the STDP phases removed (features at their initial kernels,
# docs/experiments/plans/stdp-untrained.mono) and the pixels themselves
# (docs/experiments/plans/stdp-pixels.mono); seeds 1-3, one run at a time (nice 10), then
# the table. Run folders: <out>/<arm>-s<SEED> (reused when finished). Extra arguments are
# passed to every run (e.g. --set classifier_epochs=2).
set -e
out=${1:-runs/stdp-features}
shift 2>/dev/null || true
mkdir -p "$out"
for seed in 1 2 3; do
  for arm in stdp untrained pixels; do
    case $arm in
      stdp) plan=plans/stdp-features.mono ;;
      untrained) plan=docs/experiments/plans/stdp-untrained.mono ;;
      pixels) plan=docs/experiments/plans/stdp-pixels.mono ;;
    esac
    dir="$out/$arm-s$seed"
    if grep -q '"epoch":4,"epochs":4' "$dir/metrics.jsonl" 2>/dev/null && [ ! -f "$dir/run.lock" ]; then continue; fi
    rm -rf "$dir"
    nice -n 10 npx tsx src/cli/main.ts run "$plan" --seed $seed --out "$dir" "$@" > "$dir.log" 2>&1
  done
done
python3 - "$out" <<'PY'
import json, sys, statistics as st
out = sys.argv[1]
names = {'stdp': 'STDP features (plans/stdp-features.mono)', 'untrained': 'same net, STDP phases removed', 'pixels': 'same classifier on the pixels'}
print('| arm | seed | hold-out accuracy | STDP seconds | classifier seconds | conv1 active, C | conv2 active, C |')
print('|---|---|---|---|---|---|---|')
summary = {}
for arm in names:
    for seed in ['1', '2', '3']:
        lines = [json.loads(l) for l in open(f'{out}/{arm}-s{seed}/metrics.jsonl')]
        last = lines[-1]
        stdp = [l for l in lines if l.get('stdp')]
        rule = lambda i: (lambda layer: f"{100 * layer['active']:.1f}%, {layer['convergence']:.3f}")(next(iter(stdp[i]['stdp']['layers'].values()))) if len(stdp) > i else '-'
        seconds = sum(l['seconds'] for l in stdp)
        summary.setdefault(arm, []).append(last['val_acc'])
        print(f"| {arm} | {seed} | {100 * last['val_acc']:.2f}% | {seconds:.0f} | {sum(l['seconds'] for l in lines) - seconds:.0f} | {rule(0)} | {rule(1)} |")
print()
print('| arm | hold-out accuracy, mean ± sd (3 seeds) |')
print('|---|---|')
for arm, acc in summary.items():
    print(f'| {names[arm]} | {100 * st.mean(acc):.2f}% ± {100 * st.stdev(acc):.2f} |')
PY
