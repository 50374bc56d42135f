"""Figures that show whether a sampler worked.

Each helper draws onto matplotlib axes (made for you when not given) and returns
the :class:`~matplotlib.figure.Figure`, so it can be shown, saved or refined:

* :func:`plot_pca`: real and generated rows in the real rows' first two
  principal components (standardised features);
* :func:`plot_pairs`: a pair plot of a few features, real over generated;
* :func:`plot_marginals`: every feature's distribution, real against generated;
  numeric features as histograms, categorical and boolean ones (from a
  DataFrame) as category frequencies;
* :func:`plot_history`: a fitted estimator's ``history_`` (losses, kinetic
  energy, ...) against the iteration;
* :func:`plot_trajectories`: flow paths, e.g. from
  ``ProximalMFGFlow.sample(n, return_trajectories=True)``.

matplotlib is an optional dependency: ``pip install "skflow[plot]"``.
"""

from __future__ import annotations

import math

import numpy as np

from ._frames import align_columns, encoded_if_mixed

__all__ = [
    "plot_history",
    "plot_marginals",
    "plot_pairs",
    "plot_pca",
    "plot_trajectories",
]

_REAL_COLOR = "tab:gray"
_SYNTH_COLOR = "tab:orange"


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skflow.plotting needs matplotlib; install it with "
            "pip install 'skflow[plot]' (or pip install matplotlib)."
        ) from exc
    return plt


def _numeric_table(X, name: str) -> tuple[np.ndarray, list[str]]:
    """A float matrix and column labels from an array or an all-numeric DataFrame."""
    if hasattr(X, "columns"):
        labels = [str(column) for column in X.columns]
        try:
            values = X.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} has non-numeric columns; this plot needs numbers. Use "
                "plot_marginals for categorical columns, or encode them first "
                "(skflow.TabularEncoder)."
            ) from exc
    else:
        values = np.asarray(X, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        labels = [f"feature {i}" for i in range(values.shape[1] if values.ndim else 0)]
    if values.ndim != 2 or values.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D table of rows, got shape {values.shape}."
        )
    if not np.isfinite(values).all():
        raise ValueError(
            f"{name} contains NaN or infinity; drop or impute those rows before "
            "plotting."
        )
    return values, labels


def _paired_tables(X_real, X_synth):
    # A mixed table (text, dates, missing values) is encoded by a
    # TabularEncoder fitted on the real rows; the plot shows the encoded columns.
    X_real, X_synth, encoded_names = encoded_if_mixed(X_real, X_synth)
    X_synth = align_columns(X_real, X_synth)
    real, labels = _numeric_table(X_real, "X_real")
    synth, _ = _numeric_table(X_synth, "X_synth")
    if encoded_names is not None:
        labels = encoded_names
    if real.shape[1] != synth.shape[1]:
        raise ValueError(
            f"X_real has {real.shape[1]} features but X_synth has {synth.shape[1]}; "
            "compare rows of the same table."
        )
    return real, synth, labels


def _subsample(rows: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    if rows.shape[0] <= max_rows:
        return rows
    index = np.random.RandomState(seed).choice(rows.shape[0], max_rows, replace=False)
    return rows[index]


def _select_features(labels: list[str], features, max_features: int) -> list[int]:
    """Column positions from names or positions; the first ``max_features`` if None."""
    if features is None:
        return list(range(min(len(labels), max_features)))
    if len(features) == 0:
        raise ValueError(
            "features is empty; name at least one column (or pass None for the "
            "first ones)."
        )
    positions = []
    for feature in features:
        if isinstance(feature, (int, np.integer)):
            if not -len(labels) <= feature < len(labels):
                raise ValueError(
                    f"feature index {feature} is out of range for {len(labels)} "
                    "features."
                )
            positions.append(int(feature) % len(labels))
        elif str(feature) in labels:
            positions.append(labels.index(str(feature)))
        else:
            raise ValueError(
                f"unknown feature {feature!r}; choose among {labels[:10]}"
                + (" ..." if len(labels) > 10 else "")
            )
    return positions


def _grid(plt, n_panels: int, n_columns: int, panel_size: float):
    n_rows = math.ceil(n_panels / n_columns)
    fig, axes = plt.subplots(
        n_rows,
        n_columns,
        figsize=(panel_size * n_columns, panel_size * 0.8 * n_rows),
        squeeze=False,
    )
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n_panels])


