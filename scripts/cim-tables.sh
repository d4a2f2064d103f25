#!/usr/bin/env bash
# The measured tables of docs/cim-results.md: fmnist-vgg (PTQ int8) on the CIM simulator.
#   exact   exact mode digit by digit == the integer-only executor, arrays 64/128/256 x cell bits
#           1/2/4 (the three signed schemes in turn), a lossless ADC, on the full test set
#   presets every preset: analog with Monte-Carlo seeds, and exact mode (accuracy, latency, energy,
#           TOPS/W, utilisation, per-layer SQNR)
#   adc     rram-128 exact mode, accuracy vs ADC bits
#   drift   pcm-256, accuracy vs time after programming, with and without global drift compensation
# Resumable: a run whose simulation.json exists is skipped. Usage:
#   scripts/cim-tables.sh [exact|presets|adc|drift|all|summary] [OUT_DIR]   (summary: only print the tables)
# env: MODEL (default out/vgg-ptq2, made by PTQ when missing), EXACT_LIMIT (default all 10,000),
#      ANALOG_LIMIT (200), MC (10), DRIFT_MC (5), DRIFT_LIMIT (100), ADC_LIMIT (200)
set -euo pipefail
what=${1:-all}
out=${2:-out/cim}
model=${MODEL:-out/vgg-ptq2}
mc=${MC:-10}
analog=(--limit "${ANALOG_LIMIT:-200}")
exact=(${EXACT_LIMIT:+--limit "$EXACT_LIMIT"})
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
  tandem simulate "$model" "$@" -o "$out/$name" > "$out/$name.log" 2>&1 || { echo "FAILED $name (see $out/$name.log)"; return; }
  grep -E '^(t = .*)?accuracy|differ' "$out/$name.log" | head -2
}
if [[ $what == exact || $what == all ]]; then
  for size in 256 128 64; do
    case $size in 64) signed=differential ;; 128) signed=offset ;; 256) signed=twos-complement ;; esac
    for cb in 4 2 1; do
      case $signed in
        differential) cells=$(((7 + cb - 1) / cb)) ;;
        offset) cells=$(((8 + cb - 1) / cb)) ;;
        twos-complement) cells=$(((7 + cb - 1) / cb + 1)) ;;
      esac
      run "exact-$size-$cb-$signed" --accel ideal-int8 --mode exact --digits --set crossbar.rows=$size --set crossbar.cols=$size \
        --set crossbar.cellBits=$cb --set weights.cellsPerWeight=$cells --set weights.signed=$signed --set adc.bits=16 "${exact[@]}"
    done
  done
fi
if [[ $what == presets || $what == all ]]; then
  run preset-ideal-int8 --accel ideal-int8 --mode exact --limit 1000
  for p in pcm-256 sram-cim-256 rram-128; do run "preset-$p" --accel $p --mc "$mc" --seed 1 "${analog[@]}"; done
  for p in pcm-256 sram-cim-256 rram-128; do run "preset-$p-exact" --accel $p --mode exact --limit 1000; done
fi
if [[ $what == adc || $what == all ]]; then
  for b in 3 4 5 6 7 8; do run "adc-rram-128-$b" --accel rram-128 --mode exact --set adc.bits=$b --limit "${ADC_LIMIT:-200}"; done
fi
if [[ $what == drift || $what == all ]]; then
  drift=(--accel pcm-256 --mc "${DRIFT_MC:-5}" --seed 1 --drift 1s,1h,1d,1mo,1y --limit "${DRIFT_LIMIT:-100}")
  run drift-pcm-256-comp "${drift[@]}"
  run drift-pcm-256-nocomp "${drift[@]}" --no-drift-compensation
fi
if [[ $what == presets || $what == all ]]; then
  for p in ideal-int8 rram-128 pcm-256 sram-cim-256; do
    [[ -f "$out/compile-$p/report.json" ]] || tandem compile "$model" --accel $p -o "$out/compile-$p" > "$out/compile-$p.log" 2>&1
  done
