// IR drop: the wires' resistance lowers the voltage a cell sees, so column currents fall short of
// Σ_i x_i·G_ij. Expressed as an effective conductance matrix G_eff: exact for linear cells with
// voltage-driven rows, a mean field for gate-driven (1T1R) rows.
//
// Units: G in µS, k×n row-major (k rows = inputs, n columns = outputs); wire resistances in Ω per
// segment (one segment per cell along its row wire, one along its column wire).
//
// Network (per block, the block's cells at the array corner next to the drivers and the sense
// amplifiers; the lowering puts every block at offset 0 and the array's other cells are unused):
//   - row wire i: an ideal voltage source x_i at its left end (before column 0), then a segment of
//     R_row before each of the nodes r(i, 0..n−1);
//   - column wire j: nodes c(0..k−1, j) joined by segments of R_col, and a last segment R_col from
//     c(k−1, j) into an ideal virtual-ground sense amplifier (0 V), whose current is the output;
//   - cell (i, j): a linear conductance G_ij between r(i, j) and c(i, j).
// Voltage drive (crossbar.inputDrive 'voltage'): inactive rows are driven at 0 V (bit-serial drivers),
// so every row node is tied to a source and the circuit is linear in x: I_j = Σ_i G_eff[i, j]·x_i for
// an input-independent G_eff (superposition). The simulator therefore uses G_eff exactly as it used
// the cells' conductances. Exact here means: linear (ohmic) cells, ideal drivers and sense amplifiers
// (0 Ω), DC (settled) currents; the solve itself is exact for one zero wire (independent ladders) and
// converged to a stated tolerance otherwise.
//
// Gate drive ('gate', 1T1R with the inputs on the word lines = the access transistors' gates): an
// active row's cells connect the read voltage V to their column, an inactive row's cells are open.
// The word line carries no cell current (R_row must be 0) and the read-voltage supply line is ideal,
// so each column j is a ladder: with the active rows A of one input,
//   (L + D_A) v = D_A·1·V,   I_j = g_c·v_{k−1} = Σ_{i∈A} G_ij·(V − v_i),
// L the column wire's conductance matrix (segments g_c = 1/R_col, the last to the 0 V sense amplifier),
// D_A = diag(G_ij·[i ∈ A]). The network changes with A, so I_j is not linear in the inputs and no
// G_eff is exact. Mean field: rows active independently with probability a (the layer's measured
// mean input drive, MvmStep.inputActivity), D_A replaced by its mean a·D in the matrix and the source:
//   (L + a·D) v̄ = a·D·1·V   (v̄: the node voltages under the expected load),
// and each active cell sees V − v̄_i, so I_j ≈ Σ_{i∈A} G_ij·(1 − v̄_i/V)·V:
//   G_eff[i, j] = G_ij·(1 − v̄_i/V),
// linear again (v̄/V does not depend on V). At a = 1 it is the voltage drive's G_eff (T·1 = g_c e_{k−1}
// + D with T = L + D, so 1 − T⁻¹D·1 = g_c T⁻¹e_{k−1}); at a = 0 it is G (a lone cell's own drop,
// G_ij·(k − i)·R_col, is missed). An approximation, not exact: it drops how many and which rows one
// input activates (the column current's spread about the mean) and the correlation between a cell
// being on and its own node voltage. Against the exact per-input ladder (test/sim-irdrop.test.ts:
// 128 rows, 2.12 Ω, random 2-bit levels from 1.1 to 167 µS, rows active with probability a) the
// column current's relative error is, at a = 0.2, 2.9 % on average, 10.0 % at the 99th percentile, with
// a +0.4 % bias (the mean field slightly underestimates the drop); 1.6–2.9 % mean, 5–10 % p99 for
// a = 0.05–0.8. Rows held at 0 V (voltage drive's G_eff) are off by 35 % on average at a = 0.2. Real
// inputs are neither independent nor equally likely per row: on fmnist-vgg's bit planes the error is
// 4.5–7.4 % mean, 15–21 % p99, bias +2 to +5 % (docs/cim.md). A multi-bit DAC under gate drive is
// taken as pulse-width coded (a row on for digit/(2^b − 1) of the read), a its mean on-time fraction.
//
// Not modelled: device I–V non-linearity and access-transistor resistance, driver and sense-amplifier
// resistance, the resistance of a read-voltage supply line, the conductance of the array's unused
// cells, wire capacitance and settling, temperature.
//
// Solvers:
//   - R_row = 0: each column is an independent tridiagonal ladder T_j (row nodes sit at x_i):
//     G_eff[i, j] = G_ij·g_c·(T_j⁻¹ e_{k−1})_i, one O(k) solve per column (g = 1/R).
//   - R_col = 0: the same for each row (by the symmetry below).
//   - gate drive: the mean-field ladders (L + a·D_j) v̄_j = a·D_j·1, one O(k) solve per column.
//   - both > 0: eliminate the row-wire nodes (their ladders are tridiagonal) and solve the Schur
//     complement S = T_c − D·T_r⁻¹·D (D = diag G) on the column-wire nodes by conjugate gradients,
//     preconditioned with the column ladders T_c; one adjoint solve S w = e_(k−1, j) per output
//     column gives G_eff[i, j] = g_r·g_c·(T_r,i⁻¹ D_i w_i)_0.
//   - Reciprocity: G_eff[i, j] is also the current into driver i per volt at sense amplifier j, so
//     the network rotated (columns become rows, the sense end becomes the driver end) has the
//     transposed G_eff; it turns R_col = 0 into R_row = 0 and lets the general solve run over the
//     fewer of k and n.

