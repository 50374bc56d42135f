"""GenerativePipeline: sampling through inverse transforms, errors, model search."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skflow import (
    AutoencoderTransformer,
    ClassConditionalSampler,
    GenerativePipeline,
    TabularEncoder,
    make_generative_pipeline,
)
from skflow._testing import fast_flow

from .encoders.test_tabular import mixed_frame
from .test_common import fast_samplers


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


class _TupleSampler(BaseEstimator):
    """A class-conditional stand-in: sample returns (X, y)."""

    def fit(self, X, y=None):
        self.mean_ = np.asarray(X).mean(axis=0)
        return self

    def sample(self, n_samples=1, *, random_state=None):
        rng = np.random.RandomState(random_state)
        X = self.mean_ + rng.normal(size=(n_samples, self.mean_.shape[0]))
        return X, np.arange(n_samples) % 2


def test_make_generative_pipeline_names_steps():
    pipe = make_generative_pipeline(StandardScaler(), PCA(2), fast_flow())
    assert isinstance(pipe, GenerativePipeline)
    assert [name for name, _ in pipe.steps] == [
        "standardscaler",
        "pca",
        "slicedwassersteinflow",
    ]


def test_sample_maps_back_through_every_step(wine_data):
    pipe = make_generative_pipeline(StandardScaler(), PCA(4), fast_flow()).fit(
        wine_data
    )
    X_new = pipe.sample(50, random_state=0)
    assert X_new.shape == (50, 13) and X_new.dtype == np.float64
    # The rows are the sampler's latent rows decoded by PCA then the scaler.
    scaler, pca, flow = (step for _, step in pipe.steps)
    latent = flow.sample(50, random_state=0)
    expected = scaler.inverse_transform(pca.inverse_transform(latent))
    np.testing.assert_allclose(X_new, expected)
    # Back in wine's units: the proline column (hundreds) is not standardised.
    assert X_new[:, 12].mean() > 100
    np.testing.assert_array_equal(X_new, pipe.sample(50, random_state=0))


def test_passthrough_steps_are_skipped(wine_data):
    pipe = GenerativePipeline(
        [("skip", "passthrough"), ("pca", PCA(3)), ("flow", fast_flow())]
    ).fit(wine_data)
    assert pipe.sample(5).shape == (5, 13)


def test_error_names_the_first_step_without_inverse_transform(wine_data):
    class NoInverse(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return X

    pipe = make_generative_pipeline(PCA(5), NoInverse(), fast_flow()).fit(wine_data)
    assert np.isfinite(pipe.score(wine_data))  # fit and score work
    with pytest.raises(TypeError, match="Step 'noinverse' .* no inverse_transform"):
        pipe.sample(3)


def test_error_when_last_step_cannot_sample(wine_data):
    pipe = make_generative_pipeline(StandardScaler(), PCA(2)).fit(wine_data)
    with pytest.raises(AttributeError, match="no attribute 'sample'") as error:
        pipe.sample(3)
    # available_if chains the condition's own error, which says what to change.
    assert "last step 'pca' (PCA) has no sample method" in str(error.value.__cause__)


def test_sample_is_available_only_when_the_last_step_samples():
    # available_if, as Pipeline does for predict: duck typing on hasattr works
    # before fit, and follows set_params replacing the last step.
    pipe = make_generative_pipeline(StandardScaler(), PCA(2))
    assert not hasattr(pipe, "sample")
    assert "sample" not in dir(pipe)
    pipe.set_params(pca=fast_flow())
    assert hasattr(pipe, "sample")
    assert hasattr(make_generative_pipeline(PCA(2), KernelDensity()), "sample")
    assert not hasattr(make_generative_pipeline(PCA(2), "passthrough"), "sample")


def test_not_fitted():
    with pytest.raises(NotFittedError):
        make_generative_pipeline(PCA(2), fast_flow()).sample(3)


def test_tuple_output_only_x_is_inverse_transformed(wine_data):
    pipe = make_generative_pipeline(StandardScaler(), _TupleSampler()).fit(wine_data)
    X_new, y_new = pipe.sample(6, random_state=0)
    assert X_new.shape == (6, 13) and X_new[:, 12].mean() > 100
    np.testing.assert_array_equal(y_new, [0, 1, 0, 1, 0, 1])


def test_sklearn_samplers_as_last_step(wine_data):
    kde = make_generative_pipeline(StandardScaler(), KernelDensity(bandwidth=0.5))
    assert kde.fit(wine_data).sample(4, random_state=0).shape == (4, 13)
    gmm = make_generative_pipeline(StandardScaler(), GaussianMixture(2)).fit(wine_data)
    X_new, labels = gmm.sample(4)  # GaussianMixture.sample returns (X, labels)
    assert X_new.shape == (4, 13) and labels.shape == (4,)
    with pytest.raises(TypeError, match="takes no random_state"):
        gmm.sample(4, random_state=0)


def test_sample_params_are_forwarded(wine_data):
    pipe = make_generative_pipeline(PCA(2), _TupleSampler()).fit(wine_data)
    with pytest.raises(TypeError, match="unexpected keyword"):
        pipe.sample(2, temperature=0.5)


def test_class_conditional_last_step_takes_labels(wine_data):
    # sample(y=...) without n_samples makes one row per label, as
    # ClassConditionalSampler.sample(y=...) does; a default of 1 must not be
    # passed on. Without either, one row (the last step's default).
    labels = np.repeat([0, 1], len(wine_data) // 2 + 1)[: len(wine_data)]
    pipe = make_generative_pipeline(
        StandardScaler(), ClassConditionalSampler(fast_flow(), random_state=0)
    ).fit(wine_data, labels)
    X_new, y_new = pipe.sample(y=[1, 0, 1], random_state=0)
    assert X_new.shape == (3, 13) and y_new.tolist() == [1, 0, 1]
    assert pipe.sample()[0].shape == (1, 13)
    assert pipe.sample(4)[0].shape == (4, 13)


def test_score_delegates_to_the_last_step_in_its_space(wine_data):
    pipe = make_generative_pipeline(StandardScaler(), PCA(4), fast_flow()).fit(
        wine_data
    )
    flow = pipe[-1]
    expected = flow.score(pipe[:-1].transform(wine_data))
    assert pipe.score(wine_data) == pytest.approx(expected)


def test_grid_search_over_sampler_parameters(wine_data):
    pipe = make_generative_pipeline(StandardScaler(), PCA(3), fast_flow())
    search = GridSearchCV(
        pipe,
        {"slicedwassersteinflow__max_iter": [1, 4], "pca__n_components": [3]},
        cv=2,
    ).fit(wine_data)
    assert search.best_params_["slicedwassersteinflow__max_iter"] in (1, 4)
    assert isinstance(search.best_estimator_, GenerativePipeline)
    assert search.best_estimator_.sample(3, random_state=0).shape == (3, 13)


def test_pickle_round_trip(wine_data):
    pipe = make_generative_pipeline(
        AutoencoderTransformer(
            3, hidden_layer_sizes=(8,), max_iter=3, device="cpu", random_state=0
        ),
        fast_flow(),
    ).fit(wine_data)
    loaded = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(
        loaded.sample(7, random_state=0), pipe.sample(7, random_state=0), rtol=1e-5
    )


@pytest.mark.parametrize(
    "sampler",
    fast_samplers(),
    ids=lambda s: getattr(s, "parameterization", "") or type(s).__name__,
)
def test_every_sampler_on_a_mixed_type_dataframe(sampler):
    df = mixed_frame(n=80)
    pipe = make_generative_pipeline(TabularEncoder(), clone(sampler)).fit(df)
    synthetic = pipe.sample(40, random_state=0)
    assert isinstance(synthetic, pd.DataFrame) and synthetic.shape == (40, 12)
    assert list(synthetic.columns) == list(df.columns)
    assert list(synthetic.dtypes) == list(df.dtypes)
    assert synthetic.notna().all().all()
    assert set(synthetic["city"]) <= set(df["city"])
    for column in ["height", "age", "score"]:
        assert df[column].min() <= synthetic[column].min()
        assert synthetic[column].max() <= df[column].max()
    assert np.isfinite(pipe.score(df))


def test_autoencoder_pipeline_on_a_dataframe():
    df = mixed_frame(n=80)
    pipe = make_generative_pipeline(
        TabularEncoder(),
        AutoencoderTransformer(
            4, hidden_layer_sizes=(16,), max_iter=3, device="cpu", random_state=0
        ),
        fast_flow(),
    ).fit(df)
    synthetic = pipe.sample(10, random_state=0)
    assert list(synthetic.dtypes) == list(df.dtypes)


def test_global_pandas_output_setting(wine_data):
    # sklearn.set_config(transform_output="pandas") must not reach the
    # internal scalers and encoders, which are indexed as arrays.
    import sklearn

    from skflow.plotting import plot_pca

    pytest.importorskip("matplotlib")
    frame = mixed_frame()
    with sklearn.config_context(transform_output="pandas"):
        encoder = TabularEncoder().fit(frame)
        assert isinstance(encoder.transform(frame), pd.DataFrame)
        pd.testing.assert_frame_equal(
            encoder.inverse_transform(encoder.transform(frame)), frame
        )
        autoencoder = AutoencoderTransformer(
            n_components=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0
        ).fit(wine_data)
        assert autoencoder.transform(wine_data).shape == (len(wine_data), 2)
        pipe = make_generative_pipeline(TabularEncoder(), fast_flow()).fit(frame)
        assert pipe.sample(5, random_state=0).columns.tolist() == list(frame.columns)
        plot_pca(wine_data[:80], wine_data[80:])
    import matplotlib.pyplot as plt

    plt.close("all")


def test_function_transformer_identity_inverse_is_accepted(wine_data):
    # FunctionTransformer always has inverse_transform (identity by default), so
    # it is accepted; the decoded rows are then the latent rows unchanged.
    pipe = make_generative_pipeline(FunctionTransformer(), fast_flow()).fit(wine_data)
    assert pipe.sample(3).shape == (3, 13)


# ------------------------------------------------- the encoder's shared scale


def _grouped_frame(n_rows=400, n_groups=8, seed=0):
    """A categorical column and a number tied to it: ``x`` is the group's index
    plus noise of 0.15, so a row's ``x`` is within 0.5 of its group's index."""
    rng = np.random.default_rng(seed)
    group = rng.integers(n_groups, size=n_rows)
    return pd.DataFrame(
        {
            "group": [f"g{i}" for i in group],
            "x": group + rng.normal(0.0, 0.15, n_rows),
            "y": rng.normal(size=n_rows),
        }
    )


def _share_in_group(rows):
    index = rows["group"].str[1:].astype(int)
    return float(np.mean(np.abs(rows["x"] - index) < 0.5))


def test_sampler_behind_a_tabular_encoder_keeps_its_column_weights():
    frame = _grouped_frame()
    pipe = make_generative_pipeline(TabularEncoder(), fast_flow()).fit(frame)
    sampler = pipe[-1]
    # Centred, not standardised: the encoder's scale reaches the sampler...
    np.testing.assert_array_equal(sampler._spread, 1.0)
    encoded = pipe[0].transform(frame)
    np.testing.assert_allclose(sampler._center, encoded.mean(axis=0), atol=1e-12)
    # ...while the same sampler on the same matrix alone standardises it.
    alone = clone(sampler).fit(encoded)
    np.testing.assert_allclose(alone._spread, encoded.std(axis=0))
    # Behind a transformer without the marker, the sampler standardises again.
    pipe = make_generative_pipeline(PCA(2), fast_flow()).fit(frame[["x", "y"]])
    np.testing.assert_allclose(
        pipe[-1]._spread, np.sqrt(pipe[0].explained_variance_ * 399 / 400)
    )


def test_shared_scale_reaches_class_conditional_clones_not_inner_pipelines():
    frame = _grouped_frame()
    labels = np.arange(len(frame)) % 2
    pipe = make_generative_pipeline(
        TabularEncoder(), ClassConditionalSampler(fast_flow())
    ).fit(frame, labels)
    for estimator in pipe[-1].estimators_:
        np.testing.assert_array_equal(estimator._spread, 1.0)
    # An inner pipeline with its own transformer scales as that one says.
    inner = make_generative_pipeline(PCA(3), fast_flow())
    pipe = make_generative_pipeline(
        TabularEncoder(), ClassConditionalSampler(inner)
    ).fit(frame, labels)
    for estimator in pipe[-1].estimators_:
        assert not np.allclose(estimator[-1]._spread, 1.0)


def test_numbers_stay_with_their_category_behind_the_encoder():
    # Standardising each of the 8 indicators gave them 8 times the weight of
    # ``x`` and blurred ``x`` across groups: 0.56 of decoded rows kept ``x``
    # within 0.5 of their group's index, against 0.94 with the encoder's scale
    # (seed 0; the real rows: 1.0).
    from skflow import LipschitzParticleSampler

    frame = _grouped_frame()
    sampler = LipschitzParticleSampler(max_iter=100, device="cpu", random_state=0)
    pipe = make_generative_pipeline(TabularEncoder(), sampler).fit(frame)
    assert _share_in_group(pipe.sample(1000, random_state=0)) > 0.8
