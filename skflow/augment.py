"""Class-conditional generation and synthetic over-sampling.

:class:`ClassConditionalSampler` fits one clone of any sampler per class (in
parallel with joblib) and generates labelled rows; :class:`SyntheticOverSampler`
wraps it in imbalanced-learn's ``fit_resample`` contract so that any skflow
sampler can balance a training set inside an imblearn ``Pipeline``.
"""

from __future__ import annotations

import inspect

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import (
    N_JOBS_CONSTRAINT,
    check_n_samples,
    check_sample_memory,
    fit_interrupted_warnings,
    keeps_state_on_failure,
    pass_input_scale,
    show_held_warnings,
    warn_fit_interrupted,
)
from ._compat import (
    HasMethods,
    _fit_context,
    check_array,
    in_our_words,
    refusing_bools,
    validate_data,
)
from ._frames import (
    beyond_float_dtypes,
    cast_numeric_column,
    column_kind,
    float_range_message,
)
from ._progress_bars import quiet_progress
from ._torch_utils import check_random_state, draw_seed
from ._validation import check_memory
from .exceptions import NumericalInstabilityError
from .privacy import refuse_private

__all__ = ["ClassConditionalSampler", "SyntheticOverSampler"]


def largest_remainder_counts(n_samples: int, weights: np.ndarray) -> np.ndarray:
    """Split ``n_samples`` into integer counts proportional to ``weights``.

    Hamilton's largest-remainder rule: every class gets the floor of its quota
    ``n_samples * w_k / sum(w)``, and the rows still missing go one each to the
    classes with the largest fractional parts (ties to the earlier class). The
    counts sum to ``n_samples`` exactly and each is within one row of its quota.
    """
    weights = np.asarray(weights, dtype=np.float64)
    quotas = n_samples * weights / weights.sum()
    counts = np.floor(quotas).astype(np.int64)
    missing = n_samples - int(counts.sum())
    if missing > 0:
        # Stable sort: equal remainders are served in class order.
        order = np.argsort(-(quotas - counts), kind="stable")
        counts[order[:missing]] += 1
    return counts


_CLASS_REMEDY = (
    "Drop or merge this class, or collect more rows of it (with "
    "SyntheticOverSampler, leave it out of sampling_strategy)."
)


def requested_codes(
    n_samples, requested, counts, encode, what: str, owner=None
) -> np.ndarray:
    """The group code of every row to draw, in output order.

    With ``requested`` None, ``n_samples`` rows (1 when None) split over the
    groups in proportion to ``counts`` by largest remainder; otherwise one
    row per entry of ``requested``, coded by ``encode`` (``n_samples``, when
    given, must agree). ``what`` names ``requested`` in the error, as
    ``(name, its entries, the rule)``. ``owner``, the fitted meta-estimator,
    has the rows' memory checked before anything is allocated.
    """
    if requested is None:
        n_rows = check_n_samples(1 if n_samples is None else n_samples)
        if owner is not None:
            check_sample_memory(owner, n_rows)
        rows = largest_remainder_counts(n_rows, counts)
        return np.repeat(np.arange(len(counts)), rows)
    codes = encode(requested)
    if n_samples is not None and check_n_samples(n_samples) != len(codes):
        name, entries, rule = what
        raise ValueError(
            f"n_samples={n_samples} but {name} has {len(codes)} {entries}; leave "
            f"n_samples out when passing {name} ({rule})."
        )
    return codes


def _fit_one(estimator, X, label, n_rows, unit="class", remedy=_CLASS_REMEDY):
    """Fit one class's clone; name the class in any error (runs in a worker).

    ``unit`` names what the rows are ("class", "group") and ``remedy`` what to
    do when they cannot be fitted.
    """
    try:
        return estimator.fit(X)
    except Exception as exc:
        label = label.item() if isinstance(label, np.generic) else label
        message = (
            f"Fitting {type(estimator).__name__} on {unit} {label!r} ({n_rows} "
            f"sample(s)) failed: {exc}"
        )
        if not isinstance(exc, TypeError):
            # A TypeError is about the kind of input, not the class's rows.
            message += f" {remedy}"
        try:
            wrapped = type(exc)(message)
        except Exception:
            wrapped = RuntimeError(message)
        raise wrapped from exc


