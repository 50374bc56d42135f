"""Seconds of fit + sample at the default thread policy, at 1 and at 2 threads,
on an idle machine and beside a competing CPU-bound process.

What it measures
----------------
For every sampler (default settings except ``max_iter``, capped at
``--max-iter`` so the slow cells stay bounded; seconds scale with it) on two
tables:

* ``wine``: sklearn's 178 x 13 rows, as an array;
* ``mixed``: a generated 3,000-row table of 8 columns (log-normal income, a
  zero-inflated amount, integer age, two correlated normals, a 6-level region,
  a 3-level plan and a boolean flag) through
  ``make_generative_pipeline(TabularEncoder(), sampler)``;

the wall-clock seconds of ``fit`` + ``sample(1000)`` with ``n_jobs=None`` (the
policy), ``n_jobs=1`` and ``n_jobs=2``, each the best of ``--repeats`` runs.
The torch setting outside the calls is torch's default (one thread per core),
as a user who changed nothing has it. "loaded" rows run while a second process
started by this script spins one core (a pure-Python loop), as another job on
the machine would.

A first table (``--threshold``) times one training step of an MLP (forward,
backward, Adam) at batches 256-4,096 and widths 64-512 at 1 and 2 threads: it
is where ``skflow._threads.PARALLEL_WORK`` comes from.

How to run
----------
::

    python benchmarks/bench_threads.py                  # everything (~15 min)
    python benchmarks/bench_threads.py --threshold-only
    python benchmarks/bench_threads.py --tables wine --max-iter 50
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning

import skflow
from skflow import TabularEncoder, make_generative_pipeline
from skflow._threads import PARALLEL_WORK

SAMPLERS = {
    "LipschitzParticleSampler": skflow.LipschitzParticleSampler,
    "SlicedWassersteinFlow": skflow.SlicedWassersteinFlow,
    "EntropicOTGenerator": skflow.EntropicOTGenerator,
    "ProximalMFGFlow": skflow.ProximalMFGFlow,
}
SETTINGS = {"default": None, "1 thread": 1, "2 threads": 2}


def mixed_table(n_rows: int = 3000, seed: int = 0):
    """A generated mixed-type table with the shapes real tables have."""
    import pandas as pd

    rng = np.random.RandomState(seed)
    latent = rng.standard_normal(n_rows)
    income = np.exp(10 + 0.6 * latent + 0.4 * rng.standard_normal(n_rows))
    amount = np.where(rng.rand(n_rows) < 0.6, 0.0, rng.gamma(2.0, 50.0, n_rows))
    age = np.clip(40 + 12 * latent + 8 * rng.standard_normal(n_rows), 18, 90)
    region = rng.choice(list("ABCDEF"), n_rows, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
    plan = np.where(latent > 0.5, "gold", np.where(latent > -0.5, "silver", "basic"))
    return pd.DataFrame(
        {
            "income": income.round(2),
            "amount": amount.round(2),
            "age": age.astype(int),
            "x1": latent + 0.3 * rng.standard_normal(n_rows),
            "x2": -latent + 0.5 * rng.standard_normal(n_rows),
            "region": pd.Categorical(region),
            "plan": plan,
            "flag": rng.rand(n_rows) < 0.3 + 0.2 * (latent > 0),
        }
    )


def _spin(stop) -> None:
    """A CPU-bound loop on one core until ``stop`` is set."""
    total = 0
    while not stop.is_set():
        for i in range(100_000):
            total += i * i


class CompetingLoad:
    """A second process that keeps one core busy while the block runs."""

    def __enter__(self):
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.process = context.Process(target=_spin, args=(self.stop,), daemon=True)
        self.process.start()
        time.sleep(1.0)  # let it reach the loop
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


def time_fit_sample(name: str, table: str, data, n_jobs, max_iter: int) -> float:
    params = {"random_state": 0, "device": "cpu", "n_jobs": n_jobs}
    default_iter = SAMPLERS[name]().max_iter
    params["max_iter"] = min(default_iter, max_iter)
    sampler = SAMPLERS[name](**params)
    model = (
        make_generative_pipeline(TabularEncoder(), sampler)
        if table == "mixed"
        else sampler
    )
    start = time.perf_counter()
    model.fit(data)
    model.sample(1000, random_state=0)
    return time.perf_counter() - start


def threshold_table() -> None:
    print("## One MLP training step (ms), 1 vs 2 threads\n")
    print("| batch | width | multiply-adds | 1 thread | 2 threads | speed-up |")
    print("| --- | --- | --- | --- | --- | --- |")
    outside = torch.get_num_threads()
    for batch in (256, 1024, 4096):
        for width in (64, 128, 192, 256, 512):
            seconds = [_step_seconds(batch, width, t) for t in (1, 2)]
            print(
                f"| {batch} | {width} | {batch * width * width:.1e} | "
                f"{1e3 * seconds[0]:.2f} | {1e3 * seconds[1]:.2f} | "
                f"{seconds[0] / seconds[1]:.2f} |",
                flush=True,
            )
    torch.set_num_threads(outside)
    print(f"\nThe policy's threshold: PARALLEL_WORK = {PARALLEL_WORK:.1e}\n")


def _step_seconds(batch: int, width: int, threads: int, reps: int = 30) -> float:
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Linear(16, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, 16),
        )
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    x = torch.randn(batch, 16, generator=generator)

    def step():
        loss = net(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            step()
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", nargs="+", default=["wine", "mixed"])
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS))
    parser.add_argument("--max-iter", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threshold-only", action="store_true")
    parser.add_argument("--no-threshold", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads "
        f"outside the calls, skflow {skflow.__version__}\n"
    )
    if not args.no_threshold:
        threshold_table()
    if args.threshold_only:
        return
    tables = {"wine": load_wine().data, "mixed": mixed_table()}
    # Warm-up, untimed: the first fit in a process pays for imports and
    # torch's lazy initialisation.
    for table in args.tables:
        for name in args.samplers:
            time_fit_sample(name, table, tables[table], None, 2)
    print(
        f"## fit + sample(1000), seconds (best of {args.repeats}; max_iter <= "
        f"{args.max_iter})\n"
    )
    print(
        "| sampler | table | load | default | 1 thread | 2 threads | default / best |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for load in ("idle", "loaded"):
        for table in args.tables:
            for name in args.samplers:
                if load == "loaded":
                    with CompetingLoad():
                        seconds = _row(name, table, tables[table], args)
                else:
                    seconds = _row(name, table, tables[table], args)
                best = min(seconds.values())
                cells = " | ".join(f"{seconds[key]:.2f}" for key in SETTINGS)
                print(
                    f"| {name} | {table} | {load} | {cells} | "
                    f"{seconds['default'] / best:.2f} |",
                    flush=True,
                )


def _row(name, table, data, args) -> dict:
    # Round-robin over the settings, so a drift in the machine's speed (seen
    # here: 20 % between two runs of one setting) touches every column alike.
    seconds = {key: float("inf") for key in SETTINGS}
    for _ in range(args.repeats):
        for key, n_jobs in SETTINGS.items():
            elapsed = time_fit_sample(name, table, data, n_jobs, args.max_iter)
            seconds[key] = min(seconds[key], elapsed)
    return seconds


if __name__ == "__main__":
    main()
