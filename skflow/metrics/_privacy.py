"""Privacy audit of synthetic rows: the attacks someone holding them can run.

Every attack is scored twice: on rows the generator was fitted on (``train``,
the members) and on real rows it never saw (``holdout``, the control). A
generator that leaks nothing makes the two indistinguishable, whatever the
attack, so each risk is a difference (or an AUC) between the two groups and
is about 0 (or 0.5) in expectation without leakage. Rows are compared in the
space :func:`~skflow.metrics.sample_report` uses: mixed tables encoded by a
:class:`~skflow.TabularEncoder` fitted on the training rows, every column
standardised with the training rows.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.neighbors import KernelDensity, NearestNeighbors

from .._compat import check_array
from .._frames import align_columns, column_kind, is_dataframe, mixed_encoder
from .._torch_utils import check_random_state
from .._validation import check_count, check_real
from ._metrics import _check_pair, _standardized, dcr

# Fewest rows per set: the holdout is split in two halves of at least two rows
# (a density reference and evaluated non-members), and singling out looks at a
# row's two nearest neighbours.
_MIN_ROWS = 4
# Distances below this, in training standard deviations, are rounding of the
# distance computation (scikit-learn's brute-force search expands
# |x - y|^2 = |x|^2 - 2 x.y + |y|^2, about 1e-8 off for identical rows), not a
# difference between rows: they count as 0, so that a copy is always at
# distance 0 whatever search scikit-learn picks.
_ROUNDING = 1e-6
# Values of these kinds are guessed exactly by the attribute attack; the other
# kinds (numbers, dates, durations) within ``numeric_tolerance``.
_EXACT_KINDS = frozenset({"category", "bool"})


def privacy_report(
    train,
    holdout,
    synthetic,
    *,
    sensitive=None,
    quasi_identifiers=None,
    near_quantile=0.05,
    numeric_tolerance=0.1,
    max_samples=2000,
    random_state=0,
):
    """Membership, singling-out and attribute-inference risk of synthetic rows.

    Runs the attacks that someone holding only the synthetic rows (and, for
    the density attack, some real rows from the same population) can mount
    against the people in the training rows, and scores each attack on the
    training rows and, as the control, on held-out real rows. Without
    leakage, both groups look the same to every attack: AUCs are about 0.5
    and risks about 0.

    Parameters
    ----------
    train : array-like or DataFrame of shape (n_train, n_features)
        Rows the generator was fitted on: the members, whose privacy is
        audited. A DataFrame with text, categorical, date or missing values is
        taken as it is: all three sets are encoded by a
        :class:`~skflow.TabularEncoder` fitted on ``train`` (columns matched by
        name), then every encoded column is standardised with the training
        rows, as in :func:`sample_report`.

    holdout : array-like or DataFrame of shape (n_holdout, n_features)
        Real rows from the same population that the generator never saw: the
        control group, and half of them the density attack's reference.

    synthetic : array-like or DataFrame of shape (n_synthetic, n_features)
        Generated rows, with the same columns.

    sensitive : str, int, list or None, default=None
        Columns whose values an attacker wants to infer: names of a DataFrame's
        columns, or positions (``0 <= i < n_features``) for an array. None runs
        no attribute attack.

    quasi_identifiers : list or None, default=None
        Columns the attacker knows about a target (age, postcode, ...), named
        like ``sensitive`` and disjoint from it. None: every column not in
        ``sensitive``.

    near_quantile : float in (0, 1), default=0.05
        Defines "near": a synthetic row is a near copy when it is closer to a
        training row than this quantile of the held-out rows' distances to
        the training rows, and the singling-out radius is this quantile of the
        distances between training and held-out rows.

    numeric_tolerance : float >= 0, default=0.1
        A guessed number, date or duration counts as correct within this many
        training standard deviations of the column (0: exactly). Categorical
        and boolean values must match exactly; a missing value is guessed
        correctly by a missing value.

    max_samples : int >= 4 or None, default=2000
        Most real rows per group (members, non-members) and most synthetic
        rows used as queries, drawn at random. Every nearest-neighbour search
        and density is still built on *all* synthetic (and, for the copies,
        all training) rows, so a copied row is always found. None uses every
        row.

    random_state : int, RandomState instance or None, default=0
        Seeds the subsets and the split of the held-out rows, so that the
        report is reproducible.

    Returns
    -------
    report : dict of str to float
        With ``m`` rows per group (``min(n_train, n_holdout, max_samples)``):

        ``mia_distance_auc``, ``mia_distance_advantage``
            Membership inference from the distance to the closest synthetic
            row: each of ``m`` training and ``m`` held-out rows is scored by
            minus that distance, and the ROC AUC of members against
            non-members is reported (0.5 is no leakage, 1 is every member
            found), with the advantage, the largest ``TPR - FPR`` over the
            thresholds (0 is none, 1 is total).
        ``mia_density_auc``, ``mia_density_advantage``
            The same for the density attack: a row is scored by the log ratio
            of a Gaussian kernel density fitted on the synthetic rows to one
            fitted on half of the held-out rows (the reference); members and
            non-members are ``m // 2`` or so rows each, the non-members taken
            from the other half.
        ``singling_out_rate``, ``singling_out_holdout``, ``singling_out_risk``
            Share of synthetic rows that single out exactly one of the ``m``
            training rows (exactly one within the singling-out radius of the
            synthetic row), the same share for the ``m`` held-out rows, and
            their difference.
        ``attribute_rate_<c>``, ``attribute_holdout_<c>``, ``attribute_risk_<c>``
            For each sensitive column ``c``: share of training rows whose
            value of ``c`` is guessed correctly from the closest synthetic row
            on the quasi-identifiers, the same share for held-out rows, and
            their difference. ``attribute_risk`` is the largest of the
            per-column risks. Only with ``sensitive``.
        ``exact_copy_share``, ``exact_copy_holdout``
            Share of synthetic rows equal to a training row on the raw values
            (missing equals missing; columns the encoder takes for row keys
            are left out, since a sampler makes up fresh keys), and the share
            of held-out rows equal to a training row, its baseline: real rows
            repeat each other in tables of few discrete columns.
        ``near_copy_share``, ``near_copy_holdout``
            Share of synthetic rows, and of held-out rows (baseline about
            ``near_quantile``), closer to a training row than the
            ``near_quantile``-quantile of the reference half's distances to
            the training rows.
        ``dcr``
            :func:`dcr` of the synthetic rows against the held-out rows
            (about 1 or more: no copying).

    See Also
    --------
    dcr : The median distance-to-closest-record ratio alone.
    sample_report : Fidelity metrics; ``privacy=True`` adds this report.

    Notes
    -----
    Threat model: the attacker has the synthetic rows and real rows from the
    same population (the held-out rows), not the generator. Differences
    between members and non-members are then the only trace of membership.

    * Distance attack [1]_, [5]_: a member's own copy, or a row generated
      close to it, makes its distance to the synthetic rows small.
    * Density attack (after DOMIAS [2]_): ``log p_synthetic(x) -
      log p_reference(x)`` with Gaussian kernel densities on the standardised
      rows, the reference's bandwidth by Scott's rule ``n^(-1/(d+4))`` (``n``
      rows in ``d`` encoded columns) and the synthetic rows' half of theirs,
      to resolve local overfitting; dividing by the reference density tells
      overfitted regions from regions that are dense for every real row. The
      reference half of the held-out rows is never evaluated.
    * Advantage [4]_: the best threshold attacker's true-positive minus
      false-positive rate, the Kolmogorov-Smirnov distance between the two
      groups' scores. Without leakage it is sampling noise, about
      ``0.87 * sqrt(2 / m)`` (0.03 for 2,000 rows per group, 0.1 for 150);
      read it against that. For a test of one record's membership, an
      ``(epsilon, delta)``-differentially private generator bounds it by
      ``(e^epsilon - 1 + 2 delta) / (e^epsilon + 1)`` [6]_.
    * Singling out (after the singling-out attack of [3]_, with balls instead
      of column predicates): each synthetic row ``s`` is the guess "exactly
      one person lies within ``r`` of ``s``". The radius ``r`` is the
      ``near_quantile``-quantile of the distances from each training row to
      the closest held-out row and from each held-out row to the closest
      training row, symmetric in the two groups, so the attack and control
      rates have the same expectation when the synthetic rows depend on
      neither. Both groups have ``m`` rows, since the chance of exactly one
      match depends on the group size.
    * Attribute inference (the inference attack of [3]_): the attacker finds
      the synthetic row closest to a target on the quasi-identifiers (encoded
      and standardised with the training rows alone) and reads off its
      sensitive value. The control rate measures what the synthetic rows
      teach about the population (correlations), which is not a leak; the
      excess on members is.

    The report measures these attacks, not every attack: an AUC of 0.5 is
    not a differential-privacy guarantee, and a stronger or better-informed
    attacker (one who has the generator, or many more reference rows) may do
    better. The cost is a few nearest-neighbour searches and two kernel
    density evaluations of ``m`` queries against all synthetic rows, linear
    in the synthetic rows; memory is that of scikit-learn's search trees.

    References
    ----------
    .. [1] T. Stadler, B. Oprisanu and C. Troncoso, "Synthetic data --
       anonymisation groundhog day", USENIX Security 2022. arXiv:2011.07018.
    .. [2] B. van Breugel, H. Sun, Z. Qian and M. van der Schaar, "Membership
       inference attacks against synthetic data through overfitting
       detection", AISTATS 2023. arXiv:2302.12580.
    .. [3] M. Giomi, F. Boenisch, C. Wehmeyer and B. Tasnadi, "A unified
       framework for quantifying privacy risk in synthetic data", Proceedings
       on Privacy Enhancing Technologies 2023. arXiv:2211.10459.
    .. [4] S. Yeom, I. Giacomelli, M. Fredrikson and S. Jha, "Privacy risk in
       machine learning: analyzing the connection to overfitting", IEEE CSF
       2018. arXiv:1709.01604.
    .. [5] D. Chen, N. Yu, Y. Zhang and M. Fritz, "GAN-Leaks: a taxonomy of
       membership inference attacks against generative models", ACM CCS 2020.
       arXiv:1909.03935.
    .. [6] P. Kairouz, S. Oh and P. Viswanath, "The composition theorem for
       differential privacy", ICML 2015. arXiv:1311.0776.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.metrics import privacy_report
    >>> rng = np.random.RandomState(0)
    >>> train, holdout = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    >>> copies = privacy_report(train, holdout, train)
    >>> copies["mia_distance_auc"] > 0.9, copies["exact_copy_share"]
    (True, 1.0)
    >>> fresh = privacy_report(train, holdout, rng.normal(size=(200, 3)))
    >>> abs(fresh["mia_distance_auc"] - 0.5) < 0.15, fresh["exact_copy_share"]
    (True, 0.0)
    """
    near_quantile = check_real(
        near_quantile,
        "near_quantile",
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
        remedy="0.05 calls the closest 5% of real distances near.",
    )
    numeric_tolerance = check_real(
        numeric_tolerance,
        "numeric_tolerance",
        low=0.0,
        remedy="it is a number of training standard deviations.",
    )
    max_samples = check_count(
        max_samples,
        "max_samples",
        minimum=_MIN_ROWS,
        allow_none=True,
        remedy="the held-out rows are split in two halves of at least two rows.",
    )
    train, holdout, synthetic = _as_frames(train, holdout, synthetic)
    sensitive, quasi = _check_columns(train, sensitive, quasi_identifiers)
    Z_train, Z_holdout, Z_synth, encoder = _prepared(train, holdout, synthetic)
    rows = _draw_rows(
        len(train), len(holdout), len(synthetic), max_samples, random_state
    )

    report = {}
    report.update(_membership(Z_train, Z_holdout, Z_synth, rows))
    report.update(_singling_out(Z_train, Z_holdout, Z_synth, rows, near_quantile))
    if sensitive:
        Q_train, Q_holdout, Q_synth, _ = _prepared(
            train[quasi], holdout[quasi], synthetic[quasi]
        )
        report.update(
            _attribute_inference(
                (train, holdout, synthetic),
                (Q_train, Q_holdout, Q_synth),
                sensitive,
                rows,
                numeric_tolerance,
            )
        )
    keys = encoder.column_kinds_ if encoder is not None else {}
    compared = [name for name in train.columns if keys.get(name) != "key"]
    report.update(_exact_copies(train, holdout, synthetic, compared))
    report.update(_near_copies(Z_train, Z_holdout, Z_synth, rows, near_quantile))
    report["dcr"] = dcr(Z_train, Z_synth[rows.queries], Z_holdout[rows.non_members])
    return report


class _Rows:
    """Row indices of one audit, drawn once so that every attack sees them.

    ``members`` and ``non_members``: ``m`` training and held-out rows;
    ``reference``: the first half of ``non_members`` (the density
    reference), ``evaluated`` the other half, ``evaluated_members`` as many
    members; ``queries``: at most ``max_samples`` synthetic rows.
    """

    def __init__(self, members, non_members, queries):
        half = len(non_members) // 2
        self.members = members
        self.non_members = non_members
        self.reference = non_members[:half]
        self.evaluated = non_members[half:]
        self.evaluated_members = members[half:]
        self.queries = queries


def _draw_rows(n_train, n_holdout, n_synth, max_samples, random_state):
    rng = check_random_state(random_state)
    m = min(n_train, n_holdout)
    if max_samples is not None:
        m = min(m, max_samples)
    n_queries = n_synth if max_samples is None else min(n_synth, max_samples)
    return _Rows(
        members=rng.permutation(n_train)[:m],
        non_members=rng.permutation(n_holdout)[:m],
        queries=rng.permutation(n_synth)[:n_queries],
    )


def _as_frames(train, holdout, synthetic):
    """The three sets as DataFrames with the training columns, in their order.

    Arrays are checked as numbers (NaN and inf refused, naming the set) and
    get the column positions as names; a DataFrame next to an array passes
    its values, a DataFrame next to a DataFrame is matched by column name.
    """
    import pandas as pd

    sets = {"train": train, "holdout": holdout, "synthetic": synthetic}
    if is_dataframe(train):
        frames = {"train": train}
        for name in ("holdout", "synthetic"):
            X = sets[name]
            if is_dataframe(X):
                X = align_columns(train, X)
            else:
                X = np.asarray(X)
                if X.ndim != 2 or X.shape[1] != train.shape[1]:
                    raise ValueError(
                        f"{name} has shape {X.shape} but train is a DataFrame of "
                        f"{train.shape[1]} columns; pass {name} as a DataFrame "
                        "with the same columns."
                    )
                X = pd.DataFrame(X, columns=train.columns)
            frames[name] = X
    else:
        frames = {
            name: pd.DataFrame(check_array(X, dtype=np.float64, input_name=name))
            for name, X in sets.items()
        }
        width = frames["train"].shape[1]
        for name in ("holdout", "synthetic"):
            if frames[name].shape[1] != width:
                raise ValueError(
                    f"{name} has {frames[name].shape[1]} columns but train has "
                    f"{width}; pass rows of the same columns."
                )
    for name, frame in frames.items():
        if len(frame) < _MIN_ROWS:
            raise ValueError(
                f"privacy_report needs at least {_MIN_ROWS} rows in each set, got "
                f"{len(frame)} {name} rows; pass more rows (with a few hundred "
                "per set the attack rates are still noisy)."
            )
    return (
        frames["train"].reset_index(drop=True),
        frames["holdout"].reset_index(drop=True),
        frames["synthetic"].reset_index(drop=True),
    )


def _column_list(value, name, columns, positional):
    """``value`` as a list of distinct known columns (a single one allowed)."""
    if value is None:
        return []
    single = isinstance(value, (str, Integral)) or not hasattr(value, "__iter__")
    names = [value] if single else list(value)
    if positional:
        bad = [c for c in names if isinstance(c, bool) or not isinstance(c, Integral)]
        if bad:
            raise ValueError(
                f"{name} names columns of an array by position, integers in "
                f"[0, {len(columns) - 1}], got {bad[:10]}; pass positions, or the "
                "sets as DataFrames to name their columns."
            )
    unknown = [c for c in names if c not in set(columns)]
    if unknown:
        shown = list(columns)[:20]
        raise ValueError(
            f"{name} names columns that train does not have: {unknown[:10]}; its "
            f"columns are {shown}{' ...' if len(columns) > 20 else ''}."
        )
    return list(dict.fromkeys(names))


def _check_columns(train, sensitive, quasi_identifiers):
    """The sensitive columns and the quasi-identifiers, validated."""
    columns = list(train.columns)
    positional = all(isinstance(c, Integral) for c in columns) and columns == list(
        range(len(columns))
    )
    sensitive = _column_list(sensitive, "sensitive", columns, positional)
    quasi = _column_list(quasi_identifiers, "quasi_identifiers", columns, positional)
    both = [c for c in quasi if c in sensitive]
    if both:
        raise ValueError(
            f"Columns {both[:10]} are both sensitive and quasi-identifiers; the "
            "attacker infers a sensitive column from the others, so leave them "
            "out of quasi_identifiers."
        )
    if quasi_identifiers is None:
        quasi = [c for c in columns if c not in sensitive]
    if sensitive and not quasi:
        raise ValueError(
            "No quasi-identifier is left for the attribute attack: sensitive "
            f"names every column ({sensitive[:10]}); name fewer sensitive "
            "columns or pass quasi_identifiers."
        )
    return sensitive, quasi


def _prepared(train, holdout, synthetic):
    """The three sets encoded (when mixed) and standardised with ``train``.

    Returns the three float matrices and the fitted encoder (None when the
    sets were complete numbers).
    """
    encoder = mixed_encoder(train)
    sets = (train, holdout, synthetic)
    if encoder is not None:
        sets = tuple(encoder.transform(X) for X in sets)
    Z_train, Z_holdout = _check_pair(
        sets[0], sets[1], min_samples=_MIN_ROWS, names=("train", "holdout")
    )
    _, Z_synth = _check_pair(
        sets[0], sets[2], min_samples=_MIN_ROWS, names=("train", "synthetic")
    )
    standardized = _standardized(
        Z_train,
        Z_holdout,
        Z_synth,
        names=("train", "holdout", "synthetic"),
        remedy="scale the sets to a common range first.",
    )
    return (*standardized, encoder)


def _distances(search, X, n_neighbors=1):
    """Distances of the rows ``X`` to their nearest rows in ``search``."""
    distances = search.kneighbors(X, n_neighbors=n_neighbors)[0]
    distances[distances < _ROUNDING] = 0.0
    return distances


def _attack(member_scores, non_member_scores, name):
    """``{name}_auc`` and ``{name}_advantage`` of an attack's scores
    (higher means "member")."""
    labels = np.r_[np.ones(len(member_scores)), np.zeros(len(non_member_scores))]
    scores = np.r_[member_scores, non_member_scores]
    # A member sitting on a synthetic copy can get an infinite log density
    # ratio; its rank is all the AUC needs.
    finite = scores[np.isfinite(scores)]
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    scores = np.nan_to_num(scores, nan=low - 1.0, posinf=high + 1.0, neginf=low - 1.0)
    fpr, tpr, _ = roc_curve(labels, scores)
    return {
        f"{name}_auc": float(roc_auc_score(labels, scores)),
        f"{name}_advantage": float(max(0.0, np.max(tpr - fpr))),
    }


def _membership(Z_train, Z_holdout, Z_synth, rows):
    """The distance attack and the density attack."""
    nearest = NearestNeighbors(n_neighbors=1).fit(Z_synth)
    report = _attack(
        -_distances(nearest, Z_train[rows.members])[:, 0],
        -_distances(nearest, Z_holdout[rows.non_members])[:, 0],
        "mia_distance",
    )
    # Bandwidths from Scott's rule n^(-1/(d+4)) on rows standardised with the
    # training rows: the reference's own, a smooth estimate of the population,
    # and half of it for the synthetic rows, to resolve the local overfitting
    # the attack looks for. Any pair keeps the attack calibrated (without
    # leakage members and non-members are exchangeable for both densities);
    # half was the most powerful of 1, 1/2 and 1/4 against copies, jittered
    # copies and narrow-kernel samplers in 4 and 12 dimensions.
    scott = -1.0 / (Z_synth.shape[1] + 4)
    synth_density = KernelDensity(bandwidth=0.5 * len(Z_synth) ** scott)
    synth_density.fit(Z_synth)
    reference = Z_holdout[rows.reference]
    reference_density = KernelDensity(bandwidth=len(reference) ** scott)
    reference_density.fit(reference)

    def log_ratio(X):
        return synth_density.score_samples(X) - reference_density.score_samples(X)

    report.update(
        _attack(
            log_ratio(Z_train[rows.evaluated_members]),
            log_ratio(Z_holdout[rows.evaluated]),
            "mia_density",
        )
    )
    return report


def _singling_out(Z_train, Z_holdout, Z_synth, rows, near_quantile):
    """Share of synthetic rows with exactly one member (non-member) nearby."""
    members, non_members = Z_train[rows.members], Z_holdout[rows.non_members]
    member_search = NearestNeighbors(n_neighbors=2).fit(members)
    non_member_search = NearestNeighbors(n_neighbors=2).fit(non_members)
    # Symmetric in the two groups: without leakage the rates below have the
    # same expectation.
    cross = np.r_[
        _distances(non_member_search, members)[:, 0],
        _distances(member_search, non_members)[:, 0],
    ]
    radius = np.quantile(cross, near_quantile)
    queries = Z_synth[rows.queries]

    def singled_out(search):
        nearest_two = _distances(search, queries, n_neighbors=2)
        return float(
            np.mean((nearest_two[:, 0] <= radius) & (nearest_two[:, 1] > radius))
        )

    rate, control = singled_out(member_search), singled_out(non_member_search)
    return {
        "singling_out_rate": rate,
        "singling_out_holdout": control,
        "singling_out_risk": rate - control,
    }


def _as_numbers(values, reference):
    """A numeric, date or duration column as float64 (NaN where missing)."""
    import pandas as pd

    kind = column_kind(values.dtype)
    if kind == "datetime":
        origin = reference.dropna().iloc[0] if reference.notna().any() else None
        if origin is None:
            return np.full(len(values), np.nan)
        return ((values - origin) / pd.Timedelta(seconds=1)).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    if kind == "timedelta":
        return (values / pd.Timedelta(seconds=1)).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    return pd.to_numeric(values, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def _guessed(guesses, truth, train_column, numeric_tolerance):
    """Share of ``truth`` values that ``guesses`` get right."""
    import pandas as pd

    kind = column_kind(train_column.dtype)
    if kind in _EXACT_KINDS or kind is None:
        # One code per distinct value over both, missing values all -1.
        codes = pd.factorize(pd.concat([guesses, truth], ignore_index=True))[0]
        return float(np.mean(codes[: len(guesses)] == codes[len(guesses) :]))
    guessed = _as_numbers(guesses, train_column)
    actual = _as_numbers(truth, train_column)
    spread = np.nanstd(_as_numbers(train_column, train_column))
    tolerance = numeric_tolerance * (spread if np.isfinite(spread) else 0.0)
    with np.errstate(invalid="ignore"):
        right = np.abs(guessed - actual) <= tolerance
    right |= np.isnan(guessed) & np.isnan(actual)
    return float(np.mean(right))


def _attribute_inference(frames, quasi_matrices, sensitive, rows, tolerance):
    """Per sensitive column, the guess of the closest synthetic row."""
    train, holdout, synthetic = frames
    Q_train, Q_holdout, Q_synth = quasi_matrices
    nearest = NearestNeighbors(n_neighbors=1).fit(Q_synth)
    member_match = nearest.kneighbors(Q_train[rows.members])[1][:, 0]
    non_member_match = nearest.kneighbors(Q_holdout[rows.non_members])[1][:, 0]
    report, risks = {}, []
    for column in sensitive:
        values = synthetic[column]
        rate = _guessed(
            values.iloc[member_match].reset_index(drop=True),
            train[column].iloc[rows.members].reset_index(drop=True),
            train[column],
            tolerance,
        )
        control = _guessed(
            values.iloc[non_member_match].reset_index(drop=True),
            holdout[column].iloc[rows.non_members].reset_index(drop=True),
            train[column],
            tolerance,
        )
        report[f"attribute_rate_{column}"] = rate
        report[f"attribute_holdout_{column}"] = control
        report[f"attribute_risk_{column}"] = rate - control
        risks.append(rate - control)
    report["attribute_risk"] = float(max(risks))
    return report


def _row_ids(frames, columns):
    """One integer per distinct row over all ``frames`` (raw values).

    Each column's values are coded jointly over the frames (so an integer 3
    in one set equals a float 3.0 in another, and missing equals missing),
    then the rows of codes are numbered by ``np.unique``.
    """
    import pandas as pd

    lengths = [len(frame) for frame in frames]
    codes = np.column_stack(
        [
            pd.factorize(
                pd.concat([frame[name] for frame in frames], ignore_index=True)
            )[0]
            for name in columns
        ]
    )
    ids = np.unique(codes, axis=0, return_inverse=True)[1].ravel()
    return np.split(ids, np.cumsum(lengths)[:-1])


def _exact_copies(train, holdout, synthetic, columns):
    if not columns:
        return {"exact_copy_share": 0.0, "exact_copy_holdout": 0.0}
    train_ids, holdout_ids, synth_ids = _row_ids((train, holdout, synthetic), columns)
    return {
        "exact_copy_share": float(np.mean(np.isin(synth_ids, train_ids))),
        "exact_copy_holdout": float(np.mean(np.isin(holdout_ids, train_ids))),
    }


def _near_copies(Z_train, Z_holdout, Z_synth, rows, near_quantile):
    nearest = NearestNeighbors(n_neighbors=1).fit(Z_train)
    threshold = np.quantile(
        _distances(nearest, Z_holdout[rows.reference])[:, 0], near_quantile
    )
    synth = _distances(nearest, Z_synth[rows.queries])[:, 0]
    control = _distances(nearest, Z_holdout[rows.evaluated])[:, 0]
    return {
        "near_copy_share": float(np.mean(synth <= threshold)),
        "near_copy_holdout": float(np.mean(control <= threshold)),
    }
