"""Conditions on generated rows, stated in the fitted table's own columns.

``sample(n, conditions=...)`` accepts

* a dict ``{column: value}`` (a number, a category, a date) or
  ``{column: (low, high)}`` (a closed range of a numeric or date column;
  ``None`` leaves an end open): ``n`` rows that all meet it;
* a DataFrame (or, for array samplers, a 2-D array) of partial rows, whose
  missing cells are free: one completed row per given row.

A sampler draws such rows in one of two ways, and reports which in
``conditional_report_``:

* its family's own conditional (``method`` ``"exact"``, ``"latent MCMC"`` or
  ``"pinned transport"``), which fixes the given coordinates of its space;
* ``"rejection"``: unconditional draws, each accepted with probability
  equal to a kernel of its distance to the condition (a Gaussian of width
  ``KERNEL_WIDTH`` column spreads for numbers, exact match for categories, the
  indicator of a range). The given cells are then set to the given values.

Conditions that no coordinate expresses (ranges, columns derived by a
relation) are met by the same rejection after the family's draw. Every
acceptance rate is measured; a condition the model gives (near) zero
probability raises a ``ValueError`` naming it, never unconditioned rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ._torch_utils import draw_seed

# Width of the rejection kernel for a numeric equality, in the column's
# spread: the accepted rows' values are within about a tenth of a spread of
# the given one before they are set to it, so a conditional mean is biased by
# at most (slope) x 0.1 spread and a conditional variance inflated by about
# (slope x 0.1)^2, while the acceptance rate stays near 0.25 x density.
KERNEL_WIDTH = 0.1
# Proposals per row before a condition counts as (near) impossible: an
# acceptance rate below 1 / MAX_PROPOSALS_PER_ROW raises.
MAX_PROPOSALS_PER_ROW = 2000
# Candidates per row a family that prefers rejection (its own method is an
# approximation) spends on it before it uses its own method.
REJECTION_FIRST_BUDGET = 200
# Rows drawn per round, at most (memory stays bounded by the round).
MAX_ROUND_ROWS = 100_000


@dataclass
class ParsedConditions:
    """User conditions in one normal form.

    Attributes
    ----------
    targets : DataFrame
        One row per generated row (``n_rows``) or a single row broadcast to
        all; a missing cell is free, a present one an equality.
    ranges : dict
        ``{column: (low, high)}``, the same for every row; ``None`` ends open.
    n_rows : int
        Rows to generate.
    """

    targets: object
    ranges: dict = field(default_factory=dict)
    n_rows: int = 1

    @property
    def broadcast(self) -> bool:
        return len(self.targets) == 1 and self.n_rows != 1

    def target_rows(self, positions: np.ndarray):
        """The targets of the given output rows (one row each)."""
        index = (
            np.zeros(len(positions), dtype=np.intp)
            if len(self.targets) == 1
            else positions
        )
        return self.targets.iloc[index].reset_index(drop=True)


def _is_range(value) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2


def _is_missing(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def parse_conditions(
    conditions, columns: list, n_samples, *, owner: str
) -> ParsedConditions:
    """Check ``conditions`` against the fitted ``columns``; the normal form.

    ``n_samples`` may be None (one row per partial row; 1 for a dict).
    """
    import pandas as pd

    labels = {str(column): column for column in columns}

    def resolve(key):
        if key in columns:
            return key
        if str(key) in labels:
            return labels[str(key)]
        raise ValueError(
            f"{owner} has no column {key!r} to condition on; its columns are "
            f"{list(columns)}."
        )

    if isinstance(conditions, Mapping):
        if not conditions:
            raise ValueError(
                "conditions is an empty dict; pass {column: value} or "
                "{column: (low, high)}, or conditions=None to draw freely."
            )
        equal, ranges = {}, {}
        for key, value in conditions.items():
            column = resolve(key)
            if _is_range(value):
                low, high = value
                if low is not None and high is not None and _greater(low, high):
                    raise ValueError(
                        f"The range for {column!r} is ({low!r}, {high!r}): its low "
                        "end is above its high end; pass (low, high) with low <= high."
                    )
                ranges[column] = (low, high)
            elif isinstance(value, (set, dict)) or (
                isinstance(value, (tuple, list, np.ndarray))
                and not isinstance(value, str)
            ):
                raise ValueError(
                    f"The condition on {column!r} is {value!r}; pass one value or a "
                    "range (low, high). For one of several values, draw once per "
                    "value."
                )
            elif _is_missing(value):
                raise ValueError(
                    f"The condition on {column!r} is a missing value; a dict names "
                    "only the columns to fix. Leave the column out to keep it free."
                )
            else:
                equal[column] = value
        n_rows = 1 if n_samples is None else _check_count(n_samples)
        targets = pd.DataFrame({column: [value] for column, value in equal.items()})
        if not equal:
            targets = pd.DataFrame(index=[0])
        return ParsedConditions(targets, ranges, n_rows)

    if isinstance(conditions, pd.DataFrame):
        frame = conditions.rename(columns=resolve).reset_index(drop=True)
    elif isinstance(conditions, np.ndarray) or (
        isinstance(conditions, (list, tuple)) and conditions
    ):
        array = np.asarray(conditions, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != len(columns):
            raise ValueError(
                f"conditions as an array must have shape (n_rows, {len(columns)}) "
                f"with NaN for the free cells; got shape {array.shape}."
            )
        frame = pd.DataFrame(array, columns=list(columns))
    else:
        raise TypeError(
            f"conditions must be a dict, a DataFrame of partial rows or a 2-D "
            f"array with NaN for free cells; got {type(conditions).__name__}."
        )
    if len(frame) == 0:
        raise ValueError("conditions has no rows; pass at least one partial row.")
    if frame.columns.duplicated().any():
        raise ValueError("conditions names a column twice; name each at most once.")
    if n_samples is not None and _check_count(n_samples) not in (1, len(frame)):
        raise ValueError(
            f"conditions has {len(frame)} partial rows, so sample returns one "
            f"completed row per given row; n_samples={n_samples} asks for another "
            "number. Leave n_samples out (or pass as many rows as you want back)."
        )
    return ParsedConditions(frame, {}, len(frame))


def _check_count(n) -> int:
    from ._base import check_n_samples

    return check_n_samples(n)


def _greater(a, b) -> bool:
    try:
        return bool(a > b)
    except TypeError:
        import pandas as pd

        return bool(pd.Timestamp(a) > pd.Timestamp(b))


# ------------------------------------------------------------ column values
def is_numeric_dtype(dtype) -> bool:
    """Numbers, dates and durations: conditions by distance and by range."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return False
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    )


