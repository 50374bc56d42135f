"""Odd and bad input, across every public estimator and metric.

Odd but valid input (one column, duplicated rows, huge scales, integer, boolean,
float16 and numeric object dtypes) must give finite rows of the right shape and
scale; invalid input (sparse matrices, categorical DataFrames without an encoder,
NaN, wrong widths) must raise an error that names the problem. A hypothesis fuzz
test throws random small tables at a sampler. The basic cases every sampler
meets (NaN, inf, empty, one row, strings, all-constant, n_samples types) are in
test_common.py.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import skflow
from skflow import (
    AutoencoderTransformer,
    ClassConditionalSampler,
    LipschitzParticleSampler,
    TabularEncoder,
    make_generative_pipeline,
)
from skflow import metrics as skm
from skflow._testing import fast_samplers
from skflow.exceptions import NumericalInstabilityError

SAMPLERS = fast_samplers()


def _id(estimator):
    return (
        type(estimator).__name__
        + "-"
        + str(
            getattr(estimator, "parameterization", "")
            or getattr(estimator, "solver", "")
        )
    )


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _base_table(n=60, d=3, seed=0):
    return np.random.RandomState(seed).normal(size=(n, d))


ODD_BUT_VALID = {
    "one-column": lambda: _base_table(d=1),
    "duplicated-rows": lambda: np.repeat(_base_table(n=20), 3, axis=0),
    "1e30-scale": lambda: _base_table() * 1e30,
    "tiny-scale": lambda: _base_table() * 1e-30,
    # Squares overflow beyond 1e154 and sums near 1e308.
    "1e154-scale": lambda: _base_table() * 1e154,
    "1e300-scale": lambda: _base_table() * 1e300,
    "int": lambda: np.rint(_base_table() * 5).astype(np.int64),
    "bool": lambda: _base_table() > 0,
    "float16": lambda: _base_table().astype(np.float16),
    "object-numbers": lambda: _base_table().astype(object),
}


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
@pytest.mark.parametrize("case", list(ODD_BUT_VALID))
def test_odd_but_valid_tables(estimator, case):
    X = ODD_BUT_VALID[case]()
    reference = np.asarray(X, dtype=np.float64)
    sampler = clone(estimator).fit(X)
    X_new = sampler.sample(50, random_state=0)
    assert X_new.shape == (50, reference.shape[1])
    assert np.isfinite(X_new).all()
    # Rows come back on the data's own scale (within a few spreads of its
    # range), compared in units of the largest value so nothing overflows.
    unit = np.abs(reference).max()
    reference, X_new = reference / unit, np.asarray(X_new, dtype=np.float64) / unit
    spread = reference.std(axis=0)
    low = reference.min(axis=0) - 10 * spread
    high = reference.max(axis=0) + 10 * spread
    assert np.all((X_new >= low) & (X_new <= high))


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_samples_scale_with_the_data(estimator):
    # The samplers standardise their input: the same table in other units
    # gives the same rows in those units (up to float32 rounding), even where
    # squaring the values would overflow.
    X = _base_table()
    reference = clone(estimator).fit(X).sample(50, random_state=0)
    for scale in (1e-300, 1e154, 1e300):
        X_new = clone(estimator).fit(X * scale).sample(50, random_state=0)
        np.testing.assert_allclose(X_new / scale, reference, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_variation_at_a_large_offset_is_modelled(estimator):
    # Values near 1e12 varying by about 1 (a relative 1e-12, far above float64
    # rounding) are data, not a constant column written back as its mean.
    X = _base_table(n=120) + 1e12
    X_new = clone(estimator).fit(X).sample(500, random_state=0)
    ratio = (X_new - 1e12).std(axis=0) / (X - 1e12).std(axis=0)
    assert np.all(ratio > 0.3), ratio


@pytest.mark.parametrize(
    "estimator",
    # The short ProximalMFGFlow fits of the test settings stay inside the
    # data's range, so they generate nothing beyond it.
    [e for e in SAMPLERS if type(e).__name__ != "ProximalMFGFlow"],
    ids=_id,
)
def test_rows_that_overflow_in_original_units_are_refused(estimator):
    # A column spanning the whole float64 range: generated rows a little
    # beyond it overflow when unstandardised. They must never reach the user.
    X = np.column_stack([np.linspace(-1, 1, 60) * 1.79e308, _base_table(d=1)])
    fitted = clone(estimator).fit(X)
    with pytest.raises(NumericalInstabilityError, match="overflow.*rescale"):
        fitted.sample(5000, random_state=0)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_sparse_input_is_refused(estimator):
    X = sp.csr_matrix(_base_table())
    with pytest.raises(TypeError, match="[Ss]parse"):
        clone(estimator).fit(X)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=_id)
def test_categorical_dataframe_needs_an_encoder(estimator):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": np.arange(6.0), "c": pd.Categorical(list("ababab"))})
    with pytest.raises(TypeError, match=r"\['c'\].*Encode|TabularEncoder|encode"):
        clone(estimator).fit(frame)
    # ...and with one, the same table works and comes back with its categories.
    pipe = make_generative_pipeline(TabularEncoder(), clone(estimator)).fit(frame)
    out = pipe.sample(10, random_state=0)
    assert set(out["c"]) <= {"a", "b"} and np.isfinite(out["x"]).all()


@pytest.mark.parametrize(
    "transformer",
    [
        # Missing values are modelled by default; refused when asked.
        TabularEncoder(missing="error"),
        AutoencoderTransformer(n_components=2, hidden_layer_sizes=(8,), max_iter=3),
    ],
    ids=["TabularEncoder", "AutoencoderTransformer"],
)
def test_transformers_refuse_bad_tables(transformer):
    X = _base_table()
    with pytest.raises(ValueError, match="NaN|missing"):
        clone(transformer).fit(np.where(X > 1.5, np.nan, X))
    with pytest.raises(ValueError, match="inf"):
        clone(transformer).fit(np.where(X > 1.5, np.inf, X))
    fitted = clone(transformer).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :2])
    Z = fitted.transform(X)
    assert np.isfinite(fitted.inverse_transform(Z)).all()


def test_class_conditional_bad_labels():
    X = _base_table(n=40)
    y = np.array([0, 1] * 20)
    model = ClassConditionalSampler(SAMPLERS[0], random_state=0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clone(model).fit(X, y[:10])
    fitted = clone(model).fit(X, y)
    with pytest.raises(ValueError, match="7"):
        fitted.sample(y=[0, 7])


METRICS = [
    skm.energy_distance,
    skm.mmd,
    skm.sliced_wasserstein,
    skm.wasserstein1,
    skm.coverage,
    skm.c2st_auc,
    # dcr(X_train, X_synth, X_holdout): the held-out rows fixed to valid ones.
    lambda X, Y: skm.dcr(X, Y, _base_table(seed=2)[:, : X.shape[1]]),
]


@pytest.mark.parametrize(
    "metric", METRICS, ids=[*(f.__name__ for f in METRICS[:-1]), "dcr"]
)
def test_metrics_refuse_bad_samples(metric):
    X, Y = _base_table(seed=0), _base_table(seed=1)
    with pytest.raises(ValueError, match="NaN|infinity"):
        metric(np.where(X > 1.5, np.nan, X), Y)
    with pytest.raises(ValueError, match="features"):
        metric(X, Y[:, :2])
    with pytest.raises(ValueError, match="0 sample"):
        metric(X[:0], Y)
    value = metric(X * 1e30, Y * 1e30)
    assert np.isfinite(value)


def test_sample_report_on_a_duplicated_table():
    X = np.repeat(_base_table(n=20), 3, axis=0)
    report = skm.sample_report(X, X[::2], X[1::2])
    assert all(np.isfinite(v) for v in report.values())


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 25), st.integers(1, 4)),
        elements=st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False, width=64),
            st.sampled_from([0.0, 1.0, -1.0]),
        ),
    )
)
def test_fuzz_tables_give_rows_or_a_clear_error(X):
    sampler = LipschitzParticleSampler(
        max_iter=3,
        n_particles=30,
        hidden_layer_sizes=(4,),
        device="cpu",
        random_state=0,
    )
    try:
        sampler.fit(X)
    except ValueError as exc:
        # The one refusal a finite table can earn: nothing varies.
        assert "constant" in str(exc)
        return
    X_new = sampler.sample(7, random_state=0)
    assert X_new.shape == (7, X.shape[1])
    assert np.isfinite(X_new).all()


def _every_estimator():
    from skflow import (
        AutoSampler,
        EntropicOTGenerator,
        GaussianMixtureSampler,
        ProximalMFGFlow,
        SlicedWassersteinFlow,
        SyntheticOverSampler,
    )
    from skflow.impute import GenerativeImputer

    base = GaussianMixtureSampler()
    return [
        AutoencoderTransformer(),
        TabularEncoder(),
        LipschitzParticleSampler(),
        SlicedWassersteinFlow(),
        EntropicOTGenerator(),
        ProximalMFGFlow(),
        GaussianMixtureSampler(),
        AutoSampler(),
        ClassConditionalSampler(base),
        SyntheticOverSampler(base),
        GenerativeImputer(),
    ]


def _numeric_parameters(estimator):
    # (name, constraints) of every parameter with a number range that is not
    # also allowed to be a flag.
    from sklearn.utils._param_validation import Interval

    for name, constraints in estimator._parameter_constraints.items():
        if constraints == "no_validation" or "boolean" in constraints:
            continue
        if any(isinstance(c, Interval) for c in constraints):
            yield name, constraints


@pytest.mark.parametrize(
    "estimator", _every_estimator(), ids=lambda e: type(e).__name__
)
def test_bools_are_refused_where_numbers_belong(estimator):
    # Python bools are Integral and Real: sklearn's own Interval accepts
    # max_iter=True as 1. skflow's refuses it and says why.
    from skflow._compat import Interval, InvalidParameterError

    names = []
    for name, constraints in _numeric_parameters(estimator):
        # Every number range in skflow is the bool-refusing kind.
        for constraint in constraints:
            if type(constraint).__name__ == "Interval":
                assert isinstance(constraint, Interval), (name, constraint)
        for flag in (True, np.bool_(False)):
            bad = clone(estimator).set_params(**{name: flag})
            with pytest.raises(InvalidParameterError, match=rf"'{name}'.*not a bool"):
                bad._validate_params()
        names.append(name)
    if hasattr(estimator, "n_jobs"):
        assert "n_jobs" in names
    clone(estimator)._validate_params()


def _networks():
    from skflow import EntropicOTGenerator, ProximalMFGFlow, SlicedWassersteinFlow

    return [
        AutoencoderTransformer(n_components=1, max_iter=2),
        LipschitzParticleSampler(max_iter=2, n_particles=20),
        SlicedWassersteinFlow(max_iter=2),
        EntropicOTGenerator(max_iter=2),
        ProximalMFGFlow(max_iter=2, n_steps=2),
    ]


@pytest.mark.parametrize(
    "sizes, error, shown",
    [
        ((2.5,), TypeError, r"width 2\.5 is of type float"),
        (("a",), TypeError, r"width 'a' is of type str"),
        ((8, True), TypeError, r"width True is of type bool"),
        ((8, 0), ValueError, r"width 0 is below 1"),
        ((), ValueError, r"non-empty tuple of positive ints, got \(\)"),
        ([], ValueError, r"non-empty tuple of positive ints, got \[\]"),
    ],
)
@pytest.mark.parametrize("estimator", _networks(), ids=lambda e: type(e).__name__)
def test_hidden_layer_sizes_are_positive_ints(estimator, sizes, error, shown):
    # int() would truncate 2.5 to 2 and word 'a' as its own parse error.
    bad = clone(estimator).set_params(hidden_layer_sizes=sizes)
    with pytest.raises(error, match="hidden_layer_sizes must be .*" + shown):
        bad.fit(_base_table(n=20, d=2))


def test_hidden_layer_sizes_as_one_int_suggests_a_tuple():
    from skflow._base import check_hidden_layer_sizes

    with pytest.raises(TypeError, match=r"the int 16; .* pass \(16,\)"):
        check_hidden_layer_sizes(16)
    assert check_hidden_layer_sizes([np.int64(3), 4]) == (3, 4)


def _sized(name, **params):
    from skflow import EntropicOTGenerator, ProximalMFGFlow, SlicedWassersteinFlow

    kinds = {
        "autoencoder": AutoencoderTransformer(n_components=1, max_iter=2),
        "lipschitz": LipschitzParticleSampler(max_iter=2, n_particles=20),
        "sliced": SlicedWassersteinFlow(max_iter=2),
        "entropic": EntropicOTGenerator(max_iter=2),
        "proximal": ProximalMFGFlow(max_iter=2, n_steps=2),
    }
    return clone(kinds[name]).set_params(**params)


HUGE = [
    # (estimator, parameters, a fragment of the message naming the cause)
    ("autoencoder", dict(hidden_layer_sizes=(10**9,)), r"layers \(2, 1000000000"),
    ("autoencoder", dict(n_components=10**9), "n_components=1000000000"),
    ("lipschitz", dict(n_particles=10**12), "n_particles=1000000000000"),
    ("lipschitz", dict(hidden_layer_sizes=(10**9,)), r"\(2, 1000000000, 1\)"),
    ("lipschitz", dict(max_iter=10**12), "max_iter=1000000000000"),
    ("sliced", dict(batch_size=10**12), "1000000000000 rows"),
    ("sliced", dict(n_projections=10**12), "n_projections=1000000000000"),
    ("sliced", dict(hidden_layer_sizes=(10**9,)), "1000000000"),
    ("entropic", dict(batch_size=10**12), "2000000000000 rows"),
    ("entropic", dict(latent_dim=10**9), r"layers \(1000000000,"),
    ("entropic", dict(max_iter=10**12), "max_iter=1000000000000"),
    ("proximal", dict(batch_size=10**12), "1000000000000 rows"),
    ("proximal", dict(hidden_layer_sizes=(10**9,)), "hidden_layer_sizes"),
    # Every loop preallocates max_iter rows of traces.
    ("autoencoder", dict(max_iter=10**12), "traces of max_iter=1000000000000"),
    ("sliced", dict(max_iter=10**12), "traces of max_iter=1000000000000"),
    (
        "sliced",
        dict(max_iter=2**31, parameterization="particles"),
        "traces of max_iter=2147483648",
    ),
    (
        "sliced",
        dict(max_iter=10**12, parameterization="normalizing_flow"),
        "traces of max_iter",
    ),
    ("proximal", dict(max_iter=10**12), "traces of max_iter=1000000000000"),
]


@pytest.mark.parametrize(
    "name, params, shown", HUGE, ids=[f"{n}-{next(iter(p))}" for n, p, _ in HUGE]
)
def test_sizes_beyond_memory_are_refused_before_allocating(name, params, shown):
    # Not torch's "DefaultCPUAllocator: can't allocate memory": the size, the
    # parameter and the remedy, before anything is allocated.
    from skflow.exceptions import InsufficientMemoryError

    with pytest.raises(InsufficientMemoryError, match=shown) as info:
        _sized(name, **params).fit(_base_table(n=30, d=2))
    assert isinstance(info.value, MemoryError)
    assert re.search(
        r"would need about [0-9.]+ .iB .*more than the .*; ", str(info.value)
    )


@pytest.mark.parametrize(
    "name", ["autoencoder", "lipschitz", "sliced", "entropic", "proximal"]
)
def test_a_continuation_with_a_huge_max_iter_is_refused(name, monkeypatch):
    # warm_start reuses the fitted networks, so only the new traces are
    # checked; the refusal leaves the fitted model as it was.
    import skflow._validation
    from skflow.exceptions import InsufficientMemoryError

    X = _base_table(n=30, d=2)
    model = _sized(name, warm_start=True).fit(X)
    before = {key: value for key, value in vars(model).items() if key.endswith("_")}
    # 2**30 iterations fit in 1 TiB but not in 16 GiB, whatever the family.
    monkeypatch.setattr(skflow._validation, "memory_limit", lambda device=None: 2**34)
    model.set_params(max_iter=2**30)
    with pytest.raises(InsufficientMemoryError, match="max_iter=1073741824.*lower"):
        model.fit(X)
    assert all(vars(model)[key] is value for key, value in before.items())
    model.set_params(max_iter=1)
    monkeypatch.setattr(skflow._validation, "memory_limit", lambda device=None: 2**40)
    assert model.fit(X).n_iter_ >= 1


def test_large_but_harmless_values_still_fit():
    # batch_size is capped by the rows where the batches are drawn from them;
    # max_iter is a value, not an allocation, where no trace is kept per step.
    X = _base_table(n=30, d=2)
    _sized("autoencoder", batch_size=10**12).fit(X)
    _sized("lipschitz", batch_size=10**12).fit(X)
    _sized("sliced", max_iter=1, n_projections=10**4).fit(X)


@pytest.mark.parametrize("estimator", SAMPLERS[:2], ids=_id)
def test_sample_refuses_rows_beyond_memory(estimator, monkeypatch):
    import skflow._validation
    from skflow.exceptions import InsufficientMemoryError

    fitted = clone(estimator).fit(_base_table(n=30, d=3))
    with pytest.raises(InsufficientMemoryError, match="1000000000000 rows of 3"):
        fitted.sample(10**12)
    with pytest.raises(InsufficientMemoryError, match="fewer rows.*chunks"):
        fitted.sample(10**12, conditions={0: 0.0})
    # 2**31 rows fit on a large enough machine; on a 16 GiB one they do not.
    monkeypatch.setattr(skflow._validation, "memory_limit", lambda device=None: 2**34)
    with pytest.raises(InsufficientMemoryError, match="than the 16 GiB"):
        fitted.sample(2**31)
    assert fitted.sample(3).shape == (3, 3)


def test_sliced_wasserstein_refuses_projections_beyond_memory():
    from skflow.exceptions import InsufficientMemoryError

    X = _base_table()
    with pytest.raises(InsufficientMemoryError, match="n_projections=10{12}.*lower"):
        skm.sliced_wasserstein(X, X + 1, n_projections=10**12)


def _huge_ints():
    X = _base_table().astype(object)
    X[0, 0] = 10**400
    return X


def _frame(columns):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(_base_table(n=40), columns=columns)


def _labels_with(missing):
    y = np.array(["a", "b"] * 20, dtype=object)
    y[[3, 7]] = missing
    return y


def _fitted():
    from skflow import GaussianMixtureSampler

    return GaussianMixtureSampler(max_components=1, random_state=0).fit(_base_table())


def _gmm():
    from skflow import GaussianMixtureSampler

    return GaussianMixtureSampler(max_components=1, random_state=0)


def _datetime_frame():
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(
        {"x": np.arange(40.0), "when": pd.date_range("2020-01-01", periods=40)}
    )


def _save(path):
    import skflow

    skflow.save(_fitted(), path)


def _oversample(X):
    pytest.importorskip("imblearn")
    from skflow import SyntheticOverSampler

    return SyntheticOverSampler(_gmm(), random_state=0).fit_resample(
        X, np.array([0] * 30 + [1] * 10)
    )


# (call, error, a fragment of the message): errors that used to come from deep
# inside a dependency (numpy, narwhals, torch's Adam, pathlib), each now in
# skflow's words with the remedy.
DEPENDENCY_ERRORS = {
    "ints-beyond-float64-fit": (
        lambda: _gmm().fit(_huge_ints()),
        ValueError,
        "too large for a float64.*rescale",
    ),
    "ints-beyond-float64-metric": (
        lambda: skm.energy_distance(_huge_ints(), _base_table()),
        ValueError,
        "too large for a float64",
    ),
    "random_state=-1-sample": (
        lambda: _fitted().sample(3, random_state=-1),
        ValueError,
        r"random_state must be an integer between 0 and 2\*\*32 - 1, a "
        "RandomState instance or None, got -1",
    ),
    "random_state=2**40-metric": (
        lambda: skm.sliced_wasserstein(
            _base_table(), _base_table(), random_state=2**40
        ),
        ValueError,
        r"random_state must be an integer between 0 and 2\*\*32 - 1",
    ),
    "random_state=True-sample": (
        lambda: _fitted().sample(3, random_state=True),
        ValueError,
        "random_state must be an integer.*got True",
    ),
    "duplicated-columns-sampler": (
        lambda: _gmm().fit(_frame(["a", "a", "b"])),
        ValueError,
        r"X has duplicated column names \['a'\]; rename them",
    ),
    "duplicated-columns-encoder": (
        lambda: TabularEncoder().fit(_frame(["a", "b", "b"])),
        ValueError,
        r"X has duplicated column names \['b'\]; rename them",
    ),
    "duplicated-columns-metric": (
        lambda: skm.mmd(_frame(["a", "a", "b"]), _frame(["a", "a", "b"])),
        ValueError,
        r"duplicated column names \['a'\]",
    ),
    "learning_rate=1e300": (
        lambda: LipschitzParticleSampler(learning_rate=1e300).fit(_base_table()),
        ValueError,
        r"'learning_rate' .* in the range \(0.0, 10.0\]. Got 1e\+300",
    ),
    "datetime-into-autoencoder": (
        lambda: AutoencoderTransformer(max_iter=2).fit(_datetime_frame()),
        TypeError,
        r"columns \['when'\] are not numeric \(datetime\).*TabularEncoder",
    ),
    "series-into-oversampler": (
        lambda: _oversample(_frame(["a", "b", "c"])["a"]),
        ValueError,
        r"X must be 2-D.*1-D Series of shape \(40,\).*reshape\(-1, 1\)",
    ),
    "nan-labels": (
        lambda: ClassConditionalSampler(_gmm()).fit(
            _base_table(n=40), np.where(np.arange(40) == 5, np.nan, np.arange(40) % 2)
        ),
        ValueError,
        r"y has 1 missing labels \(NaN or None\), at rows \[5\]; drop those rows",
    ),
    "none-labels": (
        lambda: ClassConditionalSampler(_gmm()).fit(
            _base_table(n=40), _labels_with(None)
        ),
        ValueError,
        r"y has 2 missing labels .* \[3, 7\]",
    ),
    "save-to-a-missing-folder": (
        lambda: _save("/nonexistent-skflow-folder/model.skflow"),
        FileNotFoundError,
        "the folder '/nonexistent-skflow-folder' does not exist; create it",
    ),
    "save-to-None": (
        lambda: _save(None),
        TypeError,
        "path must be a str or path-like.*got None",
    ),
    "load-None": (
        lambda: skflow.load(None),
        TypeError,
        "path must be a str or path-like.*got None of type NoneType",
    ),
    "load-bytes": (
        lambda: skflow.load(b"model.skflow"),
        TypeError,
        "path must be a str or path-like.*of type bytes",
    ),
    "trajectories-beyond-memory": (
        lambda: (
            _sized("proximal")
            .fit(_base_table(n=30, d=2))
            .sample(10**8, return_trajectories=True, n_steps=1000)
        ),
        MemoryError,
        "trajectories of 100000000 rows over 1001 time points.*fewer n_steps",
    ),
}


@pytest.mark.parametrize("case", list(DEPENDENCY_ERRORS))
def test_dependency_errors_come_in_our_words(case):
    call, error, shown = DEPENDENCY_ERRORS[case]
    with pytest.raises(error, match=shown):
        call()


def test_save_to_a_folder_names_a_file_and_a_valid_path_still_saves(tmp_path):
    import skflow

    with pytest.raises(IsADirectoryError, match="is a folder; name the file"):
        _save(tmp_path)
    _save(tmp_path / "model.skflow")
    assert skflow.load(tmp_path / "model.skflow").sample(2).shape == (2, 3)


def _with(value, n=30):
    X = _base_table(n=n).astype(object)
    X[3, 1] = value
    return X


SKLEARN_INPUT_ERRORS = {
    # input, the type, sklearn's words, the remedy skflow adds
    "nan": (_with(np.nan), ValueError, "contains NaN", "impute the missing cells"),
    "inf": (_with(np.inf), ValueError, "contains infinity", "Replace the infinite"),
    "one row": (_base_table(n=1), ValueError, "minimum of", "Pass more rows"),
    "3-D": (np.zeros((4, 3, 2)), ValueError, "dim 3", "Pass a 2-D table"),
    "complex": (
        _base_table(n=20) * (1 + 1j),
        ValueError,
        "Complex data",
        "real and imaginary parts",
    ),
    "ragged": ([[1.0, 2.0], [3.0]], ValueError, "inhomogeneous", "as many cells"),
}


def _dates_frame():
    pd = pytest.importorskip("pandas")
    when = pd.to_datetime(["2020-01-01", "2021-06-01", "2022-03-04"] * 10)
    return pd.DataFrame({"x": np.arange(30.0), "when": when})


INPUT_CALLS = {
    "sampler": lambda X: LipschitzParticleSampler(max_iter=2).fit(X),
    "metric": lambda X: skm.energy_distance(X, X),
}


@pytest.mark.parametrize(
    "owner, case",
    [
        (owner, case)
        for owner in INPUT_CALLS
        for case in SKLEARN_INPUT_ERRORS
        # A distance between one row and one row is defined.
        if (owner, case) != ("metric", "one row")
    ],
)
def test_sklearn_input_errors_come_with_the_remedy(owner, case):
    X, error, words, remedy = SKLEARN_INPUT_ERRORS[case]
    with pytest.raises(error, match=re.escape(words)) as info:
        INPUT_CALLS[owner](X)
    assert remedy in str(info.value)


def test_a_date_column_into_a_metric_names_the_encoder():
    frame = _dates_frame()
    with pytest.raises(TypeError, match="could not be promoted.*encode dates"):
        skm.energy_distance(frame, frame)


@pytest.mark.parametrize(
    "params", [dict(step_size=10**12), dict(lipschitz_constant=2**31)]
)
def test_a_particle_flow_that_diverges_is_refused(params):
    # Finite but absurd: particles 1e10 times as spread as the data.
    from skflow.exceptions import NumericalInstabilityError

    model = LipschitzParticleSampler(max_iter=5, n_particles=60, random_state=0)
    X = _base_table()
    fitted = clone(model).fit(X)
    before = fitted.sample(5, random_state=0)
    fitted.set_params(**params)
    with pytest.raises(NumericalInstabilityError, match="diverged.*lower step_size"):
        fitted.fit(X)
    np.testing.assert_array_equal(fitted.sample(5, random_state=0), before)
    # Within the bound: a large but sane step still fits.
    assert np.isfinite(clone(model).set_params(step_size=1.0).fit(X).sample(5)).all()


def test_meta_estimators_refuse_a_class_for_an_instance():
    from skflow import GaussianMixtureSampler, GroupedSampler

    X, y = _base_table(n=40), np.arange(40) % 2
    for make in (
        lambda: ClassConditionalSampler(GaussianMixtureSampler).fit(X, y),
        lambda: GroupedSampler(GaussianMixtureSampler, by=[0]).fit(X),
    ):
        with pytest.raises(ValueError, match="an instance, not a class"):
            make()


@pytest.mark.parametrize(
    "steps, shown",
    [
        ("a", "non-empty list of \\(name, estimator\\) pairs"),
        ([], "non-empty list"),
        ([("a",)], "got the step \\('a',\\)"),
        ([("scale", "x"), ("gmm", None)], "Step 'scale' must be a transformer"),
        ([("gmm", LipschitzParticleSampler)], "last step 'gmm' must be an estimator"),
    ],
)
def test_a_pipeline_with_malformed_steps_says_how_to_write_them(steps, shown):
    from skflow import GenerativePipeline

    with pytest.raises(TypeError, match=shown):
        GenerativePipeline(steps).fit(_base_table())


def test_neighbour_metrics_refuse_what_does_not_read_rows():
    X = _base_table()
    for metric in ("precomputed", "mahalanobis", 3):
        with pytest.raises(ValueError, match="metric must be a callable or one of"):
            skm.coverage(X, X, metric=metric)
        with pytest.raises(ValueError, match="not precomputed distances"):
            skm.dcr(X, X, X, metric=metric)
    assert 0 <= skm.coverage(X, X + 0.01, metric="cosine") <= 1


def test_private_bounds_of_the_wrong_length_are_named():
    from skflow.privacy import DifferentialPrivacy

    bounds = ((0.0, 0.0), (1.0, 1.0))  # 2 values for 3 columns
    model = LipschitzParticleSampler(
        max_iter=2, privacy=DifferentialPrivacy(bounds=bounds)
    )
    with pytest.raises(ValueError, match="low has 2 values for 3 columns"):
        model.fit(_base_table())


def test_loading_a_missing_file_or_a_folder_names_it(tmp_path):
    import skflow

    with pytest.raises(FileNotFoundError, match="There is no file at .*none.skflow"):
        skflow.load(tmp_path / "none.skflow")
    with pytest.raises(IsADirectoryError, match="is a folder; name the file"):
        skflow.load(tmp_path)


def test_a_mixture_needs_more_rows_than_columns():
    from skflow import GaussianMixtureSampler

    with pytest.raises(ValueError, match="12 rows and 10000 columns.*PCA"):
        GaussianMixtureSampler().fit(np.random.default_rng(0).normal(size=(12, 10000)))


def test_labels_that_are_not_classes_are_named():
    from skflow import GaussianMixtureSampler, SyntheticOverSampler

    X = _base_table(n=40)
    continuous = np.random.default_rng(0).random(40)
    mixed = np.array([1, "a"] * 20, dtype=object)
    for make in (
        lambda y: ClassConditionalSampler(GaussianMixtureSampler()).fit(X, y),
        lambda y: SyntheticOverSampler(GaussianMixtureSampler()).fit_resample(X, y),
    ):
        with pytest.raises(ValueError, match="y must hold class labels.*pd.cut"):
            make(continuous)
        with pytest.raises(TypeError, match="cannot be sorted together.*astype"):
            make(mixed)


@pytest.mark.parametrize(
    "strategy, shown",
    [
        (1e-300, "increase the ratio"),
        ({"z": 5}, "not present"),
        ({0: -1}, "negative"),
        ({0: 2.5}, "greater or equal"),
    ],
)
def test_sampling_strategies_imbalanced_learn_refuses_are_named(strategy, shown):
    from skflow import GaussianMixtureSampler, SyntheticOverSampler

    X, y = _base_table(n=50), np.array([0] * 35 + [1] * 15)
    model = SyntheticOverSampler(GaussianMixtureSampler(), sampling_strategy=strategy)
    with pytest.raises(ValueError, match=f"sampling_strategy=.*{shown}.*Pass 'auto'"):
        model.fit_resample(X, y)


def test_huge_requests_of_meta_estimators_are_refused_before_allocating():
    from skflow import GaussianMixtureSampler, GroupedSampler, SyntheticOverSampler
    from skflow.exceptions import InsufficientMemoryError

    X, y = _base_table(n=50), np.array([0] * 35 + [1] * 15)
    per_class = ClassConditionalSampler(GaussianMixtureSampler()).fit(X, y)
    grouped = GroupedSampler(GaussianMixtureSampler(), by=[0]).fit(np.c_[y, X])
    for model in (per_class, grouped):
        with pytest.raises(InsufficientMemoryError, match="1000000000000 rows"):
            model.sample(10**12)
    huge = SyntheticOverSampler(GaussianMixtureSampler(), sampling_strategy={1: 10**12})
    with pytest.raises(InsufficientMemoryError, match="sampling_strategy"):
        huge.fit_resample(X, y)


def test_an_autoencoder_that_diverges_is_refused():
    from skflow.exceptions import NumericalInstabilityError

    X = _base_table()
    model = AutoencoderTransformer(n_components=2, max_iter=20, random_state=0)
    with pytest.raises(NumericalInstabilityError, match="diverged.*learning_rate"):
        clone(model).set_params(learning_rate=2.5).fit(X)
    fitted = clone(model).fit(X)
    assert np.isfinite(fitted.inverse_transform(fitted.transform(X))).all()


def test_the_divergence_rule_is_robust_to_heavy_tails():
    from skflow._base import spread_ratio

    rng = np.random.default_rng(0)
    data = rng.standard_cauchy((500, 3))
    drawn = rng.standard_cauchy((1024, 3))
    # Two Cauchy samples: their standard deviations can differ a thousandfold,
    # their 5%-95% ranges do not.
    assert spread_ratio(drawn, data) < 3
    assert spread_ratio(drawn * 1e6, data) > 1e5
    # Sparse indicator columns (a range of 0) count as a range of 0.1.
    sparse = np.zeros((500, 2))
    sparse[:5] = 1.0
    assert spread_ratio(rng.normal(size=(100, 2)), sparse) < 100


def test_return_trajectories_is_a_flag():
    from skflow import ProximalMFGFlow

    model = _sized("proximal").fit(_base_table(n=30, d=2))
    assert isinstance(model, ProximalMFGFlow)
    for bad in ("a", 1, None):
        with pytest.raises(TypeError, match="return_trajectories must be True or"):
            model.sample(3, return_trajectories=bad)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_autosampler_races_at_any_scale(scale):
    # Its scorer standardised columns near 1e300 with an overflowing variance
    # and refused its own NaN ("Input X contains NaN").
    from skflow import AutoSampler, GaussianMixtureSampler

    X = _base_table()
    make = lambda: AutoSampler(  # noqa: E731
        candidates=[GaussianMixtureSampler()], cv=2, random_state=0
    )
    at_one, scaled = make().fit(X), make().fit(X * scale)
    assert scaled.best_score_ == pytest.approx(at_one.best_score_, rel=1e-9)
    assert np.isfinite(scaled.sample(5)).all()