def plot_pca(X_real, X_synth, *, ax=None, max_points=2000, random_state=0):
    """Plot real and generated rows in the real rows' first two principal components.

    Features are standardised by the real rows first, so every feature counts
    equally whatever its unit. Generated rows that sit where no real rows are,
    or real regions left empty, show up at a glance.

    Parameters
    ----------
    X_real, X_synth : array-like or DataFrame of shape (n_rows, n_features)
        Real and generated rows with the same numeric columns.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.
    max_points : int, default=2000
        At most this many rows of each set are drawn (a fixed random subset).
    random_state : int, default=0
        Seed of the subset.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on (that of ``ax`` when given).

    See Also
    --------
    plot_pairs : Pairs of original features instead of principal components.
    plot_marginals : One feature at a time.
    """
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    plt = _pyplot()
    real, synth, _ = _paired_tables(X_real, X_synth)
    # Arrays whatever sklearn.set_config(transform_output=...) says.
    scaler = StandardScaler().set_output(transform="default").fit(real)
    n_components = min(2, real.shape[1], real.shape[0])
    pca = PCA(n_components=n_components).set_output(transform="default")
    pca.fit(scaler.transform(real))

    def project(rows):
        scores = pca.transform(scaler.transform(rows))
        if n_components == 1:
            scores = np.column_stack([scores, np.zeros(len(scores))])
        return scores

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    real_points = project(_subsample(real, max_points, random_state))
    synth_points = project(_subsample(synth, max_points, random_state + 1))
    # Real rows on top: usually far fewer than the generated ones.
    ax.scatter(*synth_points.T, s=10, alpha=0.5, color=_SYNTH_COLOR, label="generated")
    ax.scatter(*real_points.T, s=10, alpha=0.7, color="black", label="real")
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.legend(loc="best")
    return ax.figure


def plot_pairs(
    X_real, X_synth, *, features=None, max_features=4, max_points=1000, random_state=0
):
    """Plot pairs of a few features, real against generated.

    A grid with one row and one column per feature: density histograms on
    shared bins on the diagonal (real filled, generated outlined) and scatter
    plots of every pair of features elsewhere, so that both the marginals and
    the dependence between features can be compared.

    Parameters
    ----------
    X_real, X_synth : array-like or DataFrame of shape (n_rows, n_features)
        Real and generated rows with the same numeric columns.
    features : list of int or str, default=None
        Columns to show (positions or DataFrame column names); the first
        ``max_features`` when None.
    max_features : int, default=4
        Number of columns shown when ``features`` is None.
    max_points : int, default=1000
        At most this many rows of each set in the scatters.
    random_state : int, default=0
        Seed of the subset.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on.

    See Also
    --------
    plot_pca : All features at once, in two principal components.
    plot_marginals : Every feature's distribution, including categorical ones.
    """
    plt = _pyplot()
    real, synth, labels = _paired_tables(X_real, X_synth)
    chosen = _select_features(labels, features, max_features)
    k = len(chosen)
    fig, axes = plt.subplots(k, k, figsize=(2.4 * k, 2.4 * k), squeeze=False)
    real_points = _subsample(real, max_points, random_state)
    synth_points = _subsample(synth, max_points, random_state + 1)
    for row, i in enumerate(chosen):
        for column, j in enumerate(chosen):
            ax = axes[row, column]
            if i == j:
                bins = np.histogram_bin_edges(np.concatenate([real[:, i], synth[:, i]]))
                ax.hist(real[:, i], bins=bins, density=True, color=_REAL_COLOR)
                ax.hist(
                    synth[:, i],
                    bins=bins,
                    density=True,
                    histtype="step",
                    linewidth=1.5,
                    color=_SYNTH_COLOR,
                )
            else:
                ax.scatter(
                    real_points[:, j],
                    real_points[:, i],
                    s=4,
                    alpha=0.4,
                    color=_REAL_COLOR,
                )
                ax.scatter(
                    synth_points[:, j],
                    synth_points[:, i],
                    s=4,
                    alpha=0.4,
                    color=_SYNTH_COLOR,
                )
            if row == k - 1:
                ax.set_xlabel(labels[j])
            if column == 0:
                ax.set_ylabel(labels[i])
    axes[0, -1].scatter([], [], color=_REAL_COLOR, label="real")
    axes[0, -1].scatter([], [], color=_SYNTH_COLOR, label="generated")
    axes[0, -1].legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


