"""ProximalMFGFlow on a 2-sphere embedded in 50-D, against GaussianMixture.

What it measures
----------------
``skflow.datasets.make_sphere(2000, 50, intrinsic_dim=2)``: manifold data in high
dimension (the motivating case of Gu et al., arXiv:2407.11901). The rows are
split in half; each method fits the training half and generates 1,000 rows,
scored against the test half with the foundation benchmark's metrics
(``benchmarks/bench_samplers.py``): energy distance (lower is better), C2ST AUC
(0.5 is best), DCR (about 1 or more: no copying) and seconds of fit + sample.
ProximalMFGFlow uses default settings; GaussianMixture chooses its components by
BIC.

How to run
----------
::

    PYTHONPATH=. python benchmarks/bench_proximal_sphere.py --seeds 2
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_samplers as base  # noqa: E402

import skflow  # noqa: E402

torch.set_num_threads(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    X = np.asarray(
        skflow.datasets.make_sphere(2000, 50, intrinsic_dim=2, random_state=0)
    )
    methods = {
        base.PROXIMAL: base.make_skflow_method("cpu", skflow.ProximalMFGFlow),
        base.GMM: base.gmm_method,
        base.ORACLE: base.oracle_method,
    }
    print("# ProximalMFGFlow: make_sphere(2000, 50, intrinsic_dim=2)")
    print(f"torch {torch.__version__}, 1 thread, cpu; seeds {list(range(args.seeds))}")
    results = base.run_dataset(X, methods, list(range(args.seeds)), 1000)
    print()
    print(base.dataset_table(results))


if __name__ == "__main__":
    main()
