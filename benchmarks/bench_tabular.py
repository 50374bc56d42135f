"""skflow's default tabular pipeline against peer synthesizers on real tables.

What it measures
----------------
Real, mixed-type public tables that ship inside pip packages (vega_datasets,
statsmodels, lifelines: nothing is downloaded at run time), taken as they come:
missing values, dates, skewed and zero-inflated columns, a categorical column
with more than 50 levels. Only identifier columns (a distinct value on almost
every row) are dropped, since a synthesizer can only copy or invent them. Tables
are capped at ``--max-rows`` rows (a fixed subsample) and split 50/50 into
train and holdout rows with each seed. Every method is fitted on the train rows
and draws as many rows as the train split has. Nothing is imputed or converted
first, for skflow or for the peers: a method that cannot take a table fails on
it, and the table says ``failed: <reason>``.

Methods (``METHODS``; each is ``fit_sample(train, n_rows, seed) -> DataFrame``):

* ``skflow``: ``make_generative_pipeline(TabularEncoder(), sampler)`` with the
  sampler ``python -m skflow fit-sample`` uses by default, defaults otherwise;
* ``skflow fit-sample``: the command line itself on a CSV of the train rows
  (``--holdout 0``), read back with the train columns' dates parsed;
* peers, optional installs (``benchmarks/requirements-tabular.txt``), skipped
  with the reason when missing: SDV's ``GaussianCopulaSynthesizer``,
  ``CTGANSynthesizer`` and ``TVAESynthesizer`` (defaults; columns SDV marks as
  personal data are modelled as categorical/numerical instead of faked),
  synthpop-py's CART ``Synthesiser``, mostlyai-engine's ``TabularARGN``, and
  ForestDiffusion's ForestFlow (``diffusion_type="flow"``, ``n_t=50``,
  ``duplicate_K`` lowered on larger tables; a table whose estimated fit time is
  over 5 minutes is skipped);
* ``bootstrap``: every column resampled independently (right marginals, no
  dependence);
* ``train copy``: the train rows themselves, the reference (C2ST near 0.5,
  DCR 0, 100 % copies).

Metrics, per (table, method, seed), against the holdout rows unless said:

* ``C2ST``: cross-validated ROC AUC of ``HistGradientBoostingClassifier``
  (native categories, NaN allowed, dates as numbers) telling holdout from
  synthetic rows; 0.5 is best;
* ``column``: mean over columns of the KS statistic (numbers, dates) or the
  total variation distance (categories, NaN a level); lower is better;
* ``pairs``: mean over column pairs of the total variation distance between the
  2-D histograms (numbers and dates in holdout deciles, NaN its own bin), one
  measure for numeric, categorical and mixed pairs; ``corr``: mean absolute
  difference of the Spearman correlation matrices of the numeric columns;
* ``TSTR``: a HistGradientBoosting model trained on synthetic rows predicts the
  table's target column on the holdout rows (accuracy for classes, R^2 for
  numbers), next to the same model trained on the real train rows;
* ``DCR``: median L1 distance (numbers min-max scaled by the train rows, NaN an
  indicator, categories one-hot / 2: Gower-like) of synthetic rows to their
  closest train row, over that of holdout rows (means when that median is 0);
  about 1 is no copying. ``copies``: share of synthetic rows equal to a train
  row (the holdout's own share is in the table's heading);
* ``miss err``: max over columns of the absolute difference between synthetic
  and train missing rates;
* validity: ``unseen`` share of category values not seen in train, ``range``
  share of numbers/dates outside the train range, ``off-grid`` share of values
  of discrete numeric columns (at most 20 distinct train values) not among the
  train values, ``dtypes`` number of columns whose kind (bool, int, float,
  date, text) changed;
* ``s``: fit + sample wall seconds, and the ratio to CART's (seconds are noisy
  on a shared machine; ratios within one run are what to read);
* ``SE u`` / ``SE p``: syntheval's (MIT) mean normalised utility and privacy
  scores (``fast_eval`` preset; higher is better), where it runs.

Each (method, table, seed) runs in its own child process with a timeout
(``TIMEOUTS``), so a slow or crashing peer cannot hang or end the run. The last
section names, per table, the method that wins C2ST and pairs, and skflow's gap
to the best peer.

How to run
----------
The peers' releases that accept pandas 3 need their own environment (a newer
SDV, lifelines or SDMetrics would downgrade pandas); torch stays at the
constraints file's version::

    python -m venv .venv-tabular
    .venv-tabular/bin/python -m pip install -c constraints.txt torch==2.13.0 \\
        POT scikit-learn pyarrow -r benchmarks/requirements-tabular.txt
    # PyPI's torchvision does not load beside the local torch build, and while
    # it is there transformers (under mostlyai-engine) fails to import.
    .venv-tabular/bin/python -m pip uninstall -y torchvision
    PYTHONPATH=. nice .venv-tabular/bin/python benchmarks/bench_tabular.py --jobs 2
    PYTHONPATH=. .venv-tabular/bin/python benchmarks/bench_tabular.py --quick
    PYTHONPATH=. .venv-tabular/bin/python benchmarks/bench_tabular.py \\
        --tables cars fair --methods skflow cart bootstrap --seeds 0

``--quick`` runs one seed on at most 1,000 rows and leaves out the slow peers
(CTGAN, TVAE, TabularARGN, ForestFlow) unless ``--methods`` names them.
``--jobs 2`` fits two methods at once (each in its own single-threaded process;
seconds get noisier). CTGAN, TVAE and TabularARGN get 5 minutes per fit
(TabularARGN's training is capped to stop in time); on a 2-core machine shared
with other jobs the larger tables reach that limit.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

# One OpenMP thread for the metrics' classifiers: on a loaded 2-core machine
# more threads than free cores make HistGradientBoosting 20x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.neighbors import NearestNeighbors  # noqa: E402

# HistGradientBoosting's native categories take at most 255 levels (max_bins);
# rarer levels of a wider column are pooled for the classifiers only.
MAX_LEVELS = 254
# Numeric columns with at most this many distinct train values are "discrete"
# for the off-grid check (codes, counts, ratings stored as numbers).
DISCRETE_LEVELS = 20
N_BINS = 10
FOLDS = 5
FORESTFLOW_BUDGET_S = 300.0
# ForestFlow's duplicate_K is chosen so that rows x duplicate_K stays near this.
FORESTFLOW_ROWS = 2_000


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


@dataclass
class Table:
    """A bundled table: its loader, the TSTR target and what it exercises."""

    load: object
    target: str
    package: str
    note: str


def _vega(name, drop=()):
    def load():
        from vega_datasets import local_data

        return getattr(local_data, name.replace("-", "_"))().drop(columns=list(drop))

    return load


def _statsmodels(name):
    def load():
        import statsmodels.api as sm

        return getattr(sm.datasets, name).load_pandas().data

    return load


def _lifelines(name):
    def load():
        from lifelines import datasets

        return getattr(datasets, f"load_{name}")()

    return load


TABLES = {
    # "Name" (311 distinct in 406 rows) is an identifier.
    "cars": Table(
        _vega("cars", drop=["Name"]),
        "Origin",
        "vega_datasets",
        "NaN in 2 numeric columns, a date column (Year)",
    ),
    "seattle_weather": Table(
        _vega("seattle-weather"),
        "weather",
        "vega_datasets",
        "a date on every row, zero-inflated precipitation",
    ),
    # iata and name are identifiers; city (2,674 levels in 3,376 rows) nearly so.
    "airports": Table(
        _vega("airports", drop=["iata", "name", "city"]),
        "state",
        "vega_datasets",
        "56-level state with NaN, near-constant country",
    ),
    "gbsg2": Table(
        _lifelines("gbsg2"),
        "cens",
        "lifelines",
        "text categories, skewed and zero-inflated receptor counts",
    ),
    "fair": Table(
        _statsmodels("fair"),
        "yrs_married",
        "statsmodels",
        "codes stored as floats, zero-inflated skewed affairs",
    ),
    "randhie": Table(
        _statsmodels("randhie"),
        "lpi",
        "statsmodels",
        "zero-inflated counts (mdvis), skewed spending, capped to the row limit",
    ),
}


def load_table(name, max_rows):
    """The table, subsampled to ``max_rows`` rows with a fixed seed."""
    frame = TABLES[name].load()
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=0)
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------
# Methods: fit_sample(train, n_rows, seed) -> DataFrame
# --------------------------------------------------------------------------


def train_copy(train, n_rows, seed):
    return train.sample(n=n_rows, replace=n_rows > len(train), random_state=seed)


def bootstrap(train, n_rows, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            name: train[name].to_numpy()[rng.integers(len(train), size=n_rows)]
            for name in train.columns
        }
    ).astype(train.dtypes.to_dict())


# AutoSampler's race, in seconds, for "skflow auto" and "skflow fit-sample"
# (--auto-budget).
AUTO_BUDGET_S = 120.0


def skflow_pipeline(train, n_rows, seed):
    import skflow

    sampler = skflow.LipschitzParticleSampler(random_state=seed)
    model = skflow.make_generative_pipeline(skflow.TabularEncoder(), sampler)
    model.fit(train)
    return model.sample(n_rows, random_state=seed)


def skflow_auto(train, n_rows, seed):
    import skflow

    model = skflow.AutoSampler(time_budget=AUTO_BUDGET_S, random_state=seed)
    model.fit(train)
    print(
        "    AutoSampler chose " + model.best_params_["candidate"],
        file=sys.stderr,
        flush=True,
    )
    return model.sample(n_rows, random_state=seed)


def skflow_cli(train, n_rows, seed):
    from skflow import cli

    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "train.csv")
        target = os.path.join(folder, "synthetic.csv")
        train.to_csv(source, index=False)
        args = ["fit-sample", source, "-o", target, "--holdout", "0"]
        args += ["--seed", str(seed), "-n", str(n_rows)]
        args += ["--time-budget", str(AUTO_BUDGET_S)]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(args)
        for line in (out.getvalue() + err.getvalue()).splitlines():
            if "warning" in line.lower():
                warnings.warn(line, UserWarning, stacklevel=1)
        if status != 0:
            raise RuntimeError(err.getvalue().strip().splitlines()[-1])
        dates = [c for c in train.columns if _kind(train[c].dtype) == "date"]
        return pd.read_csv(target, parse_dates=dates)


def fit_sdv(class_name, train, seed):
    """An SDV synthesizer fitted on ``train`` (also used by bench_conditional)."""
    import torch
    from sdv import single_table
    from sdv.metadata import Metadata

    torch.manual_seed(seed)
    # SDV reads datetime64 values as nanoseconds: pandas 3's default
    # microsecond dates would all land in January 1970.
    dates = [c for c in train.columns if _kind(train[c].dtype) == "date"]
    train = train.astype({c: "datetime64[ns]" for c in dates})
    metadata = Metadata.detect_from_dataframe(train)
    # A column of distinct values (airports' latitude) is detected as the
    # primary key, which must stay an id: these tables have no key.
    if metadata.to_dict()["tables"]["table"].get("primary_key"):
        metadata.remove_primary_key()
    # SDV replaces columns it takes for personal data (latitude, state, ...)
    # with fake values; model them from the rows like every other method.
    for name, spec in metadata.to_dict()["tables"]["table"]["columns"].items():
        if spec.get("pii") or spec["sdtype"] not in (
            "numerical",
            "categorical",
            "datetime",
            "boolean",
        ):
            numeric = _kind(train[name].dtype) in ("int", "float")
            metadata.update_column(
                name, sdtype="numerical" if numeric else "categorical"
            )
    synthesizer = getattr(single_table, class_name)(metadata)
    synthesizer.fit(train)
    return synthesizer


def _sdv(class_name):
    def fit_sample(train, n_rows, seed):
        return fit_sdv(class_name, train, seed).sample(num_rows=n_rows)

    return fit_sample


def cart(train, n_rows, seed):
    """synthpop's CART; dates as seconds (synthpop-py refuses datetime
    columns), back to the train dtype."""
    from synthpop import Synthesiser

    dates = [name for name in train.columns if _kind(train[name].dtype) == "date"]
    numeric = train.assign(**{name: _seconds(train[name]) for name in dates})
    out = Synthesiser(random_seed=seed).fit(numeric).generate(n_rows)
    for name in dates:
        dates_out = pd.to_datetime(out[name], unit="s")
        zone = getattr(train[name].dt, "tz", None)
        if zone is not None:  # _seconds kept the wall time
            dates_out = dates_out.dt.tz_localize(zone)
        out[name] = dates_out.astype(train[name].dtype)
    return out


def tabular_argn(train, n_rows, seed):
    from mostlyai.engine import TabularARGN

    # Stop training in time to sample inside this method's timeout.
    minutes = max(1.0, (TIMEOUTS["tabularargn"] - 120) / 60)
    model = TabularARGN(max_training_time=minutes, device="cpu", random_state=seed)
    return model.fit(train).sample(n_samples=n_rows)


def _recorded_step(values):
    from skflow.encoders._columns import _recorded_step as recorded_step

    return recorded_step(values)


def public_domains(train):
    """Every column's domain, taken as public metadata for the private methods.

    The train split's own range (numbers, dates), recording grid (floats),
    point masses (values on 10% of rows or more) and levels (categories, and
    numbers with at most ``DISCRETE_LEVELS`` values), with missing declared
    where the column has any: what a data owner would write
    down from the table's documentation. A benchmark shortcut, stated as such
    in the output: a real private release must take them from what is known
    without the rows.
    """
    domains = {}
    for name in train.columns:
        values = train[name]
        kind = _kind(values.dtype)
        if kind in ("text", "bool"):
            domain = {"levels": sorted(values.dropna().unique().tolist(), key=str)}
        elif kind in ("int", "float") and values.nunique() <= DISCRETE_LEVELS:
            # A code or scale: its values, as a codebook would list them.
            domain = {"levels": sorted(values.dropna().unique().tolist())}
        else:
            domain = {"range": (values.min(), values.max())}
            grid = (
                _recorded_step(values.to_numpy(dtype=float))
                if kind == "float"
                else None
            )
            if grid is not None:
                domain["step"] = grid[0]
            # Values a codebook would name (a count's zero): 10% of rows or more.
            shares = values.value_counts(normalize=True)
            masses = sorted(shares.index[shares >= 0.1].tolist())
            if masses:
                domain["masses"] = masses
        if values.isna().any():
            domain["missing"] = True
        domains[name] = domain
    return domains


def _skflow_private(family, epsilon):
    def fit_sample(train, n_rows, seed):
        import skflow
        from skflow.privacy import DifferentialPrivacy

        privacy = DifferentialPrivacy(epsilon, delta=1e-5)
        if family == "proximal":
            sampler = skflow.ProximalMFGFlow(
                privacy=privacy, max_iter=300, batch_size=256, random_state=seed
            )
        else:
            sampler = skflow.LipschitzParticleSampler(
                privacy=privacy, max_iter=200, batch_size=256, random_state=seed
            )
        encoder = skflow.TabularEncoder(domains=public_domains(train))
        model = skflow.make_generative_pipeline(encoder, sampler).fit(train)
        print(f"    epsilon_ {model[-1].epsilon_:.3f}", file=sys.stderr, flush=True)
        return model.sample(n_rows, random_state=seed)

    return fit_sample


def _tabular_argn_private(epsilon):
    def fit_sample(train, n_rows, seed):
        from mostlyai.engine import TabularARGN

        minutes = max(1.0, (TIMEOUTS["tabularargn"] - 120) / 60)
        # value_protection=False: the value ranges are public, as for skflow
        # (see public_domains), so the whole budget goes to training.
        model = TabularARGN(
            max_training_time=minutes,
            device="cpu",
            random_state=seed,
            value_protection=False,
            differential_privacy={"max_epsilon": epsilon, "delta": 1e-5},
        )
        return model.fit(train).sample(n_samples=n_rows)

    return fit_sample


def forestflow(train, n_rows, seed):
    """ForestFlow on a numeric matrix: dates as seconds, categories as codes."""
    from ForestDiffusion import ForestDiffusionModel

    columns, bins, cats, ints, codes = [], [], [], [], {}
    for i, name in enumerate(train.columns):
        kind = _kind(train[name].dtype)
        values = train[name]
        if kind == "date":
            values = _seconds(values)
            ints.append(i)
        elif kind in ("text", "bool"):
            categories = pd.Index(values.dropna().unique())
            codes[name] = categories
            values = pd.Series(categories.get_indexer(values), dtype=float)
            values[train[name].isna().to_numpy()] = np.nan
            (bins if len(categories) <= 2 else cats).append(i)
        elif kind == "int":
            ints.append(i)
        columns.append(np.asarray(values, dtype=float))
    X = np.column_stack(columns)
    # The paper's duplicate_K=100 on a few hundred rows; fewer noise copies per
    # row on larger tables, and a skip where even that would exceed the budget.
    duplicate_k = int(np.clip(FORESTFLOW_ROWS // len(X), 1, 100))
    width = X.shape[1] + sum(len(codes[train.columns[i]]) - 2 for i in cats)
    estimate = _forestflow_seconds(len(X) * duplicate_k, width)
    if estimate > FORESTFLOW_BUDGET_S:
        raise RuntimeError(
            f"skipped: estimated {estimate:.0f} s > {FORESTFLOW_BUDGET_S:.0f} s "
            f"(duplicate_K={duplicate_k})"
        )
    model = ForestDiffusionModel(
        X,
        n_t=50,
        duplicate_K=duplicate_k,
        diffusion_type="flow",
        bin_indexes=bins,
        cat_indexes=cats,
        int_indexes=ints,
        n_jobs=1,
        seed=seed,
    )
    # Under pandas 3 (copy-on-write) the matrix that clip_extremes gets back
    # from DataFrame.to_numpy is read-only and ForestDiffusion writes into it.
    clip = model.clip_extremes
    model.clip_extremes = lambda values: clip(np.array(values))
    # generate() draws its noise from numpy's global state (this is a child).
    np.random.seed(seed)  # noqa: NPY002
    Xs = model.generate(batch_size=n_rows)
    out = {}
    for i, name in enumerate(train.columns):
        kind = _kind(train[name].dtype)
        if name in codes:
            index = np.clip(np.rint(np.nan_to_num(Xs[:, i], nan=-1)), -1, None)
            values = pd.Series(codes[name].take(np.maximum(index, 0).astype(int)))
            out[name] = values.where(index >= 0).astype(train[name].dtype)
        elif kind == "date":
            out[name] = pd.to_datetime(Xs[:, i], unit="s")
        elif kind == "int" and not np.isnan(Xs[:, i]).any():
            # Rounded by ForestDiffusion already; back to the train dtype.
            out[name] = Xs[:, i].astype(train[name].dtype)
        else:
            out[name] = Xs[:, i]
    return pd.DataFrame(out)


def _forestflow_seconds(n_copies, width):
    # Measured on a loaded 2-core machine: 3e-5 to 8e-5 s per row copy, noise
    # level and encoded column (categories dummy-coded); the upper end.
    return 8e-5 * n_copies * 50 * width


@dataclass
class Method:
    """A method adapter, the modules it needs and whether it is slow."""

    fit_sample: object
    needs: tuple = ()
    slow: bool = False
    peer: bool = True
    note: str = ""
    # Differentially private: run by bench_privacy.py, not by default here.
    private: bool = False


METHODS = {
    "skflow": Method(
        skflow_pipeline,
        ("skflow",),
        peer=False,
        note="make_generative_pipeline(TabularEncoder(), "
        "LipschitzParticleSampler(random_state=seed))",
    ),
    "skflow auto": Method(
        skflow_auto,
        ("skflow",),
        peer=False,
        slow=True,
        note="AutoSampler(time_budget=--auto-budget, random_state=seed)",
    ),
    "skflow fit-sample": Method(
        skflow_cli,
        ("skflow",),
        peer=False,
        slow=True,
        note="python -m skflow fit-sample train.csv --holdout 0 --seed S -n N "
        "--time-budget B (its default method, auto)",
    ),
    "gaussiancopula": Method(
        _sdv("GaussianCopulaSynthesizer"), ("sdv",), note="SDV, defaults"
    ),
    "ctgan": Method(
        _sdv("CTGANSynthesizer"), ("sdv",), slow=True, note="SDV, defaults"
    ),
    "tvae": Method(_sdv("TVAESynthesizer"), ("sdv",), slow=True, note="SDV, defaults"),
    "cart": Method(cart, ("synthpop",), note="synthpop-py Synthesiser (CART)"),
    "tabularargn": Method(
        tabular_argn,
        ("mostlyai.engine",),
        slow=True,
        note="mostlyai-engine, defaults, training time capped by the timeout",
    ),
    "forestflow": Method(
        forestflow,
        ("ForestDiffusion",),
        slow=True,
        note="ForestDiffusion flow, n_t=50, "
        f"duplicate_K=clip({FORESTFLOW_ROWS} // rows, 1, 100)",
    ),
    "bootstrap": Method(
        bootstrap, peer=False, note="each column resampled independently"
    ),
    "train copy": Method(train_copy, peer=False, note="the train rows (reference)"),
}
# Differentially private methods (benchmarks/bench_privacy.py --part dp); not
# run by default here. Domains are public metadata (public_domains).
PRIVATE_EPSILONS = (1, 3, 10)
for _epsilon in PRIVATE_EPSILONS:
    for _family in ("lipschitz", "proximal"):
        METHODS[f"skflow {_family} dp{_epsilon}"] = Method(
            _skflow_private(_family, _epsilon),
            ("skflow",),
            peer=False,
            slow=True,
            private=True,
            note=f"TabularEncoder(domains) + {_family} sampler, "
            f"DifferentialPrivacy({_epsilon}, delta=1e-5)",
        )
    METHODS[f"tabularargn dp{_epsilon}"] = Method(
        _tabular_argn_private(_epsilon),
        ("mostlyai.engine",),
        slow=True,
        private=True,
        note=f"mostlyai-engine, differential_privacy max_epsilon={_epsilon}, "
        "delta=1e-5, value_protection=False",
    )

# Seconds per (method, table, seed) before the child is killed.
TIMEOUTS = {name: 600 for name in METHODS}
TIMEOUTS.update(ctgan=300, tvae=300, tabularargn=300)
TIMEOUTS["forestflow"] = int(FORESTFLOW_BUDGET_S * 1.5)


def missing_modules(method):
    """The modules a method needs that this environment lacks."""
    absent = []
    for module in METHODS[method].needs:
        try:
            if importlib.util.find_spec(module) is None:
                absent.append(module)
        except ModuleNotFoundError:
            absent.append(module)
    return absent


# --------------------------------------------------------------------------
# Child processes: one (method, table, seed) each, with a timeout
# --------------------------------------------------------------------------


def run_child(job, timeout, threads):
    """Pickle ``job`` to a child interpreter; return its result dict.

    The child gets its own process group, so a timeout kills the workers it
    started too.
    """
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    # The child runs in a scratch folder (syntheval writes a file into the
    # working directory), so relative PYTHONPATH entries are made absolute.
    paths = env.get("PYTHONPATH", "").split(os.pathsep)
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths if p)
    with tempfile.TemporaryDirectory() as folder:
        source, target = os.path.join(folder, "in.pkl"), os.path.join(folder, "out")
        log = os.path.join(folder, "log")
        with open(source, "wb") as handle:
            pickle.dump(job, handle)
        command = [sys.executable, os.path.abspath(__file__), "--child", source, target]
        with open(log, "w") as output:
            child = subprocess.Popen(
                command,
                stdout=output,
                stderr=output,
                env=env,
                cwd=folder,
                start_new_session=True,
            )
            try:
                child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                return {"error": f"timeout after {timeout} s"}
        if os.path.exists(target):
            with open(target, "rb") as handle:
                return pickle.load(handle)
        with open(log) as handle:
            lines = [line for line in handle.read().splitlines() if line.strip()]
        tail = lines[-1] if lines else f"exit status {child.returncode}"
        return {"error": f"crashed: {tail[:150]}"}


def child_main(source, target):
    """Run one job in this process and pickle its result."""
    with open(source, "rb") as handle:
        job = pickle.load(handle)
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    np.random.seed(job.get("seed", 0))  # noqa: NPY002 (peers use global state)
    result = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if job["kind"] == "syntheval":
                result["scores"] = syntheval_scores(**job["args"])
            else:
                global AUTO_BUDGET_S
                AUTO_BUDGET_S = job.get("auto_budget", AUTO_BUDGET_S)
                start = time.perf_counter()
                frame = METHODS[job["method"]].fit_sample(
                    job["train"], job["n_rows"], job["seed"]
                )
                result["seconds"] = time.perf_counter() - start
                result["frame"] = pd.DataFrame(frame).reset_index(drop=True)
        except Exception as exc:
            result["error"] = _short(exc)
    messages = []
    for item in caught:
        text = f"{item.category.__name__}: {str(item.message).splitlines()[0]}"
        if text[:100] not in [m[:100] for m in messages]:
            messages.append(text[:200])
    result["warnings"] = (len(caught), messages[:4])
    with open(target, "wb") as handle:
        pickle.dump(result, handle)


def _short(exc):
    text = str(exc).strip()
    if text.startswith("skipped:"):
        return text
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:160]


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


def _kind(dtype):
    """``"bool"``, ``"int"``, ``"float"``, ``"date"`` or ``"text"``."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    return "text"


