"""Does real + synthetic beat real alone with 30 to 100 training rows?

breast_cancer (569 rows, 30 features, 2 classes): a stratified 30 % test split
is held out once per seed; from the remaining rows, ``n_train`` in {30, 50, 100}
real training rows are drawn (stratified). Each classifier is trained on

* ``real``: the real rows alone;
* ``+lipschitz``: the real rows plus ``2 * n_train`` rows from
  ``ClassConditionalSampler(LipschitzParticleSampler())`` (class proportions
  kept);
* ``+gmm``: the same with a per-class ``GaussianMixture(n_components=1)``;
* ``+entropic``: the same with ``EntropicOTGenerator(reg=0.1, debias=0.8)``,
  the setting documented for the ForestDiffusion protocol;
* ``balance``: ``SyntheticOverSampler(LipschitzParticleSampler())`` with
  ``sampling_strategy="auto"`` (grow the minority class to the majority's
  size), the drop-in replacement for SMOTE;
* ``smote``: imbalanced-learn's ``SMOTE`` (same balancing, for reference),

and scored by accuracy on the held-out rows. The table gives mean accuracy over
seeds, the difference to ``real`` and on how many seeds the arm beat ``real``
(ties count half).

Run from the repository root (about 5 minutes on a shared 2-core machine)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_small_sample_augmentation.py
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from imblearn.over_sampling import SMOTE  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skflow import (  # noqa: E402
    ClassConditionalSampler,
    EntropicOTGenerator,
    LipschitzParticleSampler,
    SyntheticOverSampler,
)

torch.set_num_threads(1)

CLASSIFIERS = {
    "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "forest": RandomForestClassifier(n_estimators=200, random_state=0, n_jobs=1),
    "knn": make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)),
}


def augment_arms(X, y, seed):
    """Training sets per arm: name -> (X_train, y_train, seconds)."""
    arms = {"real": (X, y, 0.0)}
    for name, sampler in [
        ("+lipschitz", LipschitzParticleSampler(device="cpu")),
        ("+gmm", GaussianMixture(n_components=1, covariance_type="full")),
        ("+entropic", EntropicOTGenerator(reg=0.1, debias=0.8, device="cpu")),
    ]:
        start = time.perf_counter()
        model = ClassConditionalSampler(sampler, random_state=seed).fit(X, y)
        X_new, y_new = model.sample(2 * len(X), random_state=seed)
        seconds = time.perf_counter() - start
        arms[name] = (np.vstack([X, X_new]), np.concatenate([y, y_new]), seconds)
    for name, resampler in [
        ("balance", SyntheticOverSampler(LipschitzParticleSampler(device="cpu"))),
        ("smote", SMOTE(k_neighbors=3)),
    ]:
        start = time.perf_counter()
        X_res, y_res = resampler.set_params(random_state=seed).fit_resample(X, y)
        arms[name] = (X_res, y_res, time.perf_counter() - start)
    return arms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[30, 50, 100])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    X_all, y_all = load_breast_cancer(return_X_y=True)
    # accuracy[size][arm][classifier] -> list over seeds; seconds[arm] -> list
    accuracy, seconds = {}, {}
    for size in args.sizes:
        accuracy[size] = {}
        for seed in args.seeds:
            X_pool, X_test, y_pool, y_test = train_test_split(
                X_all, y_all, test_size=0.3, random_state=seed, stratify=y_all
            )
            X, _, y, _ = train_test_split(
                X_pool, y_pool, train_size=size, random_state=seed, stratify=y_pool
            )
            for arm, (X_tr, y_tr, secs) in augment_arms(X, y, seed).items():
                seconds.setdefault(arm, []).append(secs)
                for name, classifier in CLASSIFIERS.items():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        fitted = clone(classifier).fit(X_tr, y_tr)
                    score = float((fitted.predict(X_test) == y_test).mean())
                    accuracy[size].setdefault(arm, {}).setdefault(name, []).append(
                        score
                    )
            print(f"  n_train={size} seed={seed} done", flush=True)
    print_table(accuracy, seconds, args.seeds)


def print_table(accuracy, seconds, seeds):
    print(
        f"\nHeld-out accuracy on breast_cancer, mean over {len(seeds)} seeds "
        "(difference to real; seeds won out of "
        f"{len(seeds)})"
    )
    names = list(CLASSIFIERS)
    print("| n_train | arm | " + " | ".join(names) + " | mean gain |")
    print("|---" * (len(names) + 3) + "|")
    for size, arms in accuracy.items():
        real = arms["real"]
        for arm, scores in arms.items():
            cells, gains = [], []
            for name in names:
                values = np.array(scores[name])
                if arm == "real":
                    cells.append(f"{values.mean():.3f}")
                    continue
                diff = values - np.array(real[name])
                wins = (diff > 0).sum() + 0.5 * (diff == 0).sum()
                gains.append(diff.mean())
                cells.append(f"{values.mean():.3f} ({diff.mean():+.3f}; {wins:g})")
            gain = f"{np.mean(gains):+.3f}" if gains else ""
            print(f"| {size} | {arm} | " + " | ".join(cells) + f" | {gain} |")
    print("\nSeconds to build the training set (mean over sizes and seeds):")
    for arm, values in seconds.items():
        print(f"  {arm}: {np.mean(values):.2f} s")


if __name__ == "__main__":
    main()
