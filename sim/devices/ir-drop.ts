// IR drop: the wires' resistance lowers the voltage a cell sees, so column currents fall short of
// Σ_i x_i·G_ij. Two models, each as a per-cell reference (one input vector) and a batched form
// (m input vectors, row-major X m×k) built from matrix products, for the simulator's Y = X·G GEMMs.
//
// Units: G in µS, k×n row-major (k rows = inputs, n columns = outputs), x in input levels (one level
// = one unit of read voltage, e.g. 0/1 bits or DAC codes), outputs in µS·level (as Σ x·G). The wire
// resistance R (Ω) between adjacent cells enters as R·G, R·1e-6·G_µS, dimensionless.
//
// 1. Linear resistive model (irDropEffectiveConductances / irDropNodeReference): our own, physical.
//    Geometry: each row wire is driven at its left end (column 0 side) by an ideal voltage source x_i;
//    each column wire ends at the bottom (below row k−1) in an ideal virtual-ground sense amplifier
//    (0 V). Every cell owns one wire segment R on its row (towards the driver) and one on its column
//    (towards the sense amp): cell (i, j) is j+1 row segments from its driver and k−i column segments
//    from its sense amp. The cell current is G_ij·(V_row(i,j) − V_col(i,j)); a column's output is the
//    current into its sense amp = Σ_i of its cell currents (KCL).
//    - The network is linear, so the output is linear in x: Y = X·G_eff for some G_eff.
//    - First order in R·G (the linearisation): node voltages from the ideal cell currents x_i·G_ij,
//        V_row(i,j) = x_i − R·Σ_{j'} x_i·G_ij'·(min(j, j') + 1)
//        V_col(i,j) =       R·Σ_{i'} x_i'·G_i'j·(k − max(i, i'))
//      which gives G_eff_ij = G_ij·(1 − H^row_ij − H^col_ij) with
//        H^row_ij = R·Σ_{s=0..j} Σ_{j'≥s} G_ij'   (prefix sums of suffix sums along the row)
//        H^col_ij = R·Σ_{s=i..k−1} Σ_{i'≤s} G_i'j (suffix sums of prefix sums along the column).
//      The batched form is then the simulator's own GEMM with G_eff instead of G: zero extra cost
//      per input (G_eff is O(k·n) to build, once per programmed array). The neglected terms are
//      O(H²), H the worst cell's relative loss (irDropWorstCaseLoss); the first order overestimates
//      the drop (see irDropWorstCaseLoss for measured errors).
//    - irDropNodeReference computes the node voltages and currents cell by cell for one input; with
//      iterations = 1 it is the first-order model (equal to X·G_eff), with more iterations it relaxes
//      towards the exact nodal solution (converges when R·ΣG along the wires is small).
//    Not modelled: driver output and sense-amp input resistance, access-transistor/selector and device
//    I–V non-linearity (cells are linear conductances), wire capacitance and settling, unused
//    cells outside the k×n block (pass the whole array, unused cells at their conductance, if they
//    load the wires), temperature. Included: the reverse current from a raised column wire into the
//    drivers of inactive (0 V) rows through their cells. Sneak paths in the passive-array sense:
//    with every row driven and every column at virtual ground there is no floating node, so none.
//
// 2. aihwkit's closed-form model (irDropAihwkitReference / irDropAihwkitBatched), from IBM aihwkit's
//    forward pass with IOParameters.ir_drop > 0 (ForwardBackwardPassIOManaged::applyIrDrop and
//    computeTotalCurrent, src/rpucuda/rpu_forward_backward_pass.cpp, commit 117c6de4; the CUDA batch
//    version, ForwardBackwardPassIOManagedCuda::applyIrDrop in src/rpucuda/cuda/forward_backward_pass.cu,
//    commit 1384c564, computes the same with two extra GEMMs). In
//    aihwkit's units (W = G/g_max, x normalised to the input bound 1, ir_drop_g_ratio = G_wire/g_max
//    = 1/(R·g_max), default 1/(0.35 Ω·5 µS)), for output column j:
//        a_j = k·Σ_i |W_ij|·|x_i| / ir_drop_g_ratio            (here: k·R·Σ_i |G_ij|·|x_i|/x_full)
//        c_j = a_j·(0.5 − 0.2·a_j + 0.05·a_j²)
//        y_j = Σ_i W_ij·x_i − ir_drop·c_j·Σ_i W_ij·x_i·(1 − (1 − i/k)²)
//    x_full (`inputFullScale`) is the input level of aihwkit's x = 1 (full read voltage: 1 for
//    bit-serial inputs, 2^dacBits − 1 for a DAC), `scale` is aihwkit's `ir_drop` (1 = nominal).
//    It is phenomenological: quadratic in x (c depends on the total column current), no row-wire
//    term, and the position weight 1 − (1 − i/k)² is 0 for input 0 and largest for the last input —
//    the last input behaves as the farthest from the output (aihwkit's IOParameters docstring says
//    the first; we follow the code). Batched: A = |X|·|G| (= Y itself when X, G ≥ 0), B = X·G_pos
//    with G_pos = diag(1 − (1 − i/k)²)·G built once, then Y − scale·c(A)∘B: one extra GEMM.