def _seconds(values):
    values = pd.to_datetime(values, errors="coerce")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return (values - pd.Timestamp(0)) / pd.Timedelta(seconds=1)


def metric_frame(frame, train):
    """``frame`` in the train columns' terms: numbers and dates as float64
    seconds, categories as strings, NaN kept; unparseable values become NaN.
    """
    out = {}
    for name in train.columns:
        kind = _kind(train[name].dtype)
        values = frame[name].reset_index(drop=True)
        if kind == "date":
            out[name] = _seconds(values).astype(float)
        elif kind in ("int", "float"):
            out[name] = pd.to_numeric(values, errors="coerce").astype(float)
        else:
            text = values.astype(object)
            out[name] = text.where(values.notna(), None).map(
                lambda v: v if v is None else str(v)
            )
    return pd.DataFrame(out)


def is_categorical(train, name):
    return _kind(train[name].dtype) in ("text", "bool")


def _model_frame(frames, train):
    """Frames ready for HistGradientBoosting: shared pandas categories (the most
    frequent MAX_LEVELS over all frames, the rest pooled), floats elsewhere.
    """
    out = [f.copy() for f in frames]
    for name in frames[0].columns:
        if not is_categorical(train, name):
            continue
        counts = pd.concat([f[name] for f in frames]).value_counts()
        keep = list(counts.index[:MAX_LEVELS])
        kept = set(keep)
        for frame in out:
            column = frame[name].map(
                lambda v, kept=kept: v if v is None or v in kept else "(other)"
            )
            frame[name] = pd.Categorical(column, categories=[*keep, "(other)"])
    return out


