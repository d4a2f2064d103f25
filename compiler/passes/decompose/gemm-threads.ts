// A second core for the GEMM (linalg.ts): a worker thread instantiates the same WebAssembly module on
// the same shared memory and multiplies its share of the row panels of each k-block while the main
// thread does the rest. The packed panels are already in that memory, so a job is a dozen integers
// in a shared Int32Array, posted and awaited with Atomics (a futex; no message copies). Every C tile
// is computed by the same kernel calls in the same order as with one thread: results are bit-identical.
import { availableParallelism } from 'node:os';
import { isMainThread, Worker } from 'node:worker_threads';

/** kernel(apByte, bpByte, cByte, mb, jb0, jb1, kc, ldcBytes, store) as in linalg.ts. */
export type TileKernel = (ap: number, bp: number, c: number, mb: number, jb0: number, jb1: number, kc: number, ldc: number, store: number) => void;

/** One k-block of a product: which panels, where C is, how the tiles are grouped. Doubles, not bytes. */
export interface TileJob {
  aAt: number;
  bAt: number;
  cBase: number;
  ldcH: number;
  kc: number;
  np: number;
  store: number;
  /** row panels per kernel call */
  ig: number;
  /** 1: only tiles on or above the diagonal (Gram matrices) */
  upper: number;
}

/**
 * Row panels [p0, p1) of a k-block, in row groups of job.ig panels × column blocks of nc columns (MR =
 * NR = 4 panels). Plain JS without free variables: its source is also the worker's loop.
 */
export function runTiles(kernel: TileKernel, j: TileJob, p0: number, p1: number, nc: number): void {
  for (let g0 = p0; g0 < p1; g0 += j.ig) {
    const gm = Math.min(j.ig, p1 - g0);
    const jbLow = j.upper ? g0 : 0;
    for (let c0 = 0; c0 < j.np; c0 += nc) {
      const jb0 = Math.max(c0 / 4, jbLow);
      const jb1 = Math.min(j.np, c0 + nc) / 4;
      if (jb0 >= jb1) continue;
      kernel((j.aAt + g0 * j.kc * 4) * 8, j.bAt * 8, (j.cBase + g0 * 4 * j.ldcH) * 8, gm, jb0, jb1, j.kc, j.ldcH * 8, j.store);
    }
  }
}

const FIELDS = ['aAt', 'bAt', 'cBase', 'ldcH', 'kc', 'np', 'store', 'ig', 'upper'] as const;
// sync[0]: 0 idle, 1 job posted, 2 the job failed; sync[1..2]: panel range; sync[3]: nc;
// sync[4..]: the TileJob fields; sync[READY]: 1 once the worker has instantiated the module
const READY = 4 + FIELDS.length;
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const runTiles = ${runTiles.toString()};
const FIELDS = ${JSON.stringify(FIELDS)};
const s = new Int32Array(workerData.sync);
const inst = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), { env: { mem: workerData.mem } });
const kernel = inst.exports.gemm;
Atomics.store(s, ${READY}, 1);
Atomics.notify(s, ${READY});
for (;;) {
  // products come in bursts (a sweep of HOOI or CP-ALS): poll for ~1 ms before sleeping, since a
  // futex wake-up costs ~0.1 ms on this VM, as much as a small product
  const until = performance.now() + 1;
  while (Atomics.load(s, 0) === 0 && performance.now() < until);
  Atomics.wait(s, 0, 0);
  let state = 0;
  try {
    const job = {};
    FIELDS.forEach((f, i) => { job[f] = s[4 + i]; });
    runTiles(kernel, job, s[1], s[2], s[3]);
  } catch {
    state = 2;
  }
  Atomics.store(s, 0, state);
  Atomics.notify(s, 0);
}
`;

/** Runs a k-block on two threads: the worker takes the later row panels. */
export interface TileHelper {
  run(kernel: TileKernel, job: TileJob, panels: number, nc: number): void;
  /** Stops the worker (when the engine is replaced). */
  dispose(): void;
}

/** Work (tile-rows × kc; 16 multiply-adds each) below which a k-block stays on one thread (~0.3 ms). */
const MIN_SPLIT_WORK = 1 << 18;

let threadsWanted = process.env.TANDEM_GEMM_THREADS === '1' ? 1 : 2;

/** 1 forces the single-threaded GEMM (benchmarks, tests); 2 (the default) uses a helper thread when there are 2+ cores. */
export function setGemmThreads(n: 1 | 2): void {
  threadsWanted = n;
}

const canSplit = isMainThread && availableParallelism() >= 2;

export function gemmThreads(): 1 | 2 {
  return threadsWanted === 2 && canSplit ? 2 : 1;
}

/** The helper for a shared wasm memory (the worker starts on the first product big enough to split). */
export function tileHelper(bytes: Uint8Array, mem: object): TileHelper {
  const sync = new Int32Array(new SharedArrayBuffer(4 * (READY + 1)));
  let worker: Worker | undefined;
  let broken = false;
  const start = (): boolean => {
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, mem, sync: sync.buffer } });
      worker.unref();
      // the worker cannot report an error event while this thread blocks: it signals readiness instead
      Atomics.wait(sync, READY, 0, 10_000);
      if (Atomics.load(sync, READY) === 1) return true;
      void worker.terminate();
    } catch {
      // no threads here: stay single-threaded
    }
    broken = true;
    return false;
  };
  return {
    dispose() {
      broken = true;
      void worker?.terminate();
    },
    run(kernel, job, panels, nc) {
      const tilesPerPanel = job.np / 4;
      const work = job.upper ? (panels * (2 * tilesPerPanel - panels + 1)) / 2 : panels * tilesPerPanel;
      if (work * job.kc < MIN_SPLIT_WORK || panels < 2 || broken || gemmThreads() === 1 || (!worker && !start())) {
        runTiles(kernel, job, 0, panels, nc);
        return;
      }
      // split the panels so that both shares hold about the same number of tiles
      let split = panels >> 1;
      if (job.upper) {
        let acc = 0;
        for (split = 0; split < panels && acc < work / 2; split++) acc += tilesPerPanel - split;
      }
      sync[1] = split;
      sync[2] = panels;
      sync[3] = nc;
      FIELDS.forEach((f, i) => {
        sync[4 + i] = job[f];
      });
      Atomics.store(sync, 0, 1);
      Atomics.notify(sync, 0);
      runTiles(kernel, job, 0, split, nc);
      while (Atomics.load(sync, 0) === 1); // the other share takes about as long as this one: poll
      if (Atomics.load(sync, 0) === 2) {
        broken = true;
        Atomics.store(sync, 0, 0);
        throw new Error('gemm: the helper thread failed on its share of a product');
      }
    },
  };
}
