"""skflow.plotting: what each figure draws, and its errors."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skflow.plotting import (  # noqa: E402
    plot_history,
    plot_marginals,
    plot_pairs,
    plot_pca,
    plot_trajectories,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def tables():
    rng = np.random.RandomState(0)
    return rng.normal(size=(300, 5)), rng.normal(1.0, 2.0, size=(200, 5))


def test_plot_pca_draws_both_sets_in_principal_components(tables):
    real, synth = tables
    fig = plot_pca(real, synth, max_points=150)
    (ax,) = fig.axes
    synth_points, real_points = (c.get_offsets() for c in ax.collections)
    assert real_points.shape == (150, 2) and synth_points.shape == (150, 2)
    # Real scores are centred by construction; the shifted synthetic set is not.
    full = plot_pca(real, synth, max_points=10_000).axes[0].collections[1]
    np.testing.assert_allclose(full.get_offsets().mean(axis=0), 0.0, atol=1e-10)


def test_plot_pairs_grid_and_named_features(tables):
    pd = pytest.importorskip("pandas")
    real, synth = tables
    columns = list("abcde")
    fig = plot_pairs(
        pd.DataFrame(real, columns=columns),
        pd.DataFrame(synth, columns=columns),
        features=["e", "b", 0],
    )
    assert len(fig.axes) == 9
    assert fig.axes[6].get_xlabel() == "e" and fig.axes[3].get_ylabel() == "b"
    with pytest.raises(ValueError, match="unknown feature 'z'"):
        plot_pairs(pd.DataFrame(real, columns=columns), synth, features=["z"])


def test_dataframe_columns_are_matched_by_name(tables):
    # Reordered synthetic columns draw the same figure; other columns raise.
    pd = pytest.importorskip("pandas")
    real, synth = tables
    columns = list("abcde")
    real_frame = pd.DataFrame(real, columns=columns)
    synth_frame = pd.DataFrame(synth, columns=columns)
    for plot in (plot_pca, plot_pairs):
        same = plot(real_frame, synth_frame)
        shuffled = plot(real_frame, synth_frame[columns[::-1]])
        for ax, ax_shuffled in zip(same.axes, shuffled.axes):
            for drawn, drawn_shuffled in zip(ax.collections, ax_shuffled.collections):
                np.testing.assert_array_equal(
                    drawn.get_offsets(), drawn_shuffled.get_offsets()
                )
        with pytest.raises(ValueError, match="different columns"):
            plot(real_frame, synth_frame.rename(columns={"a": "z"}))


def test_plot_marginals_numeric_histograms_share_bins(tables):
    real, synth = tables
    fig = plot_marginals(real, synth, bins=12)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 5
    ax = fig.axes[0]
    filled = [p for p in ax.patches if p.get_fill()]
    assert len(filled) == 12
    # Densities integrate to one over the shared bins.
    widths = np.array([p.get_width() for p in filled])
    heights = np.array([p.get_height() for p in filled])
    inside = np.mean(
        (real[:, 0] >= filled[0].get_x())
        & (real[:, 0] <= filled[-1].get_x() + widths[-1])
    )
    np.testing.assert_allclose((widths * heights).sum(), inside, rtol=1e-9)


def test_plot_marginals_categorical_frequencies():
    pd = pytest.importorskip("pandas")
    real = pd.DataFrame(
        {"x": np.arange(8.0), "colour": ["red"] * 6 + ["blue"] * 2, "flag": [True] * 8}
    )
    synth = pd.DataFrame(
        {
            "x": np.arange(4.0),
            "colour": ["red", "blue", "blue", "green"],
            "flag": [False, True, True, True],
        }
    )
    fig = plot_marginals(real, synth)
    colour_ax = fig.axes[1]
    labels = [t.get_text() for t in colour_ax.get_xticklabels()]
    assert labels == ["blue", "green", "red"]
    heights = [p.get_height() for p in colour_ax.patches]
    # Real bars first (blue, green, red), then generated ones.
    np.testing.assert_allclose(heights, [0.25, 0.0, 0.75, 0.5, 0.25, 0.25])


def test_plot_history_panels_and_log_scale():
    history = {"loss": list(np.logspace(3, -2, 50)), "kinetic_energy": [1.0] * 50}
    fig = plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "kinetic energy"]
    assert fig.axes[0].get_yscale() == "log" and fig.axes[1].get_yscale() == "linear"
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), np.arange(1, 51))
    with pytest.raises(ValueError, match="no entries"):
        plot_history(history, keys=["nope"])
    with pytest.raises(TypeError, match="history_"):
        plot_history(object())


def test_plot_history_of_a_fitted_sampler(blobs_data):
    from skflow import SlicedWassersteinFlow

    flow = SlicedWassersteinFlow(
        max_iter=3, n_inner_steps=1, batch_size=32, device="cpu", random_state=0
    ).fit(blobs_data)
    fig = plot_history(flow)
    assert len(fig.axes) == len(flow.history_)
    assert fig._suptitle.get_text() == "SlicedWassersteinFlow"


def test_plot_trajectories_draws_a_subset_of_paths():
    rng = np.random.RandomState(0)
    start = rng.normal(size=(500, 3))
    end = start + 2.0
    time = np.linspace(0, 1, 6)[:, None, None]
    paths = (1 - time) * start + time * end
    fig = plot_trajectories(paths, features=(0, 2), n_paths=40, X_real=end)
    (ax,) = fig.axes
    assert len(ax.lines) == 40
    line = ax.lines[0]
    # A straight path: its points are collinear.
    xy = np.column_stack([line.get_xdata(), line.get_ydata()])
    steps = np.diff(xy, axis=0)
    np.testing.assert_allclose(steps, steps[:1].repeat(5, axis=0), atol=1e-12)
    with pytest.raises(ValueError, match="n_steps"):
        plot_trajectories(paths[0])
    with pytest.raises(ValueError, match="out of range"):
        plot_trajectories(paths, features=(0, 3))


def test_bad_tables_are_rejected(tables):
    real, synth = tables
    with pytest.raises(ValueError, match="features"):
        plot_pca(real, synth[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        plot_pca(np.where(real > 2, np.nan, real), synth)
    with pytest.raises(ValueError, match="non-empty"):
        plot_pairs(np.empty((0, 5)), synth)
    with pytest.raises(ValueError, match="features is empty"):
        plot_pairs(real, synth, features=[])


def test_mixed_tables_are_plotted_through_an_encoder():
    # Text columns and missing values no longer stop the plots: both tables are
    # encoded by a TabularEncoder fitted on the real rows.
    import pandas as pd

    def table(seed):
        r = np.random.default_rng(seed)
        return pd.DataFrame(
            {
                "x": np.where(r.random(80) < 0.2, np.nan, r.normal(size=80)),
                "city": r.choice(["a", "b", "c"], 80),
                "y": r.normal(size=80),
            }
        )

    (ax,) = plot_pca(table(1), table(2)).axes
    assert len(ax.collections) == 2
    fig = plot_pairs(table(1), table(2), features=["x", "y"])
    assert fig.axes
    plt.close("all")