def c2st_auc(holdout, synthetic, train, seed):
    """Cross-validated AUC of a classifier telling holdout from synthetic rows."""
    n = min(len(holdout), len(synthetic))
    real = holdout.sample(n=n, random_state=seed)
    fake = synthetic.sample(n=n, random_state=seed)
    X = pd.concat(_model_frame([real, fake], train), ignore_index=True)
    y = np.r_[np.zeros(n), np.ones(n)]
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=seed
    )
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    return float(cross_val_score(model, X, y, cv=folds, scoring="roc_auc").mean())


def column_fidelity(holdout, synthetic, train):
    """Mean over columns of KS (numbers, dates) or TVD (categories)."""
    from scipy.stats import ks_2samp

    scores = []
    for name in train.columns:
        if is_categorical(train, name):
            p = holdout[name].fillna("<NA>").value_counts(normalize=True)
            q = synthetic[name].fillna("<NA>").value_counts(normalize=True)
            scores.append(0.5 * p.sub(q, fill_value=0).abs().sum())
        else:
            a, b = holdout[name].dropna(), synthetic[name].dropna()
            scores.append(ks_2samp(a, b).statistic if len(a) and len(b) else 1.0)
    return float(np.mean(scores))


def _binned(frame, holdout, train):
    """Integer codes per column: holdout deciles for numbers (NaN its own bin),
    holdout categories for text (others pooled)."""
    codes = {}
    for name in train.columns:
        if is_categorical(train, name):
            levels = pd.Index(holdout[name].dropna().unique())
            code = levels.get_indexer(frame[name])
            code[code < 0] = len(levels)
            code[frame[name].isna().to_numpy()] = len(levels) + 1
        else:
            ref = holdout[name].dropna().to_numpy()
            edges = np.unique(np.quantile(ref, np.linspace(0, 1, N_BINS + 1)[1:-1]))
            values = frame[name].to_numpy()
            code = np.searchsorted(edges, values, side="right")
            code[np.isnan(values)] = len(edges) + 1
        codes[name] = code
    return codes


