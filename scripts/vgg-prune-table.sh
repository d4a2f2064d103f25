#!/usr/bin/env bash
# The fmnist-vgg pruning table of docs/prune.md: criterion × target -> params and MACs reduction and
# accuracy drop after fine-tuning, plus one-shot vs iterative for the best criterion.
# Resumable: a run whose report.json exists is skipped. Usage: scripts/vgg-prune-table.sh [OUT_DIR]
set -euo pipefail
out=${1:-out/vgg-prune}
mkdir -p "$out"
run() {
  local name=$1; shift
  [[ -f "$out/$name/report.json" ]] && { echo "skip $name (done)"; return; }
  echo "run $name: $*"
  node dist/cli/main.js prune fmnist-vgg "$@" --seed 1 -o "$out/$name" > "$out/$name.log" 2>&1 || { echo "FAILED $name (see $out/$name.log)"; return; }
}
goal=params=0.1,macs=0.3
run l1 --criterion l1 --target "$goal" --finetune 3 --dropout keep
run slim --criterion slim --sparsity 2 --lambda 0.1 --target "$goal" --finetune 3 --dropout keep
run ssl --criterion ssl --sparsity 2 --lambda 0.01 --target "$goal" --finetune 3 --dropout keep
run vmask --criterion vmask --sparsity 2 --lambda 0.5 --target "$goal" --finetune 3 --dropout keep
run slim-iter3 --criterion slim --sparsity 2 --lambda 0.1 --target "$goal" --steps 3 --finetune 1 --dropout keep
# the full fine-tuning budget (as long as the base model's training), dropout scaled down (Han et al. 2015);
# slim's sparsity training at the 5x higher rate gets a 5x smaller lambda (the same shrink per step)
run l1-ft12 --criterion l1 --target "$goal" --finetune 12 --lr 0.05 --dropout keep
run l1-ft12-drop --criterion l1 --target "$goal" --finetune 12 --lr 0.05
run slim-ft12 --criterion slim --sparsity 2 --lambda 0.02 --target "$goal" --finetune 12 --lr 0.05
node -e '
const fs = require("fs"); const dir = process.argv[1];
for (const d of fs.readdirSync(dir).sort()) {
  const f = `${dir}/${d}/report.json`; if (!fs.existsSync(f)) continue;
  const r = JSON.parse(fs.readFileSync(f, "utf8"));
  const pct = (x) => (100 * (1 - 1 / x)).toFixed(1);
  const acc = (q) => (100 * q.accuracy).toFixed(2);
  const lat = r.latency ? `latency ${r.latency.speedup.toFixed(2)}x` : "";
  console.log(`${d}\tparams -${pct(r.paramsReduction)}%\tMACs -${pct(r.macsReduction)}%\t${acc(r.before.quality)} -> ${acc(r.after.quality)}\tdrop ${(100 * (r.before.quality.accuracy - r.after.quality.accuracy)).toFixed(2)} pp\t${lat}`);
}' "$out"