export interface WireResistance {
  /** Ω per cell along a row (input) wire. */
  readonly rowOhm: number;
  /** Ω per cell along a column (output) wire. */
  readonly colOhm: number;
}

export interface IrDropSolveOptions {
  /** Relative residual ‖S·w − e‖ at which the general (both wires) solve stops. */
  readonly tolerance?: number;
  /** Gate drive (1T1R: the inputs switch the access transistors, an inactive row's cells are open):
   * the mean input activity a in [0, 1] of the mean-field G_eff (see the header). Absent: voltage
   * drive (every row driven, inactive rows at 0 V), solved exactly. */
  readonly gateActivity?: number;
}

/** The general solve's default tolerance: G_eff to ~1e-10 relative on well-conditioned arrays. */
export const IR_DROP_TOLERANCE = 1e-12;

function checkShape(g: ArrayLike<number>, k: number, n: number): void {
  if (!(k >= 1 && n >= 1) || g.length !== k * n) throw new RangeError(`ir drop: ${g.length} conductances are not ${k}×${n}`);
}

function checkWires(w: WireResistance): void {
  for (const [name, v] of [['rowOhm', w.rowOhm], ['colOhm', w.colOhm]] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`ir drop: wire resistance ${name} = ${v}: expected a finite number >= 0`);
  }
}

/**
 * G_eff (µS, k×n): the output currents are Y = X·G_eff for any inputs X (exactly for voltage drive, in
 * the mean for gate drive; see the header), as float32 for the simulator's GEMMs. Writes `out` (allocated if absent) and returns it.
 */
export function irDropEffectiveConductances(gUs: Float32Array, k: number, n: number, wires: WireResistance, options: IrDropSolveOptions = {}, out?: Float32Array): Float32Array {
  const o = out ?? new Float32Array(k * n);
  o.set(irDropSolve(gUs, k, n, wires, options));
  return o;
}

/** G_eff (µS, k×n) in double precision (exact for voltage drive, the mean field for gate drive). */
export function irDropSolve(gUs: ArrayLike<number>, k: number, n: number, wires: WireResistance, options: IrDropSolveOptions = {}): Float64Array {
  checkShape(gUs, k, n);
  checkWires(wires);
  const { rowOhm, colOhm } = wires;
  const a = options.gateActivity;
  if (a !== undefined) {
    if (!(a >= 0 && a <= 1)) throw new RangeError(`ir drop: gate drive activity = ${a}: expected a number in [0, 1]`);
    if (rowOhm !== 0) throw new RangeError(`ir drop: gate drive with wire resistance rowOhm = ${rowOhm}: expected 0 (a word line drives gates and carries no cell current)`);
    return colOhm === 0 ? Float64Array.from(gUs) : gateColumnLadders(Float64Array.from(gUs), k, n, colOhm, a);
  }
  if (rowOhm === 0 && colOhm === 0) return Float64Array.from(gUs);
  const tol = options.tolerance ?? IR_DROP_TOLERANCE;
  // the rotated network has the transposed G_eff: used so that the ladder / adjoint count is the smaller side
  const rotate = rowOhm === 0 ? false : colOhm === 0 ? true : n > k;
  const g = rotate ? rotated(gUs, k, n) : Float64Array.from(gUs);
  const [kk, nn] = rotate ? [n, k] : [k, n];
  const [rr, rc] = rotate ? [colOhm, rowOhm] : [rowOhm, colOhm];
  const eff = rr === 0 ? columnLadders(g, kk, nn, rc) : schurSolve(g, kk, nn, rr, rc, tol);
  return rotate ? rotated(eff, kk, nn) : eff;
}

/** M'[j'][i'] = M[k−1−i'][n−1−j'] (n×k): the network seen from its sense amplifiers. */
function rotated(m: ArrayLike<number>, k: number, n: number): Float64Array {
  const r = new Float64Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) r[(n - 1 - j) * k + (k - 1 - i)] = m[i * n + j];
  return r;
}