def as_float(values, dtype=None) -> np.ndarray:
    """Numbers as float64, dates as seconds since 1970 (UTC), durations as
    seconds; NaN for missing. ``dtype`` converts raw values (e.g. a date given
    as text) to the column's type first."""
    import pandas as pd

    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if dtype is not None and series.dtype != dtype:
        series = series.astype(dtype)
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(
        dtype
    ):
        kind = "datetime64[ns]" if dtype.kind == "M" else "timedelta64[ns]"
        missing = series.isna().to_numpy()
        nanoseconds = series.to_numpy(dtype=kind).astype(np.int64).astype(np.float64)
        nanoseconds[missing] = np.nan
        return nanoseconds / 1e9
    return pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def _target_as(column: str, values, dtype):
    """Given values converted to the column's dtype, with a clear error."""
    import pandas as pd

    series = pd.Series(list(values), dtype=object)
    try:
        if is_numeric_dtype(dtype):
            return as_float(series.where(series.notna(), None).infer_objects(), dtype)
        return series
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The condition on {column!r} ({series.dropna().iloc[0]!r}) does not "
            f"convert to the column's type {dtype}: {exc}."
        ) from exc


# ------------------------------------------------------------------ weights
class ConditionWeights:
    """Acceptance probabilities of candidate rows under parsed conditions.

    ``columns`` are the conditions' columns to check (all of them for plain
    rejection; only what the family's draw could not fix otherwise), with the
    dtype of each and the spread numeric equalities are measured in.
    """

    def __init__(self, parsed, dtypes: dict, spreads: dict, check: set | None = None):
        self.parsed = parsed
        self.dtypes = dtypes
        self.spreads = spreads
        names = set(parsed.targets.columns) | set(parsed.ranges)
        self.check = names if check is None else set(check) & names
        self._targets = {}
        for column in parsed.targets.columns:
            if column in self.check:
                values = parsed.targets[column]
                self._targets[column] = (
                    _target_as(column, values, dtypes[column])
                    if is_numeric_dtype(dtypes[column])
                    else values.to_numpy(dtype=object)
                )
        self._ranges = {}
        for column, (low, high) in parsed.ranges.items():
            if column not in self.check:
                continue
            if not is_numeric_dtype(dtypes[column]):
                raise ValueError(
                    f"The condition on {column!r} is a range, but the column is not "
                    "numeric or a date; pass one of its values instead."
                )
            bounds = _target_as(column, [low, high], dtypes[column])
            self._ranges[column] = (
                -np.inf if low is None else bounds[0],
                np.inf if high is None else bounds[1],
            )

    def __call__(self, candidates, positions: np.ndarray) -> np.ndarray:
        """Per candidate row (aligned with ``positions``, the output rows they
        are for), the probability of accepting it."""
        weight = np.ones(len(positions))
        if not self.check:
            return weight
        index = (
            np.zeros(len(positions), dtype=np.intp)
            if len(self.parsed.targets) == 1
            else positions
        )
        for column, targets in self._targets.items():
            target = targets[index]
            values = candidates[column]
            if is_numeric_dtype(self.dtypes[column]):
                given = ~np.isnan(target)
                x = as_float(values)
                spread = self.spreads.get(column, 0.0)
                if spread > 0:
                    w = np.exp(-0.5 * ((x - target) / (KERNEL_WIDTH * spread)) ** 2)
                else:
                    w = (x == target).astype(np.float64)
                w = np.where(np.isnan(w), 0.0, w)
            else:
                given = np.array([not _is_missing(t) for t in target])
                w = _equal(values.to_numpy(dtype=object), target).astype(np.float64)
            weight *= np.where(given, w, 1.0)
        for column, (low, high) in self._ranges.items():
            x = as_float(candidates[column])
            weight *= (x >= low) & (x <= high)
        return weight


