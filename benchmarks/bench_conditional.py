"""Conditional generation and imputation: closed forms, real tables, peers.

Three parts, each printing a Markdown table (``--part closed-form``,
``--part impute``, ``--part conditional``; the default runs all three):

closed-form
    Every family fitted on rows of a correlated 3-D Gaussian and of a bimodal
    2-D Gaussian mixture, then ``sample(n, conditions={0: c})``. The table
    gives the generated rows' conditional mean and standard deviation of the
    free columns beside the exact ones (in units of the data's spread), and,
    for the mixture, beside each model's own conditional by brute force
    (unconditioned draws within 0.02 spreads of ``c``): the first gap is the
    model's error, the second the conditional sampler's.

impute
    Bundled tables (sklearn's wine and diabetes; vega_datasets' cars,
    lifelines' gbsg2 and statsmodels' fair when installed), rows with a
    missing value dropped, then cells masked completely at random (MCAR) or
    at random given one fully observed column (MAR: the chance of a cell
    going missing is logistic in that column, shifted so the mean rate is
    the target). Every imputer fills the masked cells; the table gives the
    RMSE over masked numeric cells (each column in units of its standard
    deviation, then averaged over columns), the accuracy over masked
    categorical cells, and the coverage of 90% intervals from ``--draws``
    multiple imputations where a method draws (with 39 draws, from the 2nd to
    the 38th smallest: for draws from the right conditional a fresh value
    falls inside with probability exactly 0.9; plain 5% and 95% quantiles of
    20 draws would cover only 0.81).

    * ``GenerativeImputer``: skflow's defaults (a Gaussian mixture behind a
      TabularEncoder, five rounds of fill and refit, each draw from its own
      model fitted to a bootstrap resample), the point estimate the mean
      (mode for levels) of the draws; the table goes in as a DataFrame,
      categories as they are. ``(one model)``: ``sample_posterior=False``,
      every draw from the one fitted model.
    * ``IterativeImputer`` with BayesianRidge (its default; the intervals
      from ``sample_posterior=True`` under ``--draws`` seeds) and with a
      RandomForestRegressor (MissForest's model, 50 trees, 5 rounds).
    * ``KNNImputer`` (5 neighbours) and the column mean.
    * Peers, skipped when not installed (``benchmarks/requirements-tabular.txt``):
      ForestDiffusion's imputation (``diffusion_type="vp"``, REPAINT off,
      ``--draws`` imputations), mostlyai-engine's TabularARGN (``impute``).

    scikit-learn's imputers and ForestDiffusion see numbers: columns
    standardised on their observed cells, categories as integer codes,
    imputed codes rounded to the nearest level.

conditional
    Real tables split 50/50; each method is fitted on the train rows and
    asked for rows meeting one condition on a categorical column (SDV's
    ``sample_from_conditions`` takes equalities only). C2ST (cross-validated
    ROC AUC of gradient boosting, 0.5 best) between those rows and the
    holdout rows that meet the condition; ``train rows`` is the train rows
    meeting it (the floor set by the group's size). Peers, skipped when not
    installed: SDV's GaussianCopula and CTGAN (``sample_from_conditions``),
    TabularARGN (``sample(seed_data=...)``).

Run (the peers need their own environment, see ``bench_tabular.py``)::

    python benchmarks/bench_conditional.py --part closed-form
    python benchmarks/bench_conditional.py --part impute --seeds 0 1
    PYTHONPATH=. .venv-tabular/bin/python benchmarks/bench_conditional.py \\
        --part conditional
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

# --------------------------------------------------------------------------
# Part 1: closed forms
# --------------------------------------------------------------------------

GAUSSIAN_COV = np.array([[1.0, 0.8, 0.5], [0.8, 1.0, 0.3], [0.5, 0.3, 1.0]])
MIXTURE_WEIGHTS = np.array([0.5, 0.5])
MIXTURE_MEANS = np.array([[-1.0, -1.0], [1.0, 1.0]])
MIXTURE_COV = np.array([[0.5, 0.35], [0.35, 0.5]])
# Off the midpoint, so that the two components' weights in the conditional
# differ (at 0 the exact conditional mean is 0 by symmetry).
MIXTURE_GIVEN = 0.5


def gaussian_conditional(cov, given_value):
    """Exact mean and covariance of columns 1.. given column 0 (zero mean)."""
    gain = cov[1:, 0] / cov[0, 0]
    mean = gain * given_value
    conditional_cov = cov[1:, 1:] - np.outer(gain, cov[0, 1:])
    return mean, conditional_cov


def mixture_conditional(given_value):
    """Exact mean and variance of x1 given x0 under the bimodal mixture."""
    var0 = MIXTURE_COV[0, 0]
    log_w = np.log(MIXTURE_WEIGHTS) - (given_value - MIXTURE_MEANS[:, 0]) ** 2 / (
        2 * var0
    )
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    gain = MIXTURE_COV[1, 0] / var0
    means = MIXTURE_MEANS[:, 1] + gain * (given_value - MIXTURE_MEANS[:, 0])
    var = MIXTURE_COV[1, 1] - gain * MIXTURE_COV[0, 1]
    mean = float(w @ means)
    return mean, float(w @ (var + means**2) - mean**2)


def closed_form_samplers(seed):
    import skflow

    return {
        "GaussianMixtureSampler": skflow.GaussianMixtureSampler(random_state=seed),
        "EntropicOTGenerator": skflow.EntropicOTGenerator(random_state=seed),
        "SlicedWassersteinFlow": skflow.SlicedWassersteinFlow(random_state=seed),
        "ProximalMFGFlow": skflow.ProximalMFGFlow(random_state=seed),
        "LipschitzParticleSampler": skflow.LipschitzParticleSampler(random_state=seed),
    }


def brute_force_conditional(model, given_value, width, seed, n_draws=400_000):
    """Mean and spread of column 1 over unconditioned draws near ``given_value``."""
    rows = model.sample(n_draws, random_state=seed)
    near = rows[np.abs(rows[:, 0] - given_value) < width, 1]
    return float(near.mean()), float(near.std()), len(near)


def run_closed_form(seeds, n_train, n_draws):
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        gaussian = rng.multivariate_normal(np.zeros(3), GAUSSIAN_COV, size=n_train)
        labels = rng.choice(2, size=n_train, p=MIXTURE_WEIGHTS)
        mixture = MIXTURE_MEANS[labels] + rng.multivariate_normal(
            np.zeros(2), MIXTURE_COV, size=n_train
        )
        exact_mean, exact_cov = gaussian_conditional(GAUSSIAN_COV, 1.0)
        mix_mean, mix_var = mixture_conditional(MIXTURE_GIVEN)
        for name, sampler in closed_form_samplers(seed).items():
            start = time.perf_counter()
            model = sampler.fit(gaussian)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            drawn = model.sample(n_draws, random_state=seed, conditions={0: 1.0})
            draw_s = time.perf_counter() - start
            report = model.conditional_report_
            rows.append(
                {
                    "case": "Gaussian, x0 = 1",
                    "sampler": name,
                    "seed": seed,
                    "method": report["method"],
                    "mean": _pair(drawn[:, 1:].mean(axis=0)),
                    "exact mean": _pair(exact_mean),
                    "sd": _pair(drawn[:, 1:].std(axis=0)),
                    "exact sd": _pair(np.sqrt(np.diag(exact_cov))),
                    "corr": f"{np.corrcoef(drawn[:, 1], drawn[:, 2])[0, 1]:.2f}",
                    "exact corr": f"{_corr(exact_cov):.2f}",
                    "model's own": "",
                    "fit s": f"{fit_s:.1f}",
                    "draw s": f"{draw_s:.2f}",
                }
            )
            print(f"  {name} gaussian done", file=sys.stderr, flush=True)
            model = closed_form_samplers(seed)[name].fit(mixture)
            start = time.perf_counter()
            drawn = model.sample(
                n_draws, random_state=seed, conditions={0: MIXTURE_GIVEN}
            )
            draw_s = time.perf_counter() - start
            own_mean, own_sd, n_near = brute_force_conditional(
                model, MIXTURE_GIVEN, 0.02 * mixture[:, 0].std(), seed
            )
            rows.append(
                {
                    "case": f"mixture, x0 = {MIXTURE_GIVEN}",
                    "sampler": name,
                    "seed": seed,
                    "method": model.conditional_report_["method"],
                    "mean": f"{drawn[:, 1].mean():.2f}",
                    "exact mean": f"{mix_mean:.2f}",
                    "sd": f"{drawn[:, 1].std():.2f}",
                    "exact sd": f"{np.sqrt(mix_var):.2f}",
                    "corr": "",
                    "exact corr": "",
                    "model's own": f"{own_mean:.2f} / {own_sd:.2f} ({n_near} rows)",
                    "fit s": "",
                    "draw s": f"{draw_s:.2f}",
                }
            )
            print(f"  {name} mixture done", file=sys.stderr, flush=True)
    columns = list(rows[0])
    print(
        "\n## Closed-form conditionals (mean and sd of the free columns; "
        "model's own = brute-force conditional of the fitted model, mean / sd)\n"
    )
    print(_markdown(rows, columns))


def _pair(values):
    return "(" + ", ".join(f"{v:.2f}" for v in values) + ")"


def _corr(cov):
    return cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])


# --------------------------------------------------------------------------
# Part 2: imputation
# --------------------------------------------------------------------------


def _sklearn_table(name):
    from sklearn import datasets

    data = getattr(datasets, f"load_{name}")(as_frame=True)
    return data.frame.drop(columns=["target"])


def _cars():
    from vega_datasets import local_data

    frame = local_data.cars().drop(columns=["Name"])
    frame["Year"] = frame["Year"].dt.year.astype(float)
    return frame


def _gbsg2():
    from lifelines import datasets

    return datasets.load_gbsg2()


def _fair():
    import statsmodels.api as sm

    return sm.datasets.fair.load_pandas().data


IMPUTE_TABLES = {
    "wine": lambda: _sklearn_table("wine"),
    "diabetes": lambda: _sklearn_table("diabetes"),
    "cars": _cars,
    "gbsg2": _gbsg2,
    "fair": _fair,
}


def load_complete_table(name, max_rows):
    """The table's complete rows, at most ``max_rows`` (a fixed subsample)."""
    frame = IMPUTE_TABLES[name]().dropna().reset_index(drop=True)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(str).astype("category")
        elif pd.api.types.is_integer_dtype(frame[column]):
            frame[column] = frame[column].astype(float)
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=0).reset_index(drop=True)
    return frame


