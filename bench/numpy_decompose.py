#!/usr/bin/env python3
"""Baseline for bench/decompose.ts: Tucker-2 and CP-ALS in plain numpy, written the way tensorly does them.

usage: numpy_decompose.py DIR N [N ...] [--repeats-tucker K] [--repeats-cp K] [--cp-iter I]

Reads DIR/{gaussian,cp16}_N.f32: raw little-endian float32 tensors in Tandem's kernel layout
[3, 3, N, N] (kh, kw, S, T) and runs on them in that layout. (The issue measured N x N x 3 x 3; the
errors do not depend on the layout, but numpy's CP-ALS is ~2.3x slower there because unfolding the
trailing 3x3 modes copies through strides, so this layout is the fairer, faster baseline.)
  - partial Tucker (tensorly.decomposition.partial_tucker): modes (2, 3), ranks (N/2, N/2), SVD init,
    HOOI sweeps until |delta rec_error| < 1e-4 (tensorly's default tol) after at least 3 sweeps,
    truncated SVDs by numpy.linalg.svd(full_matrices=False), mode products by unfold / dot / fold;
  - CP-ALS (tensorly.decomposition.parafac): rank N/2, random init (uniform [0, 1), RandomState(0)),
    a fixed number of sweeps (tol = 0), MTTKRP = unfold(X, m) @ khatri_rao(others) (einsum), normal
    equations solved with numpy.linalg.solve.
Prints one JSON line: {"numpy": version, "threads": ..., "rows": [{n, method, tensor, ms, relError, iterations}]}.
Float64 throughout, like Tandem.
"""
import json
import os
import sys
import time

import numpy as np


def unfold(x, mode):
    return np.reshape(np.moveaxis(x, mode, 0), (x.shape[mode], -1))


def fold(m, mode, shape):
    full = list(shape)
    mode_dim = full.pop(mode)
    full.insert(0, mode_dim)
    return np.moveaxis(np.reshape(m, full), 0, mode)


def mode_dot(x, matrix, mode):
    shape = list(x.shape)
    shape[mode] = matrix.shape[0]
    return fold(matrix @ unfold(x, mode), mode, shape)


def truncated_svd_u(m, k):
    u, _, _ = np.linalg.svd(m, full_matrices=False)
    return u[:, :k]


def partial_tucker(x, ranks, modes=(2, 3), n_iter_max=100, tol=1e-4):
    factors = [truncated_svd_u(unfold(x, m), r) for m, r in zip(modes, ranks)]
    norm_x = np.linalg.norm(x)
    rec_errors = []
    iterations = 0
    for iteration in range(n_iter_max):
        for index, mode in enumerate(modes):
            core_approx = x
            for j, (other, f) in enumerate(zip(modes, factors)):
                if j != index:
                    core_approx = mode_dot(core_approx, f.T, other)
            factors[index] = truncated_svd_u(unfold(core_approx, mode), ranks[index])
        core = x
        for m, f in zip(modes, factors):
            core = mode_dot(core, f.T, m)
        rec_errors.append(np.sqrt(abs(norm_x ** 2 - np.linalg.norm(core) ** 2)) / norm_x)
        iterations = iteration + 1
        if iteration > 1 and abs(rec_errors[-2] - rec_errors[-1]) < tol:
            break
    return core, factors, iterations


def tucker_reconstruct(core, factors, modes=(2, 3)):
    out = core
    for m, f in zip(modes, factors):
        out = mode_dot(out, f, m)
    return out


def khatri_rao(mats):
    letters = "abcd"[: len(mats)]
    op = ",".join(c + "z" for c in letters) + "->" + letters + "z"
    return np.einsum(op, *mats).reshape((-1, mats[0].shape[1]))


def parafac(x, rank, n_iter_max=100, seed=0):
    rng = np.random.RandomState(seed)
    factors = [rng.random_sample((d, rank)) for d in x.shape]
    for _ in range(n_iter_max):
        for mode in range(x.ndim):
            pseudo_inverse = np.ones((rank, rank))
            for i, f in enumerate(factors):
                if i != mode:
                    pseudo_inverse = pseudo_inverse * (f.T @ f)
            mttkrp = unfold(x, mode) @ khatri_rao([f for i, f in enumerate(factors) if i != mode])
            factors[mode] = np.linalg.solve(pseudo_inverse.T, mttkrp.T).T
    return factors


def cp_reconstruct(factors):
    return np.einsum("ir,jr,kr,lr->ijkl", *factors)


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def timed(fn, repeats):
    """Median of `repeats` runs, after one untimed warm-up run when repeats > 1 (like the TypeScript side)."""
    ms = []
    out = None
    if repeats > 1:
        fn()
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return float(np.median(ms)), out


def main():
    args = sys.argv[1:]
    opts = {"--repeats-tucker": 3, "--repeats-cp": 1, "--cp-iter": 100}
    rest = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = int(args[i + 1])
            i += 2
        else:
            rest.append(args[i])
            i += 1
    folder, ns = rest[0], [int(n) for n in rest[1:]]
    # warm-up (BLAS threads, first-call costs)
    w = np.random.RandomState(1).standard_normal((3, 3, 16, 16))
    partial_tucker(w, (8, 8))
    parafac(w, 8, 3)
    rows = []
    for n in ns:
        for name in ("gaussian", "cp16"):
            x = np.fromfile(os.path.join(folder, f"{name}_{n}.f32"), dtype="<f4").astype(np.float64).reshape(3, 3, n, n)
            r = n // 2
            ms, (core, factors, its) = timed(lambda: partial_tucker(x, (r, r), modes=(2, 3)), opts["--repeats-tucker"])
            rows.append({"n": n, "method": "tucker2", "tensor": name, "ms": ms, "relError": rel(tucker_reconstruct(core, factors, (2, 3)), x), "iterations": its})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            reps = opts["--repeats-cp"] if n < 256 else 1
            ms, factors = timed(lambda: parafac(x, r, opts["--cp-iter"]), reps)
            rows.append({"n": n, "method": "cp-random", "tensor": name, "ms": ms, "relError": rel(cp_reconstruct(factors), x), "iterations": opts["--cp-iter"]})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or f"default ({os.cpu_count()} cores)"
    print(json.dumps({"numpy": np.__version__, "threads": threads, "rows": rows}))


if __name__ == "__main__":
    main()