/** out (m×n) = a (m×k) · b (k×n), row-major. */
export type Gemm = (a: Float32Array, b: Float32Array, m: number, k: number, n: number, out: Float32Array) => void;

/** A plain row-major GEMM with double-precision accumulation (the default Gemm). */
export function gemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, out: Float32Array): void {
  if (a.length < m * k || b.length < k * n || out.length < m * n) throw new RangeError(`gemm: arrays too small for ${m}×${k}·${k}×${n}`);
  const acc = new Float64Array(n);
  for (let r = 0; r < m; r++) {
    acc.fill(0);
    const ao = r * k;
    for (let p = 0; p < k; p++) {
      const x = a[ao + p];
      if (x === 0) continue;
      const bo = p * n;
      for (let j = 0; j < n; j++) acc[j] += x * b[bo + j];
    }
    const oo = r * n;
    for (let j = 0; j < n; j++) out[oo + j] = acc[j];
  }
}

function hasNegative(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] < 0) return true;
  return false;
}

function absOf(a: Float32Array): Float32Array {
  const o = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = Math.abs(a[i]);
  return o;
}

function checkShape(g: Float32Array, k: number, n: number): void {
  if (!(k >= 1 && n >= 1) || g.length !== k * n) throw new RangeError(`ir drop: ${g.length} conductances are not ${k}×${n}`);
}

// ---------------------------------------------------------------------------------------------
// 1. Linear resistive model

/**
 * G_eff (µS, k×n) of the first-order linear model (see the header): Y = X·G_eff is the IR-dropped
 * output for any inputs X. Writes `out` (allocated if absent) and returns it.
 */
export function irDropEffectiveConductances(gUs: Float32Array, k: number, n: number, wireResistanceOhm: number, out?: Float32Array): Float32Array {
  checkShape(gUs, k, n);
  const o = out ?? new Float32Array(k * n);
  if (wireResistanceOhm === 0) {
    o.set(gUs);
    return o;
  }
  const h = dropFractions(gUs, k, n, wireResistanceOhm);
  for (let q = 0; q < k * n; q++) o[q] = gUs[q] * (1 - h[q]);
  return o;
}

/**
 * The largest first-order relative current loss of a cell, max_ij (H^row_ij + H^col_ij): the loss of
 * the worst cell with every row driven at the same level — a severity measure for an array. The
 * first order overestimates the loss; measured on uniform arrays with all rows on (first-order vs
 * relaxed total loss): worst 0.036 → 2.45% vs 2.38%; 0.104 → 7.0% vs 6.5%; 0.165 → 11.1% vs 9.9%;
 * 0.31 → 21.0% vs 17.1%. Above ~0.1 prefer irDropNodeReference with iterations (the relaxation
 * converged in 6–16 iterations on those arrays; it needs this well below 1).
 */
export function irDropWorstCaseLoss(gUs: Float32Array, k: number, n: number, wireResistanceOhm: number): number {
  checkShape(gUs, k, n);
  const h = dropFractions(gUs, k, n, wireResistanceOhm);
  let worst = 0;
  for (let q = 0; q < k * n; q++) if (h[q] > worst) worst = h[q];
  return worst;
}

