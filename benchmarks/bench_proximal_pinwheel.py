"""ProximalMFGFlow on the pinwheel in 2-D and embedded in 7-D / 12-D.

What it measures
----------------
The manifold experiment of Gu, Katsoulakis, Rey-Bellet and Zhang
(arXiv:2407.11901): a 2-D pinwheel (``skflow.datasets.make_pinwheel``)
learned in 2-D and embedded in ``R^7`` and ``R^12``. Two embeddings:

* ``ortho``: the meaningful one. The 2-D rows are mapped by a random orthonormal
  2-frame ``Q`` (``d x 2``) to ``X = P Q^T``: every column varies, the data lie
  on a 2-D plane. Generated rows are scored on their plane coordinates ``X Q``.
* ``zeros``: the 2-D rows padded with zero columns, as in the paper's table.
  ``BaseSampler`` drops constant columns, so this is the 2-D problem by
  construction (reported once, briefly).

Three flows with otherwise default settings:

* ``W1+W2``: both proximals (``lipschitz_constant=3``, ``kinetic_weight=0.05``);
* ``W1 only``: ``kinetic_weight=0``;
* ``W2 only``: ``lipschitz_constant=np.inf`` (an unconstrained critic).

Metric, as in the paper: the debiased Sinkhorn divergence (geomloss
``SamplesLoss("sinkhorn", p=2, blur=0.05)``, cost ``|x - y|^2 / 2``) between
5,000 generated and 5,000 fresh pinwheel points, in the pinwheel's own units.
A failed fit (``NumericalInstabilityError`` or non-finite rows) counts as NaN.
A second table varies ``kinetic_weight`` on the 2-D pinwheel: trajectory
straightness (median path length / end-to-end distance over 2,000 paths of 40
steps) and the kinetic energy of the sampled paths. A last line compares
geomloss with POT's debiased Sinkhorn (``reg = blur^2``) on 300 points.
Published (Gu et al. 2024, W1+W2): 8.0e-3 / 1.0e-2 / 1.6e-2 for 2 / 7 / 12 dims.

How to run
----------
::

    pip install -e ".[bench]"       # geomloss
    PYTHONPATH=. python benchmarks/bench_proximal_pinwheel.py            # 1 seed
    PYTHONPATH=. python benchmarks/bench_proximal_pinwheel.py --seeds 3
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import ot  # noqa: E402
import torch  # noqa: E402
from geomloss import SamplesLoss  # noqa: E402

import skflow  # noqa: E402
from skflow.datasets import make_pinwheel  # noqa: E402
from skflow.exceptions import NumericalInstabilityError  # noqa: E402

torch.set_num_threads(1)

N_TRAIN = 5000
N_EVAL = 5000
BLUR = 0.05
VARIANTS = {
    "W1+W2": {},
    "W1 only": {"kinetic_weight": 0.0},
    "W2 only": {"lipschitz_constant": np.inf},
}


def sinkhorn(x: np.ndarray, y: np.ndarray) -> float:
    """Debiased Sinkhorn divergence, cost |x-y|^2/2, blur 0.05 (geomloss)."""
    loss = SamplesLoss("sinkhorn", p=2, blur=BLUR, backend="tensorized")
    as_tensor = torch.as_tensor
    return float(
        loss(as_tensor(x, dtype=torch.float32), as_tensor(y, dtype=torch.float32))
    )


def pot_sinkhorn(x: np.ndarray, y: np.ndarray) -> float:
    """The same divergence with POT: S = W(x,y) - (W(x,x) + W(y,y)) / 2.

    ``ot.sinkhorn2`` in the log domain with ``reg = blur^2`` (geomloss's
    epsilon for p = 2); it returns the transport cost of the entropic plan.
    """

    def w(a, b):
        cost = ot.dist(a, b) / 2.0
        weights_a = np.full(len(a), 1.0 / len(a))
        weights_b = np.full(len(b), 1.0 / len(b))
        return float(
            ot.sinkhorn2(
                weights_a,
                weights_b,
                cost,
                BLUR**2,
                method="sinkhorn_log",
                numItermax=3000,
                stopThr=1e-7,
            )
        )

    return w(x, y) - 0.5 * (w(x, x) + w(y, y))


def random_frame(n_features: int, seed: int) -> np.ndarray:
    """A random ``n_features x 2`` matrix with orthonormal columns."""
    gaussian = np.random.RandomState(seed).standard_normal((n_features, 2))
    frame, _ = np.linalg.qr(gaussian)
    return frame


def pinwheel_rows(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and fresh 2-D rows from one draw (split, so they match)."""
    rows, _ = make_pinwheel(N_TRAIN + N_EVAL, random_state=seed)
    return rows[:N_TRAIN], rows[N_TRAIN:]


def fit_and_score(train2d, fresh2d, embedding, dim, params, seed):
    """Fit on the embedded rows; Sinkhorn on the 2-D coordinates, seconds."""
    if embedding == "ortho" and dim > 2:
        frame = random_frame(dim, seed + 100)
        train = train2d @ frame.T
    else:
        frame = None
        train = np.zeros((N_TRAIN, dim))
        train[:, :2] = train2d
    flow = skflow.ProximalMFGFlow(device="cpu", random_state=seed, **params)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flow.fit(train)
            generated = flow.sample(N_EVAL, random_state=seed)
    except NumericalInstabilityError as exc:
        return np.nan, time.perf_counter() - start, str(exc)[:60], None
    seconds = time.perf_counter() - start
    plane = generated @ frame if frame is not None else generated[:, :2]
    if not np.isfinite(plane).all():
        return np.nan, seconds, "non-finite rows", flow
    return sinkhorn(plane, fresh2d), seconds, "", flow