def pair_fidelity(holdout, synthetic, train):
    """Mean TVD between 2-D histograms over all column pairs."""
    real, fake = _binned(holdout, holdout, train), _binned(synthetic, holdout, train)
    names = list(train.columns)
    scores = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            p = pd.Series(list(zip(real[a], real[b]))).value_counts(normalize=True)
            q = pd.Series(list(zip(fake[a], fake[b]))).value_counts(normalize=True)
            scores.append(0.5 * p.sub(q, fill_value=0).abs().sum())
    return float(np.mean(scores)) if scores else np.nan


def correlation_difference(holdout, synthetic, train):
    """Mean absolute difference of Spearman correlations of numeric columns."""
    numeric = [c for c in train.columns if not is_categorical(train, c)]
    if len(numeric) < 2:
        return np.nan
    upper = np.triu_indices(len(numeric), k=1)
    real = holdout[numeric].corr(method="spearman").to_numpy()[upper]
    fake = synthetic[numeric].corr(method="spearman").to_numpy()[upper]
    return float(np.mean(np.abs(np.nan_to_num(real) - np.nan_to_num(fake))))


def is_classification(train, target):
    kind = _kind(train[target].dtype)
    return kind in ("text", "bool") or (
        kind == "int" and train[target].nunique() <= DISCRETE_LEVELS
    )


