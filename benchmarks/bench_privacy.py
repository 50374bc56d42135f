"""Privacy of skflow's synthetic rows, measured by attacks on real tables.

Parts (``--part``); each prints its own tables:

``audit``
    :func:`skflow.metrics.privacy_report` of several methods on public tables
    that ship inside pip packages (nothing is downloaded at run time): the
    tables of ``bench_tabular.py`` (vega_datasets, statsmodels, lifelines)
    and scikit-learn's bundled breast-cancer table. Each table, capped at
    ``--max-rows`` rows, is shuffled with the seed and cut into three equal
    parts: train (the members), holdout (the control, 50/50 with train) and
    fresh rows (real rows the methods never see). Every method is fitted on
    the train rows and draws as many rows; the audit compares them with the
    train and holdout rows, the table's ``bench_tabular`` target column as
    the sensitive column (the attacker knows every other column).

    Methods, ``fit_sample(train, fresh, n_rows, seed) -> DataFrame``:

    * ``skflow``: ``make_generative_pipeline(TabularEncoder(),
      LipschitzParticleSampler(random_state=seed))``, defaults otherwise, as
      in ``bench_tabular.py``;
    * ``train copy``: the train rows, shuffled (the worst case);
    * ``overfit``: a deliberately overfitted sampler, a Gaussian kernel of
      width 0.05 around train rows drawn with replacement, in the
      TabularEncoder's space, decoded (numbers come back near, categories
      equal, to the train rows');
    * ``bootstrap``: every column resampled independently (no row is kept
      whole, but no dependence either);
    * ``fresh rows``: the fresh real rows, what a perfect generator would
      give (every attack at its null value);
    * peers of ``bench_tabular.py`` (SDV, synthpop, mostlyai-engine,
      ForestDiffusion) when they import, fitted in this process without a
      timeout; a line says which are skipped.

    Columns: MIA AUC of the distance and the density attacks (0.5: no
    leakage), singling-out risk and attribute risk (attack minus control
    rate, 0: none), exact and near copies (shares of synthetic rows; each
    table's heading gives the holdout's own shares, the baseline), the DCR
    ratio, and fit + sample seconds. The heading also gives ``m``, the rows
    per group, and the band ``0.5 +- 2 sd`` a leak-free method's AUC falls in
    (``sd = sqrt((2m + 1) / (12 m^2))``; the density attack has ``m / 2``).

Target (issue 16): skflow's default at most 0.55 membership AUC while the
copy baseline is near 1. The summary says, per table, whether it is met.

``dp``
    The differentially private samplers (``LipschitzParticleSampler`` and
    ``ProximalMFGFlow`` with ``privacy=DifferentialPrivacy(epsilon, 1e-5)``
    behind ``TabularEncoder(domains=...)``) at epsilon 1, 3 and 10, beside
    mostlyai-engine's TabularARGN trained with its DP option at the same
    budgets and skflow's non-private default, through ``bench_tabular.py``'s
    runner and metrics (C2ST, pairs, TSTR, DCR; 50/50 train/holdout). The
    domains are taken as public metadata for every private method. Run it in
    the peers' environment (see ``bench_tabular.py``) for TabularARGN.
    Target (issue 16): better C2ST and TSTR than TabularARGN at each epsilon.

Run::

    PYTHONPATH=. python benchmarks/bench_privacy.py --part audit
    PYTHONPATH=. python benchmarks/bench_privacy.py --tables cars \\
        --methods skflow "train copy" --seeds 0
    PYTHONPATH=.:benchmarks .venv-tabular/bin/python benchmarks/bench_privacy.py \\
        --part dp --seeds 0 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_tabular  # noqa: E402  (sets OMP_NUM_THREADS=1 before numpy work)

TARGET_AUC = 0.55


# --------------------------------------------------------------------------
# Tables: bench_tabular's, plus a scikit-learn bundled one
# --------------------------------------------------------------------------


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.copy()
    # The diagnosis as its label: a categorical sensitive column.
    frame["target"] = pd.Categorical.from_codes(frame["target"], data.target_names)
    return frame


TABLES = {
    name: (bench_tabular.TABLES[name].load, bench_tabular.TABLES[name].target)
    for name in ("cars", "gbsg2", "fair", "seattle_weather")
}
TABLES["breast_cancer"] = (_breast_cancer, "target")


def split_three(name, max_rows, seed):
    """``(train, holdout, fresh)``: equal parts of the shuffled table."""
    load, _ = TABLES[name]
    frame = load()
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=0)
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    n = len(frame) // 3
    return frame[:n], frame[n : 2 * n].reset_index(drop=True), frame[2 * n : 3 * n]


# --------------------------------------------------------------------------
# Methods: fit_sample(train, fresh, n_rows, seed) -> DataFrame
# --------------------------------------------------------------------------


def overfit(train, fresh, n_rows, seed):
    from skflow import TabularEncoder

    encoder = TabularEncoder().fit(train)
    rng = np.random.default_rng(seed)
    rows = encoder.transform(train)[rng.integers(len(train), size=n_rows)]
    return encoder.inverse_transform(rows + 0.05 * rng.standard_normal(rows.shape))


def _ignoring_fresh(fit_sample):
    def method(train, fresh, n_rows, seed):
        return fit_sample(train, n_rows, seed)

    return method


METHODS = {
    "skflow": _ignoring_fresh(bench_tabular.skflow_pipeline),
    "train copy": _ignoring_fresh(bench_tabular.train_copy),
    "overfit": overfit,
    "bootstrap": _ignoring_fresh(bench_tabular.bootstrap),
    "fresh rows": lambda train, fresh, n_rows, seed: fresh.reset_index(drop=True),
}
PEERS = [name for name, method in bench_tabular.METHODS.items() if method.peer]
COLUMNS = {
    "MIA dist": "mia_distance_auc",
    "MIA dens": "mia_density_auc",
    "single-out": "singling_out_risk",
    "attribute": "attribute_risk",
    "exact": "exact_copy_share",
    "near": "near_copy_share",
    "dcr": "dcr",
}


def _null_band(m):
    return 2 * np.sqrt((2 * m + 1) / (12 * m**2))


def run_audit(args):
    from skflow.metrics import privacy_report

    methods = {}
    for name in args.methods:
        if name in METHODS:
            methods[name] = METHODS[name]
            continue
        absent = bench_tabular.missing_modules(name)
        if absent:
            print(f"  skipped {name}: {', '.join(absent)} not installed")
        else:
            methods[name] = _ignoring_fresh(bench_tabular.METHODS[name].fit_sample)
    results = {}
    for table in args.tables:
        target = TABLES[table][1]
        for seed in args.seeds:
            try:
                train, holdout, fresh = split_three(table, args.max_rows, seed)
            except ImportError as exc:
                print(f"\n### {table}: skipped, cannot load it ({exc})")
                break
            rows = []
            baseline = None
            for name, fit_sample in methods.items():
                start = time.perf_counter()
                try:
                    synthetic = fit_sample(train, fresh, len(train), seed)
                except Exception as exc:  # a peer failing on a table
                    print(f"  {table} {name} seed {seed}: failed: {exc}")
                    continue
                seconds = time.perf_counter() - start
                report = privacy_report(
                    train, holdout, synthetic, sensitive=[target], random_state=seed
                )
                baseline = report
                results.setdefault((table, name), []).append(report)
                rows.append((name, report, seconds))
            m = len(holdout)
            print(
                f"\n### {table}, seed {seed}: {len(train)} train / {m} holdout / "
                f"{len(fresh)} fresh rows x {train.shape[1]} columns, sensitive "
                f"{target!r}; m = {m}: a leak-free MIA AUC is within 0.5 +- "
                f"{_null_band(m):.3f} (distance), +- {_null_band(m // 2):.3f} "
                f"(density); holdout's own exact copies "
                f"{baseline['exact_copy_holdout']:.3f}, near copies "
                f"{baseline['near_copy_holdout']:.3f}"
            )
            print_rows(rows)
    print_summary(results, args)


def print_rows(rows):
    header = ["method", *COLUMNS, "s"]
    body = [
        [name, *(f"{report[key]:.3f}" for key in COLUMNS.values()), f"{seconds:.1f}"]
        for name, report, seconds in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    for line in [header, ["-" * w for w in widths], *body]:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(line, widths))
            )
        )


def print_summary(results, args):
    print(
        f"\n### Target: skflow's MIA AUC (both attacks, mean over seeds "
        f"{args.seeds}) at most {TARGET_AUC}, train copy's near 1"
    )
    for table in args.tables:
        if (table, "skflow") not in results:
            continue
        ours = results[(table, "skflow")]
        distance = np.mean([r["mia_distance_auc"] for r in ours])
        density = np.mean([r["mia_density_auc"] for r in ours])
        line = f"  {table}: skflow distance {distance:.3f}, density {density:.3f}"
        if (table, "train copy") in results:
            copy = np.mean(
                [r["mia_distance_auc"] for r in results[(table, "train copy")]]
            )
            line += f"; train copy {copy:.3f}"
        met = max(distance, density) <= TARGET_AUC
        print(line + (": met" if met else ": NOT met"))


# The tables of the dp part: bench_tabular's, large enough for DP-SGD to learn
# something (noise per step falls with the expected batch).
DP_TABLES = ("gbsg2", "seattle_weather", "fair")


def run_dp(args):
    """Private skflow samplers beside TabularARGN's DP training (``--part dp``).

    bench_tabular's runner does the work: each (method, table, seed) in its
    own child process with a timeout, the same 50/50 split and the same
    metrics (C2ST, pairs, TSTR, DCR, validity, seconds). The private methods
    get every column's domain as public metadata (bench_tabular's
    ``public_domains``: the train split's ranges, grids and levels); so does
    TabularARGN, whose ``value_protection`` is off, so that the whole budget
    of both goes to training.
    """
    tables = [t for t in args.tables if t in bench_tabular.TABLES] or list(DP_TABLES)
    methods = ["skflow"]
    for epsilon in args.epsilons:
        methods += [
            f"skflow lipschitz dp{epsilon}",
            f"skflow proximal dp{epsilon}",
            f"tabularargn dp{epsilon}",
        ]
    argv = ["--tables", *tables, "--methods", *methods, "--no-syntheval"]
    argv += ["--seeds", *map(str, args.seeds), "--max-rows", str(args.max_rows)]
    bench_tabular.main(argv)


PARTS = {"audit": run_audit, "dp": run_dp}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=sorted(PARTS), default="audit")
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=TABLES)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=[*METHODS, *PEERS],
        choices=[*METHODS, *PEERS],
        help="peers are run only when they import",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument(
        "--epsilons",
        nargs="+",
        type=int,
        default=list(bench_tabular.PRIVATE_EPSILONS),
        choices=bench_tabular.PRIVATE_EPSILONS,
        help="the dp part's budgets (delta 1e-5)",
    )
    args = parser.parse_args(argv)
    if args.part == "dp" and "--tables" not in (argv or sys.argv):
        args.tables = list(DP_TABLES)
    warnings.simplefilter("ignore")  # the encoders' and peers' warnings
    import skflow

    print(
        f"bench_privacy --part {args.part}: seeds {args.seeds}, at most "
        f"{args.max_rows} rows per table, skflow {skflow.__version__}, pandas "
        f"{pd.__version__}, python {sys.version.split()[0]}"
    )
    start = time.perf_counter()
    PARTS[args.part](args)
    print(f"\nTotal time {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