def _is_categorical(column) -> bool:
    dtype = getattr(column, "dtype", None)
    return dtype is not None and getattr(dtype, "kind", "O") not in "iuf"


def plot_marginals(
    X_real, X_synth, *, features=None, max_features=16, bins=30, n_columns=4
):
    """Plot each feature's distribution, real against generated.

    Numeric features are drawn as density histograms on shared bins (real
    filled, generated outlined). Categorical, string and boolean columns of a
    DataFrame are drawn as category frequencies side by side, so a mixed-type
    table (e.g. from :class:`skflow.TabularEncoder`) can be checked as it is.

    Parameters
    ----------
    X_real, X_synth : array-like or DataFrame of shape (n_rows, n_features)
        Real and generated rows with the same columns.
    features : list of int or str, default=None
        Columns to show; the first ``max_features`` when None.
    max_features : int, default=16
        Number of columns shown when ``features`` is None.
    bins : int, default=30
        Histogram bins for numeric features.
    n_columns : int, default=4
        Panels per row of the figure.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on.

    See Also
    --------
    plot_pairs : Pairs of features, to see dependence between them.
    plot_pca : All features at once, in two principal components.
    """
    plt = _pyplot()
    if hasattr(X_real, "columns") and hasattr(X_synth, "columns"):
        labels = [str(column) for column in X_real.columns]
        if [str(c) for c in X_synth.columns] != labels:
            raise ValueError(
                "X_real and X_synth have different columns; compare rows of the "
                "same table."
            )
        columns_real = [X_real.iloc[:, i] for i in range(len(labels))]
        columns_synth = [X_synth.iloc[:, i] for i in range(len(labels))]
        if len(X_real) == 0 or len(X_synth) == 0:
            raise ValueError("X_real and X_synth must have at least one row each.")
    else:
        real, synth, labels = _paired_tables(X_real, X_synth)
        columns_real, columns_synth = list(real.T), list(synth.T)
    chosen = _select_features(labels, features, max_features)
    fig, axes = _grid(plt, len(chosen), min(n_columns, len(chosen)), 3.0)
    for ax, i in zip(axes, chosen):
        real_column, synth_column = columns_real[i], columns_synth[i]
        if _is_categorical(real_column) or _is_categorical(synth_column):
            real_freq = real_column.astype(str).value_counts(normalize=True)
            synth_freq = synth_column.astype(str).value_counts(normalize=True)
            categories = sorted(set(real_freq.index) | set(synth_freq.index))
            positions = np.arange(len(categories))
            ax.bar(
                positions - 0.2,
                [real_freq.get(c, 0.0) for c in categories],
                width=0.4,
                color=_REAL_COLOR,
                label="real",
            )
            ax.bar(
                positions + 0.2,
                [synth_freq.get(c, 0.0) for c in categories],
                width=0.4,
                color=_SYNTH_COLOR,
                label="generated",
            )
            ax.set_xticks(positions, categories, rotation=45, ha="right")
            ax.set_ylabel("frequency")
        else:
            real_values = np.asarray(real_column, dtype=np.float64)
            synth_values = np.asarray(synth_column, dtype=np.float64)
            finite = np.concatenate([real_values, synth_values])
            finite = finite[np.isfinite(finite)]
            edges = np.histogram_bin_edges(finite, bins=bins)
            ax.hist(real_values, bins=edges, density=True, color=_REAL_COLOR)
            ax.hist(
                synth_values,
                bins=edges,
                density=True,
                histtype="step",
                linewidth=1.5,
                color=_SYNTH_COLOR,
            )
        ax.set_title(labels[i], fontsize="medium")
    axes[0].plot([], [], color=_REAL_COLOR, linewidth=6, label="real")
    axes[0].plot([], [], color=_SYNTH_COLOR, label="generated")
    handles, names = axes[0].get_legend_handles_labels()
    unique = dict(zip(names, handles))
    axes[0].legend(unique.values(), unique.keys(), loc="best", fontsize="small")
    fig.tight_layout()
    return fig