fi
# the markdown tables of docs/cim-results.md from whatever has run
node - "$out" <<'JS'
const fs = require('fs');
const dir = process.argv[2];
const read = (f) => (fs.existsSync(`${dir}/${f}`) ? JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')) : undefined);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));
const acc = (xs) => `${(100 * mean(xs)).toFixed(2)}${xs.length > 1 ? ` ± ${(100 * std(xs)).toFixed(2)}` : ''}%`;
const names = fs.readdirSync(dir).filter((d) => fs.existsSync(`${dir}/${d}/simulation.json`)).sort();
console.log('\n| exact configuration | images | codes compared | codes differing | top-1 differing |\n|---|---|---|---|---|');
for (const d of names.filter((n) => n.startsWith('exact-'))) {
  const r = read(`${d}/simulation.json`).runs[0].result;
  console.log(`| ${d.slice(6)} | ${r.images} | ${r.vsInt8.codes.toLocaleString('en')} | ${r.vsInt8.differing} | ${r.vsInt8.top1Differing} |`);
}
console.log('\n| preset | exact mode | analog (seeds × images) | latency µs | energy µJ/inference | TOPS | TOPS/W | TOPS/mm² | arrays used | cell utilisation |\n|---|---|---|---|---|---|---|---|---|---|');
for (const p of ['ideal-int8', 'rram-128', 'pcm-256', 'sram-cim-256']) {
  const a = read(`preset-${p}/simulation.json`);
  const e = read(`preset-${p}${p === 'ideal-int8' ? '' : '-exact'}/simulation.json`);
  const c = read(`compile-${p}/report.json`);
  if (!c) continue;
  const er = e && e.runs[0].result;
  const ar = a && a.mode === 'analog' ? a.runs[0].result : undefined;
  const k = c.cost;
  console.log(`| ${p} | ${er ? `${acc(er.accuracy)} (${er.images})` : '–'} | ${ar ? `${acc(ar.accuracy)} (${ar.seeds.length} × ${ar.images})` : '–'} | ${(k.latencyNs / 1e3).toFixed(1)} | ${(k.energyPerInferencePj / 1e6).toFixed(2)} | ${k.tops.toFixed(3)} | ${k.topsPerW.toFixed(2)} | ${k.topsPerMm2.toExponential(2)} | ${c.utilisation.arrays.length} | ${(100 * c.utilisation.total).toFixed(1)}% |`);
}
const sq = (r, which) => r.layers.map((l) => mean(l[which].map((m) => m.sqnrDb ?? Infinity)));
const layerRows = [];
for (const p of ['rram-128', 'pcm-256', 'sram-cim-256']) {
  for (const [kind, f] of [['analog', `preset-${p}`], ['exact', `preset-${p}-exact`]]) {
    const s = read(`${f}/simulation.json`);
    if (s) layerRows.push([`${p} ${kind}`, s.runs[0].result]);
  }
}
if (layerRows.length) {
  const layers = layerRows[0][1].layers.map((l) => l.layer);
  console.log(`\nSQNR vs float, dB (mean over seeds)\n\n| run | ${layers.join(' | ')} |\n|---|${layers.map(() => '---').join('|')}|`);
  for (const [name, r] of layerRows) console.log(`| ${name} | ${sq(r, 'vsFloat').map((x) => (Number.isFinite(x) ? x.toFixed(1) : 'exact')).join(' | ')} |`);
}
const adc = names.filter((n) => n.startsWith('adc-')).map((n) => [Number(n.split('-').pop()), read(`${n}/simulation.json`).runs[0].result]).sort((a, b) => a[0] - b[0]);
if (adc.length) console.log(`\n| ADC bits | ${adc.map(([b]) => b).join(' | ')} |\n|---|${adc.map(() => '---').join('|')}|\n| rram-128 exact mode (${adc[0][1].images} images) | ${adc.map(([, r]) => acc(r.accuracy)).join(' | ')} |`);
const drift = ['comp', 'nocomp'].map((k) => [k, read(`drift-pcm-256-${k}/simulation.json`)]).filter(([, s]) => s);
if (drift.length) {
  const labels = drift[0][1].runs.map((r) => r.label);
  console.log(`\n| pcm-256, time after programming | ${labels.join(' | ')} |\n|---|${labels.map(() => '---').join('|')}|`);
  for (const [k, s] of drift) console.log(`| ${k === 'comp' ? 'with' : 'without'} global drift compensation (${s.seeds.length} seeds × ${s.runs[0].result.images}) | ${s.runs.map((r) => acc(r.result.accuracy)).join(' | ')} |`);
}
JS
