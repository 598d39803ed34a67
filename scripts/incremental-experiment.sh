#!/bin/sh
# The experiment of docs/experiments/incremental.md: plans/incremental.mono with cost per
# synapse off (c = 0) and on (c = 1, c = 10), seeds 1-3, one run at a time (nice 10), then
# the table. Run folders: runs/incremental/c<C>-s<SEED> (reused when finished).
set -e
out=${1:-runs/incremental}
mkdir -p "$out"
for seed in 1 2 3; do
  for c in 0 1 10; do
    dir="$out/c$c-s$seed"
    if [ -f "$dir/metrics.jsonl" ] && [ "$(grep -c '"task":5' "$dir/metrics.jsonl" 2>/dev/null)" = 2 ]; then continue; fi
    rm -rf "$dir"
    nice -n 10 npx tsx src/cli/main.ts run plans/incremental.mono --set cost=$c --seed $seed --out "$dir" > "$dir.log" 2>&1
  done
done
python3 - "$out" <<'PY'
import json, sys, statistics as st
out = sys.argv[1]
print('| c | seed | avg acc after task 5 | avg forgetting after task 5 | task acc after task 5 | avg acc after task 2 |')
print('|---|---|---|---|---|---|')
summary = {}
for c in ['0', '1', '10']:
    for seed in ['1', '2', '3']:
        ends = [json.loads(l) for l in open(f'{out}/c{c}-s{seed}/metrics.jsonl') if '"avg_acc"' in l]
        last = ends[-1]
        summary.setdefault(c, []).append((last['avg_acc'], last['avg_forgetting'], ends[1]['avg_acc']))
        print(f"| {c} | {seed} | {last['avg_acc']:.3f} | {last['avg_forgetting']:.3f} | {' '.join(f'{a:.2f}' for a in last['task_acc'])} | {ends[1]['avg_acc']:.3f} |")
print()
print('| c | avg acc after task 5 (mean ± sd) | avg forgetting (mean ± sd) | avg acc after task 2 (mean) |')
print('|---|---|---|---|')
for c, rows in summary.items():
    acc = [r[0] for r in rows]; fg = [r[1] for r in rows]; a2 = [r[2] for r in rows]
    print(f'| {c} | {st.mean(acc):.3f} ± {st.stdev(acc):.3f} | {st.mean(fg):.3f} ± {st.stdev(fg):.3f} | {st.mean(a2):.3f} |')
PY