def _numeric_ranges(frame) -> np.ndarray:
    """Per column of ``frame``: ``[min, max]`` of integer and boolean columns
    (the bounds their generated values are clipped to), NaN for the others."""
    return np.array(
        [
            [frame[name].min(), frame[name].max()]
            if column_kind(dtype) in ("int", "bool")
            else [np.nan, np.nan]
            for name, dtype in zip(frame.columns, frame.dtypes)
        ],
        dtype=np.float64,
    ).reshape(-1, 2)


def _check_float_range(owner, rows, dtypes, columns=None) -> None:
    """Raise before new float64 ``rows`` are cast to a narrower float dtype of
    the input they would overflow (``inf``); ``columns`` are the DataFrame's
    names (None for an array)."""
    beyond = beyond_float_dtypes(np.asarray(rows, dtype=np.float64), dtypes)
    if beyond:
        raise NumericalInstabilityError(
            float_range_message(
                type(owner).__name__,
                beyond if columns is None else [columns[i] for i in beyond],
                dtypes[beyond[0]],
                frame=columns is not None,
            )
        )


def _cast_like(X_new, dtypes, ranges):
    """Give the numeric columns of the DataFrame ``X_new`` the ``dtypes`` of
    the training frame: samplers return floats for integer and boolean columns
    (rounded and clipped to ``ranges``, thresholded at 0.5)."""
    import pandas as pd

    for name, dtype, (low, high) in zip(X_new.columns, dtypes, ranges):
        kind = column_kind(dtype)
        if X_new[name].dtype == dtype or kind not in ("int", "bool", "float"):
            continue
        numbers = X_new[name].to_numpy(dtype=np.float64)
        if kind == "int":
            numbers = cast_numeric_column(numbers, dtype, low, high)
        else:
            numbers = cast_numeric_column(numbers, dtype)
        X_new[name] = pd.Series(numbers, dtype=dtype, index=X_new.index)
    return X_new


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a test dependency
        return isinstance(value, (float, np.floating)) and bool(np.isnan(value))
    return bool(pd.isna(value)) if np.ndim(value) == 0 else False


def _class_labels(y):
    """``(classes, index of each row's class, class counts)`` of labels ``y``,
    or an error naming what makes ``y`` unusable as class labels."""
    try:
        classes = np.unique(y, return_inverse=True, return_counts=True)
    except TypeError as exc:
        raise TypeError(
            "y mixes labels of types that cannot be sorted together (such as 1 "
            "and 'a'); convert them to one type first, e.g. y.astype(str)."
        ) from exc
    try:
        check_classification_targets(y)
    except ValueError as exc:
        raise ValueError(
            f"y must hold class labels ({exc}); bin continuous values into "
            "classes first (e.g. pd.cut), or model that column as part of X."
        ) from exc
    return classes


def _check_no_missing_labels(y) -> None:
    """Raise ``ValueError`` if a class label is NaN, None, NaT or pd.NA.

    Instead of sklearn's "Input y contains NaN." (or, for None among string
    labels, numpy's "'<' not supported between 'str' and 'NoneType'").
    """
    labels = np.asarray(y, dtype=object)
    if labels.ndim != 1:
        return
    missing = np.flatnonzero([_is_missing(value) for value in labels])
    if missing.size:
        shown = missing[:5].tolist() + (["..."] if missing.size > 5 else [])
        raise ValueError(
            f"y has {missing.size} missing labels (NaN or None), at rows {shown}; "
            "drop those rows, e.g. keep = pd.notna(y); fit(X[keep], y[keep]), or "
            "give them a label of their own."
        )


def _draw(estimator, n_samples: int, seed: int, conditions=None):
    """``n_samples`` rows from a fitted sampler, seeded by ``seed``.

    skflow samplers and ``KernelDensity`` take ``random_state`` in ``sample``;
    ``GaussianMixture`` reads its constructor's ``random_state`` at sampling
    time and returns ``(X, component_labels)``. Both kinds are supported.
    ``conditions`` go to a sampler whose ``sample`` takes them (skflow's).
    """
    parameters = inspect.signature(estimator.sample).parameters
    if conditions is not None:
        if "conditions" not in parameters:
            raise TypeError(
                f"{type(estimator).__name__}.sample takes no conditions; use a "
                "skflow sampler (or a GenerativePipeline ending in one) inside "
                "ClassConditionalSampler to sample under conditions."
            )
        rows = estimator.sample(n_samples, random_state=seed, conditions=conditions)
    elif "random_state" in parameters:
        rows = estimator.sample(n_samples, random_state=seed)
    else:
        estimator.set_params(random_state=seed)
        rows = estimator.sample(n_samples)
    if isinstance(rows, tuple):
        rows = rows[0]
    return rows