def _equal(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Element-wise equality of object arrays; missing equals nothing."""
    import pandas as pd

    out = np.zeros(len(values), dtype=bool)
    targets = pd.Series(targets, dtype=object)
    for target in pd.unique(targets.dropna()):
        # A loop over the distinct given values (categories), never rows.
        rows = (targets == target).to_numpy()
        out[rows] = pd.Series(values[rows], dtype=object).eq(target).to_numpy()
    return out


# -------------------------------------------------------------- the loop
@dataclass
class Report:
    """What ``conditional_report_`` holds after a conditioned draw."""

    method: str
    acceptance_rate: float = 1.0
    n_proposed: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "acceptance_rate": self.acceptance_rate,
            "n_proposed": self.n_proposed,
            **self.extra,
        }


class ImprobableConditionError(ValueError):
    """Conditions met by too few of the model's rows to be drawn."""


def fill_rows(
    draw: Callable,
    weights: ConditionWeights,
    n_rows: int,
    rng: np.random.RandomState,
    *,
    describe: Callable[[], str],
    max_per_row: int = MAX_PROPOSALS_PER_ROW,
):
    """Rows for output positions ``0..n_rows-1`` that pass ``weights``.

    ``draw(positions, seed)`` returns one candidate per entry of
    ``positions`` (a DataFrame, aligned). Each round draws, for every row
    still pending, as many candidates as the acceptance rate so far says one
    accepted row needs (twice over), and keeps the first accepted one. An
    acceptance rate under ``1 / max_per_row`` once every pending row has had
    ``max_per_row`` candidates, or a row pending after ten times that, raises
    :class:`ImprobableConditionError`.

    Returns the accepted rows in position order and ``(n_proposed,
    n_accepted_candidates)``.
    """
    import pandas as pd

    pending = np.arange(n_rows)
    pieces, owners = [], []
    proposed, accepted_candidates = 0, 0
    per_row = 1
    spent = 0
    while pending.size:
        positions = np.repeat(pending, per_row)
        candidates = draw(positions, draw_seed(rng))
        w = weights(candidates, positions)
        accept = rng.uniform(size=len(w)) < w
        proposed += len(w)
        accepted_candidates += int(accept.sum())
        grid = accept.reshape(len(pending), per_row)
        found = grid.any(axis=1)
        take = np.flatnonzero(found) * per_row + grid.argmax(axis=1)[found]
        pieces.append(candidates.iloc[take])
        owners.append(pending[found])
        pending = pending[~found]
        spent += per_row
        if not pending.size:
            break
        rate = accepted_candidates / proposed
        # Impossible: the acceptance rate is below one in max_per_row; or,
        # for partial rows, some rows found nothing in ten times that while
        # others did. (A few rows missing out by chance is not a reason.)
        if (spent >= max_per_row and rate < 1.0 / max_per_row) or (
            spent >= 10 * max_per_row
        ):
            raise ImprobableConditionError(
                f"The conditions {describe()} have (near) zero probability under "
                f"the model: {accepted_candidates} of {proposed} candidate rows met "
                f"them (acceptance rate {rate:.2g}), and {pending.size} of "
                f"{n_rows} rows found none in {spent} candidates each. Ask for "
                "values the training rows have, or a wider range."
            )
        rate = max(rate, 1.0 / max_per_row)
        per_row = int(min(np.ceil(2.0 / rate), max(MAX_ROUND_ROWS // pending.size, 1)))
    rows = pd.concat(pieces, ignore_index=True)
    order = np.argsort(np.concatenate(owners), kind="stable")
    return rows.iloc[order].reset_index(drop=True), (proposed, accepted_candidates)


def set_given(rows, parsed: ParsedConditions, skip: set = frozenset()):
    """``rows`` (a DataFrame) with every given equality cell set exactly."""
    import pandas as pd

    positions = np.arange(len(rows))
    targets = parsed.target_rows(positions)
    for column in targets.columns:
        if column in skip:
            continue
        given = targets[column].notna().to_numpy()
        if not given.any():
            continue
        dtype = rows[column].dtype
        values = targets[column][given]
        if is_numeric_dtype(dtype) and dtype.kind in "fiu":
            values = pd.to_numeric(values)
        current = rows[column]
        try:
            column_values = current.copy()
            column_values[given] = values.to_numpy()
            rows[column] = column_values.astype(dtype)
        except (TypeError, ValueError):
            column_values = current.astype(object)
            column_values[given] = values.to_numpy()
            rows[column] = column_values
    return rows


def describe(parsed: ParsedConditions) -> str:
    """The conditions in words, for error messages."""
    parts = []
    if len(parsed.targets) == 1:
        for column in parsed.targets.columns:
            parts.append(f"{column!r} = {parsed.targets[column].iloc[0]!r}")
    else:
        parts.append(f"given cells of {len(parsed.targets)} partial rows")
    for column, (low, high) in parsed.ranges.items():
        parts.append(f"{low!r} <= {column!r} <= {high!r}")
    return ", ".join(parts)


# ------------------------------------------------------------ entry points
def _report(owner, method, proposed, accepted, stats) -> dict:
    report = Report(
        method=method,
        acceptance_rate=accepted / proposed if proposed else 1.0,
        n_proposed=proposed,
    )
    if stats:
        total = sum(len_ for len_, _ in stats)
        report.extra["chain_acceptance_rate"] = (
            sum(len_ * draw.acceptance_rate for len_, draw in stats) / total
        )
        report.extra["misfit"] = float(
            np.sqrt(sum(len_ * draw.misfit**2 for len_, draw in stats) / total)
        )
    owner.conditional_report_ = report.as_dict()
    return owner.conditional_report_


def _check_in_range(parsed, columns, low, high, *, owner: str) -> None:
    """Equalities inside, ranges overlapping, the fitted rows' range."""
    for j, column in enumerate(columns):
        if column in parsed.targets.columns:
            values = as_float(parsed.targets[column])
            slack = 1e-9 * max(high[j] - low[j], abs(high[j]), 1.0)
            outside = (values < low[j] - slack) | (values > high[j] + slack)
            if outside.any():
                value = values[np.flatnonzero(outside)[0]]
                raise ValueError(
                    f"The condition {column!r} = {value!r} lies outside the range of "
                    f"the fitted rows [{low[j]:.6g}, {high[j]:.6g}]: the model gives "
                    "it (near) zero probability. Ask for a value inside that range."
                )
        if column in parsed.ranges:
            lo, hi = parsed.ranges[column]
            lo = -np.inf if lo is None else float(lo)
            hi = np.inf if hi is None else float(hi)
            if hi < low[j] or lo > high[j]:
                raise ValueError(
                    f"The range ({lo:.6g}, {hi:.6g}) for {column!r} misses the range "
                    f"of the fitted rows [{low[j]:.6g}, {high[j]:.6g}]: the model "
                    "gives it (near) zero probability. Ask for a range that "
                    "overlaps it."
                )


def sample_sampler(sampler, n_samples, random_state, conditions):
    """``BaseSampler.sample`` with conditions (see the module docstring)."""
    import pandas as pd
    from sklearn.utils.validation import check_is_fitted

    from ._torch_utils import check_random_state, to_numpy

    check_is_fitted(sampler)
    owner = type(sampler).__name__
    if sampler._output_columns is not None:
        columns = list(sampler._output_columns)
    elif hasattr(sampler, "feature_names_in_"):
        columns = list(sampler.feature_names_in_)
    else:
        columns = list(range(sampler.n_features_in_))
    parsed = parse_conditions(conditions, columns, n_samples, owner=owner)
    for column in parsed.targets.columns:
        _target_as(column, parsed.targets[column], np.dtype(np.float64))
    rng = (
        sampler.random_state_
        if random_state is None
        else check_random_state(random_state)
    )
    low = getattr(sampler, "_low", None)
    if low is None:  # a file saved before the range was recorded
        reference = sampler._unscale(
            sampler._draw_scaled(2000, seed=0)[0].cpu().numpy()
        )
        low, high = reference.min(axis=0), reference.max(axis=0)
    else:
        high = sampler._high
    _check_in_range(parsed, columns, low, high, owner=owner)
    fixed = np.full((len(parsed.targets), len(columns)), np.nan)
    for j, column in enumerate(columns):
        if column in parsed.targets.columns:
            fixed[:, j] = as_float(parsed.targets[column])
    dtypes = {column: np.dtype(np.float64) for column in columns}
    spreads = dict(zip(columns, np.where(sampler._varying, sampler._spread, 0.0)))
    method = sampler._conditional_method
    stats = []

    def draw_free(positions, seed):
        rows, _ = sampler._draw_scaled(len(positions), seed)
        return pd.DataFrame(sampler._unscale(to_numpy(rows)), columns=columns)

    def draw_fixed(positions, seed):
        given = (
            fixed[positions] if len(fixed) > 1 else np.repeat(fixed, len(positions), 0)
        )
        rows, result = sampler._draw_given(given, seed)
        stats.append((len(positions), result))
        return pd.DataFrame(rows, columns=columns)

    def run(method, **options):
        if method == "rejection":
            weights = ConditionWeights(parsed, dtypes, spreads)
            draw = draw_free
        else:
            weights = ConditionWeights(
                parsed, dtypes, spreads, check=set(parsed.ranges)
            )
            draw = draw_fixed
        return fill_rows(
            draw,
            weights,
            parsed.n_rows,
            rng,
            describe=lambda: describe(parsed),
            **options,
        )

    if method != "rejection" and sampler._rejection_first:
        # The model's own conditional by rejection while that is affordable;
        # the family's approximate method only beyond.
        try:
            rows, (proposed, accepted) = run(
                "rejection", max_per_row=REJECTION_FIRST_BUDGET
            )
            method = "rejection"
        except ImprobableConditionError:
            rows, (proposed, accepted) = run(method)
    else:
        rows, (proposed, accepted) = run(method)
    rows = set_given(rows, parsed)
    _report(sampler, method, proposed, accepted, stats)
    X_new = rows.to_numpy(dtype=np.float64)
    return sampler._to_output(X_new)


def _frame(rows, columns):
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        return rows.reset_index(drop=True)
    return pd.DataFrame(np.asarray(rows), columns=columns)


def _final_sampler(step):
    """The skflow sampler that draws for ``step`` (an AutoSampler's choice)."""
    from ._base import BaseSampler

    if isinstance(step, BaseSampler):
        return step
    chosen = getattr(step, "best_estimator_", None)
    return chosen if isinstance(chosen, BaseSampler) else None


def sample_pipeline(pipeline, n_samples, random_state, conditions, *, present=None):
    """``GenerativePipeline.sample`` with conditions.

    Behind a single :class:`~skflow.TabularEncoder`, the conditions become
    fixed coordinates of the encoded space for the sampler's own conditional
    (``present`` marks free cells that must not decode to missing, for
    imputation). Behind other transformers, rows of the whole pipeline are
    drawn and accepted by rejection in the original columns.
    """
    import pandas as pd

    from ._torch_utils import check_random_state
    from .encoders import TabularEncoder

    transformers = [
        step for _, _, step in pipeline._iter(with_final=False, filter_passthrough=True)
    ]
    final = pipeline._final_estimator
    if not transformers:
        return final.sample(n_samples, random_state=random_state, conditions=conditions)
    sampler = _final_sampler(final)
    encoder = transformers[0] if len(transformers) == 1 else None
    owner = type(pipeline).__name__
    if isinstance(encoder, TabularEncoder) and encoder._columns is not None:
        columns, dtypes = (
            list(encoder._columns),
            dict(zip(encoder._columns, encoder._dtypes)),
        )
    elif isinstance(encoder, TabularEncoder):
        columns = list(range(encoder.n_features_in_))
        dtypes = {column: np.dtype(np.float64) for column in columns}
    else:
        first = _frame(pipeline.sample(1, random_state=0), None)
        columns, dtypes = list(first.columns), dict(first.dtypes)
    parsed = parse_conditions(conditions, columns, n_samples, owner=owner)
    if sampler is None:
        raise TypeError(
            f"conditions need an skflow sampler as the pipeline's last step (or an "
            f"AutoSampler); {type(final).__name__} draws rows of its own kind. "
            "ClassConditionalSampler conditions on the label through y."
        )
    rng = (
        sampler.random_state_
        if random_state is None
        else check_random_state(random_state)
    )
    # The spreads numeric equalities are measured in, from a fixed draw.
    drawn = pipeline.sample(2000, random_state=0)
    frame_output = isinstance(drawn, pd.DataFrame)
    reference = _frame(drawn, columns)
    spreads = {
        column: float(np.nanstd(as_float(reference[column])))
        for column in columns
        if is_numeric_dtype(dtypes[column])
    }
    stats = []
    if (
        isinstance(encoder, TabularEncoder)
        and sampler._conditional_method != "rejection"
    ):
        fixed, residual = encoder._condition_coordinates(
            parsed.targets, present=present
        )
        _check_ranges(parsed, encoder, owner)
        method = sampler._conditional_method
        must_decode = present is not None and bool(present.to_numpy().any())
        weights = ConditionWeights(
            parsed, dtypes, spreads, check=residual | set(parsed.ranges)
        )

        def draw(positions, seed):
            given = (
                fixed[positions]
                if len(fixed) > 1
                else np.repeat(fixed, len(positions), 0)
            )
            rows, result = sampler._draw_given(given, seed)
            stats.append((len(positions), result))
            if must_decode:
                encoder._present_mask(
                    rows, present.iloc[positions].reset_index(drop=True)
                )
            return _frame(encoder.inverse_transform(rows), columns)
    else:
        if present is not None:
            raise TypeError(
                f"Imputation needs a pipeline of one TabularEncoder and a sampler "
                f"with its own conditional; {type(sampler).__name__} here draws "
                "conditioned rows by rejection only."
            )
        method = "rejection"
        lows = {c: float(np.nanmin(as_float(reference[c]))) for c in spreads}
        highs = {c: float(np.nanmax(as_float(reference[c]))) for c in spreads}
        _check_reference_range(parsed, dtypes, lows, highs)
        weights = ConditionWeights(parsed, dtypes, spreads)

        def draw(positions, seed):
            return _frame(pipeline.sample(len(positions), random_state=seed), columns)

    rows, (proposed, accepted) = fill_rows(
        draw, weights, parsed.n_rows, rng, describe=lambda: describe(parsed)
    )
    rows = set_given(rows, parsed)
    pipeline.conditional_report_ = _report(sampler, method, proposed, accepted, stats)
    return rows if frame_output else rows.to_numpy(dtype=np.float64)


def _check_ranges(parsed, encoder, owner) -> None:
    """Ranges of numeric columns overlap what the encoder saw in fit."""
    from .encoders._columns import NumericColumn

    for column, (low, high) in parsed.ranges.items():
        codec = encoder.codecs_.get(column)
        if not isinstance(codec, NumericColumn):
            continue
        dtype = (
            encoder._dtypes[encoder._columns.index(column)] if encoder._dtypes else None
        )
        bounds = _target_as(
            column, [low, high], dtype if dtype is not None else np.dtype(float)
        )
        lo = -np.inf if low is None else bounds[0]
        hi = np.inf if high is None else bounds[1]
        seen = list(codec.masses_)
        if codec.has_value_:
            seen += [codec.low_, codec.high_]
        if seen and (hi < min(seen) or lo > max(seen)):
            raise ValueError(
                f"The range for {column!r} misses every value seen in fit (from "
                f"{min(seen):.6g} to {max(seen):.6g} as numbers): the model gives it "
                "(near) zero probability. Ask for a range that overlaps them."
            )


def _check_reference_range(parsed, dtypes, lows, highs) -> None:
    for column in parsed.targets.columns:
        if column in lows:
            values = _target_as(column, parsed.targets[column], dtypes[column])
            if ((values < lows[column]) | (values > highs[column])).any():
                raise ValueError(
                    f"The condition on {column!r} lies outside the range the model "
                    f"generates [{lows[column]:.6g}, {highs[column]:.6g}]: it has "
                    "(near) zero probability. Ask for a value inside that range."
                )
