"""TabularEncoder: mixed-type tables to a continuous matrix and back."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._base import keeps_state_on_failure
from .._compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
    check_array,
    validate_data,
)
from .._frames import cast_numeric_column, column_kind, is_dataframe
from .._warnings import warn
from ..exceptions import NumericalInstabilityError
from . import _relations as relations
from ._columns import (
    YEAR_SECONDS,
    BooleanColumn,
    CategoricalColumn,
    NumericColumn,
    TextKeyColumn,
    _encode_levels,
    _recorded_step,
    _round_to_step,
    indicator_scale,
)
from ._domains import UNIT_NANOSECONDS, parse_domains, time_unit

_MISSING_HINT = (
    "Leave missing='model' (the default) to model them: they come back at "
    "their real rate, where the other columns say they belong."
)
# Dates and durations are modelled in seconds.
_NANOSECONDS = 1e9
# An integer column holding every value of start..start + n - 1 exactly once, on
# at least this many rows, is taken for a row key.
_KEY_MIN_ROWS = 20


def _missing_mask(series) -> np.ndarray:
    return series.isna().to_numpy(dtype=bool)


def _is_flag(value) -> bool:
    """Whether a condition ``value`` is a boolean (or 0 and 1, as numbers)."""
    if isinstance(value, (bool, np.bool_)):
        return True
    return isinstance(value, (int, np.integer)) and value in (0, 1)


class TabularEncoder(TransformerMixin, BaseEstimator):
    """Encode a mixed-type table as a continuous matrix, and decode it back.

    Every column gets a codec chosen from its dtype and its values, so that a
    sampler fitted on the encoded matrix gives back a table like the real one:

    * numbers (float and integer columns), dates and durations become one
      continuous column, standardised or, when its marginal is skewed or
      heavy-tailed or mostly on repeated values off a whole-number grid,
      mapped through the normal quantile function, which decodes each such
      repeated value (an *atom*) exactly with its share of rows; values that
      hold at least 10 % of the column (the zeros of a zero-inflated amount,
      the levels of a small integer scale) and missing values become the
      levels of a state block beside it; decoding puts them back exactly, at
      the column's recorded precision (cents, whole numbers, steps of 0.5,
      whole days for dates) and inside its range;
    * categorical columns (``object``, ``string`` or ``category`` dtype, and
      booleans with missing values) become a centred, scaled one-hot block,
      missing as a level, the rarest levels pooled beyond ``max_categories``
      (decoding draws a pooled level given the rest of the row);
    * complete boolean columns become one standardised 0/1 column.

    ``inverse_transform`` turns generated rows back into a DataFrame with the
    original column names, order and dtypes (nullable, categorical,
    timezone-aware and pyarrow-backed dtypes included), with missing values
    where the state says so. Together with :class:`~skflow.GenerativePipeline`
    this makes every sampler work on a table as it comes:
    ``make_generative_pipeline(TabularEncoder(), sampler)``.

    With ``domains``, the encoder is fitted from public metadata alone (each
    column's range or levels) and reads nothing but the column names and
    dtypes of ``X``: the mode a differentially private sampler needs in front
    of it.

    Read more in the :ref:`User Guide <pipelines>`.

    Parameters
    ----------
    missing : {"model", "error"}, default="model"
        ``"model"``: missing values (NaN, None, ``pd.NA``, ``NaT``) are a state
        of their column, modelled jointly with the other columns, so
        missingness that depends on other columns comes back. ``"error"``:
        refuse tables with missing values.

    max_categories : int, default=30
        Most indicator columns of one categorical column (missing counts as one
        level). Beyond it the rarest levels share one indicator, and a row
        decoded to it gets one of them drawn by their training frequencies: the
        encoded width stays bounded whatever the number of levels.

    clip : bool, default=True
        Keep decoded numbers, dates and durations inside the range seen in
        ``fit``: values beyond it are reflected back inside (not clipped onto
        the bounds, which would pile mass there). With False they extrapolate.
        Integer columns are always kept inside their dtype's range.

    relations : "auto", None or list of str, default="auto"
        Exact relations between columns, kept exactly in decoded rows.
        ``"auto"`` finds, among the complete columns of a DataFrame, columns
        that are the sum, difference, product or ratio of two others (``"c = a
        + b"``), numeric or date columns that never exceed another whose range
        overlaps theirs (``"a <= b"``), and categorical columns determined by
        another one that repeats its levels (``"store_id -> store_name"``). A
        list declares them instead (checked on ``fit``); None finds none.
        Derived columns are not encoded: decoding computes them. With
        ``domains``, ``"auto"`` finds none and a list is refused: both would
        read the rows.

    domains : dict or None, default=None
        Fit from public metadata instead of the rows: a dict giving every
        column (by name; by position for an array) its domain. ``(low,
        high)`` for a number, date or duration column (dates as strings or
        Timestamps, durations as strings or Timedeltas; naive bounds of a
        time-zone-aware column are read in its zone); a list of levels for a
        categorical, text or boolean column; ``{"range": (low, high),
        "missing": True}`` or ``{"levels": [...], "missing": True}`` for a
        column that may be missing (only those get a missing state, whether
        or not the rows have missing values); ``{"range": (low, high),
        "step": 0.5}`` for a number recorded on a grid (multiples of the
        step, counted from zero; whole numbers for an integer dtype without
        one), ``"masses": [0]`` beside a range for values that occur exactly
        and often (a count's zero); ``{"levels": [1, 2, 3]}`` for a number
        with a few declared
        values (one-hot, decoded to those values in the column's dtype).
        ``fit`` then reads only the
        column names and dtypes of ``X``; ``transform`` clips numbers, dates
        and durations onto their range, and refuses a missing value in a
        column not declared missing and a level not declared. None (the
        default) learns every codec from the rows. See Notes.

    Attributes
    ----------
    column_kinds_ : dict of str
        Column name -> ``"float"``, ``"int"``, ``"bool"``, ``"category"``,
        ``"datetime"``, ``"timedelta"`` or ``"key"`` (a row key, integer or
        text, regenerated instead of being modelled; see Notes).

    categories_ : dict of ndarray
        Categorical column name -> the levels that have an indicator, in block
        order.

    codecs_ : dict
        Column name -> its fitted codec (the per-column model); None for an
        integer row key or a column derived by a relation.

    relations_ : list of str
        The relations kept, as strings (see ``relations``).

    fits_without_data_ : bool
        True when the encoder was fitted from ``domains``: its state then
        depends on the schema of ``X`` and the domains only, never on the
        rows, so a differentially private sampler after it spends no privacy
        budget on the encoding. False when fitted on the rows.

    output_bounds_ : tuple of two ndarray of shape (n_features_out,)
        Only when fitted from ``domains``: the least and the greatest value of
        each encoded column (the encodings of the ends of each range and of
        each level), between which every row of ``transform`` lies. The
        public bounds a private sampler needs.

    n_features_in_ : int
        Number of columns seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen during ``fit``; only when they are all strings.

    See Also
    --------
    sklearn.preprocessing.OneHotEncoder, sklearn.preprocessing.QuantileTransformer :
        Related per-column encoders.
    AutoencoderTransformer : A learned latent space to put after this encoder.

    Notes
    -----
    Every column contributes a total variance of exactly 1 to the encoded
    matrix. A categorical column with level frequencies ``p_1..p_m`` becomes
    ``m`` centred indicator columns ``(1[x = c_j] - p_j) * s`` with one factor
    ``s = 1 / sqrt(1 - sum_j p_j^2)`` for the block, so all levels stay
    equidistant whatever their number. A numeric column with a state block
    (point masses, missing values) gives half of its variance to the states and
    half to the value; a state block of two levels is one standardised
    indicator column. Decoding takes the argmax of each block, so any real
    vector decodes to a level seen in ``fit``; levels unseen in ``fit`` encode
    as the block's centre. In a :class:`~skflow.GenerativePipeline` the sampler
    after the encoder keeps this weighting: it centres the encoded columns but
    does not standardise them one by one (which would give a 30-level column
    the weight of 30 numeric ones). On a mixed table of 56 states and two
    coordinates (benchmarks/bench_tabular.py, airports), that took the
    classifier two-sample AUC of the default pipeline from 0.92 to 0.82.

    A column that is almost entirely missing is modelled like any other: its
    missing level has the real frequency, and its few values are the value
    state. A column with no value at all decodes as all missing. An integer
    column that holds each of ``start, ..., start + n - 1`` once on at least 20
    rows is taken for a row key (``column_kinds_`` says ``"key"``): it is not
    modelled, and decoded rows get a fresh sequence from ``start``, so keys
    stay unique. A text column with a distinct string on every one of at least
    20 rows (an id, a code, an e-mail) is a row key too: decoded rows get fresh
    unique keys of the same look, continuing the pattern of keys that are one
    prefix and a number (``"ID-0001"``), otherwise random strings over the
    keys' characters with their lengths, never a real key (the model keeps
    only hashes of the real ones). A table with fewer than 10 rows warns: a
    sampler can then do little more than copy it.

    **Fitting from domains.** A differential-privacy guarantee covers only what
    is computed from the rows under its budget, so an encoder in front of a
    private sampler must learn nothing from them: not the levels, means,
    spreads, ranges, precision, point masses, quantiles, seasons, keys,
    relations, nor even which columns have missing values. With ``domains``
    every column contributes total variance 1 when its values are spread
    uniformly over its declared domain, the data-free counterpart of the rule
    above: a range ``[low, high]`` maps linearly onto ``[-sqrt(3), sqrt(3)]``
    (clipped beyond it), and the ``m`` declared levels (missing counting as
    one) are centred on frequencies ``1 / m``. A number that may be missing
    gives half of its variance to a state column (missing or not) and half to
    its value. Booleans declared ``[False, True]`` become one column, -1 or 1.
    Decoding rounds integer columns, keeps dates and durations at their
    dtype's resolution (not at a grid found in the rows) and reflects numbers
    into the declared range (``clip``); every declared level keeps its
    indicator (``max_categories`` does not pool them: which levels are rare
    is a fact about the rows); a single level that cannot be missing is a
    constant and takes no column. The refinements that read the rows (point
    masses, quantile maps, phases in the year, row keys, relations) are off:
    a sampler sees a plainer space, and ``fit`` of the same schema and domains
    gives the same encoder whatever the rows, even none.

    Examples
    --------
    >>> import pandas as pd
    >>> from skflow import TabularEncoder
    >>> df = pd.DataFrame({"age": [23, 41, 35], "smoker": [True, False, True],
    ...                    "city": ["Oslo", "Lima", "Oslo"]})
    >>> enc = TabularEncoder().fit(df)
    >>> enc.transform(df).shape
    (3, 4)
    >>> enc.inverse_transform(enc.transform(df)).equals(df)
    True

    From public domains only (``fit`` reads the column names and dtypes):

    >>> public = TabularEncoder(domains={"age": (0, 120), "smoker": [False, True],
    ...                                  "city": ["Lima", "Oslo", "Rome"]})
    >>> public.fit(df.iloc[:0]).transform(df).shape
    (3, 5)
    >>> public.fits_without_data_, public.output_bounds_[0].shape
    (True, (5,))
    """

    # The encoded columns are on one shared scale, weighed on purpose: a
    # sampler fitted next in a GenerativePipeline must not standardise them
    # one by one (see skflow._base.pass_input_scale).
    _shared_output_scale = True

    _parameter_constraints: dict = {
        "missing": [StrOptions({"model", "error"})],
        "max_categories": [Interval(Integral, 2, None, closed="left")],
        "clip": ["boolean"],
        "relations": [StrOptions({"auto"}), list, None],
        "domains": [dict, None],
    }

    def __init__(
        self,
        *,
        missing="model",
        max_categories=30,
        clip=True,
        relations="auto",
        domains=None,
    ):
        self.missing = missing
        self.max_categories = max_categories
        self.clip = clip
        self.relations = relations
        self.domains = domains

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def fit(self, X, y=None):
        """Learn each column's codec from the rows of ``X``.

        With ``domains``, build each codec from its declared domain instead:
        only the column names and dtypes of ``X`` are read (the rows may be
        none), and the values are checked by :meth:`transform`.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A pandas DataFrame with numeric, boolean, categorical, text,
            datetime and timedelta columns (missing values allowed with
            ``missing="model"``), or a numeric array.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted encoder.
        """
        # The bounds of an earlier fit from domains do not describe this one.
        self.__dict__.pop("output_bounds_", None)
        if self.domains is not None:
            return self._fit_domains(X)
        columns = self._columns_of(X, reset=True)
        if len(next(iter(columns.values()))) < 1:
            raise ValueError("X has no rows; TabularEncoder needs at least one.")
        n_rows = len(next(iter(columns.values())))
        if n_rows < 10:
            warn(
                f"TabularEncoder was fitted on {n_rows} rows: a sampler fitted on so "
                "few rows can do little more than copy them. Collect more rows "
                "(at least a few dozen) before generating synthetic ones.",
                UserWarning,
            )
        self._check_values(columns)
        self.column_kinds_, self.codecs_, self.categories_ = {}, {}, {}
        self._key_starts = {}
        for name, values in columns.items():
            kind, codec = self._fit_codec(name, values)
            self.column_kinds_[name] = kind
            self.codecs_[name] = codec
            if isinstance(codec, CategoricalColumn):
                self.categories_[name] = codec.levels_
        self._fit_relations(columns)
        widths = [self._width(name) for name in columns]
        self._offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
        self._n_features_out = int(self._offsets[-1])
        if self._n_features_out == 0:
            raise ValueError(
                "Every column of X is a row key (unique consecutive integers): "
                "there is nothing to model. Add the other columns."
            )
        self._fit_pooled_models(columns)
        self.fits_without_data_ = False
        return self

    def _fit_pooled_models(self, columns: dict) -> None:
        """Teach each column with pooled levels which of them goes with the
        rest of a row (see ``CategoricalColumn.fit_pooled_model``)."""
        pooling = [
            name
            for name, codec in self.codecs_.items()
            if isinstance(codec, CategoricalColumn) and codec.pooled_.size > 1
        ]
        if not pooling:
            return
        import pandas as pd

        # Only rows in a pooled level teach the models: encode just those.
        labels = {name: columns[name].to_numpy(dtype=object) for name in pooling}
        rows = np.zeros(len(labels[pooling[0]]), dtype=bool)
        for name in pooling:
            rows |= pd.Index(self.codecs_[name].pooled_).get_indexer(labels[name]) >= 0
        encoded = np.hstack(
            [self._encode(name, values[rows]) for name, values in columns.items()]
        )
        for name in pooling:
            context = np.delete(encoded, self._block_slice(name), axis=1)
            self.codecs_[name].fit_pooled_model(labels[name][rows], context)

    def _block_slice(self, name) -> slice:
        """The columns of ``name``'s block in the encoded rows."""
        index = list(self.codecs_).index(name)
        return slice(self._offsets[index], self._offsets[index + 1])

    def _fit_domains(self, X):
        """Build every codec from ``self.domains`` and the schema of ``X``.

        Only the column names and dtypes of ``X`` are read (its shape, for an
        array): nothing here depends on the values in the rows.
        """
        columns = self._columns_of(X, reset=True, min_rows=0)
        if not columns:
            raise ValueError("X has no columns; TabularEncoder needs at least one.")
        if self.relations not in ("auto", None):
            raise ValueError(
                "TabularEncoder(domains=...) keeps no relations between columns: "
                "checking a declared relation reads the rows. Leave relations at "
                "'auto' (which finds none when domains is given) or set it to None."
            )
        names = list(columns)
        dtypes = self._dtypes if self._columns is not None else [None] * len(names)
        declared = parse_domains(self.domains, names, dtypes)
        if self.missing == "error":
            optional = [name for name, domain in declared.items() if domain.missing]
            if optional:
                raise ValueError(
                    f"domains declares that the columns {optional[:10]} may be "
                    "missing, but missing='error' refuses missing values. Set "
                    "missing='model' or declare them without 'missing'."
                )
        self.column_kinds_, self.codecs_, self.categories_ = {}, {}, {}
        self._key_starts = {}
        for name, domain in declared.items():
            self.column_kinds_[name] = domain.kind
            if domain.levels is None:
                codec = NumericColumn().fit_domain(
                    domain.low,
                    domain.high,
                    missing=domain.missing,
                    step=domain.step,
                    clip=self.clip,
                    masses=domain.masses,
                )
            elif (
                domain.kind == "bool"
                and not domain.missing
                and set(domain.levels) == {False, True}
            ):
                codec = BooleanColumn().fit_domain()
            else:
                codec = CategoricalColumn().fit_domain(
                    domain.levels, missing=domain.missing
                )
                self.categories_[name] = codec.levels_
            self.codecs_[name] = codec
        self.relations_, self._derived, self._lookups = [], [], {}
        self._derived_steps = {}
        widths = [self._width(name) for name in self.codecs_]
        self._offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
        self._n_features_out = int(self._offsets[-1])
        if self._n_features_out == 0:
            raise ValueError(
                "Every column in domains has a single level and cannot be missing: "
                "the table is constant, there is nothing to model. Declare more "
                "levels, or add the columns that vary."
            )
        lows, highs = zip(
            *(codec.encoded_bounds() for codec in self.codecs_.values()), strict=True
        )
        self.output_bounds_ = (np.concatenate(lows), np.concatenate(highs))
        self.fits_without_data_ = True
        return self

    def transform(self, X):
        """Encode rows as a continuous float matrix.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        X_encoded : ndarray of shape (n_samples, n_features_out)
            Each column's block, in the order of :meth:`get_feature_names_out`.
        """
        check_is_fitted(self)
        columns = self._columns_of(X, reset=False)
        self._check_values(columns)
        if getattr(self, "fits_without_data_", False):
            self._check_declared(columns)
        blocks = [self._encode(name, values) for name, values in columns.items()]
        n_rows = len(next(iter(columns.values())))
        blocks = [block for block in blocks if block.shape[1]]
        return np.hstack(blocks) if blocks else np.zeros((n_rows, 0))

    def inverse_transform(self, X):
        """Decode continuous rows (e.g. a sampler's output) into a table.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_out)
            Encoded rows.

        Returns
        -------
        X_original : DataFrame or ndarray of shape (n_samples, `n_features_in_`)
            A DataFrame with the fitted columns, order and dtypes when ``fit``
            received a DataFrame, missing values where the decoded state is
            missing; else a float64 array (NaN for missing).
        """
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {X.shape[1]} columns, but TabularEncoder produces "
                f"{self._n_features_out}; pass rows encoded by this encoder or "
                "generated in its output space."
            )
        raw = {}
        for index, name in enumerate(self.codecs_):
            if name in self._derived:
                continue
            block = X[:, self._offsets[index] : self._offsets[index + 1]]
            raw[name] = self._decode_raw(name, block, X)
        self._apply_relations(raw)
        self._check_decoded_range(raw)
        if self._columns is None:
            return np.column_stack([raw[i] for i in range(self.n_features_in_)])
        import pandas as pd

        decoded = {name: self._output(name, raw[name]) for name in self._columns}
        return pd.DataFrame(decoded, columns=self._columns)

    def get_feature_names_out(self, input_features=None):
        """Get the names of the encoded columns.

        A continuous column keeps its name; a categorical column ``c`` gives
        ``c_<level>`` per indicator (``c_infrequent`` for pooled levels,
        ``c_missing`` for missing values); a numeric column's states give
        ``c_state_<level>`` before its value column.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Must match ``feature_names_in_`` if given.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per encoded column, in the input columns' order.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        out = []
        for label, codec in zip(names, self.codecs_.values()):
            label = str(label)
            if codec is None or isinstance(codec, TextKeyColumn):
                continue  # a row key, or derived by a relation
            if isinstance(codec, CategoricalColumn):
                out.extend(codec.feature_names(label))
            elif isinstance(codec, NumericColumn):
                out.extend(self._numeric_names(label, codec))
            else:
                out.append(label)
        return np.asarray(out, dtype=object)

    # ------------------------------------------------------------- internals
    def _columns_of(self, X, *, reset: bool, min_rows: int = 1) -> dict:
        """The columns of ``X`` by name (by index for arrays), validated."""
        if is_dataframe(X):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if reset:
                self._columns = list(X.columns)
                self._dtypes = list(X.dtypes)
                for name, dtype in zip(X.columns, X.dtypes):
                    if column_kind(dtype) is None:
                        raise TypeError(
                            f"Column {name!r} has dtype {dtype}, which "
                            "TabularEncoder cannot encode; convert it to a number, "
                            "a date or a string/category first."
                        )
            else:
                if self._columns is None:
                    raise TypeError(
                        "TabularEncoder was fitted on an array; pass an array with "
                        f"{self.n_features_in_} columns, not a DataFrame."
                    )
                if list(X.columns) != self._columns:
                    raise ValueError(
                        f"X has columns {list(X.columns)}, but TabularEncoder was "
                        f"fitted on {self._columns}; select and order them the "
                        "same way."
                    )
                for name, dtype in zip(self._columns, self._dtypes):
                    before, now = column_kind(dtype), column_kind(X[name].dtype)
                    numeric = ("float", "int", "bool")
                    if before in numeric and now not in numeric:
                        raise TypeError(
                            f"Column {name!r} was numeric in fit but has dtype "
                            f"{X[name].dtype} now; convert it with pd.to_numeric."
                        )
            return {name: X[name] for name in X.columns}
        if not reset and self._columns is not None:
            raise TypeError(
                f"TabularEncoder was fitted on a DataFrame; pass a DataFrame "
                f"with the columns {self._columns}, got {type(X).__name__}."
            )
        try:
            X = validate_data(
                self,
                X,
                dtype=np.float64,
                reset=reset,
                ensure_all_finite=False,
                ensure_min_samples=min_rows,
            )
        except ValueError as exc:
            if "convert" in str(exc):
                raise ValueError(
                    f"{exc}. An array passed to TabularEncoder must be numeric; "
                    "pass text and categories in a pandas DataFrame, whose "
                    "column dtypes say what each column is."
                ) from exc
            raise
        if reset:
            self._columns = self._dtypes = None
        return {i: X[:, i] for i in range(X.shape[1])}

    def _check_values(self, columns: dict) -> None:
        """Missing values (refused with ``missing="error"``), infinities, and
        text columns that mix strings with other values."""
        import pandas as pd

        missing, infinite = [], []
        for name, values in columns.items():
            if isinstance(values, np.ndarray):
                is_missing = np.isnan(values)
                numbers = values
            else:
                is_missing = _missing_mask(values)
                numbers = None
                if column_kind(values.dtype) in ("float", "int"):
                    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            if is_missing.any():
                missing.append(name)
            if numbers is not None and np.isinf(numbers).any():
                infinite.append(name)
            if (
                not isinstance(values, np.ndarray)
                and column_kind(values.dtype) == "category"
                and not isinstance(values.dtype, pd.CategoricalDtype)
            ):
                # The distinct values only: hashed in pandas, not a loop over rows.
                distinct = pd.unique(values[~is_missing].to_numpy(dtype=object))
                strings = np.array([isinstance(v, str) for v in distinct], dtype=bool)
                if strings.any() and not strings.all():
                    example = distinct[~strings][0]
                    raise TypeError(
                        f"Column {name!r} mixes strings with other values (e.g. "
                        f"{example!r}); make it uniform first, e.g. "
                        f"X[{name!r}] = X[{name!r}].astype(str)."
                    )
        if missing and self.missing == "error":
            raise ValueError(
                f"X has missing values (NaN/None) in columns {missing}, and "
                f"missing='error'. {_MISSING_HINT}"
            )
        if infinite:
            raise ValueError(
                f"X has infinite values (inf) in columns {infinite}; replace them "
                "with finite numbers (or NaN, to model them as missing) or drop "
                "those rows."
            )

    def _check_declared(self, columns: dict) -> None:
        """Rows of an encoder fitted from domains stay inside them: missing
        values only where declared, categorical values among the levels."""
        import pandas as pd

        undeclared = []
        for name, values in columns.items():
            codec = self.codecs_[name]
            if isinstance(values, np.ndarray):
                is_missing = np.isnan(values)
            else:
                is_missing = _missing_mask(values)
            if is_missing.any() and not getattr(codec, "has_missing_", False):
                undeclared.append(name)
            if isinstance(codec, CategoricalColumn):
                # The distinct values only: hashed in pandas, not a loop over rows.
                distinct = pd.unique(values[~is_missing].to_numpy(dtype=object))
                outside = pd.Index(codec.levels_).get_indexer(distinct) < 0
                if outside.any():
                    raise ValueError(
                        f"Column {name!r} has values outside its declared levels "
                        f"(e.g. {list(distinct[outside][:5])}); add them to "
                        f"domains[{name!r}] and refit, or map them to a declared "
                        "level first."
                    )
        if undeclared:
            raise ValueError(
                f"X has missing values in the columns {undeclared[:10]}, which "
                "domains does not declare as possibly missing (whether a column "
                "has missing values is itself a fact about the rows). Declare "
                "them, e.g. {'range': (low, high), 'missing': True} or "
                "{'levels': [...], 'missing': True}, and refit; or fill or drop "
                "those rows."
            )

    def _fit_codec(self, name, values):
        if isinstance(values, np.ndarray):
            return "float", NumericColumn().fit(values, clip=self.clip)
        kind = column_kind(values.dtype)
        is_missing = _missing_mask(values)
        if kind == "bool" and not is_missing.any():
            return kind, BooleanColumn().fit(values.to_numpy(dtype=np.float64))
        if kind == "category" and self._is_text_key(values, is_missing):
            return "key", TextKeyColumn().fit(values.to_numpy(dtype=object))
        if kind in ("category", "bool"):
            codec = CategoricalColumn().fit(
                values.to_numpy(dtype=object),
                is_missing,
                max_categories=self.max_categories,
            )
            codec.missing_marker_ = self._missing_marker(values, is_missing)
            return kind, codec
        numbers = self._to_numbers(values, kind)
        if kind == "int" and self._is_key(numbers):
            self._key_starts[name] = int(numbers.min())
            return "key", None
        grid_origin = "min" if kind in ("datetime", "timedelta") else None
        codec = NumericColumn().fit(
            numbers,
            clip=self.clip,
            grid_origin=grid_origin,
            period=YEAR_SECONDS if kind == "datetime" else None,
        )
        return kind, codec

    @staticmethod
    def _is_text_key(values, is_missing) -> bool:
        """A complete text column with a distinct string on every row."""
        import pandas as pd

        if (
            isinstance(values.dtype, pd.CategoricalDtype)
            or len(values) < _KEY_MIN_ROWS
            or is_missing.any()
        ):
            return False
        return bool(
            values.nunique() == len(values)
            and pd.api.types.infer_dtype(values, skipna=False) == "string"
        )

    @staticmethod
    def _is_key(numbers: np.ndarray) -> bool:
        n = numbers.size
        if n < _KEY_MIN_ROWS or np.isnan(numbers).any():
            return False
        return np.unique(numbers).size == n and numbers.max() - numbers.min() == n - 1

    @staticmethod
    def _missing_marker(values, is_missing):
        """What marks a missing value in an object column: None or NaN, as the
        training rows had it (other dtypes have one marker of their own)."""
        if not is_missing.any() or values.dtype != object:
            return None
        first = values[is_missing].iloc[0]
        return None if first is None else float("nan")

    @staticmethod
    def _to_numbers(values, kind) -> np.ndarray:
        """A numeric, date or duration column as float64 (seconds for times),
        NaN where missing."""
        import pandas as pd

        if kind == "datetime":
            if getattr(values.dtype, "tz", None) is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            nanoseconds = values.astype("datetime64[ns]").to_numpy().astype(np.int64)
        elif kind == "timedelta":
            nanoseconds = values.astype("timedelta64[ns]").to_numpy().astype(np.int64)
        else:
            return pd.to_numeric(values).to_numpy(dtype=np.float64, na_value=np.nan)
        numbers = nanoseconds / _NANOSECONDS
        numbers[_missing_mask(values)] = np.nan
        return numbers

    def _width(self, name) -> int:
        codec = self.codecs_[name]
        return 0 if codec is None else codec.width_

    def _encode(self, name, values) -> np.ndarray:
        codec = self.codecs_[name]
        kind = self.column_kinds_[name]
        if codec is None or isinstance(codec, TextKeyColumn):
            return np.zeros((len(values), 0))
        if isinstance(values, np.ndarray):
            return codec.encode(values)
        if isinstance(codec, CategoricalColumn):
            return codec.encode(values.to_numpy(dtype=object), _missing_mask(values))
        if isinstance(codec, BooleanColumn):
            # A missing value in a column that had none in fit: the centre.
            numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            return codec.encode(np.where(np.isnan(numbers), codec.mean_, numbers))
        return codec.encode(self._to_numbers(values, kind))

    def _decode_raw(self, name, block, encoded=None):
        """A column decoded, before its dtype: float64 (seconds for times, NaN
        for missing) or, for a categorical column, ``(values, missing)``;
        ``encoded`` (the whole encoded rows) conditions pooled levels."""
        codec = self.codecs_[name]
        if codec is None:  # an integer row key
            return (np.arange(block.shape[0]) + self._key_starts[name]).astype(float)
        if isinstance(codec, TextKeyColumn):
            return codec.decode(block.shape[0]), np.zeros(block.shape[0], dtype=bool)
        if isinstance(codec, CategoricalColumn):
            context = None
            if codec.pooled_model_ is not None and encoded is not None:
                own = self._block_slice(name)

                def context(rows):
                    return np.delete(encoded[rows], own, axis=1)

            values, missing = codec.decode(block, context)
            values[missing] = codec.missing_marker_
            return values, missing
        return codec.decode(block)

    def _check_decoded_range(self, raw: dict) -> None:
        """Raise where a decoded number cannot be held by its column's dtype.

        With ``clip=True`` decoding stays within the range seen in ``fit``, so
        this fires only for unclipped extrapolation, or a derived column
        (``c = a * b``) computed beyond the largest float.
        """
        for name, values in raw.items():
            if isinstance(values, tuple):
                continue
            kind = self.column_kinds_[name]
            dtype = (
                self._dtypes[self._columns.index(name)]
                if self._columns is not None
                else np.dtype(np.float64)
            )
            narrow = (
                kind == "float"
                and isinstance(dtype, np.dtype)
                and dtype.kind == "f"
                and dtype.itemsize < 8
            )
            limit = np.finfo(dtype if narrow else np.float64).max
            with np.errstate(invalid="ignore"):
                beyond = np.isinf(values) | (np.abs(values) > limit)
            if beyond.any():
                raise NumericalInstabilityError(
                    f"TabularEncoder decoded values of column {name!r} beyond the "
                    f"largest {np.dtype(dtype) if narrow else 'float64'} "
                    f"({limit:.5g}), past the range seen in fit (unclipped "
                    "decoding, or a column derived by a relation); use clip=True "
                    "(the default), which keeps decoded values within that range, "
                    "or fit on the column rescaled (divided by a power of 10)."
                )

    def _output(self, name, raw):
        """A raw decoded column in the fitted dtype."""
        if isinstance(raw, tuple):
            return self._category_output(name, *raw)
        return self._numeric_output(name, self.column_kinds_[name], raw)

    # ------------------------------------------------------------ conditions
    def _condition_coordinates(self, targets, *, present=None):
        """Given cells of ``targets`` as fixed encoded coordinates.

        ``targets`` is a DataFrame of rows (a subset of the fitted columns;
        missing cells free). Returns ``fixed`` of shape ``(len(targets),
        n_features_out)``, NaN where free, and the set of given columns the
        coordinates cannot guarantee after decoding (derived by a relation,
        bound by an order, pooled levels), to be checked on the decoded rows.

        ``present`` (a boolean DataFrame like ``targets``, for imputation)
        marks free cells that must decode to a value, not to missing: their
        missing state's coordinate is fixed at "not missing".
        """
        import pandas as pd

        check_is_fitted(self)
        fixed = np.full((len(targets), self._n_features_out), np.nan)
        residual = set()
        ordered = set()
        for text in self.relations_:
            relation = relations.parse(text, self._columns or list(self.codecs_))
            if relation.kind == "order":
                ordered.update((relation.left, relation.right))
        names = list(self.codecs_)
        for column in targets.columns:
            index = names.index(column)
            start, stop = self._offsets[index], self._offsets[index + 1]
            codec = self.codecs_[column]
            series = targets[column]
            given = series.notna().to_numpy().copy()
            if present is not None and column in present.columns:
                self._fix_present(
                    fixed, ~given & present[column].to_numpy(dtype=bool), codec, start
                )
            if not given.any():
                continue
            if column in self._derived:
                residual.add(column)
                continue
            if (
                codec is None or isinstance(codec, TextKeyColumn)
            ) and present is not None:
                continue  # imputation: a key says nothing about the other cells
            if codec is None or isinstance(codec, TextKeyColumn):
                raise ValueError(
                    f"Column {column!r} is a row key: generated rows get fresh keys, "
                    "so it cannot be conditioned on. Leave it out of the conditions."
                )
            kind = self.column_kinds_[column]
            if isinstance(codec, CategoricalColumn):
                values = series[given].to_numpy(dtype=object)
                known = pd.Index(codec.levels_).get_indexer(values) >= 0
                pooled = pd.Index(codec.pooled_).get_indexer(values) >= 0
                if present is not None and not (known | pooled).all():
                    # Imputation: an observed level the model never saw says
                    # nothing it can use; the cell is left free (and kept as
                    # observed in the output).
                    given[np.flatnonzero(given)[~(known | pooled)]] = False
                    values, known, pooled = (
                        v[known | pooled] for v in (values, known, pooled)
                    )
                    if not given.any():
                        continue
                if not (known | pooled).all():
                    unseen = values[~(known | pooled)][0]
                    levels = list(codec.levels_[:10]) + list(codec.pooled_[:10])
                    raise ValueError(
                        f"The condition {column!r} = {unseen!r} names a level never "
                        f"seen in fit (the model gives it zero probability); seen "
                        f"levels include {levels}."
                    )
                if pooled.any():
                    residual.add(column)
                block = codec.encode(values, np.zeros(len(values), dtype=bool))
            elif isinstance(codec, BooleanColumn):
                values = series[given].to_numpy(dtype=object)
                flags = np.array([_is_flag(value) for value in values], dtype=bool)
                if not flags.all():
                    raise ValueError(
                        f"The condition on {column!r} ({values[~flags][0]!r}) is "
                        "not a boolean; the column is True or False: condition on "
                        "True or False."
                    )
                block = codec.encode(values.astype(np.float64))
            else:
                values = series[given]
                if kind == "int":
                    whole = pd.to_numeric(values, errors="coerce")
                    bad = whole.isna() | (whole % 1 != 0)
                    if bad.any():
                        raise ValueError(
                            f"The condition on {column!r} ({values[bad].iloc[0]!r}) "
                            "is not a whole number; the column holds integers: "
                            "condition on an integer, or on a range (low, high)."
                        )
                dtype = self._dtypes[index] if self._dtypes is not None else None
                if dtype is not None and values.dtype != dtype:
                    try:
                        values = values.astype(dtype)
                    except (TypeError, ValueError) as exc:
                        raise ValueError(
                            f"The condition on {column!r} ({values.iloc[0]!r}) does "
                            f"not convert to the column's type {dtype}: {exc}."
                        ) from exc
                numbers = (
                    self._to_numbers(values, kind)
                    if not isinstance(values, np.ndarray)
                    else values
                )
                if present is None:
                    self._check_in_range(column, codec, numbers, kind)
                elif codec.has_value_:
                    # Imputation: an observed number outside the fitted range
                    # conditions as the nearest fitted value (the column's
                    # transform is not defined beyond it), as a new row of a
                    # test set may well lie outside the training rows.
                    numbers = np.where(
                        np.isin(numbers, codec.masses_),
                        numbers,
                        np.clip(numbers, codec.low_, codec.high_),
                    )
                block = codec.encode(numbers)
                if column in ordered:
                    residual.add(column)
            fixed[np.flatnonzero(given), start:stop] = block
        return fixed, residual

    @staticmethod
    def _fix_present(fixed, rows, codec, start) -> None:
        """Fix the missing state's coordinate of ``rows`` at "not missing"."""
        if not rows.any() or codec is None or not getattr(codec, "has_missing_", False):
            return
        if isinstance(codec, NumericColumn):
            frequencies, width = codec.state_frequencies_, codec.state_width_
            weight = codec.state_weight_
        else:
            frequencies, width, weight = codec.frequencies_, codec.width_, 1.0
        if width == 1:
            # Two states in one column: "present" is the other state, code 0.
            value = _encode_levels(
                np.zeros(1, dtype=np.intp), frequencies, compact=True
            )
            fixed[rows, start] = value[0, 0] * weight
        else:
            # One indicator per state, missing last: its indicator off.
            off = -frequencies[-1] * indicator_scale(frequencies)
            fixed[rows, start + width - 1] = off * weight

    def _check_in_range(self, column, codec, numbers, kind) -> None:
        """A numeric condition inside the fitted range (or a point mass)."""
        inside = np.isin(numbers, codec.masses_)
        if codec.has_value_:
            span = max(codec.high_ - codec.low_, abs(codec.high_), 1.0)
            slack = 1e-9 * span
            inside |= (numbers >= codec.low_ - slack) & (numbers <= codec.high_ + slack)
        if not inside.all():
            value = numbers[~inside][0]
            seen = (
                f"[{codec.low_:.6g}, {codec.high_:.6g}]" if codec.has_value_ else "none"
            )
            raise ValueError(
                f"The condition on {column!r} ({value:.6g} as a number) lies outside "
                f"the values seen in fit (range {seen}, point masses "
                f"{list(codec.masses_)[:5]}): the model gives it (near) zero "
                "probability. Ask for a value inside the fitted range."
            )

    def _present_mask(self, X_encoded, present) -> None:
        """Push the missing state's indicator of ``present`` cells below every
        other state in ``X_encoded`` (in place), so they decode to a value."""
        names = list(self.codecs_)
        for column in present.columns:
            rows = present[column].to_numpy(dtype=bool)
            codec = self.codecs_[column]
            if (
                not rows.any()
                or codec is None
                or not getattr(codec, "has_missing_", False)
            ):
                continue
            index = names.index(column)
            start = self._offsets[index]
            width = (
                codec.state_width_ if isinstance(codec, NumericColumn) else codec.width_
            )
            if width > 1:
                X_encoded[rows, start + width - 1] = -1e6

    # ------------------------------------------------------------- relations
    def _fit_relations(self, columns: dict) -> None:
        """Find or check the exact relations; derived columns lose their codec."""
        # A list, not a set: skflow.save stores JSON-like containers only.
        self.relations_, self._derived, self._lookups = [], [], {}
        self._derived_steps = {}
        if self.relations is None or self._columns is None:
            return
        numbers, labels, steps = {}, {}, {}
        for name, values in columns.items():
            kind = self.column_kinds_[name]
            if _missing_mask(values).any() or kind == "key":
                continue
            if kind in ("float", "int", "datetime", "timedelta"):
                numbers[name] = self._to_numbers(values, kind)
                steps[name] = _recorded_step(numbers[name])
            elif kind in ("category", "bool"):
                labels[name] = values.to_numpy(dtype=object)
        n_rows = len(next(iter(columns.values())))
        if self.relations == "auto":
            found = relations.detect(numbers, labels, steps, n_rows)
        else:
            found = [relations.parse(text, self._columns) for text in self.relations]
            for relation in found:
                named = [relation.left, relation.right, relation.target]
                usable = all(
                    name in numbers or name in labels
                    for name in named
                    if name is not None
                )
                if not (usable and relations.holds(relation, numbers, labels, steps)):
                    raise ValueError(
                        f"The declared relation {str(relation)!r} does not hold on "
                        "every row of X (or names a column with missing values); "
                        "fix the rows or leave it out."
                    )
        for relation in found:
            self.relations_.append(str(relation))
            if relation.target is None:
                continue
            self._derived.append(relation.target)
            self.codecs_[relation.target] = None
            self.categories_.pop(relation.target, None)
            if relation.kind == "lookup":
                self._lookups[relation.target] = relations.build_lookup(
                    relation, labels
                )
            else:
                self._derived_steps[relation.target] = steps.get(relation.target)

    def _apply_relations(self, raw: dict) -> None:
        """Rebuild the derived columns and restore the orders, in place."""
        for text in self.relations_:
            relation = relations.parse(text, self._columns)
            if relation.kind == "arithmetic":
                with np.errstate(divide="ignore", invalid="ignore"):
                    value = relations.apply(relation, raw)
                step = self._derived_steps.get(relation.target)
                if step is not None:
                    value = _round_to_step(value, *step)
                raw[relation.target] = value
            elif relation.kind == "lookup":
                # A categorical column decodes as (values, missing); a boolean
                # one encoded as a number decodes as its values alone.
                source = raw[relation.left]
                source = source[0] if isinstance(source, tuple) else source
                table = self._lookups[relation.target]
                # A hashed lookup over the rows (pandas), not a Python loop.
                import pandas as pd

                looked_up = pd.Series(source, dtype=object).map(table)
                missing = looked_up.isna().to_numpy()
                values = looked_up.to_numpy(dtype=object)
                values[missing] = None
                raw[relation.target] = (values, missing)
            else:
                low, high = raw[relation.left], raw[relation.right]
                swap = low > high
                low[swap], high[swap] = high[swap], low[swap].copy()

    def _category_output(self, name, values, missing):
        import pandas as pd

        dtype = self._dtypes[self._columns.index(name)]
        if isinstance(dtype, pd.CategoricalDtype):
            values = values.copy()
            values[missing] = np.nan
            return pd.Categorical(values, dtype=dtype)
        if column_kind(dtype) == "bool":
            values = values.copy()
            values[missing] = None
            return pd.array(values, dtype=dtype)
        if isinstance(dtype, np.dtype) and dtype.kind == "O":
            return pd.Series(values, dtype=object)
        values = values.copy()
        values[missing] = None
        return pd.array(values, dtype=dtype)

    def _numeric_output(self, name, kind, values):
        import pandas as pd

        dtype = self._dtypes[self._columns.index(name)]
        missing = np.isnan(values)
        if kind in ("datetime", "timedelta"):
            # Whole seconds and the fraction apart: seconds near 1.7e9 times
            # 1e9 would round to 256 ns in float64 and move midnight off midnight.
            seconds = np.where(missing, 0, values)
            whole = np.floor(seconds)
            nanoseconds = whole.astype(np.int64) * 1_000_000_000 + np.rint(
                (seconds - whole) * _NANOSECONDS
            ).astype(np.int64)
            # To the nearest unit of a coarser dtype: the conversion below
            # truncates, and a time on a whole second that float seconds put
            # a few nanoseconds before it would lose that second.
            size = UNIT_NANOSECONDS.get(time_unit(dtype), 1)
            if size > 1:
                nanoseconds = (nanoseconds + size // 2) // size * size
            if kind == "datetime":
                series = pd.Series(nanoseconds.view("datetime64[ns]"))
                tz = getattr(dtype, "tz", None)
                if tz is not None:
                    series = series.dt.tz_localize("UTC").dt.tz_convert(tz)
            else:
                series = pd.Series(nanoseconds.view("timedelta64[ns]"))
            series[missing] = pd.NaT
            return series.astype(dtype)
        if kind in ("int", "key"):
            numbers = cast_numeric_column(np.where(missing, 0, values), dtype)
            if missing.any():
                return pd.array(
                    np.ma.masked_array(numbers, mask=missing).tolist(), dtype=dtype
                )
            return pd.Series(numbers).astype(dtype)
        if kind == "bool":
            return pd.Series(values.astype(bool)).astype(dtype)
        return pd.Series(values).astype(dtype)

    @staticmethod
    def _numeric_names(label, codec) -> list[str]:
        names = []
        if codec.state_width_:
            states = (["value"] if codec.has_value_ else []) + [
                f"{mass:g}" for mass in codec.masses_
            ]
            if codec.has_missing_:
                states.append("missing")
            if len(states) == 2:
                names.append(f"{label}_state_{states[1]}")
            else:
                names.extend(f"{label}_state_{state}" for state in states)
        if codec.has_value_ or not names:
            names.append(label)
        if codec.period_ is not None:
            names.extend([f"{label}_year_cos", f"{label}_year_sin"])
        return names

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