def tstr(fit_rows, holdout, train, target, seed):
    """Score on the holdout of a model fitted on ``fit_rows`` (TSTR / TRTR)."""
    fit_rows = fit_rows[fit_rows[target].notna()]
    test = holdout[holdout[target].notna()]
    classify = is_classification(train, target)
    features = [c for c in train.columns if c != target]
    X_fit, X_test = _model_frame([fit_rows[features], test[features]], train)

    def labels(values):
        if not classify or is_categorical(train, target):
            return values.to_numpy()
        return np.rint(values.to_numpy()).astype(int).astype(str)

    y_fit, y_test = labels(fit_rows[target]), labels(test[target])
    if classify:
        if len(np.unique(y_fit)) < 2:
            return float(accuracy_score(y_test, np.full(len(y_test), y_fit[0])))
        model = HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=seed
        )
        return float(accuracy_score(y_test, model.fit(X_fit, y_fit).predict(X_test)))
    model = HistGradientBoostingRegressor(
        categorical_features="from_dtype", random_state=seed
    )
    return float(r2_score(y_test, model.fit(X_fit, y_fit).predict(X_test)))


def _gower_matrix(frame, train):
    """Rows as vectors whose L1 distances are Gower-like."""
    parts = []
    for name in train.columns:
        if is_categorical(train, name):
            levels = list(train[name].dropna().unique())
            column = frame[name]
            parts += [0.5 * (column == level).to_numpy(float) for level in levels]
            parts.append(0.5 * column.isna().to_numpy(float))
        else:
            ref = train[name]
            low, span = ref.min(), ref.max() - ref.min()
            span = span if span > 0 else 1.0
            values = frame[name].to_numpy()
            parts.append(np.nan_to_num((values - low) / span, nan=0.0))
            parts.append(np.isnan(values).astype(float))
    return np.column_stack(parts)


