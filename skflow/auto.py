""":class:`AutoSampler`: the best sampler for a table, chosen on held-out rows.

Candidates (the four families in a few settings each, and a Gaussian mixture
as a floor) race by successive halving: every candidate is fitted on the train
part of a first random split and scored on its held-out part, the best third go
on to the next split, and so on until one is left or the splits run out; the
survivor with the best mean score is refitted on every row, unless its lead
over the incumbent (the first candidate: by default the library's default
sampler, which runs every round) is within one standard error of the paired
score differences. Scores join what a classifier can tell apart (the
two-sample AUC) with how far the generated rows are (energy distance, relative
to real rows), and a candidate whose rows sit closer to its training rows
than held-out rows do (``dcr`` under 0.8) loses.

The race is written here rather than with scikit-learn's
``HalvingRandomSearchCV``: that search has no time budget, scores one estimator
per call of a scorer (ours needs the train rows too, for the memorisation
guard), and ranks by one number where ours keeps the guard apart from the
score. The fits of a round run through :class:`joblib.Parallel`, so a Dask or
Ray backend spreads them.
"""

from __future__ import annotations

import math
import time
from numbers import Integral, Real

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, clone
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import ParameterGrid, ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils.validation import check_is_fitted

from ._base import (
    N_JOBS_CONSTRAINT,
    BaseSampler,
    fit_interrupted_warnings,
    keeps_state_on_failure,
    pass_input_scale,
)
from ._compat import HasMethods, Interval, StrOptions, _fit_context
from ._conditional import gaussian_mixture_conditional
from ._docstrings import fill_sampler_docstring
from ._frames import is_dataframe
from ._progress_bars import quiet_progress
from ._torch_utils import check_random_state, draw_seed, to_tensor
from ._validation import check_memory
from .privacy import DifferentialPrivacy, refuse_private

__all__ = ["AutoSampler"]

# Share of the rows held out in each split of the race.
HOLDOUT_SHARE = 0.3
# A candidate whose generated rows are closer to its training rows than this
# share of the held-out rows' distance (skflow.metrics.dcr) memorises: it loses
# to every candidate that does not.
MIN_DCR = 0.8
# Held-out rows scored per split at most (the metrics are quadratic in rows).
MAX_SCORED_ROWS = 2000
# Candidates kept after each round: the best 1 / FACTOR, at least one.
FACTOR = 3