def make_mask(frame, mechanism, rate, rng):
    """Boolean mask of the cells to hide; MAR keeps its driver column whole."""
    n_rows, n_columns = frame.shape
    if mechanism == "MCAR":
        return rng.random((n_rows, n_columns)) < rate
    numeric = [i for i, c in enumerate(frame.columns) if _is_numeric(frame[c])]
    driver = numeric[0]
    values = frame.iloc[:, driver].to_numpy(dtype=float)
    z = (values - values.mean()) / values.std()
    # Each cell goes missing with probability sigmoid(shift + 2 z): rows with a
    # large driver lose more cells. The shift is found by bisection so that
    # the mean rate over the masked columns is ``rate``.
    low, high = -20.0, 20.0
    for _ in range(60):
        shift = (low + high) / 2
        mean_rate = (1 / (1 + np.exp(-(shift + 2 * z)))).mean()
        low, high = (shift, high) if mean_rate < rate else (low, shift)
    p = 1 / (1 + np.exp(-(shift + 2 * z)))
    mask = rng.random((n_rows, n_columns)) < p[:, None]
    mask[:, driver] = False
    return mask


def _is_numeric(series):
    return pd.api.types.is_numeric_dtype(series) and not isinstance(
        series.dtype, pd.CategoricalDtype
    )