class ClassConditionalSampler(BaseEstimator):
    """One sampler per class: generate labelled rows.

    ``fit(X, y)`` fits a clone of ``sampler`` on the rows of each class, in
    parallel with joblib; ``sample`` returns ``(X_new, y_new)``, either with the
    class proportions seen in ``fit`` or with the labels asked for.

    Read more in the :ref:`User Guide <augmentation>`.

    Parameters
    ----------
    sampler : estimator with ``fit(X)`` and ``sample(n)``
        The generator cloned for each class: any skflow sampler, a
        ``GenerativePipeline``, or scikit-learn's ``GaussianMixture`` or
        ``KernelDensity``. Each clone's ``random_state`` is replaced by a seed
        derived from this estimator's ``random_state``.

    n_jobs : int or None, default=None
        Number of classes fitted at once by :class:`joblib.Parallel`. ``None``
        means 1 unless inside a :func:`joblib.parallel_backend` context, so
        ``with joblib.parallel_backend("dask"):`` spreads the per-class fits over
        a Dask cluster (likewise Ray's backend). ``-1`` uses all processors.
        The result does not depend on ``n_jobs`` or on the backend.

    random_state : int, RandomState instance or None, default=None
        Seeds the per-class fits and the stream of ``sample`` calls made without
        their own ``random_state``. With None, ``sampler.random_state`` is used
        instead (if it has one), so a seeded inner sampler keeps the whole
        estimator reproducible. The global random states are never touched.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.

    estimators_ : list of estimators
        The fitted clone of ``sampler`` for each class, aligned with
        ``classes_``.

    class_count_ : ndarray of shape (n_classes,)
        Number of training rows in each class.

    class_prior_ : ndarray of shape (n_classes,)
        Fraction of training rows in each class.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``; defined only when ``X`` has
        feature names that are all strings.

    random_state_ : numpy.random.RandomState
        The stream that seeds successive ``sample`` calls made without a
        ``random_state``.

    conditional_report_ : dict
        After ``sample(..., conditions=...)``: each sampled class's own
        ``conditional_report_`` (how it drew, the acceptance rate), by label.

    See Also
    --------
    SyntheticOverSampler : An imbalanced-learn resampler built on this class.

    Notes
    -----
    Class sizes for ``sample(n)``: the largest-remainder rule, so class ``k``
    gets ``floor(n * p_k)`` rows plus at most one more, the counts sum to ``n``
    exactly, and extra rows go to the classes with the largest fractional
    quotas (ties to the earlier class in ``classes_``). Rows come back grouped
    by class in the order of ``classes_``.

    Seeds: ``fit`` draws one seed per class, in ``classes_`` order, from
    ``random_state``; each ``sample`` call draws one seed per class the same
    way, so results do not depend on ``n_jobs``, the joblib backend, or which
    classes are asked for.

    Small classes: every sampler needs rows to learn from (skflow samplers at
    least 2, not all identical). A class the sampler cannot fit raises an error
    naming the class and its size; drop or merge that class, collect more rows,
    or leave it out of :class:`SyntheticOverSampler`'s ``sampling_strategy``.
    No silent fallback (such as copying the rows) is made.

    Interrupting: Ctrl-C (``KeyboardInterrupt``) stops the whole fit at once,
    by the samplers' rule (see "Interrupting a fit" in the user guide): a
    usable model is kept with a warning, and an interrupt that leaves none is
    passed on. The classes are fitted one after the other when ``n_jobs`` is
    None or 1 (outside a joblib backend context): Ctrl-C in a class's fit
    fits no later class; the fit raises ``KeyboardInterrupt`` and the
    estimator is left as it was before ``fit`` (a model needs every class),
    unless it was the last class and its sampler kept a partial model, which
    is then kept with a warning. With more jobs, joblib fits the classes:
    Ctrl-C in the calling process makes joblib stop dispatching, cancel what
    its backend can (process workers are stopped; threads already running
    finish in the background) and raise ``KeyboardInterrupt``, and the
    estimator is left as it was.

    Cost: fit is the sum of the per-class fits divided by the parallelism;
    memory holds one fitted sampler per class.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skflow import ClassConditionalSampler, LipschitzParticleSampler
    >>> X, y = load_iris(return_X_y=True)
    >>> model = ClassConditionalSampler(
    ...     LipschitzParticleSampler(max_iter=5, n_particles=60, device="cpu"),
    ...     random_state=0,
    ... ).fit(X, y)
    >>> X_new, y_new = model.sample(6)
    >>> X_new.shape, y_new.tolist()
    ((6, 4), [0, 0, 1, 1, 2, 2])
    >>> X_new, y_new = model.sample(y=[2, 0])
    >>> y_new.tolist()
    [2, 0]
    """

    # Passed on to the clones (see skflow._base.pass_input_scale).
    _shared_input_scale = False

    _parameter_constraints: dict = {
        "sampler": [HasMethods(["fit", "sample"])],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, sampler, *, n_jobs=None, random_state=None):
        self.sampler = sampler
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    @keeps_state_on_failure
    def fit(self, X, y):
        """Fit one clone of ``sampler`` per class.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows. A DataFrame is passed to the per-class samplers as
            is (so a mixed-type table works when ``sampler`` encodes it).

        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        refuse_private(
            self.sampler,
            "ClassConditionalSampler",
            "the class proportions it samples are counted from the labels",
        )
        _check_no_missing_labels(y)
        # dtype=None / no finiteness check: the inner sampler validates values
        # (it may be a pipeline that encodes non-numeric columns).
        X_checked, y = validate_data(
            self, X, y, dtype=None, ensure_all_finite=False, ensure_min_samples=1
        )
        y = column_or_1d(y, warn=True)
        self.classes_, y_index, counts = _class_labels(y)
        self.class_count_ = counts
        self.class_prior_ = counts / counts.sum()

        seed_source = self.random_state
        if seed_source is None:
            seed_source = getattr(self.sampler, "random_state", None)
        rng = check_random_state(seed_source)
        seeds = [draw_seed(rng) for _ in self.classes_]
        rows = X if hasattr(X, "iloc") else X_checked
        tasks = []
        for k, label in enumerate(self.classes_):
            index = np.flatnonzero(y_index == k)
            estimator = clone(self.sampler)
            pass_input_scale(estimator, self._shared_input_scale)
            if "random_state" in estimator.get_params():
                estimator.set_params(random_state=seeds[k])
            subset = rows.iloc[index] if hasattr(rows, "iloc") else rows[index]
            tasks.append((estimator, subset, label, len(index)))
        if effective_n_jobs(self.n_jobs) == 1:
            self.estimators_ = self._fit_in_turn(tasks)
        else:
            self.estimators_ = list(
                Parallel(n_jobs=self.n_jobs)(delayed(_fit_one)(*t) for t in tasks)
            )
        self._is_frame = hasattr(X, "iloc")
        self._columns = list(X.columns) if self._is_frame else None
        # A sampler fitted on a DataFrame of numbers returns float columns:
        # keep the dtypes and the seen range of the integer and boolean
        # columns to give them back (rounded, clipped, thresholded).
        self._dtypes = list(X.dtypes) if self._is_frame else None
        self._column_ranges = _numeric_ranges(X) if self._is_frame else None
        self.random_state_ = np.random.RandomState(draw_seed(rng))
        return self

    def _fit_in_turn(self, tasks) -> list:
        """Fit the classes one after the other; stop at Ctrl-C.

        A class whose sampler Ctrl-C stopped (it keeps a partial model and
        warns) ends the fit: raised as ``KeyboardInterrupt`` when classes are
        left unfitted, the model kept with a warning when it was the last.
        """
        fitted = []
        progress = quiet_progress(tasks, desc=f"{type(self).__name__}.fit")
        for estimator, subset, label, n_rows in progress:
            with fit_interrupted_warnings() as held:
                fitted.append(_fit_one(estimator, subset, label, n_rows))
            if not held:
                continue
            if len(fitted) < len(tasks):
                # A model needs every class: nothing usable to keep.
                raise KeyboardInterrupt
            show_held_warnings(held)
            label = label.item() if isinstance(label, np.generic) else label
            warn_fit_interrupted(
                self,
                len(tasks) - 1,
                "classes",
                f"all {len(tasks)} classes, the last ({label!r}) fitted partially,",
                "sample",
            )
        return fitted

    def sample(self, n_samples=None, y=None, *, random_state=None, conditions=None):
        """Generate labelled rows, freely or under conditions.

        Parameters
        ----------
        n_samples : int or None, default=None
            Number of rows. With ``y=None`` (default 1 row), split between the
            classes in their training proportions by the largest-remainder rule.
            With ``y`` given it may be left out; if passed it must equal
            ``len(y)``.

        y : array-like of shape (n_rows,) or None, default=None
            Labels to generate, one per row, in this order. Every label must be
            one of ``classes_``.

        random_state : int, RandomState instance or None, default=None
            With an int, the same rows on every call. With None, each call
            advances the fitted ``random_state_``.

        conditions : dict, DataFrame, ndarray or None, default=None
            Columns to fix within each class, as in a skflow sampler's
            ``sample`` (see :ref:`conditional`): a dict ``{column: value}`` or
            ``{column: (low, high)}`` for every row, or partial rows (NaN for
            free cells), one per label of ``y``. Each row is drawn from its own
            class's conditional, so ``y`` is required: how often each class
            meets a condition is not the class share seen in ``fit``. Each
            class's ``conditional_report_`` is in ``conditional_report_``, by
            label.

        Returns
        -------
        X_new : ndarray or DataFrame of shape (n_rows, n_features_in_)
            Generated rows; a DataFrame when ``fit`` received one (as the
            per-class samplers return it).

        y_new : ndarray of shape (n_rows,)
            Their labels, of the dtype of ``classes_``.
        """
        check_is_fitted(self)
        n_classes = len(self.classes_)
        if conditions is not None and y is None:
            raise ValueError(
                "conditions need y, the label of every row to draw: a row is "
                "drawn from its own class's conditional, and the class shares "
                "under a condition are not those seen in fit. Pass e.g. "
                "y=[label] * n_rows."
            )
        codes = requested_codes(
            n_samples,
            y,
            self.class_count_,
            self._encode_labels,
            ("y", "labels", "one row is made per label"),
            owner=self,
        )
        partial = conditions is not None and not isinstance(conditions, dict)
        if partial and len(conditions) != len(codes):
            raise ValueError(
                f"conditions holds {len(conditions)} partial rows but y has "
                f"{len(codes)} labels; pass one partial row per label."
            )
        rng = (
            self.random_state_
            if random_state is None
            else check_random_state(random_state)
        )
        # One seed per class, always all of them, so a class's rows depend only
        # on the seed stream and on how many rows it is asked for.
        seeds = [draw_seed(rng) for _ in range(n_classes)]
        parts, positions, reports = [], [], {}
        for k in range(n_classes):
            where = np.flatnonzero(codes == k)
            if not len(where):
                continue
            given = conditions
            if partial:
                given = (
                    conditions.iloc[where]
                    if hasattr(conditions, "iloc")
                    else np.asarray(conditions)[where]
                )
            estimator = self.estimators_[k]
            parts.append(_draw(estimator, len(where), seeds[k], given))
            positions.append(where)
            if conditions is not None:
                reports[self.classes_[k]] = getattr(
                    estimator, "conditional_report_", None
                )
        if conditions is not None:
            self.conditional_report_ = reports
        order = np.argsort(np.concatenate(positions), kind="stable")
        X_new = self._stack(parts)
        X_new = (
            X_new.iloc[order].reset_index(drop=True)
            if self._is_frame
            else (X_new[order])
        )
        return X_new, self.classes_[codes]

    def score(self, X, y):
        """Class-weighted mean of the per-class samplers' scores.

        Each held-out row is scored by its own class's sampler (for skflow
        samplers the negative energy distance in that class's standardised
        space; higher is better, 0 is a perfect match); the per-class scores are
        averaged with weights proportional to the held-out class counts. This
        measures how well each class-conditional distribution is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Held-out rows.

        y : array-like of shape (n_samples,)
            Their labels, each one of ``classes_``.

        Returns
        -------
        score : float
            The weighted mean score; higher is better.
        """
        check_is_fitted(self)
        X_checked = validate_data(
            self, X, reset=False, dtype=None, ensure_all_finite=False
        )
        codes = self._encode_labels(y)
        if len(codes) != X_checked.shape[0]:
            raise ValueError(
                f"X has {X_checked.shape[0]} rows but y has {len(codes)} labels."
            )
        rows = X if hasattr(X, "iloc") else X_checked
        total = 0.0
        for k in np.unique(codes):
            index = np.flatnonzero(codes == k)
            subset = rows.iloc[index] if hasattr(rows, "iloc") else rows[index]
            total += len(index) * float(self.estimators_[k].score(subset))
        return total / len(codes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "density_estimator"
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------- internals
    def _encode_labels(self, y) -> np.ndarray:
        """Indices into ``classes_`` of the labels ``y``; unknown labels raise."""
        labels = np.asarray(y)
        if labels.ndim > 1:
            raise ValueError(
                f"y must be one label per row to generate, 1-D; got an array of "
                f"shape {labels.shape} (pass y.ravel())."
            )
        labels = labels.reshape(1) if labels.ndim == 0 else labels
        if len(labels) == 0:
            raise ValueError("y is empty; pass at least one label to generate.")
        known = np.isin(labels, self.classes_)
        if not known.all():
            missing = np.unique(labels[~known].astype(object)).tolist()
            raise ValueError(
                f"Unknown label(s) {missing[:10]}: this sampler was fitted on "
                f"classes {self.classes_.tolist()}; ask only for those."
            )
        codes = np.searchsorted(self.classes_, labels)
        return codes

    def _stack(self, parts):
        """Concatenate the per-class outputs in the container ``fit`` received."""
        if not self._is_frame:
            return np.concatenate([np.asarray(part) for part in parts], axis=0)
        import pandas as pd

        frames = [
            part
            if isinstance(part, pd.DataFrame)
            else pd.DataFrame(np.asarray(part), columns=self._columns)
            for part in parts
        ]
        X_new = pd.concat(frames, ignore_index=True)
        return _cast_like(X_new, self._dtypes, self._column_ranges)


try:
    from imblearn.over_sampling.base import BaseOverSampler as _OverSamplerBase
    from imblearn.utils import check_target_type

    _IMBLEARN_ERROR = None
except ImportError as _exc:  # imbalanced-learn is an optional dependency
    _IMBLEARN_ERROR = _exc

    class _OverSamplerBase(BaseEstimator):
        """Stand-in when imbalanced-learn is missing: every use says so."""

        _parameter_constraints: dict = {}

        def __init__(self, sampling_strategy="auto"):
            self.sampling_strategy = sampling_strategy

        def _require_imblearn(self):
            raise ImportError(
                f"{type(self).__name__} needs imbalanced-learn (its resampler "
                "contract and sampling_strategy rules): pip install "
                "imbalanced-learn"
            ) from _IMBLEARN_ERROR

        def fit(self, X, y):
            """Raise ImportError: imbalanced-learn is not installed."""
            self._require_imblearn()

        def fit_resample(self, X, y):
            """Raise ImportError: imbalanced-learn is not installed."""
            self._require_imblearn()


def _raised_by_sampling_strategy(exc: BaseException) -> bool:
    """Whether imbalanced-learn's check of ``sampling_strategy`` raised ``exc``
    (its messages do not name the parameter, or come from the user's callable).
    """
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return any(
        frame.name.startswith(("check_sampling_strategy", "_sampling_strategy"))
        for frame in frames
    ) and "needs to have more than 1 class" not in str(exc)


class SyntheticOverSampler(_OverSamplerBase):
    """Over-sample classes with rows generated by a per-class sampler.

    An imbalanced-learn resampler: ``fit_resample(X, y)`` returns the original
    rows followed by new rows of the classes to grow, generated by a
    :class:`ClassConditionalSampler` fitted on those classes. Use it where
    ``SMOTE`` goes, e.g. in an ``imblearn.pipeline.Pipeline`` before a
    classifier, so only training folds are resampled.

    Requires imbalanced-learn (``pip install imbalanced-learn``); without it
    the class imports but ``fit_resample`` raises an ImportError saying so.

    Read more in the :ref:`User Guide <augmentation>`.

    Parameters
    ----------
    sampler : estimator with ``fit(X)`` and ``sample(n)``
        The generator cloned for each class to grow (see
        :class:`ClassConditionalSampler`).

    sampling_strategy : float, str, dict or callable, default="auto"
        How many rows each class should have after resampling, exactly as in
        imbalanced-learn's over-samplers: ``"auto"`` / ``"not majority"`` (grow
        every class but the majority to the majority's size), ``"minority"``,
        ``"not minority"``, ``"all"``, a float (minority / majority ratio, binary
        only), a dict ``{label: n_rows_after}``, or a callable ``y -> dict``.

    n_jobs : int or None, default=None
        Classes fitted at once by joblib (see :class:`ClassConditionalSampler`).

    random_state : int, RandomState instance or None, default=None
        Seeds the per-class fits and draws (see
        :class:`ClassConditionalSampler`).

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of rows generated for each grown class (imbalanced-learn's
        convention: labels to *new* rows).

    sampler_ : ClassConditionalSampler or None
        Fitted on the classes that receive new rows; None when none does.

    n_features_in_ : int
        Number of features seen during ``fit_resample``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit_resample``; defined only when ``X``
        has feature names that are all strings.

    See Also
    --------
    ClassConditionalSampler : The per-class generator used here.
    imblearn.over_sampling.SMOTE : Interpolation between neighbouring rows.

    Notes
    -----
    Unlike SMOTE, new rows are drawn from a generative model of each class
    rather than on segments between neighbours, so they can fill the class's
    support instead of its convex hulls. The original rows come first in the
    output, unchanged and in their order; the synthetic rows follow, grouped by
    class in sorted label order. Fit cost: one sampler fit per grown class.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow import LipschitzParticleSampler, SyntheticOverSampler
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = np.array([0] * 50 + [1] * 10)
    >>> resampler = SyntheticOverSampler(
    ...     LipschitzParticleSampler(max_iter=5, n_particles=60, device="cpu"),
    ...     random_state=0,
    ... )
    >>> X_res, y_res = resampler.fit_resample(X, y)
    >>> X_res.shape, np.bincount(y_res).tolist()
    ((100, 3), [50, 50])
    """

    _sampling_type = "over-sampling"

    _parameter_constraints: dict = {
        # imbalanced-learn's sampling_strategy takes a float ratio: not a bool.
        **{
            name: refusing_bools(constraints)
            for name, constraints in getattr(
                _OverSamplerBase, "_parameter_constraints", {}
            ).items()
        },
        "sampler": [HasMethods(["fit", "sample"])],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self, sampler, *, sampling_strategy="auto", n_jobs=None, random_state=None
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.sampler = sampler
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit_resample(self, X, y, **params):
        """Resample: the rows of ``X`` and ``y``, then the generated ones.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows.
        y : array-like of shape (n_samples,)
            Their class labels.
        **params : dict
            Passed on, as imbalanced-learn's ``fit_resample`` takes them.

        Returns
        -------
        X_resampled : array-like, sparse matrix or DataFrame
            ``X`` followed by the generated rows, in ``X``'s container and dtypes.
        y_resampled : ndarray
            ``y`` followed by the generated rows' labels.
        """
        # Checked before imbalanced-learn's own checks, in skflow's words.
        if isinstance(X, list):
            check_array(X, dtype=None, ensure_all_finite=False)
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.fit_resample needs the class labels y, "
                "one per row of X: the classes to over-sample."
            )
        if np.ndim(y) == 1:
            _check_no_missing_labels(y)
            classes = _class_labels(np.asarray(y))[0]
            if len(classes) < 2:
                which = f"one class ({classes[0]!r})" if len(classes) else "no label"
                raise ValueError(
                    f"y has {which}; "
                    f"{type(self).__name__} grows the smaller of two or more "
                    "classes. Pass rows of at least two classes, or draw more "
                    "rows of one class with a sampler's sample(n)."
                )
        try:
            return super().fit_resample(X, y, **params)
        except (TypeError, ValueError, AttributeError) as exc:
            if "Multilabel and multioutput" in str(exc):
                raise ValueError(
                    f"y of shape {np.shape(y)} holds several labels per row; "
                    f"{type(self).__name__} takes one class per row: a 1-D y, "
                    "or one-hot rows with a single 1."
                ) from exc
            if not _raised_by_sampling_strategy(exc):
                raise
            raise ValueError(
                f"sampling_strategy={self.sampling_strategy!r} cannot be used: "
                f"{str(exc).rstrip('.')}. Pass 'auto', a float ratio in (0, 1] "
                "(binary y), a dict {class: total rows wanted} over existing "
                "classes, at least "
                "their current counts, or a callable y -> such a dict."
            ) from exc

    def _check_X_y(self, X, y, accept_sparse=None):
        if getattr(X, "ndim", 2) == 1 or np.ndim(X) == 1:
            raise ValueError(
                f"X must be 2-D, of shape (n_samples, n_features), got a 1-D "
                f"{type(X).__name__} of shape {np.shape(X)}; for one feature pass "
                "X.reshape(-1, 1) (an array) or X.to_frame() (a Series)."
            )
        if not hasattr(X, "iloc") or any(
            type(dtype).__name__ == "SparseDtype" for dtype in X.dtypes
        ):
            # Arrays, and DataFrames of sparse columns, which imbalanced-learn
            # turns into a sparse matrix; its checks are scikit-learn's, given
            # skflow's remedies here.
            try:
                return super()._check_X_y(X, y, accept_sparse=accept_sparse)
            except (TypeError, ValueError) as exc:
                explained = in_our_words(exc)
                if explained is None:
                    raise
                raise explained from exc
        # A DataFrame goes to the per-class samplers as it is, so a sampler
        # that encodes its columns (a TabularEncoder pipeline) can take text
        # and categorical columns; imbalanced-learn's check would cast it to
        # float. The inner sampler validates the values.
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        _, y = validate_data(
            self, X=X, y=y, reset=True, dtype=None, ensure_all_finite=False
        )
        return X.reset_index(drop=True), y, binarize_y

    def _fit_resample(self, X, y):
        frame = hasattr(X, "iloc")
        numeric_frame = frame and all(
            column_kind(dtype) in ("int", "bool", "float") for dtype in X.dtypes
        )
        # Samplers model dense rows; sparse input is densified for them and the
        # output is returned sparse again. A DataFrame of numbers is fitted as
        # the float array imbalanced-learn would pass (checked as it would be:
        # the same rows, so the same model as for that array); any other
        # DataFrame goes as it is, to a sampler that encodes its columns.
        if sparse.issparse(X):
            rows = X.toarray()
        elif numeric_frame:
            rows = check_array(X, dtype=np.float64)
        else:
            rows = X
        grow = {label: n for label, n in self.sampling_strategy_.items() if n > 0}
        n_features = X.shape[1]
        check_memory(
            f"{type(self).__name__}.fit_resample",
            {
                f"{sum(grow.values())} new rows of {n_features} features": (
                    sum(grow.values()) * n_features * 40,
                    "ask for fewer rows in sampling_strategy.",
                )
            },
        )
        if not grow:
            self.sampler_ = None
            return X, y
        labels = np.array(sorted(grow))
        keep = np.isin(y, labels)
        self.sampler_ = ClassConditionalSampler(
            self.sampler, n_jobs=self.n_jobs, random_state=self.random_state
        ).fit(rows[keep] if not frame or numeric_frame else X.iloc[keep], y[keep])
        wanted = np.repeat(labels, [grow[label] for label in labels]).astype(y.dtype)
        X_new, _ = self.sampler_.sample(y=wanted)
        y_res = np.concatenate([y, wanted])
        if frame:
            import pandas as pd

            if numeric_frame:
                # imbalanced-learn casts the result to X's dtypes with astype,
                # which truncates integers and makes every non-zero value True:
                # cast the new rows first (rounded and clipped to the seen
                # range, booleans thresholded at 0.5). A sampler fitted on the
                # frame itself already returns them so.
                _check_float_range(self, X_new, list(X.dtypes), list(X.columns))
                X_new = _cast_like(
                    pd.DataFrame(X_new, columns=X.columns),
                    list(X.dtypes),
                    _numeric_ranges(X.iloc[keep]),
                )
            return pd.concat([X, X_new], ignore_index=True), y_res
        _check_float_range(self, X_new, [X.dtype] * X.shape[1])
        X_new = np.asarray(X_new, dtype=X.dtype)
        if sparse.issparse(X):
            return sparse.vstack([X, sparse.csr_matrix(X_new)], format=X.format), y_res
        return np.vstack([X, X_new]), y_res

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