def dcr_ratio(train, holdout, synthetic):
    """Median distance to the closest train row: synthetic over holdout."""
    nn = NearestNeighbors(n_neighbors=1, metric="manhattan")
    nn.fit(_gower_matrix(train, train))
    d_synth = nn.kneighbors(_gower_matrix(synthetic, train))[0][:, 0]
    d_hold = nn.kneighbors(_gower_matrix(holdout, train))[0][:, 0]
    if np.median(d_hold) > 0:
        return float(np.median(d_synth) / np.median(d_hold))
    return float(np.mean(d_synth) / max(np.mean(d_hold), 1e-12))


def copy_share(train, rows):
    """Share of ``rows`` equal to some train row (NaN equal to NaN)."""
    seen = set(pd.util.hash_pandas_object(train.astype(str), index=False))
    hashes = pd.util.hash_pandas_object(rows.astype(str), index=False)
    return float(np.mean([h in seen for h in hashes]))


def validity(raw, synthetic, train_raw, train):
    """Missing-rate error, unseen categories, out-of-range, off-grid, dtypes."""
    miss = max(
        abs(synthetic[c].isna().mean() - train[c].isna().mean()) for c in train.columns
    )
    unseen, out_range, off_grid = [], [], []
    for name in train.columns:
        values = synthetic[name].dropna()
        seen = train[name].dropna()
        if is_categorical(train, name):
            unseen.append(float((~values.isin(set(seen))).mean()) if len(values) else 0)
            continue
        if len(values):
            outside = (values < seen.min()) | (values > seen.max())
            out_range.append(float(outside.mean()))
        if seen.nunique() <= DISCRETE_LEVELS and len(values):
            off_grid.append(float((~values.isin(set(seen))).mean()))
    changed = sum(
        _kind(raw[c].dtype) != _kind(train_raw[c].dtype)
        for c in train_raw.columns
        if c in raw.columns
    )
    mean = lambda xs: float(np.mean(xs)) if xs else np.nan  # noqa: E731
    return {
        "miss err": float(miss),
        "unseen": mean(unseen),
        "range": mean(out_range),
        "off-grid": mean(off_grid),
        "dtypes": float(changed),
    }