class NumericView:
    """The table as a float matrix: numbers standardised on observed cells,
    categories as integer codes (for imputers that only take numbers)."""

    def __init__(self, frame, masked):
        self.frame = frame
        self.categorical = [not _is_numeric(frame[c]) for c in frame.columns]
        columns = []
        for j, name in enumerate(frame.columns):
            if self.categorical[j]:
                columns.append(frame[name].cat.codes.to_numpy(dtype=float))
            else:
                columns.append(frame[name].to_numpy(dtype=float))
        self.values = np.column_stack(columns)
        observed = np.where(masked, np.nan, self.values)
        self.center = np.nanmean(observed, axis=0)
        self.scale = np.nanstd(observed, axis=0)
        self.scale[self.scale == 0] = 1.0
        self.center[self.categorical] = 0.0
        self.scale[self.categorical] = 1.0
        self.masked = (observed - self.center) / self.scale

    def back(self, matrix):
        """A completed matrix back in the data's units, codes rounded."""
        values = matrix * self.scale + self.center
        for j, categorical in enumerate(self.categorical):
            if categorical:
                n_levels = len(self.frame.iloc[:, j].cat.categories)
                values[:, j] = np.clip(np.rint(values[:, j]), 0, n_levels - 1)
        return values


def impute_generative(frame, mask, seed, n_draws, **params):
    from skflow.impute import GenerativeImputer

    masked = frame.mask(mask)
    imputer = GenerativeImputer(n_imputations=n_draws, random_state=seed, **params)
    draws = imputer.fit(masked).multiple_imputations(masked)
    view = NumericView(frame, mask)
    return [NumericView(draw, mask).values for draw in draws], view


