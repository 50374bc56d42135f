"""TabularEncoder: mixed-type tables to a continuous matrix and back."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from .._base import keeps_state_on_failure
from .._compat import _check_feature_names_in, _fit_context, validate_data
from .._frames import cast_numeric_column, column_kind, is_dataframe

_IMPUTE_HINT = (
    "TabularEncoder does not guess missing values: impute them first, e.g. put "
    "sklearn.impute.SimpleImputer (strategy='median' for numbers, "
    "'most_frequent' for categories) in a ColumnTransformer before it, or drop "
    "the rows with DataFrame.dropna()."
)


class TabularEncoder(TransformerMixin, BaseEstimator):
    """Encode a mixed-type table as a continuous matrix, and decode it back.

    Float, integer and boolean columns are standardised; categorical columns
    (``object``, ``category`` or ``string`` dtype) become one-hot blocks. The
    result is a float matrix any skflow sampler can model, and
    ``inverse_transform`` turns generated rows back into a DataFrame with the
    original column names, order and dtypes: integers rounded, booleans
    thresholded, each category the argmax of its block. Together with
    :class:`~skflow.GenerativePipeline` this makes every sampler work on a
    DataFrame: ``make_generative_pipeline(TabularEncoder(), sampler)``.

    Read more in the :ref:`User Guide <pipelines>`.

    Parameters
    ----------
    clip : bool, default=True
        Clip decoded numeric values to the range seen in ``fit`` (so a
        generated age is never negative). Integer columns are always kept
        inside their dtype's range.

    Attributes
    ----------
    column_kinds_ : dict of str
        Column name -> ``"float"``, ``"int"``, ``"bool"`` or ``"category"``.

    categories_ : dict of ndarray
        Categorical column name -> categories seen in ``fit``, in block order.

    scaler_ : StandardScaler or None
        The scaler of the numeric (float, int, bool) columns.

    one_hot_ : OneHotEncoder or None
        The encoder of the categorical columns.

    data_min_, data_max_ : ndarray of shape (n_numeric,)
        Range of each numeric column in ``fit`` (the clipping bounds).

    n_features_in_ : int
        Number of columns seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen during ``fit``; only when they are all strings.

    See Also
    --------
    sklearn.preprocessing.OneHotEncoder, sklearn.preprocessing.StandardScaler :
        The encoders used inside.
    AutoencoderTransformer : A learned latent space to put after this encoder.

    Notes
    -----
    A standardised numeric column has variance 1. A categorical column with
    category frequencies ``p_1..p_m`` becomes ``m`` centred indicator columns
    ``(1[x = c_j] - p_j) * s`` with one factor ``s = 1 / sqrt(1 - sum_j p_j^2)``
    for the whole block. ``1 - sum p_j^2`` is the total variance of the centred
    one-hot block, so every categorical column, like every numeric one,
    contributes a total variance of exactly 1 to the squared Euclidean geometry
    the samplers and metrics see, whatever its number of categories; all
    categories stay equidistant from one another. (Samplers that standardise
    each column again, as skflow's do, reweight the indicators individually;
    PCA, autoencoders and kernel methods placed after this encoder see the
    balanced geometry.) Decoding undoes the scaling and centring and takes the
    argmax of the block, so any real vector decodes to one seen category.
    Categories unseen in ``fit`` encode as the all-zero indicator (the block's
    centre); missing values raise an error saying how to impute them.

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
    """

    _parameter_constraints: dict = {"clip": ["boolean"]}

    def __init__(self, *, clip=True):
        self.clip = clip

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def fit(self, X, y=None):
        """Learn the column kinds, scales, categories and ranges of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A pandas DataFrame with float, integer, boolean and categorical
            columns, or a numeric array. No missing values.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted encoder.
        """
        if is_dataframe(X):
            validate_data(self, X, reset=True, skip_check_array=True)
            kinds = {}
            for name, dtype in zip(X.columns, X.dtypes):
                kind = column_kind(dtype)
                if kind is None:
                    raise TypeError(
                        f"Column {name!r} has dtype {dtype}, which TabularEncoder "
                        "cannot encode; convert it to a number (e.g. a timestamp "
                        "to seconds) or to a string/category first."
                    )
                kinds[name] = kind
            if X.shape[0] < 1:
                raise ValueError("X has no rows; TabularEncoder needs at least one.")
            self._columns = list(X.columns)
            self._dtypes = list(X.dtypes)
        else:
            X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False)
            self._columns = None
            self._dtypes = None
            kinds = {i: "float" for i in range(X.shape[1])}
        self.column_kinds_ = kinds
        self._numeric = [c for c, k in kinds.items() if k != "category"]
        self._categorical = [c for c, k in kinds.items() if k == "category"]
        self._check_missing(X)

        self.scaler_ = None
        if self._numeric:
            numeric = self._numeric_block(X)
            # Internal steps return arrays whatever
            # sklearn.set_config(transform_output=...) asks of user-facing ones.
            self.scaler_ = StandardScaler().set_output(transform="default")
            self.scaler_.fit(numeric)
            self.data_min_ = numeric.min(axis=0)
            self.data_max_ = numeric.max(axis=0)
        else:
            self.data_min_ = self.data_max_ = np.zeros(0)

        self.one_hot_ = None
        self.categories_ = {}
        self._block_center, self._block_scale = [], []
        if self._categorical:
            self._check_uniform_categories(X)
            self.one_hot_ = OneHotEncoder(
                sparse_output=False, handle_unknown="ignore", dtype=np.float64
            ).set_output(transform="default")
            self.one_hot_.fit(self._categorical_block(X))
            indicators = self.one_hot_.transform(self._categorical_block(X))
            offset = 0
            for name, cats in zip(self._categorical, self.one_hot_.categories_):
                self.categories_[name] = cats
                freq = indicators[:, offset : offset + len(cats)].mean(axis=0)
                total_variance = 1.0 - float(np.sum(freq**2))
                self._block_center.append(freq)
                self._block_scale.append(
                    1.0 / np.sqrt(total_variance) if total_variance > 1e-12 else 1.0
                )
                offset += len(cats)

        # Output columns follow the input columns: each numeric column in place,
        # each categorical column expanded to its block. ``_order`` maps the
        # [numeric | one-hot] concatenation to that interleaved layout.
        n_numeric = len(self._numeric)
        widths = {c: len(cats) for c, cats in self.categories_.items()}
        order, numeric_index, offset = [], 0, n_numeric
        for name in kinds:
            if kinds[name] == "category":
                order.extend(range(offset, offset + widths[name]))
                offset += widths[name]
            else:
                order.append(numeric_index)
                numeric_index += 1
        self._order = np.asarray(order, dtype=np.intp)
        self._n_features_out = len(order)
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
            Standardised numeric columns and scaled one-hot blocks, in the order
            of :meth:`get_feature_names_out`.
        """
        check_is_fitted(self)
        if self._columns is not None:
            if not is_dataframe(X):
                raise TypeError(
                    f"TabularEncoder was fitted on a DataFrame; pass a DataFrame "
                    f"with the columns {self._columns}, got {type(X).__name__}."
                )
            validate_data(self, X, reset=False, skip_check_array=True)
            if list(X.columns) != self._columns:
                raise ValueError(
                    f"X has columns {list(X.columns)}, but TabularEncoder was fitted "
                    f"on {self._columns}; select and order them the same way."
                )
            for name in self._numeric:
                if column_kind(X[name].dtype) not in ("float", "int", "bool"):
                    raise TypeError(
                        f"Column {name!r} was numeric in fit but has dtype "
                        f"{X[name].dtype} now; convert it with pd.to_numeric."
                    )
        else:
            X = validate_data(
                self, X, dtype=np.float64, reset=False, ensure_all_finite=False
            )
        self._check_missing(X)
        parts = []
        if self._numeric:
            parts.append(self.scaler_.transform(self._numeric_block(X)))
        if self._categorical:
            indicators = self.one_hot_.transform(self._categorical_block(X))
            blocks, offset = [], 0
            for center, scale in zip(self._block_center, self._block_scale):
                width = len(center)
                block = indicators[:, offset : offset + width]
                # An unseen category (all-zero indicators) sits at the block's
                # centre, the category frequencies: it encodes as zeros.
                block = np.where(block.sum(axis=1, keepdims=True) == 0, center, block)
                blocks.append((block - center) * scale)
                offset += width
            parts.append(np.hstack(blocks))
        return np.hstack(parts)[:, self._order]

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
            received a DataFrame (integers rounded, booleans thresholded at 0.5,
            each category the argmax of its block, numbers clipped to the seen
            range when ``clip=True``); else a float64 array.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {X.shape[1]} columns, but TabularEncoder produces "
                f"{self._n_features_out}; pass rows encoded by this encoder or "
                "generated in its output space."
            )
        stacked = np.empty_like(X)
        stacked[:, self._order] = X
        n_numeric = len(self._numeric)
        decoded = {}
        if n_numeric:
            numeric = self.scaler_.inverse_transform(stacked[:, :n_numeric])
            if self.clip:
                numeric = np.clip(numeric, self.data_min_, self.data_max_)
            decoded.update(zip(self._numeric, numeric.T))
        offset = n_numeric
        for name, center, scale in zip(
            self._categorical, self._block_center, self._block_scale
        ):
            width = len(center)
            # Undo the scaling and centring: the argmax of the (soft) indicators.
            block = stacked[:, offset : offset + width] / scale + center
            decoded[name] = self.categories_[name][np.argmax(block, axis=1)]
            offset += width
        if self._columns is None:
            return np.column_stack([decoded[i] for i in range(self.n_features_in_)])
        return self._to_frame(decoded)

    def get_feature_names_out(self, input_features=None):
        """Get the names of the encoded columns.

        Numeric columns keep their name; a categorical column ``c`` gives
        ``c_<category>`` for each of its categories (as ``OneHotEncoder`` does).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Must match ``feature_names_in_`` if given.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per encoded column, in the input columns' order (each
            categorical column's block where the column was).
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        kinds = list(self.column_kinds_.values())
        numeric = [str(n) for n, k in zip(names, kinds) if k != "category"]
        categorical = [n for n, k in zip(names, kinds) if k == "category"]
        one_hot = (
            list(self.one_hot_.get_feature_names_out(categorical))
            if categorical
            else []
        )
        return np.asarray(numeric + one_hot, dtype=object)[self._order]

    # ------------------------------------------------------------- internals
    def _check_missing(self, X):
        if is_dataframe(X):
            missing = X.isna().any()
            bad = [name for name, flag in missing.items() if flag]
        else:
            bad = [int(i) for i in np.flatnonzero(np.isnan(X).any(axis=0))]
        if bad:
            raise ValueError(
                f"X has missing values (NaN/None) in columns {bad}. {_IMPUTE_HINT}"
            )
        numeric = self._numeric_block(X) if self._numeric else np.zeros((0, 0))
        infinite = [
            self._numeric[i] for i in np.flatnonzero(np.isinf(numeric).any(axis=0))
        ]
        if infinite:
            raise ValueError(
                f"X has infinite values (inf) in columns {infinite}; replace them "
                "with finite numbers or drop those rows."
            )

    def _check_uniform_categories(self, X) -> None:
        """Name a text column that mixes strings with numbers (OneHotEncoder's
        own error does not say which column)."""
        import pandas as pd

        for name in self._categorical:
            # The distinct values only: hashed in pandas, not a loop over rows.
            values = pd.unique(X[name].to_numpy(dtype=object))
            strings = np.array([isinstance(v, str) for v in values], dtype=bool)
            if strings.any() and not strings.all():
                example = values[~strings][0]
                raise TypeError(
                    f"Column {name!r} mixes strings with other values (e.g. "
                    f"{example!r}); make it uniform first, e.g. "
                    f"X[{name!r}] = X[{name!r}].astype(str)."
                )

    def _numeric_block(self, X) -> np.ndarray:
        if self._columns is None:
            return X[:, self._numeric]
        return np.column_stack(
            [X[name].to_numpy(dtype=np.float64) for name in self._numeric]
        )

    def _categorical_block(self, X) -> np.ndarray:
        return np.column_stack(
            [X[name].to_numpy(dtype=object) for name in self._categorical]
        )

    def _to_frame(self, decoded: dict):
        import pandas as pd

        columns = {}
        for name, dtype in zip(self._columns, self._dtypes):
            values = decoded[name]
            if self.column_kinds_[name] in ("int", "bool"):
                values = cast_numeric_column(values, dtype)
            columns[name] = pd.Series(values, dtype=dtype, name=name)
        return pd.DataFrame(columns, columns=self._columns)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