// ---------------------------------------------------------------------------------------------
// Ladders: symmetric tridiagonal systems with diagonal a and off-diagonals −g, factored as LDLᵀ.
// Column ladders run down the k rows of every column at once (stride n); row ladders along a row.

/** Inverse pivots 1/d of the column ladders (k×n): diagonal (i > 0 ? g : 0) + g + G_ij. */
function factorColumns(gUs: Float64Array, k: number, n: number, g: number): Float64Array {
  const inv = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) {
      const a = (i > 0 ? g : 0) + g + gUs[i * n + j];
      inv[i * n + j] = 1 / (i > 0 ? a - g * g * inv[(i - 1) * n + j] : a);
    }
  }
  return inv;
}

/** Solves the column ladders in place (b: k×n). */
function solveColumns(inv: Float64Array, k: number, n: number, g: number, b: Float64Array): void {
  for (let i = 1; i < k; i++) for (let j = 0; j < n; j++) b[i * n + j] += g * inv[(i - 1) * n + j] * b[(i - 1) * n + j];
  for (let j = 0; j < n; j++) b[(k - 1) * n + j] *= inv[(k - 1) * n + j];
  for (let i = k - 2; i >= 0; i--) for (let j = 0; j < n; j++) b[i * n + j] = (b[i * n + j] + g * b[(i + 1) * n + j]) * inv[i * n + j];
}

/** Inverse pivots of the row ladders (k×n): diagonal g + (j < n−1 ? g : 0) + G_ij. */
function factorRows(gUs: Float64Array, k: number, n: number, g: number): Float64Array {
  const inv = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) {
      const a = g + (j < n - 1 ? g : 0) + gUs[o + j];
      inv[o + j] = 1 / (j > 0 ? a - g * g * inv[o + j - 1] : a);
    }
  }
  return inv;
}

/** Solves the row ladders in place (b: k×n); the rows advance together (independent chains run
 * ~3× faster than one row at a time, and the k-strided elements stay in cache). */
function solveRows(inv: Float64Array, k: number, n: number, g: number, b: Float64Array): void {
  const size = k * n;
  for (let j = 1; j < n; j++) for (let q = j; q < size; q += n) b[q] += g * inv[q - 1] * b[q - 1];
  for (let q = n - 1; q < size; q += n) b[q] *= inv[q];
  for (let j = n - 2; j >= 0; j--) for (let q = j; q < size; q += n) b[q] = (b[q] + g * b[q + 1]) * inv[q];
}

/** R_row = 0: G_eff[i, j] = G_ij·g_c·(T_j⁻¹ e_{k−1})_i, exact. */
function columnLadders(gUs: Float64Array, k: number, n: number, colOhm: number): Float64Array {
  const gc = 1e6 / colOhm; // µS
  const inv = factorColumns(gUs, k, n, gc);
  const u = new Float64Array(k * n);
  u.fill(gc, (k - 1) * n);
  solveColumns(inv, k, n, gc, u);
  for (let q = 0; q < k * n; q++) u[q] *= gUs[q];
  return u;
}

/** Gate drive, mean field (R_row = 0): G_eff[i, j] = G_ij·(1 − v̄_ij), (L + a·D_j) v̄_j = a·D_j·1 per column. */
function gateColumnLadders(gUs: Float64Array, k: number, n: number, colOhm: number, activity: number): Float64Array {
  const gc = 1e6 / colOhm; // µS
  const load = gUs.map((v) => activity * v);
  const inv = factorColumns(load, k, n, gc);
  solveColumns(inv, k, n, gc, load); // in place: load -> v̄ (V_read = 1)
  for (let q = 0; q < k * n; q++) load[q] = gUs[q] * (1 - load[q]);
  return load;
}

// ---------------------------------------------------------------------------------------------
// Both wires: preconditioned conjugate gradients on the Schur complement, one adjoint per column.