@fill_sampler_docstring
class GaussianMixtureSampler(BaseSampler):
    """A Gaussian mixture with its number of components chosen by BIC.

    The floor among :class:`AutoSampler`'s candidates: a classical density
    model that every skflow sampler should beat. ``fit`` fits
    :class:`sklearn.mixture.GaussianMixture` with 1, 2, 4, ... up to
    ``max_components`` full-covariance components on the standardised rows
    (fewer on small tables: each component needs more rows than columns) and
    keeps the one with the lowest BIC; ``sample`` draws from it in torch, on the
    sampler's device.

    Parameters
    ----------
    max_components : int, default=16
        Largest number of components tried.

    max_iter : int, default=100
        EM iterations per mixture (``GaussianMixture(max_iter=...)``). With
        ``warm_start=True``, a refit runs EM from the fitted mixture instead,
        with the same number of components.

    privacy : None, default=None
        Not available for this family, which raises ValueError when it
        is set: scikit-learn's EM computes the means and covariances
        from the rows directly. LipschitzParticleSampler and
        ProximalMFGFlow take a budget; see :ref:`privacy`.

    {sampler_parameters}

    Attributes
    ----------
    n_components_ : int
        Components of the chosen mixture.

    n_iter_ : int
        Mixtures fitted: one per number of components tried, one more per
        warm refit.

    history_ : dict of list of float
        ``"bic"``: the BIC of each mixture fitted, in order (``n_iter_``
        values).

    {sampler_attributes}

    See Also
    --------
    sklearn.mixture.GaussianMixture : The model fitted.
    AutoSampler : Races this floor against the skflow samplers.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skflow.auto import GaussianMixtureSampler
    >>> X, _ = load_iris(return_X_y=True)
    >>> sampler = GaussianMixtureSampler(random_state=0).fit(X)
    >>> sampler.sample(3, random_state=0).shape
    (3, 4)
    """

    _parameter_constraints: dict = {
        "privacy": [
            DifferentialPrivacy,
            Interval(Real, 0.0, None, closed="neither"),
            None,
        ],
        **BaseSampler._parameter_constraints,
        "max_components": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    _sampling_remedy = "refit with dtype='float64'."

    def __init__(
        self,
        *,
        max_components=16,
        max_iter=100,
        privacy=None,
        warm_start=False,
        device="auto",
        n_jobs=None,
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.max_components = max_components
        self.max_iter = max_iter
        self.privacy = privacy
        self.warm_start = warm_start
        self.device = device
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _largest_mixture(self, X) -> int:
        """The most components to try on ``X``, after refusing rows too few
        for a full covariance or covariances too big for memory."""
        n_rows, n_features = X.shape
        if n_rows <= n_features:
            raise ValueError(
                f"GaussianMixtureSampler needs more rows than varying columns "
                f"for a full covariance; got {n_rows} rows and {n_features} "
                "columns. Reduce the columns first, e.g. make_generative_pipeline("
                "PCA(10), GaussianMixtureSampler()), or use another sampler."
            )
        largest = max(1, min(self.max_components, n_rows // (n_features + 1)))
        # EM holds the covariances, their Cholesky factors and precisions, and
        # the next iteration's: about six d x d float64 matrices per component.
        check_memory(
            f"{type(self).__name__}.fit",
            {
                f"the covariances of up to {largest} components in {n_features} "
                "dimensions": (
                    6 * largest * n_features * n_features * 8,
                    "reduce the columns (PCA in a pipeline) or max_components.",
                )
            },
        )
        return largest

    def _fit_scaled(self, data, rng) -> None:
        # EM is scikit-learn's, on the CPU in float64: one copy of the rows.
        X = data.detach().to("cpu", torch.float64).numpy()
        warm = self._warm_tensors
        if warm is not None:
            mixture = warm["mixture"]
            weights = mixture["weights"].to("cpu", torch.float64).numpy()
            covariances = [
                c @ c.T for c in mixture["cholesky"].to("cpu", torch.float64).numpy()
            ]
            options = [
                {
                    "n_components": self.n_components_,
                    "weights_init": weights / weights.sum(),
                    "means_init": mixture["means"].to("cpu", torch.float64).numpy(),
                    "precisions_init": np.linalg.inv(np.asarray(covariances)),
                }
            ]
        else:
            # Each component's covariance needs more rows than columns.
            largest = self._largest_mixture(X)
            sizes = {min(2**k, largest) for k in range(int(math.log2(largest)) + 1)}
            options = [{"n_components": size} for size in sorted(sizes)]
        fitted = []
        with self._progress(len(options), ("bic",)) as report:
            for option in options:
                mixture = GaussianMixture(
                    covariance_type="full",
                    reg_covar=1e-6,
                    max_iter=int(self.max_iter),
                    random_state=draw_seed(rng),
                    **option,
                ).fit(X)
                fitted.append((mixture.bic(X), mixture))
                report(len(fitted), fitted[-1][0])
        _, best = min(fitted, key=lambda pair: pair[0])
        tensor = lambda values: to_tensor(values, data.device, data.dtype)  # noqa: E731
        self._tensors = {
            "mixture": {
                "weights": tensor(best.weights_),
                "means": tensor(best.means_),
                "cholesky": tensor(np.linalg.cholesky(best.covariances_)),
            }
        }
        self.n_components_ = int(best.n_components)
        # One "iteration" per mixture fitted, as history_ records them.
        self._record_fit(len(fitted), {"bic": [float(b) for b, _ in fitted]})

    _conditional_method = "exact"

    def _sample_scaled_given(self, targets, tensors, generator):
        # The conditional of a Gaussian mixture is a Gaussian mixture.
        mixture = tensors["mixture"]
        cholesky = mixture["cholesky"]
        return gaussian_mixture_conditional(
            mixture["weights"],
            mixture["means"],
            cholesky @ cholesky.transpose(1, 2),
            targets,
            generator,
        )

    def _sample_scaled(self, n_samples, tensors, generator):
        mixture = tensors["mixture"]
        means, cholesky = mixture["means"], mixture["cholesky"]
        components = torch.multinomial(
            mixture["weights"], n_samples, replacement=True, generator=generator
        )
        noise = torch.randn(
            n_samples,
            means.shape[1],
            generator=generator,
            device=means.device,
            dtype=means.dtype,
        )
        rows = torch.empty_like(noise)
        # A loop over components (at most max_components), not rows.
        for k in range(means.shape[0]):
            chosen = components == k
            rows[chosen] = means[k] + noise[chosen] @ cholesky[k].T
        return rows


def default_candidates() -> list[tuple[str, BaseEstimator]]:
    """The race's default entrants, with their names.

    First the incumbent, :class:`~skflow.LipschitzParticleSampler` in its
    default setting (the best or tied-best single sampler on most tables of
    our benchmarks); then :class:`GaussianMixtureSampler`, the floor; the
    particle sampler with the alpha divergence (heavier tails); the entropic
    generator in its default setting and with ``reg=0.1, debias=0.8``, the
    setting that beat the published ForestFlow on the ForestDiffusion
    protocol; and the sliced and proximal flows. The cheap ones come first, so
    that a short budget still scores them.
    """
    from .ot import EntropicOTGenerator
    from .particles import LipschitzParticleSampler
    from .proximal import ProximalMFGFlow
    from .sliced import SlicedWassersteinFlow

    return [
        ("lipschitz", LipschitzParticleSampler()),
        ("gaussian_mixture", GaussianMixtureSampler()),
        ("lipschitz_alpha", LipschitzParticleSampler(divergence="alpha")),
        ("entropic", EntropicOTGenerator()),
        ("entropic_reg0.1_debias0.8", EntropicOTGenerator(reg=0.1, debias=0.8)),
        ("sliced", SlicedWassersteinFlow()),
        ("proximal", ProximalMFGFlow()),
    ]


def _candidate_name(estimator, params) -> str:
    base = type(estimator).__name__
    if not params:
        return base
    return base + "(" + ", ".join(f"{k}={v!r}" for k, v in sorted(params.items())) + ")"


# The most random splits (rounds) a race may have: each is a fit per entrant.
MAX_RACE_SPLITS = 100


def _check_candidate(estimator, item) -> None:
    """Refuse an entrant that is not a sampler instance."""
    if isinstance(estimator, type) or not (
        hasattr(estimator, "fit") and hasattr(estimator, "sample")
    ):
        raise TypeError(
            f"Cannot use {item!r} as a candidate: pass sampler instances (with "
            "fit and sample), (sampler, param_grid) pairs or (name, sampler) "
            "pairs."
        )


def expand_candidates(candidates) -> list[tuple[str, BaseEstimator, dict]]:
    """``(name, estimator, params)`` for every entrant of ``candidates``.

    ``"default"`` gives :func:`default_candidates`. A list may hold
    estimators, ``(estimator, param_grid)`` pairs (every setting of the grid is
    an entrant, as :class:`~sklearn.model_selection.ParameterGrid` lists them)
    and ``(name, estimator)`` pairs.
    """
    if isinstance(candidates, str):
        return [(name, est, {}) for name, est in default_candidates()]
    entrants = []
    for item in candidates:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            _check_candidate(item[1], item)
            entrants.append((item[0], item[1], {}))
        elif isinstance(item, tuple) and len(item) == 2:
            estimator, grid = item
            _check_candidate(estimator, item)
            for params in ParameterGrid(grid):
                entrants.append(
                    (
                        _candidate_name(estimator, params),
                        clone(estimator).set_params(**params),
                        params,
                    )
                )
        else:
            _check_candidate(item, item)
            entrants.append((_candidate_name(item, {}), item, {}))
    if not entrants:
        raise ValueError("candidates is empty: pass at least one sampler.")
    names = [name for name, _, _ in entrants]
    # A repeated name gets "#2", "#3", ... from its second appearance.
    names = [
        name if name not in names[:i] else f"{name}#{names[:i].count(name) + 1}"
        for i, name in enumerate(names)
    ]
    return [(name, est, params) for name, (_, est, params) in zip(names, entrants)]


def _wrap(estimator, *, frame: bool, labelled: bool):
    """The candidate as fitted on the user's rows: per class when there are
    labels, behind a TabularEncoder when the rows are a DataFrame."""
    from .augment import ClassConditionalSampler
    from .encoders import TabularEncoder
    from .pipeline import GenerativePipeline, make_generative_pipeline

    if isinstance(estimator, GenerativePipeline):
        frame = False  # the user's own pipeline reads the rows itself
    if labelled:
        estimator = ClassConditionalSampler(estimator)
    if frame:
        estimator = make_generative_pipeline(TabularEncoder(), estimator)
    return estimator


def _take(rows, index):
    """The rows at positions ``index`` of an array or a DataFrame."""
    return rows.iloc[index] if is_dataframe(rows) else rows[index]


def _succeeded(runs) -> list[dict]:
    """The outcomes of a candidate's fits that were scored."""
    return [run for run in runs if run["status"] == "ok"]


def _memorises(runs) -> bool:
    """Whether scored ``runs`` put the generated rows closer to the training
    rows than held-out rows are (mean dcr under MIN_DCR)."""
    return bool(np.mean([run["dcr"] for run in runs]) < MIN_DCR)


def _seeded(estimator, seed: int, shared_scale: bool):
    """A clone of ``estimator`` with every ``random_state`` in it set to
    ``seed``, told the scale of its rows (see skflow._base.pass_input_scale)."""
    estimator = clone(estimator)
    params = {
        key: seed
        for key in estimator.get_params(deep=True)
        if key == "random_state" or key.endswith("__random_state")
    }
    estimator.set_params(**params)
    pass_input_scale(estimator, shared_scale)
    return estimator


def paired_gaps(challenger_runs, incumbent_runs) -> np.ndarray:
    """Score differences, challenger minus incumbent, on the splits both were
    scored on (a candidate's runs are the race's splits in order)."""
    return np.asarray(
        [
            mine["score"] - theirs["score"]
            for mine, theirs in zip(challenger_runs, incumbent_runs)
            if mine["status"] == "ok" and theirs["status"] == "ok"
        ],
        dtype=np.float64,
    )


def lead_and_standard_error(leader_gaps, all_gaps) -> tuple[float, float]:
    """The leader's mean lead over the incumbent and its standard error.

    The differences of every challenger to the incumbent on shared splits
    estimate the noise of one paired difference: their pooled within-
    challenger variance (each challenger's differences about its own mean,
    so true leads do not count as noise). The standard error is that spread
    over the square root of the leader's shared splits; NaN when no
    challenger has two shared splits (nothing to estimate the noise from).
    """
    lead = float(np.mean(leader_gaps)) if len(leader_gaps) else float("nan")
    squares = sum(float(((g - g.mean()) ** 2).sum()) for g in all_gaps if len(g) > 1)
    dof = sum(len(g) - 1 for g in all_gaps if len(g) > 1)
    if dof == 0 or not len(leader_gaps):
        return lead, float("nan")
    return lead, math.sqrt(squares / dof / len(leader_gaps))


def _ldexp_columns(rows, exponents):
    """``rows`` times ``2**exponents``, column by column, exactly."""
    return np.ldexp(np.asarray(rows, dtype=np.float64), exponents)


class _Scorer:
    """Scores generated rows against held-out ones in one fixed space.

    A DataFrame is scored through a :class:`~skflow.TabularEncoder` fitted on
    every row (numbers standardised or quantile-normalised, categories as
    one-hot blocks of total variance 1, so every column counts once); an array
    standardised column by column, as the samplers' own ``score`` does; the
    encoded rows of a TabularEncoder (AutoSampler behind one in a pipeline) as
    they are. Labels, when there are any, add one block of indicators, of total
    variance 1 too.
    """

    def __init__(self, X, y, scoring, *, shared_scale: bool):
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, StandardScaler

        from ._scaling import column_exponents
        from .encoders import TabularEncoder

        self.scoring = scoring
        if is_dataframe(X):
            self.space = TabularEncoder(relations=None).fit(X)
        elif shared_scale:
            self.space = FunctionTransformer(validate=False).fit(X)
        else:
            # Divided by exact powers of two first: StandardScaler's variance
            # of columns near 1e300 overflows (see skflow._scaling).
            self.space = make_pipeline(
                FunctionTransformer(
                    _ldexp_columns, kw_args={"exponents": -column_exponents(X)}
                ),
                StandardScaler(),
            ).fit(X)
        self.labels = None
        if y is not None:
            self.labels = TabularEncoder().fit(self._label_frame(y))

    @staticmethod
    def _label_frame(y):
        import pandas as pd

        return pd.DataFrame({"label": pd.Series(np.asarray(y)).astype(str)})

    def encode(self, X, y=None) -> np.ndarray:
        encoded = np.asarray(self.space.transform(X), dtype=np.float64)
        if self.labels is None:
            return encoded
        return np.hstack([encoded, self.labels.transform(self._label_frame(y))])

    def __call__(self, split, synthetic, synthetic_y=None) -> dict:
        from .metrics import c2st_auc, dcr, energy_distance

        holdout, train, floor = split["holdout"], split["train"], split["floor"]
        generated = self.encode(synthetic, synthetic_y)
        ok = np.isfinite(generated).all(axis=1)
        if not ok.all():
            raise ValueError(f"{int((~ok).sum())} generated rows are not finite")
        seed = split["seed"]
        auc = c2st_auc(holdout, generated, cv=3, random_state=seed)
        distance = energy_distance(holdout, generated)
        row = {
            "c2st": auc,
            "energy_distance": distance,
            "dcr": dcr(train, generated, holdout),
        }
        if callable(self.scoring):
            row["score"] = float(self.scoring(split["raw_holdout"], synthetic))
        elif self.scoring == "c2st":
            row["score"] = -2.0 * max(auc - 0.5, 0.0)
        elif self.scoring == "energy_distance":
            row["score"] = -distance
        else:
            row["score"] = -(
                2.0 * max(auc - 0.5, 0.0)
                + max(0.0, 1.0 - floor / max(distance, 1e-300))
            )
        return row


def _run_candidate(estimator, split, rows, y, scorer, seed):
    """Fit one candidate on a split's train rows and score its draws."""
    start = time.perf_counter()
    train_index, test_index = split["index"]
    try:
        with fit_interrupted_warnings() as interrupted:
            if y is None:
                model = estimator.fit(_take(rows, train_index))
            else:
                model = estimator.fit(_take(rows, train_index), y[train_index])
        if interrupted:
            # Ctrl-C stopped the candidate's loop, which kept a partial model
            # and warned: the user asked to stop the race, not this candidate.
            raise KeyboardInterrupt
        if y is None:
            synthetic = model.sample(len(split["holdout"]), random_state=seed)
            synthetic_y = None
        else:
            synthetic, synthetic_y = model.sample(
                y=split["holdout_y"], random_state=seed
            )
        result = scorer(split, synthetic, synthetic_y)
        result["status"] = "ok"
    except Exception as exc:  # a candidate that fails loses; the race goes on
        result = {"status": f"failed: {type(exc).__name__}: {exc}"[:200]}
    result["seconds"] = time.perf_counter() - start
    return result


class AutoSampler(BaseEstimator):
    """The best sampler for this table, chosen on held-out rows within a budget.

    ``fit`` races the candidates by successive halving on repeated random
    splits (train / 30 % held out): every candidate is fitted on the first
    split's train rows and scored on its held-out rows; the best third (at
    least one) go on to the next split; the survivor with the best mean score
    is refitted on every row as ``best_estimator_``, which then ``sample`` and
    ``score`` use. A DataFrame goes to every candidate through a
    :class:`~skflow.TabularEncoder`; with labels ``y``, every candidate is a
    :class:`~skflow.ClassConditionalSampler`. The default entrants are listed
    in :func:`skflow.auto.default_candidates`.

    Read more in the :ref:`User Guide <choosing>`.

    Parameters
    ----------
    candidates : "default" or list, default="default"
        The entrants: ``"default"``, or a list of samplers, ``(sampler,
        param_grid)`` pairs (one entrant per setting of the grid) and
        ``(name, sampler)`` pairs.

    time_budget : float or None, default=120.0
        Seconds for the race. No fit starts once it is spent (the final refit
        on every row comes after it), and a fit is not started when the
        candidate's earlier fit says it would end past the budget. None races
        every round.

    scoring : {"c2st_energy", "c2st", "energy_distance"} or callable, \
            default="c2st_energy"
        What ranks the candidates (higher is better). Each is computed in one
        space, a TabularEncoder fitted on all rows:

        - ``"c2st_energy"``: ``-(g_c + g_e)``, the sum of two gaps in [0, 1]:
          ``g_c = 2 * max(AUC - 0.5, 0)``, where AUC is the classifier two-sample
          test of held-out against generated rows
          (:func:`skflow.metrics.c2st_auc`; 0 when a classifier cannot tell
          them apart, 1 when it always can), and ``g_e = max(0, 1 - e_real /
          e)``, where ``e`` is the energy distance of generated to held-out rows
          and ``e_real`` that of as many real train rows to the held-out ones
          (0 when generated rows are as close as real ones, towards 1 as they
          move away). A distance alone can rank a sampler first whose rows a
          classifier tells apart at once; the AUC alone is coarse among good
          candidates.
        - ``"c2st"``: ``-g_c``; ``"energy_distance"``: ``-e``.
        - a callable ``scoring(X_holdout, X_generated) -> float`` on the rows
          as given (DataFrames stay DataFrames).

        Whatever the score, a candidate with mean ``dcr`` under 0.8 (its rows
        sit closer to its training rows than held-out rows do: it memorises)
        ranks below every candidate that does not.

    incumbent : int, str or None, default=0
        The candidate to beat: its position among the entrants (after grids
        are expanded) or its name; by default the first, which among the
        default entrants is ``LipschitzParticleSampler()``. It runs on every
        split the race runs, whatever its rank, and the best challenger takes
        its place only when the challenger's mean score lead over it, on the
        splits both ran, is more than one standard error of such paired
        differences (pooled over the challengers; the one-standard-error rule
        of model selection). On small tables one split's score moves more
        between seeds than good samplers differ, so a lead within that noise
        is not evidence. None ranks by mean score alone; so does a race in
        which no challenger ran two splits beside the incumbent.

    cv : int or splitter, default=3
        Number of random splits (rounds of the race at most; up to 100), or a
        splitter with ``split(X, y)`` and ``get_n_splits``.

    n_jobs : int or None, default=None
        Candidates fitted at once by :class:`joblib.Parallel` (None: one,
        unless in a ``joblib.parallel_backend`` context).

    random_state : int, RandomState instance or None, default=None
        The splits, the candidates' seeds and the refit's seed. With an int the
        choice is reproducible whenever the budget does not cut the race
        (``leaderboard_`` says which fits it cut).

    verbose : int, default=0
        1 prints a line per candidate fit and the choice. 0 prints nothing,
        unless the race runs past half a minute: a bar counting its fits then
        appears on stderr, and is erased when the race ends.

    Attributes
    ----------
    best_estimator_ : estimator
        The chosen candidate, refitted on every row.

    best_params_ : dict
        ``{"candidate": name, **its grid parameters}``.

    best_score_ : float
        The chosen candidate's mean score over its splits.

    leaderboard_ : DataFrame
        One row per candidate, best first: ``candidate``, ``params``,
        ``score_mean``, ``score_std``, ``lead`` (mean score minus the
        incumbent's on the splits both ran; NaN for the incumbent and without
        an incumbent), ``c2st``, ``energy_distance``, ``dcr`` (means over the
        candidate's splits), ``n_splits`` (splits it was scored on),
        ``seconds`` (mean fit + sample per split) and ``status``.

    n_features_in_ : int
        Number of columns seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen during ``fit``; only when they are all strings.

    See Also
    --------
    skflow.auto.default_candidates : The default entrants.
    sklearn.model_selection.HalvingRandomSearchCV : Successive halving for
        predictors.

    Notes
    -----
    With ``k`` candidates (an incumbent and ``c = k - 1`` challengers) and the
    default ``cv=3`` the race fits ``k`` models on the first split, ``m =
    ceil(c / 3)`` challengers and the incumbent on the second, and ``ceil(m /
    3)`` and the incumbent on the third: 7 + 3 + 2 = 12 for the seven default
    entrants. With ``incumbent=None`` it fits ``k + ceil(k / 3)`` (a third
    round would have one entrant and is not run). Then it refits the winner
    once.

    Ctrl-C (``KeyboardInterrupt``) in a candidate's fit stops the whole race
    and is passed on, the estimator left as it was; see "Interrupting a fit"
    in the user guide.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skflow import AutoSampler, LipschitzParticleSampler
    >>> from skflow.auto import GaussianMixtureSampler
    >>> X, _ = load_iris(return_X_y=True)
    >>> auto = AutoSampler(
    ...     candidates=[GaussianMixtureSampler(),
    ...                 LipschitzParticleSampler(max_iter=20)],
    ...     cv=2, random_state=0).fit(X)
    >>> auto.sample(5, random_state=0).shape
    (5, 4)
    >>> list(auto.leaderboard_.columns[:3])
    ['candidate', 'params', 'score_mean']
    """

    # Set behind a TabularEncoder in a GenerativePipeline, and passed on to
    # every candidate (see skflow._base.pass_input_scale).
    _shared_input_scale = False

    _parameter_constraints: dict = {
        "candidates": [StrOptions({"default"}), list],
        "time_budget": [Interval(Real, 0, None, closed="neither"), None],
        "scoring": [StrOptions({"c2st_energy", "c2st", "energy_distance"}), callable],
        "incumbent": [Interval(Integral, 0, None, closed="left"), str, None],
        "cv": [
            Interval(Integral, 1, MAX_RACE_SPLITS, closed="both"),
            HasMethods(["split", "get_n_splits"]),
        ],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        candidates="default",
        time_budget=120.0,
        scoring="c2st_energy",
        incumbent=0,
        cv=3,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.candidates = candidates
        self.time_budget = time_budget
        self.scoring = scoring
        self.incumbent = incumbent
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    @keeps_state_on_failure
    def fit(self, X, y=None):
        """Race the candidates on held-out rows; refit the best on every row.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows; a DataFrame may hold any column TabularEncoder takes.
        y : array-like of shape (n_samples,), default=None
            Class labels: every candidate is then fitted per class.

        Returns
        -------
        self : AutoSampler
            The fitted sampler.
        """
        start = time.perf_counter()
        frame = is_dataframe(X)
        rows = X.reset_index(drop=True) if frame else self._check_array(X)
        labelled = y is not None
        if labelled:
            y = np.asarray(y)
            if len(y) != len(rows):
                raise ValueError(
                    f"X has {len(rows)} rows but y has {len(y)} labels; pass one "
                    "label per row."
                )
        candidates = expand_candidates(self.candidates)
        for _, est, _ in candidates:
            refuse_private(
                est,
                "AutoSampler",
                "its race chooses a candidate by scores on held-out rows",
            )
        entrants = [
            (name, _wrap(est, frame=frame, labelled=labelled), params)
            for name, est, params in candidates
        ]
        incumbent = self._incumbent_index(entrants)
        rng = check_random_state(self.random_state)
        scorer = _Scorer(rows, y, self.scoring, shared_scale=self._shared_input_scale)
        splits = self._splits(rows, y, scorer, rng)
        # verbose=1 prints a line per fit; a quiet race shows a bar of its
        # fits once it has run for half a minute, erased at the end.
        with quiet_progress(
            desc="AutoSampler race", unit="fit", disable=bool(self.verbose)
        ) as progress:
            results, status, alive = self._race(
                entrants, incumbent, splits, rows, y, scorer, start, progress
            )
        scored = [i for i in alive if _succeeded(results[entrants[i][0]])]
        if not scored:
            scored = [
                i for i in range(len(entrants)) if _succeeded(results[entrants[i][0]])
            ]
        if not scored:
            failures = "; ".join(
                f"{name}: {runs[0]['status']}" for name, runs in results.items() if runs
            )
            raise ValueError(
                "No candidate could be fitted and scored"
                + (f" ({failures})" if failures else " within the time budget")
                + "; pass other candidates or raise time_budget."
            )
        best = self._rank(scored, entrants, results)[0]
        best = self._defend(best, incumbent, scored, entrants, results, status)
        name, estimator, params = entrants[best]
        self._leaderboard = self._table(entrants, incumbent, results, status, best)
        self.best_params_ = {"candidate": name, **params}
        self.best_score_ = float(np.mean(self._ok_scores(results[name])))
        seed = draw_seed(rng)
        refit = _seeded(estimator, seed, self._shared_input_scale)
        self.best_estimator_ = refit.fit(rows) if y is None else refit.fit(rows, y)
        self.n_features_in_ = rows.shape[1]
        if frame and all(isinstance(c, str) for c in rows.columns):
            self.feature_names_in_ = np.asarray(rows.columns, dtype=object)
        if self.verbose:
            print(f"AutoSampler: chose {name} (mean score {self.best_score_:.4f})")
        return self

    def _incumbent_index(self, entrants):
        """The position of ``self.incumbent`` among ``entrants``, or None."""
        if self.incumbent is None:
            return None
        names = [name for name, _, _ in entrants]
        if isinstance(self.incumbent, str):
            if self.incumbent not in names:
                raise ValueError(
                    f"incumbent={self.incumbent!r} is not an entrant's name; the "
                    f"entrants are {names}. Pass one of them, a position, or None."
                )
            return names.index(self.incumbent)
        if self.incumbent >= len(entrants):
            raise ValueError(
                f"incumbent={self.incumbent} but there are {len(entrants)} "
                "entrants; pass a position below that, a name, or None."
            )
        return int(self.incumbent)

    def _defends(self, incumbent, entrants, results) -> bool:
        """Whether the incumbent stays in the race: every fit of it scored, and
        it does not memorise."""
        if incumbent is None:
            return False
        runs = results[entrants[incumbent][0]]
        if not runs or len(_succeeded(runs)) < len(runs):
            return False
        return not _memorises(runs)

    def _defend(self, best, incumbent, scored, entrants, results, status):
        """The incumbent instead of the leader ``best`` when the leader's lead
        is within one standard error (see the ``incumbent`` parameter); the
        leader's ``status`` then says so."""
        if (
            best == incumbent
            or incumbent not in scored
            or not self._defends(incumbent, entrants, results)
        ):
            return best
        defender = results[entrants[incumbent][0]]
        gaps = {
            i: paired_gaps(results[entrants[i][0]], defender)
            for i in range(len(entrants))
            if i != incumbent
        }
        lead, error = lead_and_standard_error(gaps[best], list(gaps.values()))
        if not np.isfinite(error) or lead > error:
            return best
        status[entrants[best][0]] = (
            f"runner-up: lead {lead:.4f} within one standard error ({error:.4f}) "
            "of the incumbent"
        )
        return incumbent

    def _race(self, entrants, incumbent, splits, rows, y, scorer, start, progress):
        """Successive halving over ``splits``: ``(results, status, alive)``,
        the per-candidate outcomes, the reason each left the race, and the
        candidates still in it at the end; ``progress`` (a tqdm bar) counts
        the fits. The ``incumbent`` (an index or None) stays in every round
        while it fits, scores and does not memorise."""
        results = {name: [] for name, _, _ in entrants}
        status = {name: "" for name, _, _ in entrants}
        alive = list(range(len(entrants)))
        n_parallel = max(effective_n_jobs(self.n_jobs), 1)
        out_of_time = False
        for round_index, split in enumerate(splits):
            if round_index > 0:
                ranked = self._rank(alive, entrants, results)
                # The best third of the challengers go on, and the incumbent
                # beside them.
                challengers = [i for i in ranked if i != incumbent]
                keep = max(1, math.ceil(len(challengers) / FACTOR))
                alive = challengers[:keep]
                if self._defends(incumbent, entrants, results):
                    alive.append(incumbent)
                for index in ranked:
                    if index not in alive:
                        status[entrants[index][0]] = f"out after round {round_index}"
            if len(alive) == 1 and round_index > 0:
                break
            pending = list(alive)
            while pending and not out_of_time:
                batch, pending = pending[:n_parallel], pending[n_parallel:]
                if self._over_budget(start, [results[entrants[i][0]] for i in batch]):
                    out_of_time = True
                    for index in batch + pending:
                        status[entrants[index][0]] = (
                            f"round {round_index + 1} not run (time budget)"
                        )
                    break
                outcomes = Parallel(n_jobs=self.n_jobs)(
                    delayed(_run_candidate)(
                        _seeded(
                            entrants[i][1], split["seed"], self._shared_input_scale
                        ),
                        split,
                        rows,
                        y,
                        scorer,
                        split["seed"],
                    )
                    for i in batch
                )
                for index, outcome in zip(batch, outcomes):
                    name = entrants[index][0]
                    results[name].append(outcome)
                    if self.verbose:
                        self._print(round_index, name, outcome)
                progress.update(len(batch))
            if out_of_time:
                break
        return results, status, alive

    @staticmethod
    def _check_array(X):
        from ._compat import check_array

        return check_array(X, dtype=np.float64, ensure_min_samples=2)

    def _splits(self, rows, y, scorer, rng) -> list[dict]:
        """The race's splits, with each one's encoded rows and real floor."""
        from .metrics import energy_distance

        seed = draw_seed(rng)
        if isinstance(self.cv, Integral):
            kind = StratifiedShuffleSplit if y is not None else ShuffleSplit
            splitter = kind(
                n_splits=self.cv, test_size=HOLDOUT_SHARE, random_state=seed
            )
        else:
            splitter = self.cv
        splits = []
        for train_index, test_index in splitter.split(rows, y):
            test_index = np.asarray(test_index)
            split_rng = np.random.RandomState(draw_seed(rng))
            if len(test_index) > MAX_SCORED_ROWS:
                test_index = np.sort(
                    split_rng.choice(test_index, MAX_SCORED_ROWS, replace=False)
                )
            holdout_y = None if y is None else y[test_index]
            train_y = None if y is None else y[train_index]
            holdout = scorer.encode(_take(rows, test_index), holdout_y)
            train = scorer.encode(_take(rows, train_index), train_y)
            # The real floor: as many real train rows as are held out.
            subset = split_rng.choice(
                len(train_index), min(len(train_index), len(test_index)), replace=False
            )
            splits.append(
                {
                    "index": (np.asarray(train_index), test_index),
                    "holdout": holdout,
                    "holdout_y": holdout_y,
                    "raw_holdout": _take(rows, test_index),
                    "train": train,
                    "floor": energy_distance(holdout, train[subset]),
                    "seed": draw_seed(split_rng),
                }
            )
        return splits

    def _over_budget(self, start, histories) -> bool:
        if self.time_budget is None:
            return False
        elapsed = time.perf_counter() - start
        if elapsed >= self.time_budget:
            return True
        # The batch's longest expected fit, from each candidate's last one.
        expected = max((runs[-1]["seconds"] for runs in histories if runs), default=0.0)
        return elapsed + expected > self.time_budget

    @staticmethod
    def _ok_scores(runs) -> list[float]:
        return [run["score"] for run in _succeeded(runs)]

    def _rank(self, indices, entrants, results) -> list[int]:
        """Best first: no memorisation, then the mean score; failures last."""

        def key(index):
            runs = _succeeded(results[entrants[index][0]])
            if not runs:
                return (2, 0.0)
            return (int(_memorises(runs)), -np.mean([r["score"] for r in runs]))

        return sorted(indices, key=key)

    def _table(self, entrants, incumbent, results, status, best) -> dict:
        ranked = self._rank(range(len(entrants)), entrants, results)
        # Candidates with more rounds are ahead of those out earlier.
        ranked = sorted(
            ranked,
            key=lambda i: -len(_succeeded(results[entrants[i][0]])),
        )
        ranked.remove(best)
        ranked.insert(0, best)
        columns = {
            key: []
            for key in (
                "candidate",
                "params",
                "score_mean",
                "score_std",
                "lead",
                "c2st",
                "energy_distance",
                "dcr",
                "n_splits",
                "seconds",
                "status",
            )
        }
        for index in ranked:
            name, _, params = entrants[index]
            runs = results[name]
            ok = _succeeded(runs)
            columns["candidate"].append(name)
            columns["params"].append(dict(params))
            for key in ("c2st", "energy_distance", "dcr"):
                columns[key].append(
                    float(np.mean([r[key] for r in ok])) if ok else float("nan")
                )
            scores = [r["score"] for r in ok]
            columns["score_mean"].append(float(np.mean(scores)) if ok else float("nan"))
            columns["score_std"].append(float(np.std(scores)) if ok else float("nan"))
            gaps = (
                paired_gaps(runs, results[entrants[incumbent][0]])
                if incumbent is not None and index != incumbent
                else []
            )
            columns["lead"].append(float(np.mean(gaps)) if len(gaps) else float("nan"))
            columns["n_splits"].append(len(ok))
            columns["seconds"].append(
                float(np.mean([r["seconds"] for r in runs])) if runs else float("nan")
            )
            if index == best:
                label = "chosen"
            elif len(ok) < len(runs):
                label = next(r["status"] for r in runs if r["status"] != "ok")
            elif ok and _memorises(ok):
                label = f"memorises (dcr < {MIN_DCR})"
            else:
                label = status[name] or "runner-up"
            columns["status"].append(label)
        return columns

    @staticmethod
    def _print(round_index, name, outcome):
        if outcome["status"] == "ok":
            text = (
                f"score {outcome['score']:.4f} (c2st {outcome['c2st']:.3f}, energy "
                f"{outcome['energy_distance']:.4f}, dcr {outcome['dcr']:.2f})"
            )
        else:
            text = outcome["status"]
        seconds = outcome["seconds"]
        print(f"AutoSampler round {round_index + 1}: {name}: {text} [{seconds:.1f} s]")

    # ------------------------------------------------------------ results
    @property
    def leaderboard_(self):
        """The race's results as a DataFrame, best first (see the class docs)."""
        import pandas as pd

        check_is_fitted(self)
        return pd.DataFrame(self._leaderboard)

    def sample(self, n_samples=None, *, random_state=None, **sample_params):
        """Generate rows from ``best_estimator_``.

        Parameters
        ----------
        n_samples : int or None, default=None
            Number of rows (1 when None and no labels ``y`` are passed).
        random_state : int, RandomState instance or None, default=None
            Passed to the chosen sampler's ``sample``.
        **sample_params : dict
            Passed on too, e.g. ``y`` for a model fitted with labels, or
            ``conditions`` (columns to fix, see :ref:`conditional`) for one
            fitted without.

        Returns
        -------
        X_new : ndarray or DataFrame of shape (n_samples, n_features_in_)
            Generated rows (with their labels, ``(X_new, y_new)``, when ``fit``
            had labels).
        """
        check_is_fitted(self)
        if n_samples is None and "y" not in sample_params:
            n_samples = 1
        if n_samples is not None:
            sample_params["n_samples"] = n_samples
        return self.best_estimator_.sample(random_state=random_state, **sample_params)

    def score(self, X, y=None):
        """The chosen sampler's ``score`` of ``X`` (higher is better).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features_in_)
            Held-out rows.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``best_estimator_.score(X)``.
        """
        check_is_fitted(self)
        return self.best_estimator_.score(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
