// A second core for the simulator's GEMMs (after compiler/passes/decompose/gemm-threads.ts): a worker
// thread instantiates the same compiled WebAssembly module on the same shared memory. A product is posted
// once, as a dozen integers in a shared Int32Array (Atomics, no message copies): the operands are already
// in that memory. Both threads then take chunks of row panels (the whole k loop of those rows) from a
// shared counter until none is left, so a thread that is slowed down takes fewer, and the main thread
// copies finished chunks out while the worker still computes. Every C tile is computed by the same
// instructions in the same order whichever thread runs it: results are bit-identical to one thread's.
import { availableParallelism } from 'node:os';
import { isMainThread, Worker } from 'node:worker_threads';

/** The exported GEMM loop nests, by index: 0 f32, 1 i16 (argument 7 is r0, argument 8 is r1). */
type Fn = (...args: number[]) => void;

// sync[0]: 0 idle, 1 job posted, 2 the worker runs it, 3 the worker failed; sync[1]: the next chunk's
// first panel; sync[2]: panels per chunk; sync[3]: panels; sync[4]: function index; sync[5..5+MAX_ARGS):
// the arguments; sync[POLL]: µs the worker polls for the next job before it sleeps; sync[DONE + i]: 0
// until chunk i is computed, then 1 + its wall time in µs
const MAX_ARGS = 16;
const ARGS = 5;
const POLL = ARGS + MAX_ARGS;
const DONE = POLL + 1;
/** The worker's polling after a job, µs: products come in bursts, and a futex wake-up costs ~0.1 ms. */
const POLL_US = 1000;
/** Chunks per split product: enough for the threads to even out, few enough to keep the calls cheap. */
const CHUNKS = 24;
const R0 = 7;
const R1 = 8;

/**
 * Takes chunks of row panels from the shared counter until none is left: fn on each (arguments 7 and 8
 * are the chunk's panels), then its DONE slot (1 + the chunk's wall time in µs), then `after` (the main
 * thread's copy-out). Plain JS without free variables: its source is also the worker's.
 */
