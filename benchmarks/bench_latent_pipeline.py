"""Does a sampler generate better and faster in a learned latent space?

Gu, Birmpa, Pantazis, Rey-Bellet and Katsoulakis (arXiv:2210.17230) argue that a
Lipschitz-regularised flow fitted in a good latent space generates better and faster,
because the divergence obeys a data-processing inequality. This script measures
it on scikit-learn's digits (1,797 x 64) and breast_cancer (569 x 30).

What it measures
----------------
For each dataset and seed, the rows are split 70/30 (train/test, stratified by
class). Each sampler is fitted three ways, on the training rows only:

* ``raw``: on the features themselves (the sampler standardises them);
* ``PCA``: in ``StandardScaler -> PCA(k)`` coordinates;
* ``AE``: in ``AutoencoderTransformer(k)`` coordinates (it standardises inside);

that is ``make_generative_pipeline(encoder, sampler)``: generated latent rows go
back through the encoder's ``inverse_transform``. The encoder is fitted once per
seed and shared by every sampler in its space (its seconds are a separate
column). GaussianMixture (full covariance, 1..10 components by BIC) and a
Gaussian KernelDensity (bandwidth by 5-fold CV) fitted on the same standardised
latent codes are reference rows; "oracle" returns the training rows themselves.

Every method generates as many rows as the test split has. Scores, against the
test rows:

* ``ED raw``: energy distance in the raw feature space standardised by the
  training rows (every feature counts equally); lower is better;
* ``ED pca``: energy distance in a common evaluation space, the leading
  ``k_eval`` principal components of the standardised training rows (the
  structure that matters, not pixel noise); lower is better;
* ``C2ST``: classifier two-sample AUC in that common PCA space; 0.5 is best;
* ``dcr``: distance-to-closest-record ratio (standardised raw space); about 1:
  no copying, near 0: copies of training rows;
* ``enc s``, ``fit s``, ``sample s``: wall-clock seconds (single-threaded).

Sampler budgets: ``--budget default`` uses each sampler's default settings;
``--budget quick`` (what the tables in doc/pipelines.md used, to fit a shared
2-core machine) caps ``LipschitzParticleSampler(max_iter=150)`` and
``SlicedWassersteinFlow(max_iter=50)``. Both spaces get the same budget.

How to run
----------
::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_latent_pipeline.py \
        --budget quick --seeds 2
    PYTHONPATH=. python benchmarks/bench_latent_pipeline.py --datasets digits
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import StandardScaler

from skflow import (
    AutoencoderTransformer,
    LipschitzParticleSampler,
    SlicedWassersteinFlow,
    make_generative_pipeline,
)
from skflow.metrics import c2st_auc, dcr, energy_distance

# Latent dimension per dataset, and dimension of the common evaluation space.
DATASETS = {
    "digits": (load_digits, 10, 10),
    "breast_cancer": (load_breast_cancer, 5, 5),
}
BUDGETS = {
    "default": {"lps": {}, "swf": {}},
    "quick": {"lps": {"max_iter": 150}, "swf": {"max_iter": 50}},
}


def fit_gmm_bic(Z: np.ndarray, seed: int) -> GaussianMixture:
    best, best_bic = None, np.inf
    for k in range(1, 11):
        model = GaussianMixture(k, covariance_type="full", random_state=seed).fit(Z)
        bic = model.bic(Z)
        if bic < best_bic:
            best, best_bic = model, bic
    return best


def reference_sample(kind: str, Z: np.ndarray, n: int, seed: int) -> np.ndarray:
    """GMM(BIC) or KDE(CV) fitted on standardised latent codes, then unscaled."""
    scaler = StandardScaler().fit(Z)
    S = scaler.transform(Z)
    if kind == "gmm":
        drawn = fit_gmm_bic(S, seed).sample(n)[0]
    else:
        search = GridSearchCV(
            KernelDensity(), {"bandwidth": np.logspace(-1.5, 0.5, 15)}, cv=5
        ).fit(S)
        drawn = search.best_estimator_.sample(n, random_state=seed)
    return scaler.inverse_transform(drawn)


def make_encoders(name: str, k: int, seed: int, device: str):
    return {
        "PCA": make_generative_pipeline(
            StandardScaler(), PCA(k, random_state=seed)
        ).steps,
        "AE": [
            (
                "ae",
                AutoencoderTransformer(k, device=device, random_state=seed),
            )
        ],
    }


def encode_fit(steps, X):
    Z = X
    for _, step in steps:
        Z = step.fit_transform(Z)
    return Z


def decode(steps, Z):
    for _, step in reversed(steps):
        Z = step.inverse_transform(Z)
    return Z


def run(dataset: str, seed: int, budget: str, device: str) -> list[dict]:
    loader, k, k_eval = DATASETS[dataset]
    X, y = loader(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=seed, stratify=y)
    n = X_test.shape[0]
    scaler = StandardScaler().fit(X_train)
    evaluation = PCA(k_eval, random_state=0).fit(scaler.transform(X_train))

    def score(X_synth):
        s_train, s_test = scaler.transform(X_train), scaler.transform(X_test)
        s_synth = scaler.transform(X_synth)
        p_test, p_synth = evaluation.transform(s_test), evaluation.transform(s_synth)
        return {
            "ED raw": energy_distance(s_test, s_synth),
            "ED pca": energy_distance(p_test, p_synth),
            "C2ST": c2st_auc(p_test, p_synth, random_state=0),
            "dcr": dcr(s_train, s_synth, s_test),
        }

    samplers = {
        "LipschitzParticleSampler": lambda: LipschitzParticleSampler(
            device=device, random_state=seed, **BUDGETS[budget]["lps"]
        ),
        "SlicedWassersteinFlow": lambda: SlicedWassersteinFlow(
            device=device, random_state=seed, **BUDGETS[budget]["swf"]
        ),
    }
    rows = [{"method": "oracle (train rows)", "space": "raw", **score(X_train)}]
    rows[-1].update({"enc s": 0.0, "fit s": 0.0, "sample s": 0.0})

    spaces = {"raw": ([], X_train, 0.0)}
    for space, steps in make_encoders(dataset, k, seed, device).items():
        start = time.perf_counter()
        Z = encode_fit(steps, X_train)
        spaces[space] = (steps, Z, time.perf_counter() - start)

    for space, (steps, Z, enc_seconds) in spaces.items():
        for name, factory in samplers.items():
            start = time.perf_counter()
            sampler = factory().fit(Z)
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            X_synth = decode(steps, sampler.sample(n, random_state=seed))
            sample_seconds = time.perf_counter() - start
            rows.append({"method": name, "space": space, **score(X_synth)})
            rows[-1].update(
                {"enc s": enc_seconds, "fit s": fit_seconds, "sample s": sample_seconds}
            )
        if space == "raw":
            continue
        for kind, label in [("gmm", "GaussianMixture(BIC)"), ("kde", "KDE(CV)")]:
            start = time.perf_counter()
            X_synth = decode(steps, reference_sample(kind, Z, n, seed))
            seconds = time.perf_counter() - start
            rows.append({"method": label, "space": space, **score(X_synth)})
            rows[-1].update({"enc s": enc_seconds, "fit s": seconds, "sample s": 0.0})
    return rows


COLUMNS = ["ED raw", "ED pca", "C2ST", "dcr", "enc s", "fit s", "sample s"]


def print_table(dataset: str, results: list[list[dict]]) -> None:
    """Mean (and spread over seeds) of each metric, plus ratios to raw space."""
    n_seeds = len(results)
    print(f"\n### {dataset} ({n_seeds} seed(s); mean +- std over seeds)\n")
    header = "| method | space | " + " | ".join(COLUMNS) + " | ED pca / raw-space |"
    print(header)
    print("|" + " --- |" * (len(COLUMNS) + 3))
    keys = [(row["method"], row["space"]) for row in results[0]]
    means = {}
    for index, key in enumerate(keys):
        values = {c: np.array([seed[index][c] for seed in results]) for c in COLUMNS}
        means[key] = {c: v.mean() for c, v in values.items()}
        cells = []
        for column in COLUMNS:
            v = values[column]
            fmt = "{:.2f}" if column.endswith(" s") else "{:.3f}"
            cell = fmt.format(v.mean())
            if n_seeds > 1 and not column.endswith(" s"):
                cell += " +- " + fmt.format(v.std())
            cells.append(cell)
        raw = means.get((key[0], "raw"))
        ratio = (
            f"{means[key]['ED pca'] / raw['ED pca']:.2f}"
            if raw is not None and key[1] != "raw"
            else ""
        )
        print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + f" | {ratio} |")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--budget", choices=list(BUDGETS), default="default")
    parser.add_argument("--device", default="cpu")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        f"torch {torch.__version__}, device {args.device}, budget {args.budget}, "
        f"seeds {args.seeds}"
    )
    for dataset in args.datasets:
        results = []
        for seed in range(args.seeds):
            start = time.perf_counter()
            results.append(run(dataset, seed, args.budget, args.device))
            print(
                f"{dataset} seed {seed}: {time.perf_counter() - start:.0f} s",
                flush=True,
            )
        print_table(dataset, results)


if __name__ == "__main__":
    main()
