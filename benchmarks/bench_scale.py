"""How fit time and peak memory grow with the number of rows.

What it measures
----------------
For each sampler and each size (10,000, 100,000 and 1,000,000 rows of a
32-feature Gaussian mixture), one fit with a small fixed iteration budget
(early stopping off where a sampler has it, so every size runs the same number
of iterations) followed by ``sample(10_000)``, in a fresh subprocess each, so
that the peak resident memory (``ru_maxrss`` of the child) belongs to that run
alone. It prints seconds per iteration and the peak memory next to the size of
the data itself (``n x 32`` float64 values, plus the float32 copy the sampler
makes), so a linear cost curve and memory bounded by the batch, not by the rows,
can be read off the table.

``EntropicOTGenerator`` keeps one dual weight per training row and each dual
step touches every row (in bounded blocks): its cost per iteration grows
linearly in the rows by design, so its largest size is 100,000 here.

How to run
----------
::

    python benchmarks/bench_scale.py                 # all samplers, 10k/100k/1M
    python benchmarks/bench_scale.py --sizes 10000 100000 --samplers lipschitz
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

BUDGETS = {
    # name: (class, constructor parameters: a small fixed iteration budget)
    "lipschitz": (
        "LipschitzParticleSampler",
        {"max_iter": 20, "early_stopping": False, "tol": 0.0},
    ),
    "sliced": ("SlicedWassersteinFlow", {"max_iter": 20}),
    "proximal": ("ProximalMFGFlow", {"max_iter": 50}),
    "entropic": ("EntropicOTGenerator", {"max_iter": 3, "n_dual_steps": 2}),
}
MAX_ROWS = {"entropic": 100_000}
N_FEATURES = 32


def run_one(name: str, n_rows: int) -> dict:
    """Fit and sample in this process; return seconds and sizes."""
    import warnings

    import numpy as np
    import torch

    import skflow
    from skflow.datasets import make_gaussian_mixture

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, _ = make_gaussian_mixture(n_rows, N_FEATURES, 5, random_state=0)
    if name == "data only":
        # The floor: interpreter, imports and the generated table, no fit.
        return {
            "fit_seconds": 0.0,
            "sample_seconds": 0.0,
            "n_iter": 1,
            "data_mib": X.nbytes / 2**20,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    class_name, params = BUDGETS[name]
    sampler = getattr(skflow, class_name)(device="cpu", random_state=0, **params)
    start = time.perf_counter()
    sampler.fit(X)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    rows = sampler.sample(10_000, random_state=0)
    sample_seconds = time.perf_counter() - start
    assert np.isfinite(rows).all()
    return {
        "fit_seconds": fit_seconds,
        "sample_seconds": sample_seconds,
        "n_iter": sampler.n_iter_,
        "data_mib": X.nbytes / 2**20,
        # This process's own peak resident memory (Linux reports KiB).
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(name: str, n_rows: int) -> dict:
    """``run_one`` in a fresh interpreter, so the peak memory is its own."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", name, str(n_rows)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--samplers", nargs="+", default=["data only", *BUDGETS])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child[0], int(args.child[1]))))
        return
    header = (
        f"{'sampler':10s} {'rows':>9s} {'data MiB':>9s} {'peak MiB':>9s} "
        f"{'fit s':>8s} {'s / iter':>9s} {'sample(10k) s':>14s}"
    )
    print(header)
    print("-" * len(header))
    for n_rows in sorted(args.sizes):
        for name in args.samplers:
            if n_rows > MAX_ROWS.get(name, n_rows):
                continue
            r = measure(name, n_rows)
            peak = f"{r['peak_mib']:.0f}"
            print(
                f"{name:10s} {n_rows:9d} {r['data_mib']:9.1f} {peak:>9s} "
                f"{r['fit_seconds']:8.2f} {r['fit_seconds'] / r['n_iter']:9.3f} "
                f"{r['sample_seconds']:14.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
