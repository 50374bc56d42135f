"""Seconds and peak memory of every skflow metric on 10,000 and 100,000 rows.

What it measures
----------------
For each metric and each size, the metric on two samples of ``n`` rows and 32
features (two draws of a 5-component Gaussian mixture; ``dcr`` and
``sample_report`` also get a third, held-out draw), in a fresh subprocess each
so that the peak resident memory belongs to that call alone, on one CPU
thread. "data only" is the floor: Python, torch, scikit-learn, POT and the
generated samples, without a metric.

Every metric runs with its defaults, except ``energy_distance`` and ``mmd``
above 10,000 rows: they are exact all-pairs V-statistics by default, whose
memory is bounded (blocks of 4096 x 4096 pairs) but whose time is quadratic
(100,000 rows would take about 100 times the 10,000-row time), so those cells
pass ``max_samples=10_000``, the documented way to use them on large samples,
and the table says so.

How to run
----------
::

    python benchmarks/bench_metrics_scale.py
    python benchmarks/bench_metrics_scale.py --sizes 10000 --metrics mmd dcr
"""

from __future__ import annotations

import argparse
import json
import time

from _child import measure_in_child, peak_mib

N_FEATURES = 32
METRICS = [
    "energy_distance",
    "mmd",
    "sliced_wasserstein",
    "wasserstein1",
    "coverage",
    "c2st_auc",
    "dcr",
    "sample_report",
]
# All-pairs metrics are subsampled to this many rows beyond it (quadratic time).
PAIRWISE_CAP = 10_000


def _parameters(name: str, n_rows: int) -> dict:
    if name in ("coverage", "dcr", "sample_report"):
        return {}  # deterministic, or seeded by default
    if name in ("energy_distance", "mmd") and n_rows > PAIRWISE_CAP:
        return {"max_samples": PAIRWISE_CAP, "random_state": 0}
    return {"random_state": 0}


def run_one(name: str, n_rows: int) -> dict:
    """Compute one metric in this process; return seconds and sizes."""
    import warnings

    import numpy as np
    import torch

    from skflow import metrics
    from skflow.datasets import make_gaussian_mixture

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, Y, Z = (
        make_gaussian_mixture(n_rows, N_FEATURES, 5, random_state=seed)[0]
        for seed in (0, 1, 2)
    )
    data_mib = (X.nbytes + Y.nbytes + Z.nbytes) / 2**20
    if name == "data only":
        return {"seconds": 0.0, "data_mib": data_mib, "peak_mib": peak_mib()}
    params = _parameters(name, n_rows)
    start = time.perf_counter()
    if name == "dcr":
        value = metrics.dcr(X, Y, Z)
    elif name == "sample_report":
        value = metrics.sample_report(X, Z, Y)
    else:
        value = getattr(metrics, name)(X, Y, **params)
    seconds = time.perf_counter() - start
    values = list(value.values()) if isinstance(value, dict) else [value]
    assert all(np.isfinite(v) or v == np.inf for v in values)
    return {"seconds": seconds, "data_mib": data_mib, "peak_mib": peak_mib()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--metrics", nargs="+", default=["data only", *METRICS])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child[0], int(args.child[1]))))
        return
    print("| metric | rows | parameters | data MiB | peak MiB | seconds |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n_rows in sorted(args.sizes):
        for name in args.metrics:
            r = measure_in_child(__file__, name, str(n_rows))
            params = _parameters(name, n_rows) if name != "data only" else {}
            shown = ", ".join(
                f"{k}={v:,}" for k, v in params.items() if k != "random_state"
            )
            seconds = "" if name == "data only" else f"{r['seconds']:.2f}"
            print(
                f"| {name} | {n_rows:,} | {shown or 'defaults'} | "
                f"{r['data_mib']:.1f} | {r['peak_mib']:.0f} | {seconds} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
