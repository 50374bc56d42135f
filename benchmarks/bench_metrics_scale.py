"""Seconds and peak memory of every skflow metric on 10,000 and 100,000 rows;
with ``--scale``, every metric at data scales 1e-300, 1 and 1e300.

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

``--scale`` instead multiplies two (for ``dcr`` and ``sample_report`` three)
disjoint draws of 500 rows and 8 features of one mixture by ``s`` = 1e-300, 1
and 1e300 and prints, for each metric, ``|ratio - 1|`` with ``ratio`` its value
at ``s`` over ``s**k`` times its value at 1, where ``k`` is its degree of
homogeneity (1/2 for the energy distance, 1 for the Wasserstein distances, 0
for the rest): 0 up to rounding is the documented scale rule (for
``sample_report``, the largest over its seven values). It takes seconds.

How to run
----------
::

    python benchmarks/bench_metrics_scale.py
    python benchmarks/bench_metrics_scale.py --sizes 10000 --metrics mmd dcr
    python benchmarks/bench_metrics_scale.py --scale
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


# Degree k of each metric's homogeneity: metric(s X, s Y) = s^k metric(X, Y).
SCALE_DEGREES = {
    "energy_distance": 0.5,
    "mmd": 0.0,
    "sliced_wasserstein": 1.0,
    "wasserstein1": 1.0,
    "coverage": 0.0,
    "c2st_auc": 0.0,
    "dcr": 0.0,
    "sample_report": 0.0,
}
SCALES = (1e-300, 1.0, 1e300)


def scale_table(n_rows: int = 500, n_features: int = 8) -> None:
    """Print every metric at each scale over ``s**k`` times its value at 1."""
    from skflow import metrics
    from skflow.datasets import make_gaussian_mixture

    # Three disjoint draws of one mixture: values in the metrics' useful range.
    rows = make_gaussian_mixture(3 * n_rows, n_features, 5, random_state=0)[0]
    X, Y, Z = rows[:n_rows], rows[n_rows : 2 * n_rows], rows[2 * n_rows :]

    def value(name, s):
        if name == "dcr":
            return metrics.dcr(s * X, s * Y, s * Z)
        if name == "sample_report":
            return metrics.sample_report(s * X, s * Z, s * Y)
        if name == "coverage":
            return metrics.coverage(s * X, s * Y)
        return getattr(metrics, name)(s * X, s * Y, random_state=0)

    header = " | ".join(f"s={s:g}" for s in SCALES)
    print(f"| metric | k | value at s=1 | {header} |")
    print("| --- | --- | --- |" + " --- |" * len(SCALES))
    for name, degree in SCALE_DEGREES.items():
        reference = value(name, 1.0)
        cells = []
        for s in SCALES:
            try:
                at_s = value(name, s)
            except (ValueError, OverflowError) as error:
                cells.append(f"refused: {type(error).__name__}")
                continue
            if name == "sample_report":
                # Relative where the value at 1 is non-zero, absolute otherwise.
                worst = max(
                    abs(at_s[key] / reference[key] - 1)
                    if reference[key]
                    else abs(at_s[key])
                    for key in reference
                )
            else:
                worst = abs(at_s / (s**degree * reference) - 1)
            cells.append(f"{worst:.1e}")
        shown = "(7 values)" if name == "sample_report" else f"{reference:.6g}"
        k = {0.0: "0", 0.5: "1/2", 1.0: "1"}[degree]
        print(f"| {name} | {k} | {shown} | " + " | ".join(cells) + " |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--metrics", nargs="+", default=["data only", *METRICS])
    parser.add_argument(
        "--scale",
        action="store_true",
        help="print every metric at data scales 1e-300, 1 and 1e300 instead",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale:
        scale_table()
        return
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