function drain(s: Int32Array, fn: (...args: number[]) => void, args: number[], done: number, after?: (chunk: number) => void): void {
  const size = s[2];
  const panels = s[3];
  for (;;) {
    const r0 = Atomics.add(s, 1, size);
    if (r0 >= panels) return;
    args[7] = r0;
    args[8] = Math.min(panels, r0 + size);
    const t0 = performance.now();
    fn(...args);
    Atomics.store(s, done + r0 / size, 1 + Math.round((performance.now() - t0) * 1000));
    if (after) after(r0 / size);
  }
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const s = new Int32Array(workerData.sync);
const inst = new WebAssembly.Instance(workerData.module, { env: { mem: workerData.mem } });
const fns = workerData.names.map((n) => inst.exports[n]);
const drain = ${drain.toString()};
let poll = false;
for (;;) {
  // products come in bursts (a simulated layer is many of them): after a job, poll a while before
  // sleeping (not while the cores are contended: polling would take CPU time from the main thread)
  const until = poll ? performance.now() + Atomics.load(s, ${POLL}) / 1000 : 0;
  while (Atomics.load(s, 0) !== 1 && performance.now() < until);
  if (Atomics.load(s, 0) !== 1) Atomics.wait(s, 0, 0);
  // the main thread may have done the whole job already and withdrawn it (1 -> 0): back to sleep
  poll = Atomics.compareExchange(s, 0, 1, 2) === 1;
  if (!poll) continue;
  let state = 0;
  try {
    drain(s, fns[s[4]], Array.from(s.subarray(${ARGS}, ${ARGS} + workerData.nargs)), ${DONE});
  } catch {
    state = 3;
  }
  Atomics.store(s, 0, state);
  Atomics.notify(s, 0);
}
`;

let threadsWanted: 1 | 2 = process.env.TANDEM_GEMM_THREADS === '1' ? 1 : 2;
const canSplit = isMainThread && availableParallelism() >= 2;

/** 1 forces single-threaded products (tests, benchmarks); 2 (the default) uses a helper thread on 2+ cores. */
export function setSimKernelThreads(n: 1 | 2): void {
  threadsWanted = n;
}

const stats = { products: 0, chunks: 0, workerChunks: 0 };

/**
 * Products posted to both threads so far, their chunks, and how many of those the helper thread computed
 * (tests check that the two-thread path really ran).
 */
export function simKernelSplits(): { products: number; chunks: number; workerChunks: number } {
  return { ...stats };
}

/** The threads a big product uses now. TANDEM_GEMM_THREADS=1 in the environment starts at 1. */
export function simKernelThreads(): 1 | 2 {
  return threadsWanted === 2 && canSplit ? 2 : 1;
}

export interface RowSplitter {
  /**
   * Runs fns[fn](...args) over the row panels [0, panels) (arguments R0 and R1 set per call): in chunks
   * taken by both threads from a shared counter when the product is big enough (work: multiply-adds in
   * float32 units; a thread that is slowed down, e.g. by another process on its core, simply takes fewer
   * chunks), else in one call on this thread. `ready` is called on this thread for every computed range
   * of panels, as soon as it sees it done (so that C can be copied out while the other thread computes).
   */
  run(fn: number, args: number[], panels: number, work: number, ready?: (p0: number, p1: number) => void): void;
  dispose(): void;
}

/** Multiply-adds (float32) below which a product stays on one thread (~0.05 ms of work on two cores). */
const MIN_SPLIT = 1 << 19;
/**
 * The same while the cores are contended: when a chunk of a split product took far longer than the
 * others (a thread lost its core, e.g. to another process), small products stay on one thread and the
 * worker stops polling for a while (BUSY_MS, doubling up to BUSY_MAX_MS at each such product, halving at
 * each clean one). Else, with another busy process, the worker and this thread take each other's time
 * slices (~ms) and small products ran ~2× slower on two threads than on one.
 */
const MIN_SPLIT_BUSY = 1 << 24;
const BUSY_MS = 100;
const BUSY_MAX_MS = 3000;

/** The splitter for a module compiled on a shared memory; the worker starts on the first split product. */
export function rowSplitter(module: object, mem: object, names: readonly string[], fns: readonly Fn[], nargs: number): RowSplitter {
  if (nargs > MAX_ARGS) throw new Error(`rowSplitter: ${nargs} arguments, at most ${MAX_ARGS}`);
  const sync = new Int32Array(new SharedArrayBuffer(4 * (DONE + CHUNKS)));
  sync[POLL] = POLL_US;
  let worker: Worker | undefined;
  let broken = false;
  let busyUntil = 0;
  let busyMs = BUSY_MS; // doubles while the worker keeps losing its core, halves after each clean split
  const contended = (now: number) => {
    busyUntil = now + busyMs;
    busyMs = Math.min(BUSY_MAX_MS, 2 * busyMs);
  };
  // The worker boots in the background (~20 ms): products posted before it is ready are simply drained
  // by this thread alone, so nothing ever waits for it to start.
  const start = () => {
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, mem, names, nargs, sync: sync.buffer } });
      worker.unref();
      worker.on('error', () => (broken = true));
      worker.on('exit', () => (broken = true));
    } catch {
      broken = true; // no threads here: stay single-threaded
    }
  };
  return {
    dispose() {
      broken = true;
      void worker?.terminate();
    },
    run(fn, args, panels, work, ready) {
      const local = args.slice();
      const t0 = performance.now();
      const busy = t0 < busyUntil;
      const split = work >= MIN_SPLIT && (work >= MIN_SPLIT_BUSY || !busy);
      Atomics.store(sync, POLL, busy ? 0 : POLL_US);
      if (split && !worker && !broken && simKernelThreads() === 2) start();
      if (!split || panels < 2 || broken || simKernelThreads() === 1) {
        local[R0] = 0;
        local[R1] = panels;
        fns[fn](...local);
        ready?.(0, panels);
        return;
      }
      stats.products++;
      const size = Math.max(1, Math.ceil(panels / CHUNKS));
      const chunks = Math.ceil(panels / size);
      sync[1] = 0;
      sync[2] = size;
      sync[3] = panels;
      sync[4] = fn;
      for (let i = 0; i < nargs; i++) sync[ARGS + i] = args[i];
      sync.fill(0, DONE, DONE + chunks);
      const handed = new Uint8Array(chunks);
      let next = 0; // chunks before this one are all handed to `ready`
      const hand = (i: number) => {
        handed[i] = 1;
        ready?.(i * size, Math.min(panels, (i + 1) * size));
      };
      /** Hands over the chunks the worker has finished; true once all are. */
      const sweep = (): boolean => {
        for (let i = next; i < chunks; i++) if (!handed[i] && Atomics.load(sync, DONE + i) !== 0) hand(i);
        while (next < chunks && handed[next]) next++;
        return next === chunks;
      };
      Atomics.store(sync, 0, 1);
      Atomics.notify(sync, 0);
      let workerFailed = false;
      let own = 0;
      try {
        drain(sync, fns[fn], local, DONE, (i) => {
          own++;
          hand(i);
          sweep();
        });
      } finally {
        // all chunks are taken (or this thread failed): withdraw the job if the worker never picked it
        // up, else hand over its chunks as they finish and wait for it to leave drain()
        if (Atomics.compareExchange(sync, 0, 1, 0) !== 1) {
          let state: number;
          while ((state = Atomics.load(sync, 0)) === 2) sweep();
          if (state === 3) {
            broken = workerFailed = true;
            Atomics.store(sync, 0, 0);
          }
        }
        // a chunk takes both threads about as long, unless one lost its core for a while: one chunk 4× the
        // median and 0.5 ms over it (hiccups of this VM are shorter) says so
        if (own < chunks && !workerFailed) {
          const us = Array.from(sync.subarray(DONE, DONE + chunks)).sort((x, y) => x - y);
          const median = us[chunks >> 1];
          if (us[chunks - 1] > 4 * median && us[chunks - 1] > median + 500) contended(performance.now());
          else busyMs = Math.max(BUSY_MS, busyMs / 2);
        }
      }
      if (workerFailed) throw new Error('sim kernels: the helper thread failed on its share of a product');
      stats.chunks += chunks;
      stats.workerChunks += chunks - own;
      if (!sweep()) throw new Error('sim kernels: a chunk of the product was not computed');
    },
  };
}
