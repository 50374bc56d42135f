"""Generating and fitting at scale on a Dask LocalCluster.

What it measures
----------------
A ``SlicedWassersteinFlow`` is fitted once on a 20-feature Gaussian mixture
(20,000 rows; its distribution is the "truth" below). Then, each step on a
fresh ``LocalCluster`` of worker processes with one thread each, on loopback:

1. **Throughput.** ``skflow.dask.sample_dataframe(model, n,
   random_state=0).to_parquet(path)`` for each ``--rows`` and each
   ``--workers`` count: rows per second (wall clock, scatter included), the
   peak resident memory of each worker process (``ru_maxrss``, read on the
   workers: ``VmHWM``) and the same just before generation (the worker with
   torch imported and the model received). Then the Parquet files written with
   different worker counts are read back and compared, partition by
   partition, by a hash of every row: they must be identical.
2. **Memory against rows.** With the largest worker count, the same
   generation for each ``--memory-rows`` (up to 10^8), reduced on the
   workers to one hash per partition instead of written, so that the disk is
   not the bottleneck: peak memory per worker must not grow with ``n``.
3. **Fit from Parquet.** The Parquet datasets written in step 1 (10^6 and
   10^7 rows) are the training sets of new fits of 100 JKO steps (a batch
   budget of ``100 * n_inner_steps * batch_size`` = 512,000 rows; with
   ``--family proximal``, 200 iterations of ``ProximalMFGFlow``, 307,200
   rows; with ``--family sinkhorn``, 300 of the Sinkhorn
   ``EntropicOTGenerator``, 153,600 rows):
   ``skflow.dask.fit_partitions`` streams the partitions into one fit (each
   row once, partition after partition, as far as the budget goes), and
   ``skflow.dask.subsample`` draws a uniform sample of the budget from every
   partition for an ordinary fit. Each fit runs in a child process so that
   its peak memory is its own. Quality: energy distance between 5,000 rows of
   the fit and 5,000 held-out rows of the truth, over three seeds, against
   the same fit on an in-memory sample of the same size drawn from the truth.

How to run
----------
::

    flock /tmp/heavy.lock python benchmarks/bench_distributed.py
    python benchmarks/bench_distributed.py --rows 1000000 --memory-rows 1000000 \\
        10000000 100000000 --out /tmp/skflow-bench

It writes about 1.6 GB of Parquet per 10^7 rows and worker count under
``--out`` (removed at the end unless ``--keep``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time
import warnings

N_FEATURES = 20
FIT_PARAMS = {"max_iter": 30, "random_state": 0, "device": "cpu"}
# JKO steps of the fits of step 3 (SlicedWassersteinFlow's default max_iter).
FIT_STEPS = 100
HELD_OUT = 5_000
# Step 3's family (--family): the sampler, its settings, and the rows one fit
# sees in n_iter iterations (its batch budget).
FAMILIES = {
    "sliced": (
        "SlicedWassersteinFlow",
        {"max_iter": FIT_STEPS},
        lambda e, n_iter: n_iter * e.n_inner_steps * e.batch_size,
    ),
    "proximal": (
        "ProximalMFGFlow",
        {"max_iter": 200},
        lambda e, n_iter: n_iter * e.n_critic_steps * e.batch_size,
    ),
    "sinkhorn": (
        "EntropicOTGenerator",
        {"max_iter": 300, "solver": "sinkhorn"},
        lambda e, n_iter: n_iter * 2 * e.batch_size,
    ),
}


def _peak_mib() -> float:
    """This process's peak resident memory in MiB.

    ``VmHWM`` of ``/proc/self/status``, the high-water mark of the process's
    own address space: ``ru_maxrss`` would also count the parent's peak at the
    time of the fork, which Linux carries over ``exec`` (worker processes are
    spawned by a nanny in the client process).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _digest(part):
    """One 64-bit hash of a partition's rows (index excluded)."""
    import numpy as np
    import pandas as pd

    hashes = pd.util.hash_pandas_object(part, index=False).to_numpy()
    mixed = (hashes * np.arange(1, len(hashes) + 1, dtype=np.uint64)).sum()
    return pd.Series([np.uint64(mixed)], dtype="uint64")


def _cluster(n_workers: int):
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        memory_limit="6GiB",
    )
    return cluster, Client(cluster)


