#!/usr/bin/env bash
# The measured tables of docs/cim-results.md: fmnist-vgg (PTQ int8) on the CIM simulator.
#   exact   exact mode digit by digit == the integer-only executor on the full test set, arrays 64/128/256
#           x cell bits 1/2/4 (the three signed schemes in turn), a lossless ADC
#   presets every preset, analog, Monte-Carlo seeds: accuracy, latency, energy, TOPS/W, utilisation,
#           per-layer SQNR
#   drift   pcm-256, accuracy vs time after programming, with and without global drift compensation
#   adc     rram-128 exact mode, accuracy vs ADC bits
# Resumable: a run whose simulation.json exists is skipped. Usage:
#   scripts/cim-tables.sh [exact|presets|drift|adc|all] [OUT_DIR]   (env: LIMIT, MC, MODEL)
set -euo pipefail
what=${1:-all}
out=${2:-out/cim}
model=${MODEL:-out/vgg-ptq2}
limit=${LIMIT:-}
mc=${MC:-10}
mkdir -p "$out"
tandem() { node dist/cli/main.js "$@"; }
if [[ ! -f "$model/graph.json" ]]; then
  echo "quantizing fmnist-vgg -> $model"
  tandem quantize fmnist-vgg --mode ptq --seed 1 -o "$model" > "$out/ptq.log"
fi
run() {
  local name=$1; shift
  [[ -f "$out/$name/simulation.json" ]] && { echo "skip $name (done)"; return; }
  echo "run $name: tandem simulate $model $*"
  tandem simulate "$model" "$@" ${limit:+--limit "$limit"} -o "$out/$name" > "$out/$name.log" 2>&1 || { echo "FAILED $name (see $out/$name.log)"; return; }
  grep -E 'accuracy|differ' "$out/$name.log" | head -3
}
if [[ $what == exact || $what == all ]]; then
  for size in 64 128 256; do
    case $size in 64) signed=differential ;; 128) signed=offset ;; 256) signed=twos-complement ;; esac
    for cb in 1 2 4; do
      case $signed in
        differential) cells=$(((7 + cb - 1) / cb)) ;;
        offset) cells=$(((8 + cb - 1) / cb)) ;;
        twos-complement) cells=$(((7 + cb - 1) / cb + 1)) ;;
      esac
      run "exact-$size-$cb-$signed" --accel ideal-int8 --mode exact --digits --set crossbar.rows=$size --set crossbar.cols=$size \
        --set crossbar.cellBits=$cb --set weights.cellsPerWeight=$cells --set weights.signed=$signed --set adc.bits=16
    done
  done
fi
if [[ $what == presets || $what == all ]]; then
  run preset-ideal-int8 --accel ideal-int8 --mode exact
  for p in rram-128 pcm-256 sram-cim-256; do
    run "preset-$p" --accel $p --mc "$mc" --seed 1
    run "preset-$p-exact" --accel $p --mode exact
  done
fi
if [[ $what == drift || $what == all ]]; then
  run drift-pcm-256-comp --accel pcm-256 --mc "$mc" --seed 1 --drift 1s,1h,1d,1w,1mo,1y
  run drift-pcm-256-nocomp --accel pcm-256 --mc "$mc" --seed 1 --drift 1s,1h,1d,1w,1mo,1y --no-drift-compensation
fi
if [[ $what == adc || $what == all ]]; then
  for b in 3 4 5 6 7 8; do run "adc-rram-128-$b" --accel rram-128 --mode exact --set adc.bits=$b; done
fi
