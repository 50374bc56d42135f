"""Per-column codecs of :class:`~skflow.TabularEncoder`: one column to a few
continuous columns and back.

Every codec learns from one column in ``fit`` and then maps it to an ``(n,
width)`` float block (``encode``) and a block back to the column's values
(``decode``). Three families cover a table:

* :class:`NumericColumn` for numbers, and through it for dates and durations
  (as float seconds): missing values and exact point masses (a column that is 60 %
  zeros) become a *state* (value, mass ``j``, missing), encoded like a categorical
  column; the other values become one continuous column, standardised or mapped
  through the normal quantile function when the marginal is skewed or
  heavy-tailed, and decoded at the column's recorded precision (cents, whole
  numbers, steps of 0.5) inside its range;
* :class:`CategoricalColumn` for text, ``category`` and boolean columns with
  missing values: one centred, scaled indicator block, missing as a level, rare
  levels pooled beyond ``max_categories`` and drawn back by their frequencies;
* :class:`BooleanColumn` for complete boolean columns: one standardised 0/1
  column thresholded at 0.5.

Indicator blocks are centred on the level frequencies and scaled so the block's
total variance is 1 (see :func:`indicator_scale`): every column contributes the
same variance to the geometry the samplers see, whatever its number of levels.

Each codec can also be set from a declared domain instead of the rows
(``fit_domain``, for ``TabularEncoder(domains=...)``): a linear map of the
declared range, uniform level frequencies, no point masses. Every column then
has total variance 1 when its values are spread uniformly over its domain, the
data-free counterpart of the rule above, and ``encoded_bounds`` gives the
range of each encoded column.

The codecs are :class:`~sklearn.base.BaseEstimator` subclasses only so that
``skflow.save`` can store them (it rebuilds skflow estimators from their data);
they have no parameters of their own and are not meant for direct use.
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
from scipy.special import ndtri
from sklearn.base import BaseEstimator

from .._scaling import mean_and_std, scale_exponent

# A value is an exact point mass when at least this share of a column's
# observed values, and at least MASS_MIN_ROWS of them, equal it (a
# zero-inflated amount, the levels of a small integer scale)...
MASS_MIN_SHARE = 0.1
MASS_MIN_ROWS = 5
# ...up to this many masses per column, the most frequent first. A column with
# at most MAX_MASSES distinct values and MASS_MIN_ROWS rows per value on average
# is all masses.
MAX_MASSES = 20
# The continuous part is mapped through the normal quantile function when its
# sample skewness or excess kurtosis is beyond these (a Gaussian pushed through
# a smooth network grows heavy tails slowly); otherwise it is standardised.
QUANTILE_SKEW = 1.0
QUANTILE_KURTOSIS = 3.0
# At most this many knots of the quantile map.
MAX_QUANTILES = 1000
# A value of the continuous part on at least MASS_MIN_ROWS rows, in a column
# not recorded as whole numbers, is an *atom* of the quantile map: decoding
# returns it exactly over its whole share of normal scores (a logged price
# list, a per-family amount repeated on every member's row, temperatures
# converted from whole Fahrenheit degrees), where interpolating between knots
# would spread it into nearby values a classifier tells apart at once. A
# continuous part with at least this share of its rows on atoms is mapped
# through quantiles even when it is not skewed.
ATOM_QUANTILE_SHARE = 0.5
# Decimal places searched for a column's recorded precision.
MAX_DECIMALS = 6
# A date column whose values span at least this many years, on at least
# MIN_PHASES distinct days of the year, also encodes its phase in the year (the
# season): temperatures, sales and admissions follow it, and as a smooth
# function of (cos, sin) of the phase it is easy for a sampler to learn, where
# as a function of the absolute time it is a wave of one period per year.
YEAR_SECONDS = 365.2425 * 86400.0
MIN_PERIODS = 2.0
MIN_PHASES = 4


def indicator_scale(frequencies: np.ndarray) -> float:
    """The factor that gives a centred indicator block total variance 1.

    The indicators of levels with frequencies ``p_j`` centred on ``p`` have
    total variance ``1 - sum p_j^2``; a block with one level has none.
    """
    total_variance = 1.0 - float(np.sum(np.asarray(frequencies) ** 2))
    return 1.0 / np.sqrt(total_variance) if total_variance > 1e-12 else 1.0


def _encode_levels(
    codes: np.ndarray, frequencies: np.ndarray, *, compact: bool = False
) -> np.ndarray:
    """Centred, scaled indicators of integer level ``codes``.

    With ``compact``, two levels take one column (the second level's
    indicator, standardised): the pair of indicators is perfectly
    anti-correlated, so the second column would carry nothing. A negative code
    (a level unseen in ``fit``) sits at the block's centre.
    """
    n_levels = len(frequencies)
    if compact and n_levels == 2:
        p = frequencies[1]
        spread = np.sqrt(p * (1 - p)) or 1.0
        indicator = np.where(codes < 0, p, (codes == 1).astype(np.float64))
        return ((indicator - p) / spread)[:, None]
    indicators = np.zeros((len(codes), n_levels))
    seen = codes >= 0
    indicators[np.flatnonzero(seen), codes[seen]] = 1.0
    indicators[~seen] = frequencies
    return (indicators - frequencies) * indicator_scale(frequencies)


def _decode_levels(
    block: np.ndarray, frequencies: np.ndarray, *, compact: bool = False
) -> np.ndarray:
    """The level of each encoded row: the largest (soft) indicator."""
    if compact and len(frequencies) == 2:
        p = frequencies[1]
        spread = np.sqrt(p * (1 - p)) or 1.0
        return (block[:, 0] * spread + p > 0.5).astype(np.intp)
    soft = block / indicator_scale(frequencies) + frequencies
    return np.argmax(soft, axis=1)


def _level_width(n_levels: int, *, compact: bool = False) -> int:
    return 1 if compact and n_levels == 2 else n_levels


def _recorded_step(values: np.ndarray) -> tuple[float, int] | None:
    """The grid the values were recorded on, as ``(step, decimals)``: (0.01, 2)
    for cents, (1, 0) for whole numbers, (0.5, 1) for halves; None when they are
    not on a grid of at most ``MAX_DECIMALS`` decimals.

    The smallest ``k`` with every ``value * 10^k`` an integer, then the greatest
    common divisor of those integers, so a column of halves gives 0.5 rather
    than 0.1.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    for decimals in range(MAX_DECIMALS + 1):
        scaled = finite * 10.0**decimals
        if np.abs(scaled).max() >= 2**52:
            return None
        rounded = np.rint(scaled)
        # A nonzero value that rounds to zero is not on the grid (1e-300 is
        # not a whole number).
        on_grid = (np.abs(scaled - rounded) <= 1e-9 * np.maximum(1, np.abs(scaled))) & (
            (rounded != 0) | (finite == 0)
        )
        if np.all(on_grid):
            integers = np.abs(rounded.astype(np.int64))
            divisor = int(np.gcd.reduce(integers)) if integers.any() else 1
            return max(divisor, 1) / 10.0**decimals, decimals
    return None


