"""EntropicOTGenerator: semi-discrete dual versus minibatch Sinkhorn, side by side.

What it measures
----------------
The same generator (``x = A z + b + MLP(z)``, default settings) trained two ways,
``solver="semi-discrete"`` (Houdard et al., arXiv:2102.05542: a dual weight per
training row) and
``solver="sinkhorn"`` (minibatch Sinkhorn through POT), plus the debiasing
ablation ``debias=False`` of the semi-discrete solver and GaussianMixture (BIC)
as the reference, on

* ``mixture``: ``skflow.datasets.make_gaussian_mixture(2000, 2, 5)``;
* ``digits``: sklearn's digits through a PCA step done by hand (PCA with 16
  components fitted on the training half; every method is fitted on the PCA
  scores and its samples are mapped back with ``inverse_transform``; the
  GenerativePipeline class will do this).

For each seed the rows are split in half (train/test) exactly as in
``bench_samplers.py``; 1000 rows are generated and scored against the test
half, in the training half's standard units: energy distance (lower is better),
c2st_auc (0.5 is best) and dcr (about 1: no copying), with the wall-clock
seconds of fit + sample. A last line times the dual steps on 100,000 x 32 rows
(peak resident memory and seconds per step).

How to run (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_entropic_ot.py            # 2 seeds
    PYTHONPATH=. python benchmarks/bench_entropic_ot.py --seeds 1 --datasets mixture
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import skflow  # noqa: E402
from skflow.ot import _core  # noqa: E402
from skflow.ot._core import cost_scale, dual_ascent_step  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_samplers import (  # noqa: E402
    fit_gmm_bic,
    format_table,
    mean_std,
    score,
)

N_PCA = 16

METHODS = {
    "semi-discrete": dict(solver="semi-discrete"),
    "sinkhorn": dict(solver="sinkhorn"),
    "semi-discrete, debias=False": dict(solver="semi-discrete", debias=False),
}
GMM = "GaussianMixture(BIC)"


def _mixture() -> np.ndarray:
    X, _ = skflow.datasets.make_gaussian_mixture(2000, 2, 5, random_state=0)
    return np.asarray(X, dtype=np.float64)


DATASETS = {
    "mixture": (_mixture, False),
    "digits": (lambda: load_digits().data.astype(np.float64), True),
}


def fit_sample(name: str, Z_train: np.ndarray, n: int, seed: int, device: str):
    """Fit one method on ``Z_train``; return (samples, seconds, note)."""
    start = time.perf_counter()
    if name == GMM:
        scaler, model = fit_gmm_bic(Z_train, seed)
        Z = scaler.inverse_transform(model.sample(n)[0])
        return Z, time.perf_counter() - start, f"{model.n_components} components"
    sampler = skflow.EntropicOTGenerator(
        **METHODS[name], device=device, random_state=seed
    ).fit(Z_train)
    Z = sampler.sample(n, random_state=seed)
    note = f"n_iter_={sampler.n_iter_} ({sampler.stop_reason_})"
    return Z, time.perf_counter() - start, note


def run_dataset(name: str, seeds: list[int], device: str) -> None:
    load, through_pca = DATASETS[name]
    X = load()
    print(f"\n## {name}: {X.shape[0]} rows x {X.shape[1]} features", end="")
    print(f" (through PCA({N_PCA}))\n" if through_pca else "\n")
    results: dict[str, dict[str, list[float]]] = {}
    notes: dict[str, str] = {}
    for seed in seeds:
        X_train, X_test = train_test_split(X, test_size=0.5, random_state=seed)
        pca = PCA(N_PCA, random_state=seed).fit(X_train) if through_pca else None
        Z_train = pca.transform(X_train) if through_pca else X_train
        for method in [*METHODS, GMM]:
            Z, seconds, note = fit_sample(method, Z_train, 1000, seed, device)
            X_synth = pca.inverse_transform(Z) if through_pca else Z
            metrics = score(X_train, X_test, X_synth, seed)
            metrics["seconds"] = seconds
            for key, value in metrics.items():
                results.setdefault(method, {}).setdefault(key, []).append(value)
            notes[method] = note
    gmm_ed = np.mean(results[GMM]["ed"])
    rows = [
        [
            method,
            mean_std(res["ed"]),
            f"{np.mean(res['ed']) / gmm_ed:.2f}",
            mean_std(res["c2st"]),
            mean_std(res["dcr"]),
            mean_std(res["seconds"], 1),
            notes[method],
        ]
        for method, res in results.items()
    ]
    header = ["method", "energy dist", "ED / GMM", "c2st_auc", "dcr", "seconds"]
    print(format_table([*header, "last seed"], rows))


def memory_line(device: str, n_rows: int = 100_000, d: int = 32) -> None:
    """Peak memory and seconds per dual step on ``n_rows x d`` data."""
    generator = torch.Generator(device=device).manual_seed(0)
    data = torch.randn(n_rows, d, generator=generator, device=device)
    scale = cost_scale(data)
    psi = torch.zeros(n_rows, device=device)
    batch = 256
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    x = torch.randn(batch, d, generator=generator, device=device)
    psi = dual_ascent_step(psi, x, data, 0.05, scale, 0.5)  # warm-up
    n_steps = 5
    start = time.perf_counter()
    for _ in range(n_steps):
        x = torch.randn(batch, d, generator=generator, device=device)
        psi = dual_ascent_step(psi, x, data, 0.05, scale, 0.5)
    float(psi.sum())  # synchronise
    seconds = (time.perf_counter() - start) / n_steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    full = batch * n_rows * 4 / 2**20
    print(
        f"\n## Memory: dual steps on {n_rows:,} x {d} rows, batch {batch}\n\n"
        f"{seconds:.3f} s per dual step; process peak resident memory "
        f"{peak / 1024:.0f} MiB (grew by {(peak - before) / 1024:.0f} MiB during "
        f"the steps; the data are {n_rows * d * 4 / 2**20:.0f} MiB; one full "
        f"batch x data matrix would be {full:.0f} MiB; a block holds "
        f"{_core.block_rows(n_rows)} x {n_rows:,} entries, "
        f"{_core.block_rows(n_rows) * n_rows * 4 / 2**20:.0f} MiB)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1")
    parser.add_argument(
        "--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS)
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument(
        "--memory-only", action="store_true", help="only the 100k-row line"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    print("# EntropicOTGenerator: semi-discrete vs minibatch Sinkhorn")
    print(
        f"torch {torch.__version__}, skflow {skflow.__version__}, device "
        f"{args.device}, torch threads {torch.get_num_threads()}, seeds "
        f"{list(range(args.seeds))}; 1000 generated rows per method; "
        "mean ± std over seeds"
    )
    if not args.no_memory:
        # First, so the process's peak memory is the dual steps' own.
        memory_line(args.device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in [] if args.memory_only else args.datasets:
            run_dataset(name, list(range(args.seeds)), args.device)
    print(f"\nTotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
