#!/usr/bin/env bash
# The fmnist-vgg compression table of docs/compress.md: method x target MAC reduction -> accuracy after
# fine-tuning, and one-shot vs multi-stage at equal final compression and equal fine-tuning epochs.
# Resumable: a run whose report.json exists is skipped. Usage: scripts/vgg-compress-table.sh [OUT_DIR]
set -euo pipefail
out=${1:-out/vgg-table}
mkdir -p "$out"
run() {
  local name=$1; shift
  [[ -f "$out/$name/report.json" ]] && { echo "skip $name (done)"; return; }
  echo "run $name: $*"
  node dist/cli/main.js compress fmnist-vgg "$@" --seed 1 -o "$out/$name" > "$out/$name.log" 2>&1 || { echo "FAILED $name (see $out/$name.log)"; return; }
}
for x in 2 3 4; do
  run "tucker2-${x}x" --method tucker2 --ranks "ratio:${x}x" --finetune 1
  run "cp-${x}x" --method cp --ranks "ratio:${x}x" --finetune 1
  run "cp-twopass-${x}x" --method cp --ranks "ratio:${x}x" --two-pass --finetune 1
done
for x in 3 4; do
  run "tucker2-${x}x-2stages" --method tucker2 --ranks "ratio:${x}x" --stages 2 --finetune 0.5
done
node -e '
const fs = require("fs"); const dir = process.argv[1];
for (const d of fs.readdirSync(dir).sort()) {
  const f = `${dir}/${d}/report.json`; if (!fs.existsSync(f)) continue;
  const r = JSON.parse(fs.readFileSync(f, "utf8"));
  const acc = (q) => q && q.accuracy !== undefined ? (100 * q.accuracy).toFixed(2) : "-";
  console.log(`${d}\t${r.macsReduction.toFixed(2)}x MACs\t${r.paramsReduction.toFixed(2)}x params\t${acc(r.before.quality)} -> ${acc(r.after.quality)}\tdrop ${(100 * (r.before.quality.accuracy - r.after.quality.accuracy)).toFixed(2)}`);
}' "$out"
