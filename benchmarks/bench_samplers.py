"""Benchmark skflow's LipschitzParticleSampler against scikit-learn baselines.

What it measures
----------------
For each dataset and each seed, the rows are shuffle-split in half (train/test).
Every method is fitted on the training half and generates ``--n-synth`` rows
(default 1000; ``--n-synth 0`` generates as many rows as the test half holds).
Energy distances between small samples are noisy and biased upward by
``E|Y - Y'| / n``; a thousand generated rows measure the generator's distribution
rather than the luck of one small draw, equally for every method. After
standardising all sets with the training half's mean and standard deviation,
the synthetic rows are scored against the test half with

* ``skflow.metrics.energy_distance`` (lower is better),
* ``skflow.metrics.c2st_auc`` (0.5 is best: a classifier cannot tell them apart),
* ``skflow.metrics.dcr`` (about 1 or more: no memorisation; near 0: copying),
* the wall-clock seconds of fit + sample.

Methods: ``LipschitzParticleSampler``, ``SlicedWassersteinFlow``,
``EntropicOTGenerator`` and ``ProximalMFGFlow`` with default settings, three
baselines
written here with scikit-learn only (GaussianMixture with components chosen by
BIC, KernelDensity with a cross-validated bandwidth, SMOTE-style interpolation
between nearest neighbours) and an "oracle" that returns the training half
itself (the floor for energy distance; its dcr is 0 by construction).

A last section times fit + sample(1000) on a generated 1,000 x 10 dataset.

How to run
----------
::

    python benchmarks/bench_samplers.py            # full run (several minutes)
    python benchmarks/bench_samplers.py --quick    # 1 seed, no digits
    python benchmarks/bench_samplers.py --datasets wine sphere --seeds 2
    python benchmarks/bench_samplers.py --device cpu
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import sklearn
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity, NearestNeighbors
from sklearn.preprocessing import StandardScaler

import skflow
from skflow.metrics import c2st_auc, dcr, energy_distance

# A method takes (X_train, n_samples, seed) and returns (X_synth, seconds).
Method = Callable[[np.ndarray, int, int], tuple[np.ndarray, float]]

SKFLOW = "LipschitzParticleSampler"
SLICED = "SlicedWassersteinFlow"
ENTROPIC = "EntropicOTGenerator"
PROXIMAL = "ProximalMFGFlow"
GMM = "GaussianMixture(BIC)"
KDE = "KernelDensity(CV)"
SMOTE = "SMOTE-interp(k=5)"
ORACLE = "oracle (train half)"
AUTO = "AutoSampler"

KDE_BANDWIDTHS = np.logspace(-1.5, 0.5, 15)
GMM_MAX_COMPONENTS = 10
SMOTE_NEIGHBORS = 5


# --------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------


def _wine_scaled() -> np.ndarray:
    """Wine with column 0 multiplied by 1000 and column 1 by 0.01."""
    X = load_wine().data.astype(np.float64)
    X[:, 0] *= 1000.0
    X[:, 1] *= 0.01
    return X


def _student_t() -> np.ndarray:
    """Heavy-tailed mixture of Student-t distributions (df=1.5), 1000 x 5."""
    X, _ = skflow.datasets.make_student_t_mixture(
        n_samples=1000, n_features=5, df=1.5, random_state=0
    )
    return np.asarray(X, dtype=np.float64)


def _sphere() -> np.ndarray:
    """A 2-sphere embedded in 20 dimensions, 1000 rows."""
    X = skflow.datasets.make_sphere(
        n_samples=1000, n_features=20, intrinsic_dim=2, random_state=0
    )
    return np.asarray(X, dtype=np.float64)


DATASETS: dict[str, Callable[[], np.ndarray]] = {
    "wine": lambda: load_wine().data.astype(np.float64),
    "breast_cancer": lambda: load_breast_cancer().data.astype(np.float64),
    "digits": lambda: load_digits().data.astype(np.float64),
    "student_t": _student_t,
    "sphere": _sphere,
    "wine_scaled": _wine_scaled,
}


# --------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------


def fit_gmm_bic(X_train: np.ndarray, seed: int) -> tuple[StandardScaler, object]:
    """Fit full-covariance GaussianMixtures on standardised rows; keep best BIC."""
    scaler = StandardScaler().fit(X_train)
    Z = scaler.transform(X_train)
    n_train, n_features = Z.shape
    max_components = max(1, min(GMM_MAX_COMPONENTS, n_train // (n_features + 1)))
    best, best_bic = None, np.inf
    for k in range(1, max_components + 1):
        model = GaussianMixture(k, covariance_type="full", random_state=seed).fit(Z)
        bic = model.bic(Z)
        if bic < best_bic:
            best, best_bic = model, bic
    return scaler, best


def gmm_method(X_train: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, float]:
    """GaussianMixture (full covariance, components by BIC) on standardised rows."""
    start = time.perf_counter()
    scaler, model = fit_gmm_bic(X_train, seed)
    Z, _ = model.sample(n)
    X_synth = scaler.inverse_transform(Z)
    return X_synth, time.perf_counter() - start


def kde_method(X_train: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, float]:
    """Gaussian KernelDensity on standardised rows, bandwidth by 5-fold CV."""
    start = time.perf_counter()
    scaler = StandardScaler().fit(X_train)
    Z = scaler.transform(X_train)
    search = GridSearchCV(
        KernelDensity(kernel="gaussian"), {"bandwidth": KDE_BANDWIDTHS}, cv=5
    ).fit(Z)
    Z_synth = search.best_estimator_.sample(n, random_state=seed)
    X_synth = scaler.inverse_transform(Z_synth)
    return X_synth, time.perf_counter() - start


def smote_method(X_train: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, float]:
    """Uniform points on segments between a training row and a k-NN neighbour."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    scaler = StandardScaler().fit(X_train)
    Z = scaler.transform(X_train)
    k = min(SMOTE_NEIGHBORS, Z.shape[0] - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(Z)
    neighbours = nn.kneighbors(Z, return_distance=False)[:, 1:]  # drop self
    base = rng.integers(Z.shape[0], size=n)
    partner = neighbours[base, rng.integers(k, size=n)]
    weight = rng.random((n, 1))
    Z_synth = Z[base] + weight * (Z[partner] - Z[base])
    X_synth = scaler.inverse_transform(Z_synth)
    return X_synth, time.perf_counter() - start


def oracle_method(X_train: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, float]:
    """The training half itself as the "synthetic" rows (no fitting)."""
    return X_train.copy(), 0.0


def make_skflow_method(device: str, estimator=None) -> Method:
    """An skflow sampler class (default LipschitzParticleSampler) with default
    settings on ``device``."""
    estimator = estimator or skflow.LipschitzParticleSampler

    def skflow_method(
        X_train: np.ndarray, n: int, seed: int
    ) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        sampler = estimator(device=device, random_state=seed)
        X_synth = sampler.fit(X_train).sample(n, random_state=seed)
        return np.asarray(X_synth), time.perf_counter() - start

    return skflow_method


def make_auto_method(budget: float | None) -> Method:
    """AutoSampler over its default candidates, with ``budget`` seconds (None:
    its default)."""

    def auto_method(X_train: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        params = {} if budget is None else {"time_budget": budget}
        auto = skflow.AutoSampler(random_state=seed, **params).fit(X_train)
        print(f"    [seed {seed}] AutoSampler chose {auto.best_params_['candidate']}")
        X_synth = auto.sample(n, random_state=seed)
        return np.asarray(X_synth), time.perf_counter() - start

    return auto_method


def make_methods(device: str) -> dict[str, Method]:
    """All compared methods, in table order."""
    return {
        SKFLOW: make_skflow_method(device),
        SLICED: make_skflow_method(device, skflow.SlicedWassersteinFlow),
        ENTROPIC: make_skflow_method(device, skflow.EntropicOTGenerator),
        PROXIMAL: make_skflow_method(device, skflow.ProximalMFGFlow),
        GMM: gmm_method,
        KDE: kde_method,
        SMOTE: smote_method,
        ORACLE: oracle_method,
    }


# --------------------------------------------------------------------------
# Protocol
# --------------------------------------------------------------------------


def standardise(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scale every set by the training rows' mean and std (std 0 -> 1)."""
    center = X_train.mean(axis=0)
    spread = X_train.std(axis=0)
    spread[spread == 0] = 1.0
    return tuple((X - center) / spread for X in (X_train, *others))


def score(
    X_train: np.ndarray, X_test: np.ndarray, X_synth: np.ndarray, seed: int
) -> dict[str, float]:
    """Energy distance, C2ST AUC and DCR in the training half's standard units."""
    train, test, synth = standardise(X_train, X_test, X_synth)
    return {
        "ed": energy_distance(test, synth),
        "c2st": c2st_auc(test, synth, random_state=seed),
        "dcr": dcr(train, synth, test),
    }


def run_dataset(
    X: np.ndarray, methods: dict[str, Method], seeds: list[int], n_synth: int
) -> dict[str, dict[str, list[float]] | str]:
    """Per method, the per-seed metrics (or an error message if it failed)."""
    results: dict[str, dict[str, list[float]] | str] = {}
    for seed in seeds:
        X_train, X_test = train_test_split(X, test_size=0.5, random_state=seed)
        for name, method in methods.items():
            if isinstance(results.get(name), str):
                continue  # failed on an earlier seed
            try:
                X_synth, seconds = method(X_train, n_synth or X_test.shape[0], seed)
                if not np.all(np.isfinite(X_synth)):
                    raise ValueError("non-finite synthetic rows")
                metrics = score(X_train, X_test, X_synth, seed)
            except Exception as exc:  # report, keep benchmarking the others
                results[name] = f"{type(exc).__name__}: {exc}"
                continue
            metrics["seconds"] = seconds
            per_seed = results.setdefault(name, {})
            for key, value in metrics.items():
                per_seed.setdefault(key, []).append(value)
    return results


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def mean_std(values: list[float], digits: int = 3) -> str:
    """``mean ± std`` of a list of numbers."""
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table with aligned columns."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = (c.ljust(w) for c, w in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def dataset_table(results: dict[str, dict[str, list[float]] | str]) -> str:
    """One row per method: mean ± std over seeds plus ED relative to GMM."""
    gmm = results.get(GMM)
    gmm_ed = np.mean(gmm["ed"]) if isinstance(gmm, dict) else np.nan
    header = ["method", "energy dist", "ED / GMM", "c2st_auc", "dcr", "seconds"]
    rows = []
    for name, res in results.items():
        if isinstance(res, str):
            rows.append([name, f"ERROR {res[:60]}", "", "", "", ""])
            continue
        ratio = np.mean(res["ed"]) / gmm_ed
        rows.append(
            [
                name,
                mean_std(res["ed"]),
                f"{ratio:.2f}",
                mean_std(res["c2st"]),
                mean_std(res["dcr"]),
                mean_std(res["seconds"], 2),
            ]
        )
    return format_table(header, rows)


def verdict(name: str, results: dict[str, dict[str, list[float]] | str]) -> str:
    """One line: does skflow beat GMM on energy distance, and is its dcr >= 0.9?"""
    ours, gmm = results.get(SKFLOW), results.get(GMM)
    if not isinstance(ours, dict):
        return f"{name}: {SKFLOW} failed ({ours})"
    ed, ratio_dcr = np.mean(ours["ed"]), np.mean(ours["dcr"])
    dcr_ok = "yes" if ratio_dcr >= 0.9 else "NO"
    if isinstance(gmm, dict):
        gmm_ed = np.mean(gmm["ed"])
        beats = "yes" if ed < gmm_ed else "NO"
        vs_gmm = f"ED {ed:.3f} vs GMM {gmm_ed:.3f} -> beats GMM: {beats}"
    else:
        vs_gmm = f"ED {ed:.3f} vs GMM n/a (GMM failed)"
    return f"{name:<14} {vs_gmm}; dcr {ratio_dcr:.2f} >= 0.9: {dcr_ok}"


def auto_verdict(name: str, results: dict[str, dict[str, list[float]] | str]) -> str:
    """One line: is AutoSampler within the seed spread of the best single
    default sampler (or better), better than GMM, with dcr >= 0.8?"""
    auto = results.get(AUTO)
    if not isinstance(auto, dict):
        return f"{name}: {AUTO} failed ({auto})"
    singles = {
        key: results[key]
        for key in (SKFLOW, SLICED, ENTROPIC, PROXIMAL)
        if isinstance(results.get(key), dict)
    }
    ed = np.mean(auto["ed"])
    parts = [f"{name:<14} ED {ed:.3f} (c2st {np.mean(auto['c2st']):.3f})"]
    if singles:
        best = min(singles, key=lambda key: np.mean(singles[key]["ed"]))
        best_ed, spread = np.mean(singles[best]["ed"]), np.std(singles[best]["ed"])
        within = "yes" if ed <= best_ed + spread else "NO"
        parts.append(
            f"best single {best} {best_ed:.3f} +- {spread:.3f} -> within: {within}"
        )
    if isinstance(results.get(GMM), dict):
        gmm_ed = np.mean(results[GMM]["ed"])
        parts.append(f"GMM {gmm_ed:.3f} -> beats: {'yes' if ed < gmm_ed else 'NO'}")
    ratio = np.mean(auto["dcr"])
    parts.append(f"dcr {ratio:.2f} >= 0.8: {'yes' if ratio >= 0.8 else 'NO'}")
    return "; ".join(parts)


def speed_section(device: str) -> None:
    """Time fit + sample(1000) on a 1,000 x 10 Gaussian mixture."""
    X, _ = skflow.datasets.make_gaussian_mixture(1000, 10, 4, random_state=0)
    X = np.asarray(X, dtype=np.float64)
    print("\n## Speed: make_gaussian_mixture(1000, 10, 4), fit + sample(1000)\n")

    start = time.perf_counter()
    sampler = skflow.LipschitzParticleSampler(device=device, random_state=0)
    sampler.fit(X).sample(1000, random_state=0)
    skflow_seconds = time.perf_counter() - start

    _, gmm_seconds = gmm_method(X, 1000, 0)
    target = "OK" if skflow_seconds < 30 else "OVER TARGET"
    print(
        format_table(
            ["method", "seconds"],
            [
                [SKFLOW, f"{skflow_seconds:.2f} ({target}: < 30 s)"],
                [GMM, f"{gmm_seconds:.2f}"],
            ],
        )
    )
    print(
        f"\n{SKFLOW}: n_iter_={sampler.n_iter_}, "
        f"stop_reason_={sampler.stop_reason_!r}, device_={sampler.device_!r}"
    )


def describe_device(device: str) -> str:
    """The torch device that ``device`` should resolve to, for the header."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seeds", type=int, default=3, help="number of seeds 0..N-1 (default 3)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 seed and no digits (smoke run)"
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=list(DATASETS),
        default=None,
        help="subset of datasets (default: all)",
    )
    parser.add_argument(
        "--device", default="auto", help="torch device for skflow (default auto)"
    )
    parser.add_argument(
        "--n-synth",
        type=int,
        default=1000,
        help="rows generated per method (default 1000; 0: the test half's size)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help="subset of the methods' names (default: all but AutoSampler); "
        f"'{AUTO}' adds AutoSampler, slow: a race per seed",
    )
    parser.add_argument(
        "--auto-budget",
        type=float,
        default=None,
        help="AutoSampler's time_budget in seconds (default: its own default)",
    )
    parser.add_argument(
        "--no-speed", action="store_true", help="skip the speed section"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run every dataset, print the tables, the verdicts and the speed section."""
    args = parse_args(argv)
    seeds = list(range(1 if args.quick else args.seeds))
    names = args.datasets or [
        name for name in DATASETS if not (args.quick and name == "digits")
    ]
    methods = make_methods(args.device)
    methods[AUTO] = make_auto_method(args.auto_budget)
    wanted = args.methods or [name for name in methods if name != AUTO]
    methods = {name: method for name, method in methods.items() if name in wanted}
    total_start = time.perf_counter()

    print("# skflow sampler benchmark")
    print(
        f"torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
        f"skflow {skflow.__version__}; device={args.device!r} -> "
        f"{describe_device(args.device)} (torch threads: {torch.get_num_threads()})"
    )
    print(
        f"seeds: {seeds}; datasets: {', '.join(names)}; generated rows per "
        f"method: {args.n_synth or 'as many as the test half'}"
    )

    verdicts, auto_verdicts = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        for name in names:
            X = DATASETS[name]()
            n_test = -(-X.shape[0] // 2)  # train_test_split rounds the test up
            print(
                f"\n## {name}: {X.shape[0]} rows x {X.shape[1]} features "
                f"(train {X.shape[0] - n_test}, test {n_test})\n"
            )
            results = run_dataset(X, methods, seeds, args.n_synth)
            print(dataset_table(results))
            verdicts.append(verdict(name, results))
            if AUTO in methods:
                auto_verdicts.append(auto_verdict(name, results))

        print("\n## Verdicts (LipschitzParticleSampler vs GaussianMixture)\n")
        print("\n".join(verdicts))
        if auto_verdicts:
            print("\n## Verdicts (AutoSampler vs the best single default sampler)\n")
            print("\n".join(auto_verdicts))
        if not args.no_speed:
            speed_section(args.device)

    print(f"\nTotal time: {time.perf_counter() - total_start:.1f} s")


if __name__ == "__main__":
    main()