/** H^row + H^col per cell (see the header). */
function dropFractions(gUs: Float32Array, k: number, n: number, wireResistanceOhm: number): Float64Array {
  const r = wireResistanceOhm * 1e-6;
  const h = new Float64Array(k * n); // H^row + H^col
  // rows: H^row_ij = r·Σ_{s≤j} T_i(s), T_i(s) = Σ_{j'≥s} G_ij'
  const t = new Float64Array(n);
  for (let i = 0; i < k; i++) {
    const ro = i * n;
    let suffix = 0;
    for (let j = n - 1; j >= 0; j--) {
      suffix += gUs[ro + j];
      t[j] = suffix;
    }
    let prefix = 0;
    for (let j = 0; j < n; j++) {
      prefix += t[j];
      h[ro + j] = r * prefix;
    }
  }
  // columns: H^col_ij = r·Σ_{s≥i} P_j(s), P_j(s) = Σ_{i'≤s} G_i'j
  const p = new Float64Array(k);
  for (let j = 0; j < n; j++) {
    let prefix = 0;
    for (let i = 0; i < k; i++) {
      prefix += gUs[i * n + j];
      p[i] = prefix;
    }
    let suffix = 0;
    for (let i = k - 1; i >= 0; i--) {
      suffix += p[i];
      h[i * n + j] += r * suffix;
    }
  }
  return h;
}

/**
 * The linear model for one input vector x (k levels), cell by cell: node voltages from the cell
 * currents, `iterations` times (1 = first order, equal to x·G_eff; more relax towards the exact
 * network solution; 0 = ideal), then the column outputs Σ_i G_ij·(V_row − V_col) (µS·level, n).
 */
export function irDropNodeReference(x: ArrayLike<number>, gUs: Float32Array, k: number, n: number, wireResistanceOhm: number, iterations = 1): Float64Array {
  checkShape(gUs, k, n);
  if (x.length !== k) throw new RangeError(`ir drop: ${x.length} inputs for ${k} rows`);
  const r = wireResistanceOhm * 1e-6;
  const vRow = new Float64Array(k * n);
  const vCol = new Float64Array(k * n);
  const cur = new Float64Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) vRow[i * n + j] = x[i];
  for (let it = 0; it < iterations; it++) {
    for (let q = 0; q < k * n; q++) cur[q] = gUs[q] * (vRow[q] - vCol[q]);
    // row i: the segment into node j carries the currents of cells j..n−1; V falls along the row
    for (let i = 0; i < k; i++) {
      let v = x[i];
      for (let j = 0; j < n; j++) {
        let segment = 0;
        for (let jj = j; jj < n; jj++) segment += cur[i * n + jj];
        v -= r * segment;
        vRow[i * n + j] = v;
      }
    }
    // column j: the segment below node i carries the currents of cells 0..i; V rises from 0 at the sense amp
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let i = k - 1; i >= 0; i--) {
        let segment = 0;
        for (let ii = 0; ii <= i; ii++) segment += cur[ii * n + j];
        v += r * segment;
        vCol[i * n + j] = v;
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) y[j] += gUs[i * n + j] * (vRow[i * n + j] - vCol[i * n + j]);
  return y;
}

/** Batched linear model: out (m×n) = X (m×k)·G_eff. Build G_eff once with irDropEffectiveConductances
 * and use it in the simulator's own GEMM where possible; this is the convenience form. */
export function irDropLinearBatched(xs: Float32Array, gUs: Float32Array, m: number, k: number, n: number, wireResistanceOhm: number, gemmFn: Gemm = gemm, out?: Float32Array): Float32Array {
  const o = out ?? new Float32Array(m * n);
  gemmFn(xs, irDropEffectiveConductances(gUs, k, n, wireResistanceOhm), m, k, n, o);
  return o;
}

// ---------------------------------------------------------------------------------------------
// 2. aihwkit's closed form

export interface AihwkitIrDropParams {
  /** Wire resistance between adjacent cells, Ω (crossbar.wireResistanceOhm). */
  readonly wireResistanceOhm: number;
  /** The input level of aihwkit's x = 1 (the full read voltage). */
  readonly inputFullScale: number;
  /** aihwkit's `ir_drop` scale (default 1). */
  readonly scale?: number;
}