# Rows x pooled levels of class probabilities held at once when drawing
# pooled levels (a 2,000-level column over a million rows would be 16 GB).
DRAW_CHUNK_CELLS = 2**22


def _draw_from_classifier(model, features: np.ndarray, random) -> np.ndarray:
    """One class per row, drawn from ``model.predict_proba``, in chunks of
    rows so memory is bounded by DRAW_CHUNK_CELLS."""
    n_classes = len(model.classes_)
    chunk = max(DRAW_CHUNK_CELLS // n_classes, 1)
    uniforms = random.random_sample(len(features))
    draws = np.empty(len(features), dtype=np.intp)
    for start in range(0, len(features), chunk):
        stop = start + chunk
        cumulative = np.cumsum(model.predict_proba(features[start:stop]), axis=1)
        picked = (cumulative < uniforms[start:stop, None] * cumulative[:, -1:]).sum(1)
        draws[start:stop] = np.minimum(picked, n_classes - 1)
    return model.classes_[draws]


def _atoms_off_grid(step) -> bool:
    """Whether repeated values can be atoms of the quantile map: values not
    recorded as whole numbers (whole numbers come back by rounding to their
    grid; a column recorded to 0.1 whose values are unit conversions repeats
    only some of its tenths)."""
    return step is None or step[1] > 0


def _round_to_step(values: np.ndarray, step: float, decimals: int) -> np.ndarray:
    return np.round(np.rint(values / step) * step, decimals)


def _reflect(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Fold values beyond ``[low, high]`` back inside, mirror-wise.

    Clipping would pile every overshoot onto the bounds (a generated age at its
    minimum four times as often as in the data); reflecting spreads it over the
    edge of the range, as a boundary-corrected kernel estimate does.
    """
    width = high - low
    if width <= 0:
        return np.full_like(values, low)
    shifted = np.mod(values - low, 2 * width)
    return low + np.where(shifted > width, 2 * width - shifted, shifted)


class NumericColumn(BaseEstimator):
    """A numeric column: states (value / point masses / missing) and a value.

    ``fit`` takes the column as float64 with NaN for missing values. The
    encoded block is the state block (when there is more than one state) and
    the continuous value (when some values are not point masses). With both,
    each part carries half of the column's total variance of 1; a column that
    is one value throughout encodes as a single zero column.
    """

    # Codecs saved before the phase existed have none.
    period_ = None
    # Codecs saved before atoms decode through the forward map's knots.
    inverse_knots_ = None
    inverse_scores_ = None
    # Set by fit_domain: values beyond the declared range are clipped onto it
    # when encoded. Codecs fitted on rows leave values as they are.
    clips_input_ = False

    def fit(
        self, values: np.ndarray, *, clip: bool = True, grid_origin=None, period=None
    ):
        """Learn the states, the transform, the range and the precision.

        ``grid_origin="min"`` measures the precision from the smallest value
        (dates: whole days from the first date, whatever the time zone's
        offset from the epoch); None from zero. ``period`` (dates: a year in
        seconds) adds the value's phase in that period, as a cosine and a sine,
        when the values span at least ``MIN_PERIODS`` periods on at least
        ``MIN_PHASES`` distinct phases; ``period_`` is None otherwise.
        """
        values = np.asarray(values, dtype=np.float64)
        missing = np.isnan(values)
        observed = values[~missing]
        self.clip = clip
        self.masses_ = self._point_masses(observed)
        rest = observed[~np.isin(observed, self.masses_)]
        if rest.size and np.ptp(rest) == 0:
            # One value besides the masses: a mass too.
            self.masses_ = np.sort(np.append(self.masses_, rest[0]))
            rest = rest[:0]
        self.has_value_ = bool(rest.size)
        self.has_missing_ = bool(missing.any())
        n_states = int(self.has_value_) + len(self.masses_) + int(self.has_missing_)
        self.state_frequencies_ = np.bincount(
            self._states(values), minlength=n_states
        ) / len(values)
        self.origin_ = (
            float(observed.min()) if grid_origin == "min" and observed.size else 0.0
        )
        self.step_ = _recorded_step(observed - self.origin_)
        if self.has_value_:
            self.low_, self.high_ = float(rest.min()), float(rest.max())
            self.transform_ = self._choose_transform(rest, self.step_)
            if self.transform_ == "quantile":
                self._fit_quantiles(rest, self.step_)
            else:
                mean, std = mean_and_std(rest, axis=None)
                self.mean_, self.std_ = float(mean), float(std) or 1.0
        has_states = n_states > 1
        # Each part's share of the column's total variance of 1; the phase,
        # when there is one, takes half of the value's share.
        self.state_weight_ = np.sqrt(0.5) if has_states and self.has_value_ else 1.0
        self.value_weight_ = np.sqrt(0.5) if has_states else 1.0
        self.period_ = self._choose_period(rest, period)
        if self.has_value_:
            filled = self._filled_scores(values)
            self.fill_mean_ = float(filled.mean())
            self.fill_std_ = float(filled.std()) or 1.0
        if self.period_ is not None:
            self.value_weight_ *= np.sqrt(0.5)
            self.phase_weight_ = self.value_weight_
            circle = self._circle(rest)
            self.circle_mean_ = circle.mean(axis=0)
            self.circle_std_ = float(np.sqrt(circle.var(axis=0).sum())) or 1.0
        self.state_width_ = _level_width(n_states, compact=True) if has_states else 0
        self.width_ = max(
            self.state_width_
            + int(self.has_value_)
            + (2 if self.period_ is not None else 0),
            1,
        )
        return self

    def fit_domain(
        self,
        low: float,
        high: float,
        *,
        missing: bool,
        step=None,
        clip=True,
        masses=(),
    ):
        """Set the codec from a declared range ``[low, high]``, reading no data.

        The value is mapped linearly onto ``[-sqrt(3), sqrt(3)]``, the
        interval of a unit-variance uniform, and values beyond the range are
        clipped onto it when encoded. ``missing`` adds the state block (value,
        missing) with both states equally likely, each part then carrying half
        of the variance as in :meth:`fit`. ``step`` is the decoding grid
        ``(step, decimals)`` (whole numbers for an integer dtype), measured
        from zero. ``masses`` are declared point masses (a count's exact
        zero): each is a state beside the value, like a missing value, all
        states taken as equally likely. No quantile map or phase, and no
        point mass found from the rows: choosing them reads the rows.
        """
        self.clip = clip
        self.clips_input_ = True
        self.masses_ = np.sort(np.asarray(masses, dtype=np.float64))
        self.has_value_ = True
        self.has_missing_ = bool(missing)
        n_states = 1 + len(self.masses_) + int(self.has_missing_)
        self.state_frequencies_ = np.full(n_states, 1.0 / n_states)
        self.origin_ = 0.0
        self.step_ = step
        self.low_, self.high_ = float(low), float(high)
        self.transform_ = "linear"
        # Halves first: the sum or difference of two values near the largest
        # float overflows.
        self.mean_ = self.low_ / 2 + self.high_ / 2
        # A uniform on [low, high] has standard deviation (high - low) / sqrt(12).
        self.std_ = (self.high_ / 2 - self.low_ / 2) / np.sqrt(3.0)
        self.fill_mean_, self.fill_std_ = 0.0, 1.0
        self.period_ = None
        weight = np.sqrt(0.5) if n_states > 1 else 1.0
        self.state_weight_ = self.value_weight_ = weight
        self.state_width_ = _level_width(n_states, compact=True) if n_states > 1 else 0
        self.width_ = self.state_width_ + 1
        return self

    def encoded_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The least and greatest value of each encoded column, for a codec
        set by :meth:`fit_domain` (the encoding of the range's ends and of a
        missing value: it is monotone in the value, and clipped)."""
        # The range's ends as values: a declared mass at an end encodes as a
        # state, so the value column's end is reached just inside it.
        ends = [
            np.nextafter(self.low_, self.high_)
            if self.low_ in self.masses_
            else self.low_,
            np.nextafter(self.high_, self.low_)
            if self.high_ in self.masses_
            else self.high_,
        ]
        probe = [*ends, *self.masses_.tolist()]
        probe += [np.nan] if self.has_missing_ else []
        block = self.encode(np.asarray(probe))
        return block.min(axis=0), block.max(axis=0)

    def _choose_period(self, rest: np.ndarray, period) -> float | None:
        if period is None or rest.size == 0 or np.ptp(rest) < MIN_PERIODS * period:
            return None
        days = np.floor(self._phase(rest, period) * 365.0)
        return float(period) if np.unique(days).size >= MIN_PHASES else None

    def _phase(self, values: np.ndarray, period=None) -> np.ndarray:
        """Where each value falls in its period, in [0, 1)."""
        period = self.period_ if period is None else period
        return np.mod((values - self.origin_) / period, 1.0)

    def _circle(self, values: np.ndarray) -> np.ndarray:
        angle = 2 * np.pi * self._phase(values)
        return np.column_stack([np.cos(angle), np.sin(angle)])

    # ---------------------------------------------------------------- fitting
    @staticmethod
    def _point_masses(observed: np.ndarray) -> np.ndarray:
        if observed.size == 0:
            return np.zeros(0)
        levels, counts = np.unique(observed, return_counts=True)
        if levels.size <= MAX_MASSES and observed.size >= MASS_MIN_ROWS * levels.size:
            # A column of few values, each on several rows on average (a
            # rating, a count of cylinders, yearly dates): every value is a
            # level, so decoded values are always ones the column had.
            return levels
        share = counts / observed.size
        heavy = np.flatnonzero((share >= MASS_MIN_SHARE) & (counts >= MASS_MIN_ROWS))
        heavy = heavy[np.argsort(-counts[heavy], kind="stable")][:MAX_MASSES]
        return np.sort(levels[heavy])

    @staticmethod
    def _choose_transform(rest: np.ndarray, step=None) -> str:
        # The shape of rest divided by a power of two: the same standardised
        # values, without squares of 1e300 overflowing (or of 1e-300
        # underflowing).
        unit = np.ldexp(rest, -scale_exponent(rest))
        centred = unit - unit.mean()
        spread = centred.std()
        if rest.size < 8 or spread == 0:
            return "linear"
        z = centred / spread
        skew = float(np.mean(z**3))
        excess_kurtosis = float(np.mean(z**4)) - 3.0
        if abs(skew) > QUANTILE_SKEW or excess_kurtosis > QUANTILE_KURTOSIS:
            return "quantile"
        if _atoms_off_grid(step):
            _, counts = np.unique(rest, return_counts=True)
            atom_share = counts[counts >= MASS_MIN_ROWS].sum() / rest.size
            if atom_share >= ATOM_QUANTILE_SHARE:
                return "quantile"
        return "linear"

    def _fit_quantiles(self, rest: np.ndarray, step=None) -> None:
        # Knots at evenly spaced levels of the empirical distribution, from the
        # minimum (level 0) to the maximum (level 1); their normal scores
        # avoid +-infinity by the half-row continuity correction. An atom (see
        # ATOM_QUANTILE_SHARE) spans exactly the levels of its rows in the
        # sorted values, so every score in between decodes to it; two atoms
        # with no value between them meet halfway. Tied knots are merged for
        # encoding, at the middle of their scores. Written here rather than
        # with sklearn's QuantileTransformer because decoding must reflect or
        # extrapolate beyond the range instead of clipping onto its ends, and
        # return atoms exactly.
        n = rest.size
        ordered = np.sort(rest)
        levels = np.linspace(0.0, 1.0, min(n, MAX_QUANTILES))
        knots = np.quantile(ordered, levels)
        distinct, counts = np.unique(ordered, return_counts=True)
        atoms = distinct[counts >= MASS_MIN_ROWS]
        if not _atoms_off_grid(step):
            # Whole numbers come back by rounding to the grid; atoms there
            # would only copy the train rows' chance frequencies of each
            # value (measured: C2ST 0.02 worse on cars, no better on gbsg2).
            atoms = atoms[:0]
        # np.quantile's level of sorted position k is k / (n - 1).
        first = np.searchsorted(ordered, atoms, side="left").astype(np.float64)
        last = np.searchsorted(ordered, atoms, side="right") - 1.0
        meet = first[1:] == last[:-1] + 1
        last[:-1] = np.where(meet, last[:-1] + 0.5, last[:-1])
        first[1:] = np.where(meet, first[1:] - 0.5, first[1:])

        def score(level):
            return ndtri(np.clip(level, 0.5 / n, 1 - 0.5 / n))

        first_scores, last_scores = score(first / (n - 1)), score(last / (n - 1))
        # Where two atoms meet, the upper one starts just after the lower ends.
        first_scores[1:] = np.where(
            meet, np.nextafter(last_scores[:-1], np.inf), first_scores[1:]
        )
        # Knots strictly inside an atom's levels equal it, and knots between
        # two atoms that meet are np.quantile's interpolation across their
        # gap; the others lie outside every atom's levels, so the scores stay
        # strictly increasing.
        above = np.searchsorted(atoms, knots, side="right")
        between_meeting = np.zeros(knots.size, dtype=bool)
        inside = (above > 0) & (above < atoms.size)
        between_meeting[inside] = meet[above[inside] - 1]
        off_atoms = ~np.isin(knots, atoms) & ~between_meeting
        scores = np.concatenate([score(levels[off_atoms]), first_scores, last_scores])
        all_values = np.concatenate([knots[off_atoms], atoms, atoms])
        order = np.argsort(scores, kind="stable")
        scores, all_values = scores[order], all_values[order]
        # Tied knots that are no atom merge at the middle of their scores, in
        # both maps; an atom keeps its two ends for decoding.
        self.knots_, first_index = np.unique(all_values, return_index=True)
        last_index = np.append(first_index[1:], len(all_values)) - 1
        self.scores_ = (scores[first_index] + scores[last_index]) / 2
        is_atom = np.isin(self.knots_, atoms)
        # Per knot, the decoding scores: (first, last) of an atom, the middle
        # of any other (taken once).
        pairs = np.where(
            is_atom[:, None],
            np.column_stack([scores[first_index], scores[last_index]]),
            self.scores_[:, None],
        )
        taken = np.column_stack([is_atom, np.ones_like(is_atom)])
        self.inverse_knots_ = np.repeat(self.knots_, np.where(is_atom, 2, 1))
        self.inverse_scores_ = pairs[taken]

    def _states(self, values: np.ndarray) -> np.ndarray:
        """State codes: 0 = a value (when the column has values), then the
        masses, then missing; -1 for what ``fit`` never saw (a missing value in
        a complete column, a value in a column of masses only)."""
        offset = int(self.has_value_)
        states = np.zeros(len(values), dtype=np.intp)
        missing = np.isnan(values)
        is_mass = np.isin(values, self.masses_)
        states[is_mass] = offset + np.searchsorted(self.masses_, values[is_mass])
        if not self.has_value_:
            states[~is_mass & ~missing] = -1
        states[missing] = offset + len(self.masses_) if self.has_missing_ else -1
        return states

    def _filled_scores(self, values: np.ndarray) -> np.ndarray:
        """The transformed values, 0 (the centre) where the row has none."""
        is_value = np.isfinite(values) & ~np.isin(values, self.masses_)
        scores = np.zeros(len(values))
        scores[is_value] = self._forward(values[is_value])
        return scores

    # ---------------------------------------------------------- encode / decode
    def encode(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if self.clips_input_:
            # Per row, so it reads nothing of the other rows (NaN stays NaN).
            values = np.clip(values, self.low_, self.high_)
        parts = []
        if self.state_width_:
            states = _encode_levels(
                self._states(values), self.state_frequencies_, compact=True
            )
            parts.append(states * self.state_weight_)
        if self.has_value_:
            scores = (self._filled_scores(values) - self.fill_mean_) / self.fill_std_
            parts.append((scores * self.value_weight_)[:, None])
        if self.period_ is not None:
            # Rows without a value (masses, missing) sit at the circle's centre.
            is_value = np.isfinite(values) & ~np.isin(values, self.masses_)
            circle = np.zeros((len(values), 2))
            circle[is_value] = (
                self._circle(values[is_value]) - self.circle_mean_
            ) / self.circle_std_
            parts.append(circle * self.phase_weight_)
        if not parts:
            return np.zeros((len(values), 1))
        return np.hstack(parts)

    def decode(self, block: np.ndarray) -> np.ndarray:
        n = block.shape[0]
        if self.state_width_:
            states = _decode_levels(
                block[:, : self.state_width_] / self.state_weight_,
                self.state_frequencies_,
                compact=True,
            )
        else:
            states = np.zeros(n, dtype=np.intp)
        out = np.full(n, np.nan)
        offset = int(self.has_value_)
        if self.has_value_:
            is_value = states == 0
            scores = (
                block[is_value, self.state_width_] / self.value_weight_
            ) * self.fill_std_ + self.fill_mean_
            phases = None
            if self.period_ is not None:
                start = self.state_width_ + 1
                circle = (
                    block[is_value, start : start + 2] / self.phase_weight_
                ) * self.circle_std_ + self.circle_mean_
                angle = np.arctan2(circle[:, 1], circle[:, 0])
                phases = np.mod(angle / (2 * np.pi), 1.0)
            out[is_value] = self._inverse(scores, phases)
        for j, mass in enumerate(self.masses_):
            out[states == offset + j] = mass
        return out

    def _forward(self, values: np.ndarray) -> np.ndarray:
        if self.transform_ == "quantile":
            if self.knots_.size == 1:
                return np.zeros_like(values)
            if self.inverse_knots_ is None:
                return np.interp(values, self.knots_, self.scores_)
            return self._forward_quantile(values)
        return (values - self.mean_) / self.std_

    def _forward_quantile(self, values: np.ndarray) -> np.ndarray:
        # The inverse of the decoding map: between two knots, the segment
        # that decodes back to the value (for a value just above an atom, the
        # one that starts where the atom's levels end); a knot's own value, an
        # atom above all, at the middle of its scores. np.interp cannot do
        # this: its abscissae must not repeat.
        knots, scores = self.inverse_knots_, self.inverse_scores_
        clipped = np.clip(values, knots[0], knots[-1])
        below = np.clip(
            np.searchsorted(knots, clipped, side="right") - 1, 0, knots.size - 2
        )
        width = knots[below + 1] - knots[below]
        fraction = np.divide(
            clipped - knots[below],
            width,
            out=np.zeros_like(clipped),
            where=width > 0,
        )
        out = scores[below] + fraction * (scores[below + 1] - scores[below])
        nearest = np.minimum(
            np.searchsorted(self.knots_, clipped), self.knots_.size - 1
        )
        on_knot = self.knots_[nearest] == clipped
        out[on_knot] = self.scores_[nearest[on_knot]]
        return out

    def _inverse(self, scores: np.ndarray, phases=None) -> np.ndarray:
        if self.transform_ == "quantile":
            values = self._inverse_quantile(scores)
        else:
            # In units of a power of two near the range's end, then scaled
            # back: exact, and a score past the largest float's reach is
            # reflected inside the range before it can overflow.
            exponent = scale_exponent(np.array([self.low_, self.high_]))
            low, high, mean, std = np.ldexp(
                [self.low_, self.high_, self.mean_, self.std_], -exponent
            )
            with np.errstate(over="ignore"):
                values = scores * std + mean
                if self.clip:
                    values = _reflect(values, low, high)
                values = np.ldexp(values, exponent)
        if phases is not None:
            values = self._move_to_phase(values, phases)
        if self.step_ is not None:
            values = self.origin_ + _round_to_step(values - self.origin_, *self.step_)
            if self.clip:
                # Rounding may step just outside the range.
                values = np.clip(values, self.low_, self.high_)
        return values

    def _move_to_phase(self, values: np.ndarray, phases: np.ndarray) -> np.ndarray:
        """Each value moved by less than half a period to the given phase: the
        absolute time gives the year, the phase the day within it."""
        shift = np.mod(phases - self._phase(values) + 0.5, 1.0) - 0.5
        moved = values + shift * self.period_
        if self.clip:
            # Past an end of the range, the same phase one period inwards (the
            # range spans at least MIN_PERIODS periods).
            moved = np.where(moved > self.high_, moved - self.period_, moved)
            moved = np.where(moved < self.low_, moved + self.period_, moved)
        return moved

    def _inverse_quantile(self, scores: np.ndarray) -> np.ndarray:
        if self.inverse_knots_ is None:
            knots, knot_scores = self.knots_, self.scores_
        else:
            knots, knot_scores = self.inverse_knots_, self.inverse_scores_
        if knots.size == 1:
            return np.full_like(scores, knots[0])
        if self.clip:
            # Reflect in score space: the tail's map mirrored, inside the range.
            reflected = _reflect(scores, knot_scores[0], knot_scores[-1])
            return np.interp(reflected, knot_scores, knots)
        # Extrapolate with the outermost segments' slopes.
        values = np.interp(scores, knot_scores, knots)
        below, above = scores < knot_scores[0], scores > knot_scores[-1]
        slope_low = (knots[1] - knots[0]) / (knot_scores[1] - knot_scores[0])
        slope_high = (knots[-1] - knots[-2]) / (knot_scores[-1] - knot_scores[-2])
        values[below] = knots[0] + (scores[below] - knot_scores[0]) * slope_low
        values[above] = knots[-1] + (scores[above] - knot_scores[-1]) * slope_high
        return values


class CategoricalColumn(BaseEstimator):
    """A categorical column: one indicator block, missing as a level.

    ``fit`` takes the column's values as an object array and a boolean mask of
    the missing entries. At most ``max_categories`` levels get an indicator:
    beyond that, the rarest levels share one pooled level, and decoding draws
    one of them given the rest of the row (:meth:`fit_pooled_model`), or by
    their training frequencies, deterministically for given encoded rows.
    """

    # Codecs saved before the pooled model existed draw by frequency.
    pooled_model_ = None

    def fit(self, values: np.ndarray, missing: np.ndarray, *, max_categories: int):
        import pandas as pd

        present = values[~missing]
        counts = pd.Series(present).value_counts(sort=True)
        levels = counts.index.to_numpy(dtype=object)
        frequencies = counts.to_numpy(dtype=np.float64)
        self.has_missing_ = bool(missing.any())
        budget = max_categories - int(self.has_missing_)
        if len(levels) > budget:
            kept = max(budget - 1, 1)
            self.pooled_ = levels[kept:]
            pooled_counts = frequencies[kept:]
            self.pooled_weights_ = pooled_counts / pooled_counts.sum()
            levels, frequencies = levels[:kept], frequencies[:kept]
        else:
            self.pooled_ = np.zeros(0, dtype=object)
            self.pooled_weights_ = np.zeros(0)
        # Levels in sorted order where they sort (stable blocks and names).
        try:
            order = np.argsort(levels, kind="stable")
        except TypeError:
            order = np.arange(len(levels))
        self.levels_ = levels[order]
        n = len(values)
        shares = list(frequencies[order] / n)
        if self.pooled_.size:
            shares.append(float(np.sum(~missing) / n - np.sum(shares)))
        if self.has_missing_:
            shares.append(float(missing.mean()))
        self.frequencies_ = np.asarray(shares)
        self.width_ = _level_width(len(self.frequencies_))
        return self

    def fit_domain(self, levels: np.ndarray, *, missing: bool):
        """Set the codec from declared ``levels`` (an object array), reading no
        data: every level gets an indicator, in the declared order, centred on
        uniform frequencies (missing as one more level when ``missing``). No
        pooling: which levels are rare is a statistic of the rows. A single
        level that cannot be missing is a constant: it takes no column."""
        self.levels_ = levels
        self.pooled_ = np.zeros(0, dtype=object)
        self.pooled_weights_ = np.zeros(0)
        self.has_missing_ = bool(missing)
        n_levels = len(levels) + int(self.has_missing_)
        self.frequencies_ = np.full(n_levels, 1.0 / n_levels)
        self.width_ = _level_width(n_levels) if n_levels > 1 else 0
        self.missing_marker_ = None
        return self

    def encoded_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The least and greatest value of each encoded column: every level's
        indicator block, and missing's."""
        n = self.n_levels_
        block = _encode_levels(np.arange(n), self.frequencies_)[:, : self.width_]
        return block.min(axis=0), block.max(axis=0)

    @property
    def n_levels_(self) -> int:
        return len(self.frequencies_)

    def _codes(self, values: np.ndarray, missing: np.ndarray) -> np.ndarray:
        import pandas as pd

        codes = pd.Index(self.levels_).get_indexer(values)
        if self.pooled_.size:
            pooled = pd.Index(self.pooled_).get_indexer(values) >= 0
            codes[pooled] = len(self.levels_)
        if self.has_missing_:
            codes[missing] = self.n_levels_ - 1
        else:
            codes[missing] = -1
        return codes

    def encode(self, values: np.ndarray, missing: np.ndarray) -> np.ndarray:
        if self.width_ == 0:
            return np.zeros((len(values), 0))
        return _encode_levels(self._codes(values, missing), self.frequencies_)

    def decode(self, block: np.ndarray, context=None) -> tuple[np.ndarray, np.ndarray]:
        """The decoded values (object array) and the mask of missing rows.

        ``context(rows)`` returns the rest of the encoded rows selected by a
        boolean mask (the other columns' blocks); it conditions the draw of a
        pooled level when :meth:`fit_pooled_model` has run, and is called
        for the pooled rows only, so no copy of every row is made.
        """
        if self.width_ == 0:
            # A constant column (one declared level, never missing).
            return np.repeat(self.levels_[:1], len(block)), np.zeros(
                len(block), dtype=bool
            )
        codes = _decode_levels(block, self.frequencies_)
        out = np.empty(len(codes), dtype=object)
        is_level = codes < len(self.levels_)
        out[is_level] = self.levels_[codes[is_level]]
        missing = np.zeros(len(codes), dtype=bool)
        if self.has_missing_:
            missing = codes == self.n_levels_ - 1
        if self.pooled_.size:
            pooled = (codes == len(self.levels_)) & ~missing
            if pooled.any():
                # Seeded by the rows themselves: the same generated rows always
                # decode to the same levels.
                seed = zlib.crc32(np.ascontiguousarray(block[pooled]).tobytes())
                random = np.random.RandomState(seed)
                if self.pooled_model_ is not None and context is not None:
                    draws = _draw_from_classifier(
                        self.pooled_model_, context(pooled), random
                    )
                else:
                    draws = random.choice(
                        len(self.pooled_),
                        size=int(pooled.sum()),
                        p=self.pooled_weights_,
                    )
                out[pooled] = self.pooled_[draws]
        return out, missing

    def fit_pooled_model(self, values: np.ndarray, context: np.ndarray) -> None:
        """Learn which pooled level a row holds from the rest of its encoded
        row (``context``: the other columns' blocks), on the rows of a pooled
        level, so a decoded row in the pooled state gets a level that goes
        with its other values (a small state with its coordinates), not one
        drawn by frequency alone.

        scikit-learn's linear discriminant analysis with Ledoit-Wolf
        shrinkage: class means and one shared covariance, stable with a
        handful of rows per level, priors the levels' frequencies, so a
        context that says nothing gives back the frequency draw.
        """
        import pandas as pd
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        codes = pd.Index(self.pooled_).get_indexer(values)
        rows = codes >= 0
        self.pooled_model_ = None
        if context.shape[1] == 0 or np.unique(codes[rows]).size < 2:
            return
        model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
        with warnings.catch_warnings():
            # A level seen once adds nothing to the shared covariance; its
            # Ledoit-Wolf estimate warns about that, and nothing is wrong.
            warnings.filterwarnings("ignore", "Only one sample", UserWarning)
            self.pooled_model_ = model.fit(context[rows], codes[rows])

    def feature_names(self, name: str) -> list[str]:
        if self.width_ == 0:
            return []
        labels = [str(level) for level in self.levels_]
        if self.pooled_.size:
            labels.append("infrequent")
        if self.has_missing_:
            labels.append("missing")
        # One name per indicator: the block keeps both indicators of two
        # levels (``width_``), unlike the compact state block of a number.
        return [f"{name}_{label}" for label in labels]


class BooleanColumn(BaseEstimator):
    """A complete boolean column: one standardised 0/1 column."""

    def fit(self, values: np.ndarray):
        values = np.asarray(values, dtype=np.float64)
        self.mean_ = float(values.mean())
        self.std_ = float(values.std()) or 1.0
        self.width_ = 1
        return self

    def fit_domain(self):
        """Set the codec without data: both values equally likely, so False and
        True encode as -1 and 1."""
        self.mean_, self.std_ = 0.5, 0.5
        self.width_ = 1
        return self

    def encoded_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The encodings of False and True."""
        return self.encode(np.zeros(1))[0], self.encode(np.ones(1))[0]

    def encode(self, values: np.ndarray) -> np.ndarray:
        return ((np.asarray(values, dtype=np.float64) - self.mean_) / self.std_)[
            :, None
        ]

    def decode(self, block: np.ndarray) -> np.ndarray:
        return block[:, 0] * self.std_ + self.mean_ > 0.5


class TextKeyColumn(BaseEstimator):
    """A text row key (an id, a code, an e-mail on every row): not modelled.

    Decoded rows get fresh, unique keys of the same look: the prefix and a
    number continuing the pattern when every key is one prefix followed by
    digits (``"ID-0001"``), otherwise random strings over the characters the
    keys use, with their lengths. Random keys are never real ones: the codec
    keeps 64-bit hashes of the training keys (not the keys, so a saved model
    does not hold them) and redraws any generated key that hashes to one.
    """

    def fit(self, values: np.ndarray):
        import pandas as pd

        keys = pd.Series(values, dtype=object).astype(str)
        parts = keys.str.extract(r"^(.*?)(\d+)$")
        self.prefix_ = None
        if parts[1].notna().all() and parts[0].nunique() == 1:
            digits = parts[1].str.len()
            self.prefix_ = str(parts[0].iloc[0])
            # Zero-padded to a common width when every key has that width.
            self.digits_ = int(digits.iloc[0]) if digits.nunique() == 1 else 0
            self.start_ = int(parts[1].astype(np.int64).min())
        self.alphabet_ = "".join(sorted(set("".join(keys))))
        self.lengths_ = keys.str.len().to_numpy(dtype=np.int64)
        self.hashes_ = np.unique(_hash_keys(keys.to_numpy(dtype=object)))
        self.width_ = 0
        return self

    def decode(self, n_rows: int) -> np.ndarray:
        """``n_rows`` fresh unique keys (the same ones for the same count)."""
        if self.prefix_ is not None:
            numbers = np.arange(self.start_, self.start_ + n_rows).astype(str)
            keys = np.char.add(self.prefix_, np.char.zfill(numbers, self.digits_))
            return keys.astype(object)
        rng = np.random.RandomState(n_rows)
        letters = np.asarray(list(self.alphabet_))
        lengths = self.lengths_
        keys = np.zeros(0, dtype=object)
        while keys.size < n_rows:
            draws = self._draw(rng, letters, lengths, 2 * (n_rows - keys.size) + 16)
            fresh = draws[~np.isin(_hash_keys(draws), self.hashes_)]
            merged = np.concatenate([keys, fresh])
            _, first = np.unique(merged.astype(str), return_index=True)
            if first.size == keys.size:
                # Short keys over few characters ran out: make them longer.
                lengths = lengths + 1
            keys = merged[np.sort(first)]
        return keys[:n_rows]

    @staticmethod
    def _draw(rng, letters, lengths, n) -> np.ndarray:
        """``n`` random strings: lengths drawn from ``lengths``, characters
        uniformly from ``letters``."""
        size = rng.choice(lengths, size=n)
        longest = max(int(size.max()), 1)
        chars = letters[rng.randint(len(letters), size=(n, longest))]
        # Empty characters past each string's length: numpy drops trailing
        # empties when the row is read as one string.
        chars[np.arange(longest)[None, :] >= size[:, None]] = ""
        return chars.astype("<U1").view(f"<U{longest}")[:, 0].astype(object)


def _hash_keys(keys: np.ndarray) -> np.ndarray:
    """64-bit hashes of strings (pandas' vectorised hash)."""
    import pandas as pd

    return pd.util.hash_array(np.asarray(keys, dtype=object))