def path_statistics(flow, seed: int) -> tuple[float, float]:
    """Median path length / chord and kinetic energy of 2,000 sampled paths."""
    _, paths = flow.sample(
        2000, random_state=seed, n_steps=40, return_trajectories=True
    )
    steps = np.diff(paths, axis=0)
    length = np.linalg.norm(steps, axis=2).sum(axis=0)
    chord = np.linalg.norm(paths[-1] - paths[0], axis=1)
    moving = chord > 1e-3
    h = flow.time_horizon / 40
    kinetic = 0.5 * (steps**2).sum(axis=2).sum(axis=0).mean() / h
    return float(np.median(length[moving] / chord[moving])), float(kinetic)


def fmt(values: list[float]) -> str:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return "NaN"
    text = f"{np.mean(finite):.2e}"
    if len(finite) > 1:
        text += f" ± {np.std(finite):.1e}"
    return text


def table(header, rows) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    print("# ProximalMFGFlow: pinwheel in 2-D / 7-D / 12-D")
    print(
        f"torch {torch.__version__}, skflow {skflow.__version__}, 1 thread, cpu; "
        f"seeds {seeds}; {N_TRAIN} training rows, Sinkhorn on {N_EVAL} vs {N_EVAL}"
    )
    settings = [("ortho", 2), ("ortho", 7), ("ortho", 12)]
    rows = []
    flows = {}
    references = []
    for seed in seeds:
        train2d, fresh2d = pinwheel_rows(seed)
        references.append(sinkhorn(train2d, fresh2d))
    for embedding, dim in settings:
        for name, params in VARIANTS.items():
            values, seconds, errors = [], [], []
            for seed in seeds:
                train2d, fresh2d = pinwheel_rows(seed)
                value, sec, error, flow = fit_and_score(
                    train2d, fresh2d, embedding, dim, params, seed
                )
                values.append(value)
                seconds.append(sec)
                if error:
                    errors.append(error)
                if seed == 0 and dim == 2:
                    flows[name] = flow
            n_nan = sum(not np.isfinite(v) for v in values)
            label = f"{dim}-D" + (" (plane)" if dim > 2 else "")
            rows.append(
                [
                    label,
                    name,
                    fmt(values),
                    f"{n_nan}/{len(seeds)}",
                    f"{np.mean(seconds):.1f}",
                    errors[0] if errors else "",
                ]
            )
            print(rows[-1], flush=True)
    # Zero padding: constant columns are dropped, so it is the 2-D problem.
    train2d, fresh2d = pinwheel_rows(0)
    value, sec, error, _ = fit_and_score(train2d, fresh2d, "zeros", 7, {}, 0)
    rows.append(["7-D (zeros)", "W1+W2", fmt([value]), "0/1", f"{sec:.1f}", error])

    print(
        "\n## Debiased Sinkhorn divergence to fresh pinwheel rows (lower is better)\n"
    )
    print(
        table(
            ["data", "flow", "sinkhorn", "NaN fits", "seconds/fit", "failure"],
            rows,
        )
    )
    print(
        f"\nFloor (5,000 training rows vs 5,000 fresh rows): {fmt(references)}. "
        "Published W1+W2: 8.0e-3 / 1.0e-2 / 1.6e-2 (2 / 7 / 12 dims)."
    )

    print("\n## Kinetic weight on the 2-D pinwheel (seed 0)\n")
    train2d, fresh2d = pinwheel_rows(0)
    kinetic_rows = []
    for weight in (0.0, 0.01, 0.05, 0.2):
        if weight == 0.0:
            flow = flows.get("W1 only")
        elif weight == 0.05:
            flow = flows.get("W1+W2")
        else:
            flow = fit_and_score(
                train2d, fresh2d, "ortho", 2, {"kinetic_weight": weight}, 0
            )[3]
        if flow is None:
            kinetic_rows.append([weight, "failed", "", "", ""])
            continue
        straightness, kinetic = path_statistics(flow, 0)
        generated = flow.sample(N_EVAL, random_state=0)
        kinetic_rows.append(
            [
                weight,
                f"{straightness:.4f}",
                f"{kinetic:.4f}",
                f"{np.mean(flow.history_['hj_residual'][-100:]):.2e}",
                f"{sinkhorn(generated, fresh2d):.2e}",
            ]
        )
    print(
        table(
            [
                "kinetic_weight",
                "path length / chord (median)",
                "kinetic energy",
                "HJ residual (last 100 it.)",
                "sinkhorn",
            ],
            kinetic_rows,
        )
    )

    print("\n## geomloss vs POT debiased Sinkhorn (300 vs 300 points)\n")
    generated = flows["W1+W2"].sample(300, random_state=1)
    start = time.perf_counter()
    geo = sinkhorn(generated, fresh2d[:300])
    geo_seconds = time.perf_counter() - start
    start = time.perf_counter()
    pot = pot_sinkhorn(generated, fresh2d[:300])
    pot_seconds = time.perf_counter() - start
    print(
        table(
            ["geomloss", "POT (reg = blur^2)", "relative difference", "seconds"],
            [
                [
                    f"{geo:.4e}",
                    f"{pot:.4e}",
                    f"{abs(geo - pot) / abs(geo):.1%}",
                    f"{geo_seconds:.1f} / {pot_seconds:.1f}",
                ]
            ],
        )
    )


if __name__ == "__main__":
    main()