def plot_history(history, *, keys=None, n_columns=3):
    """Plot convergence curves: each entry of ``history_`` against the iteration.

    One panel per entry (losses, kinetic energy, ...). An entry whose positive
    values span more than two orders of magnitude is drawn on a log axis.

    Parameters
    ----------
    history : fitted estimator or dict of list of float
        An estimator with a ``history_`` attribute, or such a dict.
    keys : list of str, default=None
        Entries to draw; all when None.
    n_columns : int, default=3
        Panels per row of the figure.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on.

    See Also
    --------
    plot_trajectories : The paths of a fitted flow.
    """
    plt = _pyplot()
    name = None
    if not isinstance(history, dict):
        if not hasattr(history, "history_"):
            raise TypeError(
                "plot_history needs a fitted estimator with a history_ attribute "
                f"or a dict of lists, got {type(history).__name__}; fit it first."
            )
        name = type(history).__name__
        history = history.history_
    keys = list(history) if keys is None else list(keys)
    missing = [key for key in keys if key not in history]
    if missing or not keys:
        raise ValueError(
            f"history has no entries {missing}; available: {sorted(history)}."
        )
    fig, axes = _grid(plt, len(keys), min(n_columns, len(keys)), 3.6)
    for ax, key in zip(axes, keys):
        values = np.asarray(history[key], dtype=np.float64)
        ax.plot(np.arange(1, len(values) + 1), values, color="tab:blue")
        positive = values[np.isfinite(values)]
        # Losses that fall over orders of magnitude read better on a log axis.
        if (
            positive.size
            and positive.min() > 0
            and positive.max() > 100 * positive.min()
        ):
            ax.set_yscale("log")
        ax.set_title(key.replace("_", " "), fontsize="medium")
        ax.set_xlabel("iteration")
    if name is not None:
        fig.suptitle(name)
    fig.tight_layout()
    return fig


def plot_trajectories(
    trajectories,
    *,
    features=(0, 1),
    n_paths=200,
    X_real=None,
    ax=None,
    random_state=0,
):
    """Plot the paths of a flow from noise to data in two chosen features.

    Each path is a line from its start (black) to its end (the generated row,
    orange), over the real rows when given: a well-trained
    :class:`~skflow.ProximalMFGFlow` has nearly straight paths.

    Parameters
    ----------
    trajectories : ndarray of shape (n_steps + 1, n_paths, n_features)
        Positions at every time step, e.g. the second output of
        ``ProximalMFGFlow.sample(n, return_trajectories=True)``.
    features : pair of int, default=(0, 1)
        The two features drawn.
    n_paths : int, default=200
        At most this many paths are drawn (a fixed random subset).
    X_real : array-like of shape (n_rows, n_features), default=None
        Real rows drawn underneath, for reference.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.
    random_state : int, default=0
        Seed of the subset.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on (that of ``ax`` when given).

    See Also
    --------
    plot_history : Convergence curves of the fit.
    plot_pca : Real and generated rows, without the paths.
    """
    plt = _pyplot()
    paths = np.asarray(trajectories, dtype=np.float64)
    if paths.ndim != 3 or paths.shape[0] < 2 or paths.shape[1] == 0:
        raise ValueError(
            "trajectories must have shape (n_steps + 1, n_paths, n_features) with "
            f"at least two time points, got {paths.shape}."
        )
    i, j = (int(f) for f in features)
    if not (0 <= i < paths.shape[2] and 0 <= j < paths.shape[2]):
        raise ValueError(
            f"features {features} out of range for {paths.shape[2]} features."
        )
    if paths.shape[1] > n_paths:
        keep = np.random.RandomState(random_state).choice(
            paths.shape[1], n_paths, replace=False
        )
        paths = paths[:, keep]
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    if X_real is not None:
        real, _ = _numeric_table(X_real, "X_real")
        ax.scatter(real[:, i], real[:, j], s=6, alpha=0.3, color=_REAL_COLOR)
    ax.plot(paths[:, :, i], paths[:, :, j], color="tab:blue", alpha=0.25, linewidth=0.8)
    ax.scatter(paths[0, :, i], paths[0, :, j], s=8, color="black", label="start")
    ax.scatter(paths[-1, :, i], paths[-1, :, j], s=8, color=_SYNTH_COLOR, label="end")
    ax.set_xlabel(f"feature {i}")
    ax.set_ylabel(f"feature {j}")
    ax.legend(loc="best")
    return ax.figure