def _iterative(estimator=None, **params):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    return IterativeImputer(estimator=estimator, **params)


def impute_numeric(make_imputer, n_draws):
    """Adapter for imputers of standardised numeric matrices; ``make_imputer(k)``
    returns the imputer for draw ``k`` (one draw: a point imputer)."""

    def impute(frame, mask, seed, draws=n_draws):
        view = NumericView(frame, mask)
        out = []
        for k in range(draws):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                filled = make_imputer(seed * 1000 + k).fit_transform(view.masked)
            out.append(view.back(filled))
        return out, view

    return impute


def impute_bayesian_ridge(frame, mask, seed, n_draws):
    point, view = impute_numeric(lambda s: _iterative(random_state=s), 1)(
        frame, mask, seed
    )
    draws, _ = impute_numeric(
        lambda s: _iterative(sample_posterior=True, random_state=s), n_draws
    )(frame, mask, seed)
    return draws, view, point[0]


def impute_missforest(frame, mask, seed, n_draws):
    from sklearn.ensemble import RandomForestRegressor

    def make(s):
        forest = RandomForestRegressor(n_estimators=50, n_jobs=1, random_state=s)
        return _iterative(forest, max_iter=5, random_state=s)

    return impute_numeric(make, 1)(frame, mask, seed)


def impute_knn(frame, mask, seed, n_draws):
    from sklearn.impute import KNNImputer

    return impute_numeric(lambda s: KNNImputer(n_neighbors=5), 1)(frame, mask, seed)


def impute_mean(frame, mask, seed, n_draws):
    from sklearn.impute import SimpleImputer

    view = NumericView(frame, mask)
    numeric = SimpleImputer().fit_transform(view.masked)
    mode = SimpleImputer(strategy="most_frequent").fit_transform(view.masked)
    filled = np.where(view.categorical, mode, numeric)
    return [view.back(filled)], view