def score(raw, train_raw, train, holdout, target, seed):
    """All metrics of one synthetic table (``raw``, as the method returned it)."""
    missing = [c for c in train_raw.columns if c not in raw.columns]
    if missing or len(raw) == 0:
        raise ValueError(f"returned {len(raw)} rows, missing columns {missing[:3]}")
    synthetic = metric_frame(raw, train_raw)
    return {
        "C2ST": c2st_auc(holdout, synthetic, train, seed),
        "column": column_fidelity(holdout, synthetic, train),
        "pairs": pair_fidelity(holdout, synthetic, train),
        "corr": correlation_difference(holdout, synthetic, train),
        "TSTR": tstr(synthetic, holdout, train_raw, target, seed),
        "DCR": dcr_ratio(train, holdout, synthetic),
        "copies": copy_share(train, synthetic),
        **validity(raw, synthetic, train_raw, train),
    }


def syntheval_scores(train, holdout, synthetic, categorical, target):
    """syntheval's mean normalised utility and privacy scores per method.

    syntheval refuses missing values by default; rows with one are dropped
    from every frame it scores (``missing_directive="drop"``), so on tables
    with gaps its scores cover the complete rows only.
    """
    from syntheval import SynthEval

    scores = {}
    for method, rows in synthetic.items():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                evaluator = SynthEval(
                    train,
                    holdout_dataframe=holdout,
                    cat_cols=categorical,
                    verbose=False,
                    console="off",
                    enable_plots=False,
                    show_warnings=False,
                    missing_directive="drop",
                )
                result = evaluator.evaluate(rows, target, presets_file="fast_eval")
            by_dim = result.groupby("dim")["n_val"].mean()
            scores[method] = {
                "SE u": float(by_dim.get("u", np.nan)),
                "SE p": float(by_dim.get("p", np.nan)),
            }
        except Exception as exc:
            scores[method] = {"error": _short(exc)}
    return scores


def _syntheval_frame(frame, train):
    # syntheval wants numbers: dates as seconds, categories as strings.
    out = frame.copy()
    for name in train.columns:
        if is_categorical(train, name):
            out[name] = out[name].astype(object)
    return out


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

FIDELITY = ["C2ST", "column", "pairs", "corr", "TSTR", "SE u"]
PRIVACY = ["DCR", "copies", "SE p", "miss err", "unseen", "range", "off-grid"]
PRIVACY += ["dtypes", "s", "s / CART"]
WITH_STD = {"C2ST", "column", "pairs", "TSTR"}


def _cell(values, key):
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "-"
    digits = 1 if key in ("s", "s / CART") else 3
    text = f"{np.mean(values):.{digits}f}"
    if key in WITH_STD and len(values) > 1:
        text += f" +- {np.std(values):.{digits}f}"
    return text


def print_table(name, info, results, methods, seeds):
    """One markdown table per group of columns; a row per method."""
    print(f"\n### {name}: {info}\n")
    cart_s = [r["s"] for r in results.get("cart", []) if "s" in r]
    for columns, title in [
        (FIDELITY, "fidelity, utility"),
        (PRIVACY, "privacy, validity, cost"),
    ]:
        print(f"{title}\n")
        print("| method | " + " | ".join(columns) + " |")
        print("|---" * (len(columns) + 1) + "|")
        for method in methods:
            runs = results.get(method, [])
            good = [r for r in runs if "error" not in r]
            if not good:
                reason = runs[0]["error"] if runs else "not run"
                print(f"| {method} | failed: {reason} |" + " |" * (len(columns) - 1))
                continue
            label = method
            if len(good) < len(runs):
                label += f" ({len(good)}/{len(runs)} seeds)"
            cells = []
            for key in columns:
                if key == "s / CART":
                    ratio = np.mean(cart_s) if cart_s else np.nan
                    cells.append(_cell([np.mean([r["s"] for r in good]) / ratio], key))
                else:
                    cells.append(_cell([r.get(key) for r in good], key))
            print(f"| {label} | " + " | ".join(cells) + " |")
        print()


def print_notes(results, methods):
    """Failures on some seeds and the warnings of skflow's rows."""
    for method in methods:
        runs = results.get(method, [])
        errors = sorted({r["error"] for r in runs if "error" in r})
        good = [r for r in runs if "error" not in r]
        if errors and good:
            print(f"- {method} failed on some seeds: {'; '.join(errors)}")
        if not METHODS[method].peer and method not in ("bootstrap", "train copy"):
            count = sum(r.get("warnings", (0, []))[0] for r in runs)
            messages = {m for r in runs for m in r.get("warnings", (0, []))[1]}
            for message in sorted(messages):
                print(f"- {method} warned ({count} warnings in all): {message}")
        se_errors = sorted({r["SE error"] for r in runs if "SE error" in r})
        if se_errors:
            print(f"- syntheval on {method}: {'; '.join(se_errors)}")