/** aihwkit's position weight of input row i of k: 1 − (1 − i/k)². */
export function aihwkitIrDropPosition(i: number, k: number): number {
  const p = 1 - i / k;
  return 1 - p * p;
}

/** c(a) = a·(0.5 − 0.2·a + 0.05·a²), aihwkit's drop coefficient. */
function dropCoefficient(a: number): number {
  return a * (a * (0.05 * a - 0.2) + 0.5);
}

/** aihwkit's model for one input vector x (k levels), per cell: the column outputs (µS·level, n). */
export function irDropAihwkitReference(x: ArrayLike<number>, gUs: Float32Array, k: number, n: number, params: AihwkitIrDropParams): Float64Array {
  checkShape(gUs, k, n);
  if (x.length !== k) throw new RangeError(`ir drop: ${x.length} inputs for ${k} rows`);
  const aScale = (k * params.wireResistanceOhm * 1e-6) / params.inputFullScale;
  const s = params.scale ?? 1;
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let ideal = 0;
    let current = 0;
    let weighted = 0;
    for (let i = 0; i < k; i++) {
      const g = gUs[i * n + j];
      const xi = x[i];
      ideal += g * xi;
      current += Math.abs(g) * Math.abs(xi);
      weighted += g * xi * aihwkitIrDropPosition(i, k);
    }
    y[j] = ideal - s * dropCoefficient(aScale * current) * weighted;
  }
  return y;
}

/** G_pos = diag(1 − (1 − i/k)²)·G (k×n), the modified matrix of aihwkit's correction GEMM. */
export function aihwkitIrDropPositionWeighted(gUs: Float32Array, k: number, n: number, out?: Float32Array): Float32Array {
  checkShape(gUs, k, n);
  const o = out ?? new Float32Array(k * n);
  for (let i = 0; i < k; i++) {
    const w = aihwkitIrDropPosition(i, k);
    for (let j = 0; j < n; j++) o[i * n + j] = w * gUs[i * n + j];
  }
  return o;
}

/**
 * Applies aihwkit's correction to ideal outputs: out = Y − scale·c(a)∘B elementwise over m×n, with
 * a = k·R·A/x_full, A = |X|·|G| (the total-current GEMM; pass Y when X, G ≥ 0) and B = X·G_pos.
 * `out` may be Y. Returns `out`.
 */
export function aihwkitIrDropCorrect(y: Float32Array, a: Float32Array, b: Float32Array, k: number, params: AihwkitIrDropParams, out?: Float32Array): Float32Array {
  const len = y.length;
  if (a.length !== len || b.length !== len) throw new RangeError(`ir drop: outputs ${len}, currents ${a.length}, weighted ${b.length}`);
  const o = out ?? new Float32Array(len);
  const aScale = (k * params.wireResistanceOhm * 1e-6) / params.inputFullScale;
  const s = params.scale ?? 1;
  for (let q = 0; q < len; q++) o[q] = y[q] - s * dropCoefficient(aScale * a[q]) * b[q];
  return o;
}

/** aihwkit's model for m input vectors (X m×k): Y = X·G, A = |X|·|G| (Y when X, G ≥ 0), B = X·G_pos,
 * out = Y − scale·c(A)∘B. Returns out (m×n). */
export function irDropAihwkitBatched(xs: Float32Array, gUs: Float32Array, m: number, k: number, n: number, params: AihwkitIrDropParams, gemmFn: Gemm = gemm, out?: Float32Array): Float32Array {
  checkShape(gUs, k, n);
  if (xs.length !== m * k) throw new RangeError(`ir drop: ${xs.length} inputs are not ${m}×${k}`);
  const y = new Float32Array(m * n);
  gemmFn(xs, gUs, m, k, n, y);
  let a = y;
  if (hasNegative(xs) || hasNegative(gUs)) {
    a = new Float32Array(m * n);
    gemmFn(absOf(xs), absOf(gUs), m, k, n, a);
  }
  const b = new Float32Array(m * n);
  gemmFn(xs, aihwkitIrDropPositionWeighted(gUs, k, n), m, k, n, b);
  return aihwkitIrDropCorrect(y, a, b, k, params, out ?? y);
}
