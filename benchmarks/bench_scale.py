"""How fit time and peak memory grow with the number of rows.

What it measures
----------------
For each estimator and each size (10,000, 100,000 and 1,000,000 rows of a
32-feature Gaussian mixture), one fit with a small fixed iteration budget
(early stopping off where a sampler has it, so every size runs the same number
of iterations) followed by ``sample(10_000)``, in a fresh subprocess each, so
that the peak resident memory (``ru_maxrss`` of the child) belongs to that run
alone. It prints seconds per iteration and the peak memory next to the size of
the data itself (``n x 32`` float64 values, plus the float32 copy the sampler
makes), so a linear cost curve and memory bounded by the batch, not by the rows,
can be read off the table.

``EntropicOTGenerator(solver="semi-discrete")`` keeps one dual weight per
training row and each dual step touches every row (streamed in bounded blocks):
its cost per iteration grows linearly in the rows by design, so it runs a
3-iteration budget (after its warm-up dual steps) at every size;
``solver="sinkhorn"`` (what ``solver="auto"`` picks above 20,000 rows) sees
``batch_size`` rows per step.

The two transformers have no ``sample``: ``AutoencoderTransformer`` is fitted
for two epochs of mini-batches of 1024 rows (its iterations are epochs, so its
seconds per iteration grow with the rows by design) and ``TabularEncoder`` once,
on the same table with 4 columns turned into integers and 4 into 5-level
categories; their last column is ``transform`` then ``inverse_transform`` of
10,000 rows.

How to run
----------
::

    python benchmarks/bench_scale.py                 # everything, 10k/100k/1M
    python benchmarks/bench_scale.py --sizes 10000 100000 --samplers lipschitz
"""

from __future__ import annotations

import argparse
import json
import time

from _child import measure_in_child, peak_mib

BUDGETS = {
    # name: (class, constructor parameters: a small fixed iteration budget)
    "lipschitz": (
        "LipschitzParticleSampler",
        {"max_iter": 20, "early_stopping": False, "tol": 0.0},
    ),
    "sliced": ("SlicedWassersteinFlow", {"max_iter": 20}),
    "proximal": ("ProximalMFGFlow", {"max_iter": 50}),
    "entropic": (
        "EntropicOTGenerator",
        {"solver": "semi-discrete", "max_iter": 3, "n_dual_steps": 2},
    ),
    "sinkhorn": ("EntropicOTGenerator", {"solver": "sinkhorn", "max_iter": 20}),
    "autoencoder": (
        "AutoencoderTransformer",
        {"n_components": 8, "max_iter": 2, "batch_size": 1024},
    ),
    "tabular": ("TabularEncoder", {}),
}
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
            "peak_mib": peak_mib(),
        }
    data_mib = X.nbytes / 2**20
    class_name, params = BUDGETS[name]
    if name == "tabular":
        X = _mixed_frame(X)
        estimator = skflow.TabularEncoder(**params)
    else:
        estimator = getattr(skflow, class_name)(device="cpu", random_state=0, **params)
    start = time.perf_counter()
    estimator.fit(X)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    if hasattr(estimator, "sample"):
        rows = estimator.sample(10_000, random_state=0)
    else:
        rows = estimator.inverse_transform(estimator.transform(X[:10_000]))
    sample_seconds = time.perf_counter() - start
    if name != "tabular":
        assert np.isfinite(rows).all()
    return {
        "fit_seconds": fit_seconds,
        "sample_seconds": sample_seconds,
        "n_iter": getattr(estimator, "n_iter_", 1),
        "data_mib": data_mib,
        "peak_mib": peak_mib(),
    }


def _mixed_frame(X):
    """The table as a DataFrame: 24 floats, 4 integer and 4 categorical columns."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    for j in range(24, 28):
        frame[f"x{j}"] = np.round(frame[f"x{j}"] * 10).astype(np.int64)
    for j in range(28, 32):
        levels = pd.qcut(frame[f"x{j}"], 5, labels=list("abcde"))
        frame[f"x{j}"] = levels.astype("category")
    return frame


def measure(name: str, n_rows: int) -> dict:
    """``run_one`` in a fresh interpreter, so the peak memory is its own."""
    return measure_in_child(__file__, name, str(n_rows))


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
        f"{'estimator':12s} {'rows':>9s} {'data MiB':>9s} {'peak MiB':>9s} "
        f"{'fit s':>8s} {'s / iter':>9s} {'sample(10k) s':>14s}"
    )
    print(header)
    print("-" * len(header))
    for n_rows in sorted(args.sizes):
        for name in args.samplers:
            r = measure(name, n_rows)
            peak = f"{r['peak_mib']:.0f}"
            print(
                f"{name:12s} {n_rows:9d} {r['data_mib']:9.1f} {peak:>9s} "
                f"{r['fit_seconds']:8.2f} {r['fit_seconds'] / r['n_iter']:9.3f} "
                f"{r['sample_seconds']:14.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