function schurSolve(gUs: Float64Array, k: number, n: number, rowOhm: number, colOhm: number, tol: number): Float64Array {
  const gr = 1e6 / rowOhm;
  const gc = 1e6 / colOhm;
  const size = k * n;
  const colInv = factorColumns(gUs, k, n, gc);
  const rowInv = factorRows(gUs, k, n, gr);
  // readout: (T_r,i⁻¹ D_i w_i)_0 = Σ_j (T_r,i⁻¹ e_0)_j·G_ij·w_ij (T_r symmetric)
  const readout = new Float64Array(size);
  for (let i = 0; i < k; i++) readout[i * n] = 1;
  solveRows(rowInv, k, n, gr, readout);
  for (let q = 0; q < size; q++) readout[q] *= gr * gc * gUs[q];

  const t = new Float64Array(size);
  /** q = S·p = T_c·p − D·T_r⁻¹·(D·p); returns p·q. */
  const applyS = (p: Float64Array, q: Float64Array): number => {
    for (let at = 0; at < size; at++) t[at] = gUs[at] * p[at];
    solveRows(rowInv, k, n, gr, t);
    let pq = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < n; j++) {
        const at = i * n + j;
        let v = ((i > 0 ? gc : 0) + gc + gUs[at]) * p[at] - gUs[at] * t[at];
        if (i > 0) v -= gc * p[at - n];
        if (i < k - 1) v -= gc * p[at + n];
        q[at] = v;
        pq += p[at] * v;
      }
    }
    return pq;
  };
  const eff = new Float64Array(size);
  const w = new Float64Array(size);
  const r = new Float64Array(size);
  const z = new Float64Array(size);
  const p = new Float64Array(size);
  const sp = new Float64Array(size);
  const maxIterations = 10 * (k + n) + 100;
  for (let j = 0; j < n; j++) {
    // S w = e_(k−1, j), from w = 0; ‖e‖ = 1, so the residual norm is relative
    w.fill(0);
    r.fill(0);
    r[(k - 1) * n + j] = 1;
    z.set(r);
    solveColumns(colInv, k, n, gc, z);
    p.set(z);
    let rz = z[(k - 1) * n + j];
    for (let it = 1, rr = 1; rr > tol * tol; it++) {
      if (it > maxIterations) throw new RangeError(`ir drop: the network solve did not reach ${tol} in ${maxIterations} iterations (row ${rowOhm} Ω, column ${colOhm} Ω per cell on ${k}×${n})`);
      const alpha = rz / applyS(p, sp);
      rr = 0;
      for (let q = 0; q < size; q++) {
        w[q] += alpha * p[q];
        const v = (r[q] -= alpha * sp[q]);
        rr += v * v;
      }
      z.set(r);
      solveColumns(colInv, k, n, gc, z);
      const rzNext = dot(r, z);
      const beta = rzNext / rz;
      rz = rzNext;
      for (let q = 0; q < size; q++) p[q] = z[q] + beta * p[q];
    }
    for (let i = 0; i < k; i++) {
      let s = 0;
      const o = i * n;
      for (let jj = 0; jj < n; jj++) s += readout[o + jj] * w[o + jj];
      eff[o + j] = s;
    }
  }
  return eff;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let q = 0; q < a.length; q++) s += a[q] * b[q];
  return s;
}

// ---------------------------------------------------------------------------------------------
// First order in R·G, for reference: node voltages from the ideal cell currents x_i·G_ij,
//   G_eff_ij ≈ G_ij·(1 − H^row_ij − H^col_ij),
//   H^row_ij = R_row·Σ_{s=0..j} Σ_{j'≥s} G_ij'   (prefix sums of suffix sums along the row)
//   H^col_ij = R_col·Σ_{s=i..k−1} Σ_{i'≤s} G_i'j (suffix sums of prefix sums along the column).
// Its error is O((R·G)²) (test/sim-irdrop.test.ts); valid only while the worst H is small.

/** First-order G_eff (µS, k×n). */
export function irDropFirstOrder(gUs: Float32Array, k: number, n: number, wires: WireResistance): Float32Array {
  checkShape(gUs, k, n);
  checkWires(wires);
  const rr = wires.rowOhm * 1e-6;
  const rc = wires.colOhm * 1e-6;
  const h = new Float64Array(k * n);
  const t = new Float64Array(n);
  for (let i = 0; i < k; i++) {
    const ro = i * n;
    let suffix = 0;
    for (let j = n - 1; j >= 0; j--) t[j] = suffix += gUs[ro + j];
    let prefix = 0;
    for (let j = 0; j < n; j++) h[ro + j] = rr * (prefix += t[j]);
  }
  const p = new Float64Array(k);
  for (let j = 0; j < n; j++) {
    let prefix = 0;
    for (let i = 0; i < k; i++) p[i] = prefix += gUs[i * n + j];
    let suffix = 0;
    for (let i = k - 1; i >= 0; i--) h[i * n + j] += rc * (suffix += p[i]);
  }
  const o = new Float32Array(k * n);
  for (let q = 0; q < k * n; q++) o[q] = gUs[q] * (1 - h[q]);
  return o;
}

/** Relative loss 1 − G_eff/G of the cells with G > 0: its mean over those cells and its worst. */
export function irDropLoss(gUs: ArrayLike<number>, effUs: ArrayLike<number>): { mean: number; worst: number } {
  let sum = 0;
  let count = 0;
  let worst = 0;
  for (let q = 0; q < gUs.length; q++) {
    if (!(gUs[q] > 0)) continue;
    const loss = 1 - effUs[q] / gUs[q];
    sum += loss;
    count++;
    worst = Math.max(worst, loss);
  }
  return { mean: count ? sum / count : 0, worst };
}