def impute_forestdiffusion(frame, mask, seed, n_draws):
    from ForestDiffusion import ForestDiffusionModel

    view = NumericView(frame, mask)
    cats = [j for j, c in enumerate(view.categorical) if c]
    codes = np.where(np.isnan(view.masked), np.nan, view.masked)
    # ForestDiffusion drops rows missing in every cell (their imputation comes
    # back shorter, and the case crashed). Such a row carries no information:
    # it gets the marginal, each draw a random observed value per column.
    empty = np.isnan(codes).all(axis=1)
    rng = np.random.default_rng(seed)
    model = ForestDiffusionModel(
        codes[~empty],
        n_t=50,
        duplicate_K=int(np.clip(2_000 // len(codes), 1, 100)),
        diffusion_type="vp",
        # Not cat_indexes: its dummy coding (pd.get_dummies) turns a missing
        # category into the first level, so impute never fills it (accuracy
        # 0.14 on cars' three origins). Integer codes are imputed as numbers,
        # rounded and clipped to the codes seen.
        int_indexes=cats,
        n_jobs=1,
        seed=seed,
    )
    np.random.seed(seed)  # noqa: NPY002  (ForestDiffusion draws from numpy's global state)
    n_draws = min(n_draws, PEER_DRAWS)
    filled = model.impute(k=n_draws)
    filled = filled if n_draws > 1 else [filled]
    draws = []
    for partial in filled:
        full = np.empty_like(codes)
        full[~empty] = np.asarray(partial, dtype=float)
        for j in range(codes.shape[1]):
            observed = codes[~np.isnan(codes[:, j]), j]
            full[empty, j] = rng.choice(observed, size=int(empty.sum()))
        draws.append(view.back(full))
    return draws, view


def impute_tabular_argn(frame, mask, seed, n_draws):
    from mostlyai.engine import TabularARGN

    masked = frame.mask(mask)
    model = TabularARGN(max_training_time=1.0, device="cpu", random_state=seed)
    model.fit(masked)
    draws = [model.impute(masked) for _ in range(min(n_draws, PEER_DRAWS))]
    view = NumericView(frame, mask)
    return [NumericView(_categories_like(d, frame), mask).values for d in draws], view


def _categories_like(draw, frame):
    out = draw.copy()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            out[name] = pd.Categorical(
                out[name].astype(str), categories=frame[name].cat.categories
            )
        else:
            out[name] = pd.to_numeric(out[name], errors="coerce").astype(float)
    return out


def impute_generative_one_model(frame, mask, seed, n_draws):
    return impute_generative(frame, mask, seed, n_draws, sample_posterior=False)


# The slow peers draw 19 imputations (enough for an exact 90% interval: the
# smallest and largest of 19) and run at the rates in --peer-rates only.
PEER_DRAWS = 19
SLOW_PEERS = ("ForestDiffusion", "TabularARGN")

IMPUTERS = {
    "GenerativeImputer": (impute_generative, ()),
    "GenerativeImputer (one model)": (impute_generative_one_model, ()),
    "IterativeImputer (BayesianRidge)": (impute_bayesian_ridge, ()),
    "IterativeImputer (RandomForest)": (impute_missforest, ()),
    "KNNImputer": (impute_knn, ()),
    "mean": (impute_mean, ()),
    "ForestDiffusion": (impute_forestdiffusion, ("ForestDiffusion",)),
    "TabularARGN": (impute_tabular_argn, ("mostlyai.engine",)),
}


def score_imputation(truth_view, mask, draws, point=None):
    """RMSE (numeric, per-column sd units), accuracy (categorical), coverage."""
    truth = truth_view.values
    stack = np.stack(draws)
    categorical = np.asarray(truth_view.categorical)
    if point is None:
        point = stack.mean(axis=0)
        if categorical.any():
            point[:, categorical] = _mode(stack[:, :, categorical])
    sd = truth.std(axis=0)
    sd[sd == 0] = 1.0
    rmse, accuracy, covered, n_cells = [], [], 0, 0
    for j in range(truth.shape[1]):
        rows = mask[:, j]
        if not rows.any():
            continue
        if categorical[j]:
            accuracy.append(float((point[rows, j] == truth[rows, j]).mean()))
            continue
        error = (point[rows, j] - truth[rows, j]) / sd[j]
        rmse.append(float(np.sqrt(np.mean(error**2))))
        if len(draws) > 1:
            low, high = prediction_interval(stack[:, rows, j])
            covered += int(((truth[rows, j] >= low) & (truth[rows, j] <= high)).sum())
            n_cells += int(rows.sum())
    return {
        "rmse": np.mean(rmse) if rmse else np.nan,
        "accuracy": np.mean(accuracy) if accuracy else np.nan,
        "coverage": covered / n_cells if n_cells else np.nan,
    }


def prediction_interval(draws, level=0.9):
    """Order statistics of ``M`` draws that hold a new draw with probability
    ``level``: for exchangeable draws, a fresh one falls below the k-th
    smallest with probability k / (M + 1), so ``[x_(k), x_(M+1-k)]`` with
    ``k = (M + 1)(1 - level) / 2`` is an exact interval (k = 2 for M = 39).
    ``np.quantile(draws, [0.05, 0.95])`` would hold only 0.81 for M = 20.
    """
    n_draws = draws.shape[0]
    k = max(1, int(round((n_draws + 1) * (1 - level) / 2)))
    ordered = np.sort(draws, axis=0)
    return ordered[k - 1], ordered[n_draws - k]


def _mode(stack):
    """Most frequent value over the first axis (small integer codes)."""
    codes = stack.astype(int)
    n_levels = codes.max() + 1
    counts = np.stack([(codes == level).sum(axis=0) for level in range(n_levels)])
    return counts.argmax(axis=0).astype(float)


def run_impute(
    tables, mechanisms, rates, seeds, methods, n_draws, max_rows, peer_rates
):
    import importlib.util

    results = []
    for table in tables:
        try:
            frame = load_complete_table(table, max_rows)
        except ImportError as exc:
            print(f"  {table}: skipped ({exc})", file=sys.stderr)
            continue
        for mechanism in mechanisms:
            for rate in rates:
                for seed in seeds:
                    mask = make_mask(
                        frame, mechanism, rate, np.random.default_rng(seed)
                    )
                    for method in methods:
                        if method in SLOW_PEERS and rate not in peer_rates:
                            continue
                        function, modules = IMPUTERS[method]
                        absent = [
                            m for m in modules if importlib.util.find_spec(m) is None
                        ]
                        row = {
                            "table": table,
                            "mask": f"{mechanism} {rate:.0%}",
                            "seed": seed,
                            "method": method,
                        }
                        if absent:
                            row["error"] = "not installed"
                            results.append(row)
                            continue
                        start = time.perf_counter()
                        try:
                            out = function(frame, mask, seed, n_draws)
                        except Exception as exc:  # a peer failing is a result
                            row["error"] = f"{type(exc).__name__}: {exc}"[:80]
                            results.append(row)
                            print(
                                f"  {table} {method}: {row['error']}", file=sys.stderr
                            )
                            continue
                        draws, view = out[0], out[1]
                        point = out[2] if len(out) > 2 else None
                        row.update(score_imputation(view, mask, draws, point))
                        row["s"] = time.perf_counter() - start
                        results.append(row)
                        print(
                            f"  {table} {row['mask']} {method}: "
                            f"rmse {row['rmse']:.3f} acc {row['accuracy']:.3f} "
                            f"cov {row['coverage']:.3f} ({row['s']:.1f} s)",
                            file=sys.stderr,
                            flush=True,
                        )
    print_impute_tables(pd.DataFrame(results))


def print_impute_tables(results):
    ok = results[results.get("error", pd.Series(index=results.index)).isna()]
    grouped = ok.groupby(["table", "mask", "method"], sort=False)
    summary = grouped[["rmse", "accuracy", "coverage", "s"]].mean().reset_index()
    print("\n## Imputation: RMSE of masked numeric cells (column sd units)\n")
    print(_wide(summary, "rmse", best=min))
    if summary["accuracy"].notna().any():
        print("\n## Imputation: accuracy of masked categorical cells\n")
        print(_wide(summary.dropna(subset=["accuracy"]), "accuracy", best=max))
    print("\n## Coverage of 90% intervals (multiple imputations)\n")
    print(_wide(summary.dropna(subset=["coverage"]), "coverage", best=None))
    print("\n## Seconds per imputation run (fit and fill)\n")
    print(_wide(summary, "s", best=None, digits=1))
    wins = summary.loc[summary.groupby(["table", "mask"])["rmse"].idxmin()]
    print("\nLowest RMSE per (table, mask):")
    print(wins["method"].value_counts().to_string())
    if "error" in results:
        failed = results[results["error"].notna()]
        for _, row in failed.drop_duplicates(["table", "method", "error"]).iterrows():
            print(f"- {row['table']} {row['method']}: {row['error']}")


def _wide(summary, value, best, digits=3):
    table = summary.pivot_table(
        index=["table", "mask"], columns="method", values=value, sort=False
    )
    lines = ["| table | mask | " + " | ".join(table.columns) + " |"]
    lines.append("|---|---|" + "---|" * len(table.columns))
    for (name, mask), row in table.iterrows():
        target = best(row.dropna()) if best and row.notna().any() else None
        cells = []
        for v in row:
            text = "" if np.isnan(v) else f"{v:.{digits}f}"
            cells.append(f"**{text}**" if target is not None and v == target else text)
        lines.append(f"| {name} | {mask} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Part 3: conditional generation on real tables
# --------------------------------------------------------------------------

# One equality per table on a categorical column (SDV's sample_from_conditions
# takes equalities only), chosen so that at least 120 holdout rows meet it: on
# fewer, the classifier's AUC moves by a tenth from split to split.
CONDITIONS = {
    "cars": {"Origin": "USA"},
    "seattle_weather": {"weather": "fog"},
    "airports": {"state": "AK"},
    "gbsg2": {"tgrade": "II"},
    "fair": {"rate_marriage": 4.0},
}


def _skflow_conditional(sampler_name):
    def draw(train, condition, n_rows, seed):
        import skflow

        sampler = getattr(skflow, sampler_name)(random_state=seed)
        model = skflow.make_generative_pipeline(skflow.TabularEncoder(), sampler)
        model.fit(train)
        rows = model.sample(n_rows, random_state=seed, conditions=condition)
        return rows, model.conditional_report_["method"]

    return draw


def _skflow_filtered(train, condition, n_rows, seed):
    """The default model's own conditional: unconditioned draws, filtered."""
    import skflow

    sampler = skflow.LipschitzParticleSampler(random_state=seed)
    model = skflow.make_generative_pipeline(skflow.TabularEncoder(), sampler)
    model.fit(train)
    rows = model.sample(20 * n_rows, random_state=seed)
    keep = np.ones(len(rows), dtype=bool)
    for column, value in condition.items():
        keep &= (rows[column] == value).to_numpy()
    return rows[keep].head(n_rows), f"filter ({keep.mean():.0%} kept)"


def _sdv_conditional(class_name):
    def draw(train, condition, n_rows, seed):
        from bench_tabular import fit_sdv
        from sdv.sampling import Condition

        synthesizer = fit_sdv(class_name, train, seed)
        wanted = Condition(num_rows=n_rows, column_values=dict(condition))
        return synthesizer.sample_from_conditions([wanted]), "sample_from_conditions"

    return draw


def _tabular_argn_conditional(train, condition, n_rows, seed):
    from mostlyai.engine import TabularARGN

    model = TabularARGN(max_training_time=2.0, device="cpu", random_state=seed)
    model.fit(train)
    seed_rows = pd.DataFrame({c: [v] * n_rows for c, v in condition.items()})
    seed_rows = seed_rows.astype({c: train[c].dtype for c in condition})
    return model.sample(seed_data=seed_rows), "seed_data"


def _train_rows(train, condition, n_rows, seed):
    keep = np.ones(len(train), dtype=bool)
    for column, value in condition.items():
        keep &= (train[column] == value).to_numpy()
    return train[keep], "the real train rows meeting the condition"


CONDITIONAL_METHODS = {
    "skflow (LipschitzParticleSampler)": (
        _skflow_conditional("LipschitzParticleSampler"),
        (),
    ),
    "skflow (its own rows, filtered)": (_skflow_filtered, ()),
    "skflow (GaussianMixtureSampler)": (
        _skflow_conditional("GaussianMixtureSampler"),
        (),
    ),
    "skflow (EntropicOTGenerator)": (_skflow_conditional("EntropicOTGenerator"), ()),
    "GaussianCopula": (_sdv_conditional("GaussianCopulaSynthesizer"), ("sdv",)),
    "CTGAN": (_sdv_conditional("CTGANSynthesizer"), ("sdv",)),
    "TabularARGN": (_tabular_argn_conditional, ("mostlyai.engine",)),
    "train rows": (_train_rows, ()),
}


def run_conditional(tables, seeds, methods, max_rows):
    import importlib.util

    import bench_tabular
    from sklearn.model_selection import train_test_split

    results = []
    for table in tables:
        try:
            frame = bench_tabular.load_table(table, max_rows)
        except ImportError as exc:
            print(f"  {table}: skipped ({exc})", file=sys.stderr)
            continue
        condition = CONDITIONS[table]
        for seed in seeds:
            train_raw, hold_raw = train_test_split(
                frame, test_size=0.5, random_state=seed
            )
            train_raw = train_raw.reset_index(drop=True)
            meets = np.ones(len(hold_raw), dtype=bool)
            for column, value in condition.items():
                meets &= (hold_raw[column] == value).to_numpy()
            hold_raw = hold_raw[meets].reset_index(drop=True)
            holdout = bench_tabular.metric_frame(hold_raw, train_raw)
            train = bench_tabular.metric_frame(train_raw, train_raw)
            for method in methods:
                function, modules = CONDITIONAL_METHODS[method]
                row = {
                    "table": table,
                    "condition": ", ".join(f"{c} = {v}" for c, v in condition.items()),
                    "holdout rows": len(hold_raw),
                    "seed": seed,
                    "method": method,
                }
                if any(importlib.util.find_spec(m) is None for m in modules):
                    results.append({**row, "error": "not installed"})
                    continue
                start = time.perf_counter()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        rows, how = function(train_raw, condition, len(hold_raw), seed)
                except Exception as exc:  # a peer failing is a result
                    results.append(
                        {**row, "error": f"{type(exc).__name__}: {exc}"[:90]}
                    )
                    print(
                        f"  {table} {method}: {results[-1]['error']}", file=sys.stderr
                    )
                    continue
                seconds = time.perf_counter() - start
                synthetic = bench_tabular.metric_frame(
                    pd.DataFrame(rows).reset_index(drop=True), train_raw
                )
                met = np.ones(len(synthetic), dtype=bool)
                for column, value in condition.items():
                    met &= (
                        synthetic[column] == train[column].dtype.type(value)
                        if _is_numeric(train[column])
                        else synthetic[column] == str(value)
                    ).to_numpy()
                row.update(
                    {
                        "C2ST": bench_tabular.c2st_auc(holdout, synthetic, train, seed),
                        "rows met": float(met.mean()),
                        "how": how,
                        "s": seconds,
                    }
                )
                results.append(row)
                print(
                    f"  {table} {method}: C2ST {row['C2ST']:.3f}, met "
                    f"{row['rows met']:.0%} ({seconds:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    print_conditional_table(pd.DataFrame(results))


def print_conditional_table(results):
    ok = results[results.get("error", pd.Series(index=results.index)).isna()]
    keys = ["table", "condition", "holdout rows", "method"]
    grouped = ok.groupby(keys, sort=False)
    summary = grouped[["C2ST", "rows met", "s"]].mean()
    summary["sd"] = grouped["C2ST"].std()
    print(
        "\n## Conditional generation: C2ST against the holdout rows meeting the "
        "condition (0.5 best; mean ± sd over seeds), share of rows meeting it, "
        "seconds\n"
    )
    print("| table | condition | holdout rows | method | C2ST | rows met | s |")
    print("|---|---|---|---|---|---|---|")
    for (table, condition, n_rows, method), r in summary.iterrows():
        c2st = f"{r['C2ST']:.3f}" + ("" if np.isnan(r["sd"]) else f" ± {r['sd']:.3f}")
        print(
            f"| {table} | {condition} | {n_rows} | {method} | {c2st} "
            f"| {r['rows met']:.0%} | {r['s']:.0f} |"
        )
    if "error" in results:
        failed = results[results["error"].notna()]
        for _, row in failed.drop_duplicates(["table", "method", "error"]).iterrows():
            print(f"- {row['table']} {row['method']}: {row['error']}")


def _markdown(rows, columns):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--part", choices=["closed-form", "impute", "conditional", "all"], default="all"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tables", nargs="+", default=list(IMPUTE_TABLES))
    parser.add_argument("--mechanisms", nargs="+", default=["MCAR", "MAR"])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.4])
    parser.add_argument("--methods", nargs="+", default=list(IMPUTERS))
    parser.add_argument("--draws", type=int, default=39)
    parser.add_argument("--peer-rates", type=float, nargs="+", default=[0.1, 0.4])
    parser.add_argument("--conditional-tables", nargs="+", default=list(CONDITIONS))
    parser.add_argument(
        "--conditional-methods", nargs="+", default=list(CONDITIONAL_METHODS)
    )
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--conditional-max-rows", type=int, default=4000)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    if args.part in ("closed-form", "all"):
        run_closed_form(args.seeds, n_train=2000, n_draws=2000)
    if args.part in ("impute", "all"):
        run_impute(
            args.tables,
            args.mechanisms,
            args.rates,
            args.seeds,
            args.methods,
            args.draws,
            args.max_rows,
            args.peer_rates,
        )
    if args.part in ("conditional", "all"):
        run_conditional(
            args.conditional_tables,
            args.seeds,
            args.conditional_methods,
            args.conditional_max_rows,
        )


if __name__ == "__main__":
    main()