def print_summary(all_results, methods):
    peers = [m for m in methods if METHODS[m].peer]
    print("\n### Summary: winners (train copy excluded) and skflow's gap\n")
    print(
        "| table | C2ST winner | pairs winner | skflow C2ST - best peer "
        "| skflow pairs - best peer |"
    )
    print("|---|---|---|---|---|")

    def mean_of(runs, key):
        values = [r[key] for r in runs if key in r and np.isfinite(r[key])]
        return np.mean(values) if values else np.nan

    for table, results in all_results.items():
        row = [table]
        gaps = []
        for key in ("C2ST", "pairs"):
            means = {
                m: mean_of(results.get(m, []), key)
                for m in methods
                if m != "train copy"
            }
            means = {m: v for m, v in means.items() if np.isfinite(v)}
            row.append(
                f"{min(means, key=means.get)} ({min(means.values()):.3f})"
                if means
                else "-"
            )
            best_peer = [means[m] for m in peers if m in means]
            if "skflow" not in means:
                runs = results.get("skflow", [])
                gaps.append("skflow failed" if runs else "skflow not in --methods")
            elif not best_peer:
                gaps.append("no peer ran")
            else:
                gaps.append(f"{means['skflow'] - min(best_peer):+.3f}")
        print("| " + " | ".join(row + gaps) + " |")


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def run_table(name, args, methods, seeds):
    frame = load_table(name, args.max_rows)
    target = TABLES[name].target
    info = (
        f"{len(frame)} rows x {frame.shape[1]} columns ({TABLES[name].package}; "
        f"{TABLES[name].note}); target {target!r} ("
        + ("accuracy" if is_classification(frame, target) else "R^2")
        + ")"
    )
    results = {m: [] for m in methods}
    real_scores, hold_copies = [], []
    splits = {}
    for seed in seeds:
        train_raw, hold_raw = train_test_split(frame, test_size=0.5, random_state=seed)
        train_raw = train_raw.reset_index(drop=True)
        splits[seed] = train_raw, metric_frame(hold_raw, train_raw)
    # Children run --jobs at a time; their rows are scored here in order.
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    pending = {
        (seed, method): pool.submit(_timed_child, method, splits[seed][0], seed, args)
        for seed in seeds
        for method in methods
    }
    for seed in seeds:
        train_raw, holdout = splits[seed]
        train = metric_frame(train_raw, train_raw)
        real_scores.append(tstr(train, holdout, train_raw, target, seed))
        hold_copies.append(copy_share(train, holdout))
        synthetic = {}
        for method in methods:
            out, wall = pending[seed, method].result()
            if "error" not in out:
                try:
                    row = score(out["frame"], train_raw, train, holdout, target, seed)
                    row["s"] = out["seconds"]
                    synthetic[method] = metric_frame(out["frame"], train_raw)
                except Exception as exc:
                    row = {"error": f"scoring failed: {_short(exc)}"}
            else:
                row = {"error": out["error"]}
            row["warnings"] = out.get("warnings", (0, []))
            results[method].append(row)
            status = row.get("error", f"C2ST {row.get('C2ST', np.nan):.3f}")
            print(
                f"  [{name} seed {seed}] {method} ({wall:.0f} s): {status}", flush=True
            )
        if args.syntheval and synthetic:
            add_syntheval(results, synthetic, train, holdout, train_raw, target, args)
    info += (
        f"; TSTR of train-on-real {np.mean(real_scores):.3f}; "
        f"{np.mean(hold_copies):.1%} of holdout rows copy a train row"
    )
    pool.shutdown()
    return info, results


def _timed_child(method, train, seed, args):
    job = {
        "kind": "method",
        "method": method,
        "train": train,
        "n_rows": len(train),
        "seed": seed,
        "auto_budget": args.auto_budget,
    }
    start = time.perf_counter()
    timeout = TIMEOUTS[method]
    if method in ("skflow auto", "skflow fit-sample"):
        # The race, one more candidate fit and the refit.
        timeout = max(timeout, int(3 * args.auto_budget) + 60)
    out = run_child(job, timeout, args.threads)
    return out, time.perf_counter() - start


def add_syntheval(results, synthetic, train, holdout, train_raw, target, args):
    categorical = [c for c in train_raw.columns if is_categorical(train_raw, c)]
    job = {
        "kind": "syntheval",
        "args": {
            "train": _syntheval_frame(train, train_raw),
            "holdout": _syntheval_frame(holdout, train_raw),
            "synthetic": {
                m: _syntheval_frame(f, train_raw) for m, f in synthetic.items()
            },
            "categorical": categorical,
            "target": target if target in categorical else None,
        },
    }
    out = run_child(job, 120 + 30 * len(synthetic), args.threads)
    for method in synthetic:
        run = results[method][-1]
        scores = out.get("scores", {}).get(method, {"error": out.get("error")})
        if "error" in scores:
            run["SE error"] = scores["error"]
        else:
            run.update(scores)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=TABLES)
    parser.add_argument("--methods", nargs="+", default=None, choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one seed, at most 1,000 rows, no slow peers unless --methods names them",
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per child")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="methods fitted at once, each in its own process (seconds get noisier)",
    )
    parser.add_argument("--no-syntheval", dest="syntheval", action="store_false")
    parser.add_argument(
        "--auto-budget",
        type=float,
        default=AUTO_BUDGET_S,
        help="AutoSampler's time_budget in seconds for 'skflow auto' and "
        f"'skflow fit-sample' (default: {AUTO_BUDGET_S:g})",
    )
    args = parser.parse_args(argv)
    methods = args.methods or [m for m in METHODS if not METHODS[m].private]
    if args.quick:
        args.seeds = args.seeds[:1]
        args.max_rows = min(args.max_rows, 1000)
        if args.methods is None:
            methods = [m for m in methods if not METHODS[m].slow]

    start = time.perf_counter()
    warnings.simplefilter("ignore")  # the metrics' (scipy, sklearn) warnings
    import torch

    print(
        f"bench_tabular: seeds {args.seeds}, at most {args.max_rows} rows, "
        f"{args.threads} thread(s) per method, {args.jobs} at once, "
        f"torch {torch.__version__}, "
        f"pandas {pd.__version__}, python {sys.version.split()[0]}"
    )
    available = []
    for method in methods:
        absent = missing_modules(method)
        if absent:
            print(f"  skipped {method}: {', '.join(absent)} not installed")
        else:
            available.append(method)
            print(f"  {method}: {METHODS[method].note} (timeout {TIMEOUTS[method]} s)")
    if args.syntheval and importlib.util.find_spec("syntheval") is None:
        print("  skipped syntheval: not installed")
        args.syntheval = False
    all_results = {}
    for name in args.tables:
        try:
            info, results = run_table(name, args, available, args.seeds)
        except ImportError as exc:
            print(
                f"\n### {name}: skipped, {TABLES[name].package} not installed ({exc})"
            )
            continue
        all_results[name] = results
        print_table(name, info, results, available, args.seeds)
        print_notes(results, available)
    if all_results:
        print_summary(all_results, available)
    print(f"\nTotal time {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        warnings.filterwarnings("ignore")
        child_main(sys.argv[2], sys.argv[3])
    else:
        main()