def _worker_peaks(client) -> list[float]:
    return sorted(client.run(_peak_mib).values())


def fit_truth(path: str):
    """The generating model, fitted once and saved for the children."""
    import joblib

    from skflow import SlicedWassersteinFlow
    from skflow.datasets import make_gaussian_mixture

    X, _ = make_gaussian_mixture(20_000, N_FEATURES, 5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SlicedWassersteinFlow(**FIT_PARAMS).fit(X)
    joblib.dump(model, path)
    return model


def generate(model, n_rows: int, n_workers: int, path: str | None) -> dict:
    """Step 1 (path given: written to Parquet) or step 2 (path None: hashed)."""
    from skflow.dask import sample_dataframe

    cluster, client = _cluster(n_workers)
    try:
        start = time.perf_counter()
        frame = sample_dataframe(model, n_rows, random_state=0)
        before = _worker_peaks(client)
        if path is None:
            frame.map_partitions(_digest, meta=("digest", "uint64")).compute()
        else:
            frame.to_parquet(path, write_index=False)
        seconds = time.perf_counter() - start
        return {
            "rows": n_rows,
            "workers": n_workers,
            "partitions": frame.npartitions,
            "seconds": seconds,
            "rows_per_s": n_rows / seconds,
            "mib_before": before,
            "mib_peak": _worker_peaks(client),
        }
    finally:
        client.close()
        cluster.close()


def digests(path: str) -> list[int]:
    import dask.dataframe as dd

    frame = dd.read_parquet(path)
    return frame.map_partitions(_digest, meta=("digest", "uint64")).compute().tolist()


def fit_child(
    mode: str, source: str, seed: int, model_path: str, family: str = "sliced"
) -> dict:
    """Step 3 in a child: fit ``family`` from Parquet (``"stream"``:
    fit_partitions; ``"subsample"``: subsample then fit) or from the truth in
    memory, with the family's iterations; score against held-out rows of the
    truth."""
    import joblib

    import skflow
    from skflow.metrics import energy_distance

    truth = joblib.load(model_path)
    name, settings, rows_seen = FAMILIES[family]
    params = {**FIT_PARAMS, **settings, "random_state": seed}
    estimator = getattr(skflow, name)(**params)
    budget = rows_seen(estimator, estimator.max_iter)
    start = time.perf_counter()
    workers, read = None, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if mode == "memory":
            estimator.fit(truth.sample(budget, random_state=1000 + seed))
        else:
            from skflow.dask import fit_partitions, subsample

            cluster, client = _cluster(2)
            try:
                if mode == "stream":
                    fit_partitions(estimator, source, random_state=seed)
                else:
                    rows = subsample(source, budget, random_state=seed).to_numpy()
                    read = time.perf_counter() - start
                    estimator.fit(rows)
                workers = _worker_peaks(client)
            finally:
                client.close()
                cluster.close()
    held_out = truth.sample(HELD_OUT, random_state=99)
    distance = energy_distance(
        estimator.sample(HELD_OUT, random_state=7), held_out, random_state=0
    )
    return {
        "steps": estimator.n_iter_,
        "rows_seen": rows_seen(estimator, estimator.n_iter_),
        "read_s": read,
        "total_s": time.perf_counter() - start,
        "energy": float(distance),
        "client_mib": _peak_mib(),
        "workers_mib": workers,
    }


def _in_child(*args: str) -> dict:
    import subprocess

    child = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True
    )
    if child.returncode != 0:
        raise RuntimeError(child.stderr[-3000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


def _mib(values) -> str:
    return "/".join(f"{v:.0f}" for v in values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", nargs="*", type=float, default=[1e6, 1e7])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--memory-rows", nargs="+", type=float, default=[1e6, 1e7, 1e8])
    parser.add_argument("--fit-seeds", type=int, default=3)
    parser.add_argument("--skip-fit", action="store_true")
    parser.add_argument("--out", default="/tmp/skflow-bench-distributed")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--family",
        choices=sorted(FAMILIES),
        default="sliced",
        help="the sampler of step 3's fits",
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, source, seed, model_path, family = args.child
        print(json.dumps(fit_child(mode, source, int(seed), model_path, family)))
        return

    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, "truth.joblib")
    model = fit_truth(model_path)
    print(f"model: SlicedWassersteinFlow({FIT_PARAMS}), {N_FEATURES} features\n")

    written = {}
    if args.rows:
        print("1. sample_dataframe(...).to_parquet(): throughput and identity")
        header = (
            f"{'rows':>11} {'workers':>7} {'parts':>5} {'seconds':>8} "
            f"{'rows/s':>11} {'MiB/worker before':>18} {'MiB/worker peak':>16}"
        )
        print(header + "\n" + "-" * len(header))
    for n_rows in map(int, args.rows):
        for n_workers in args.workers:
            path = os.path.join(args.out, f"rows-{n_rows}-w{n_workers}")
            shutil.rmtree(path, ignore_errors=True)
            cell = generate(model, n_rows, n_workers, path)
            written[n_rows, n_workers] = path
            print(
                f"{n_rows:>11,} {n_workers:>7} {cell['partitions']:>5} "
                f"{cell['seconds']:>8.1f} {cell['rows_per_s']:>11,.0f} "
                f"{_mib(cell['mib_before']):>18} {_mib(cell['mib_peak']):>16}",
                flush=True,
            )
        hashes = {w: digests(written[n_rows, w]) for w in args.workers}
        same = all(h == hashes[args.workers[0]] for h in hashes.values())
        print(
            f"{'':>11} identical rows across {args.workers} workers: {same} "
            f"({len(hashes[args.workers[0]])} partitions hashed)",
            flush=True,
        )

    n_workers = max(args.workers)
    print(f"\n2. peak memory per worker against rows ({n_workers} workers, hashed)")
    header = (
        f"{'rows':>13} {'parts':>5} {'seconds':>8} {'rows/s':>11} "
        f"{'MiB/worker before':>18} {'MiB/worker peak':>16}"
    )
    print(header + "\n" + "-" * len(header))
    for n_rows in map(int, args.memory_rows):
        cell = generate(model, n_rows, n_workers, None)
        print(
            f"{n_rows:>13,} {cell['partitions']:>5} {cell['seconds']:>8.1f} "
            f"{cell['rows_per_s']:>11,.0f} {_mib(cell['mib_before']):>18} "
            f"{_mib(cell['mib_peak']):>16}",
            flush=True,
        )

    if written and not args.skip_fit:
        largest = max(n for n, _ in written)
        sources = sorted({written[n, min(args.workers)] for n, _ in written})
        name, settings, _ = FAMILIES[args.family]
        print(
            f"\n3. fits of {name}({settings}) from Parquet (2 workers): "
            "streamed (fit_partitions) or subsampled (subsample + fit); and in "
            "memory"
        )
        header = (
            f"{'data':>18} {'mode':>9} {'seed':>4} {'steps':>5} {'rows seen':>9} "
            f"{'read s':>6} {'total s':>7} {'energy':>7} {'MiB client':>10} "
            f"{'MiB/worker':>10}"
        )
        print(header + "\n" + "-" * len(header))
        energies = {}
        cases = [(mode, path) for path in sources for mode in ("stream", "subsample")]
        for mode, source in [*cases, ("memory", "-")]:
            for seed in range(args.fit_seeds):
                cell = _in_child(mode, source, str(seed), model_path, args.family)
                label = os.path.basename(source) if source != "-" else "truth"
                energies.setdefault((label, mode), []).append(cell["energy"])
                print(
                    f"{label:>18} {mode:>9} {seed:>4} {cell['steps']:>5} "
                    f"{cell['rows_seen']:>9,} {cell['read_s']:>6.1f} "
                    f"{cell['total_s']:>7.1f} {cell['energy']:>7.4f} "
                    f"{cell['client_mib']:>10.0f} "
                    f"{_mib(cell['workers_mib'] or []):>10}",
                    flush=True,
                )
        for (label, mode), values in energies.items():
            spread = statistics.stdev(values) if len(values) > 1 else float("nan")
            print(
                f"energy distance, {label} {mode}: {statistics.mean(values):.4f} "
                f"+- {spread:.4f} (mean +- sd over {len(values)} seeds)"
            )
        print(
            f"(the {largest:,}-row dataset is {largest * N_FEATURES * 8 / 2**30:.1f} "
            "GiB of float64)"
        )
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
