"""skflow.dask.sample_dataframe: partitioned generation on a Dask cluster.

The promises tested: the rows depend on the model, ``n_rows``, ``npartitions``
and ``random_state`` only (not on the scheduler or the number of workers), each
partition is ``estimator.sample(size_k, random_state=seed_k)`` with seeds from a
spawned SeedSequence, the table's columns and dtypes come back, and the model
is serialised once (one task of the graph, or one scattered copy per worker),
never once per partition. Clusters are in-process ``LocalCluster``s on
loopback, so the tests run in seconds on two cores.
"""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
distributed = pytest.importorskip("dask.distributed")
import dask  # noqa: E402
import torch  # noqa: E402

from skflow import (  # noqa: E402
    ClassConditionalSampler,
    EntropicOTGenerator,
    LipschitzParticleSampler,
    ProximalMFGFlow,
    SlicedWassersteinFlow,
    TabularEncoder,
    make_generative_pipeline,
)
from skflow._partitions import partition_seeds, partition_sizes  # noqa: E402
from skflow._testing import fast_flow  # noqa: E402
from skflow.dask import sample_dataframe  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    # In-process workers share the test process's environment: one torch thread
    # per draw whatever the machine's load, as Dask's worker processes get
    # through OMP_NUM_THREADS=1 (see the Notes of sample_dataframe).
    monkeypatch.setenv("SKFLOW_NUM_THREADS", "1")


def _quiet_fit(estimator, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args)


@pytest.fixture(scope="module")
def table():
    rng = np.random.RandomState(0)
    n = 120
    return pd.DataFrame(
        {
            "income": rng.lognormal(8, 0.5, n),
            "visits": rng.poisson(3, n).astype(np.int64),
            "member": rng.rand(n) > 0.5,
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
            "score": rng.normal(size=n).astype(np.float32),
        }
    )


@pytest.fixture(scope="module")
def pipeline(table):
    return _quiet_fit(make_generative_pipeline(TabularEncoder(), fast_flow()), table)


@pytest.fixture(scope="module")
def flow():
    X = np.random.RandomState(1).normal(size=(80, 3))
    return _quiet_fit(fast_flow(), X)


@pytest.fixture
def cluster():
    """Start in-process LocalClusters of n workers; closed after the test."""
    opened = []

    def start(n_workers):
        local = distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
        )
        client = distributed.Client(local)
        opened.append((client, local))
        return client

    yield start
    for client, local in reversed(opened):
        client.close()
        local.close()


def test_rows_are_the_partitions_draws(flow):
    # The documented recipe, partition by partition.
    frame = sample_dataframe(flow, 103, npartitions=4, random_state=7)
    got = frame.compute(scheduler="sync")
    sizes = partition_sizes(103, 4)
    seeds = partition_seeds(np.random.SeedSequence(7), 4)
    expected = np.concatenate(
        [flow.sample(int(k), random_state=s) for k, s in zip(sizes, seeds)]
    )
    assert sizes.tolist() == [26, 26, 26, 25]
    np.testing.assert_array_equal(got.to_numpy(), expected)
    assert list(got.columns) == ["x0", "x1", "x2"]
    assert got.index.equals(pd.RangeIndex(103))
    assert frame.divisions == (0, 26, 52, 78, 102)


def test_same_rows_for_one_and_two_workers(pipeline, cluster):
    local = sample_dataframe(pipeline, 2000, npartitions=6, random_state=3)
    expected = local.compute(scheduler="sync")
    results = []
    for n_workers in (1, 2):
        client = cluster(n_workers)
        frame = sample_dataframe(pipeline, 2000, npartitions=6, random_state=3)
        results.append(frame.compute())
        assert len(client.scheduler_info()["workers"]) == n_workers
    for result in results:
        pd.testing.assert_frame_equal(result, expected)


def test_columns_and_dtypes_of_the_table_come_back(pipeline, table):
    frame = sample_dataframe(pipeline, 500, npartitions=3, random_state=0)
    assert frame.dtypes.equals(table.dtypes)
    rows = frame.compute(scheduler="threads")
    assert rows.dtypes.equals(table.dtypes)
    assert list(rows["colour"].cat.categories) == list(table["colour"].cat.categories)
    assert rows.shape == (500, table.shape[1])


def test_to_parquet_round_trip(pipeline, table, tmp_path, cluster):
    cluster(2)
    frame = sample_dataframe(pipeline, 3000, npartitions=5, random_state=1)
    frame.to_parquet(tmp_path / "rows")
    back = pd.read_parquet(tmp_path / "rows")
    assert len(list((tmp_path / "rows").glob("*.parquet"))) == 5
    expected = frame.compute()
    pd.testing.assert_frame_equal(
        back.reset_index(drop=True),
        expected.reset_index(drop=True),
        check_categorical=False,
        check_index_type=False,
    )
    assert back["visits"].dtype == np.int64 and back["member"].dtype == bool


def test_class_conditional_labels_become_a_column(table):
    model = _quiet_fit(
        ClassConditionalSampler(fast_flow(), random_state=0),
        table[["income", "score"]],
        table["colour"].astype(str),
    )
    rows = sample_dataframe(model, 300, npartitions=3, random_state=0).compute(
        scheduler="sync"
    )
    assert list(rows.columns) == ["income", "score", "target"]
    assert set(rows["target"]) == {"red", "green", "blue"}
    with pytest.raises(ValueError, match="target_name='score' is already a column"):
        sample_dataframe(model, 10, target_name="score")


def test_sklearn_gaussian_mixture_is_seeded_per_partition():
    # GaussianMixture reads its own random_state: each partition seeds a copy,
    # so the fitted model is left as it was and the draws still repeat.
    X = np.random.RandomState(0).normal(size=(50, 2))
    mixture = GaussianMixture(2, random_state=0).fit(X)
    first = sample_dataframe(mixture, 40, npartitions=2, random_state=5)
    second = sample_dataframe(mixture, 40, npartitions=2, random_state=5)
    pd.testing.assert_frame_equal(
        first.compute(scheduler="threads"), second.compute(scheduler="sync")
    )
    assert mixture.random_state == 0


class _CountingSampler(BaseEstimator):
    """A tiny sampler that counts how often it is serialised."""

    pickles = 0

    def fit(self, X, y=None):
        self.mean_ = np.asarray(X).mean(axis=0)
        return self

    def sample(self, n_samples=1, random_state=None):
        rng = np.random.RandomState(random_state)
        return rng.normal(size=(n_samples, len(self.mean_))) + self.mean_

    def __getstate__(self):
        type(self).pickles += 1
        return dict(self.__dict__)


def _pickles_of_the_graph(frame) -> int:
    """Serialise every task of the optimised graph on its own, as a scheduler
    sends them to workers, and count how often the model went along."""
    graph = dask.base.collections_to_expr([frame]).__dask_graph__()
    _CountingSampler.pickles = 0
    for task in dict(graph).values():
        pickle.dumps(task)
    return _CountingSampler.pickles


def test_model_is_one_task_without_a_client():
    model = _CountingSampler().fit(np.zeros((3, 2)))
    frame = sample_dataframe(model, 200, npartitions=20, random_state=0, client=None)
    assert _pickles_of_the_graph(frame) == 1
    assert len(frame.compute(scheduler="threads")) == 200


def test_model_is_scattered_once_per_worker(cluster):
    model = _CountingSampler().fit(np.zeros((3, 2)))
    local = sample_dataframe(model, 200, npartitions=20, random_state=0)
    expected = local.compute(scheduler="sync")
    client = cluster(2)
    frame = sample_dataframe(model, 200, npartitions=20, random_state=0)
    # No task carries the model; each worker holds one copy before any runs.
    assert _pickles_of_the_graph(frame) == 0
    holders = [workers for key, workers in client.who_has().items() if workers]
    assert len(holders) == 1 and len(holders[0]) == 2
    pd.testing.assert_frame_equal(frame.compute(), expected)


def test_default_partitions_follow_the_row_size(flow, monkeypatch):
    import skflow._partitions

    # 3 float64 columns: 24 bytes a row; 2,400-byte partitions hold 100 rows.
    monkeypatch.setattr(skflow._partitions, "PARTITION_BYTES", 2400)
    assert sample_dataframe(flow, 1000, random_state=0).npartitions == 10
    assert sample_dataframe(flow, 5, random_state=0).npartitions == 1


def test_random_state_rules(flow):
    def rows(random_state):
        frame = sample_dataframe(flow, 50, npartitions=2, random_state=random_state)
        return frame.compute(scheduler="sync").to_numpy()

    np.testing.assert_array_equal(rows(4), rows(4))
    sequence = np.random.SeedSequence(4)
    np.testing.assert_array_equal(rows(sequence), rows(4))
    assert sequence.n_children_spawned == 0
    assert not np.array_equal(rows(None), rows(None))
    with pytest.raises(ValueError, match="random_state must be a non-negative"):
        rows(-1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_rows": 0}, "n_rows must be a positive integer"),
        ({"n_rows": 2.5}, "n_rows must be a positive integer"),
        ({"n_rows": 10, "npartitions": 11}, "npartitions=11 is more than n_rows=10"),
        ({"n_rows": 10, "npartitions": 0}, "npartitions must be a positive"),
    ],
)
def test_bad_sizes_are_refused(flow, kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample_dataframe(flow, **kwargs)


def test_unfitted_or_non_sampler_is_refused():
    from sklearn.exceptions import NotFittedError
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(NotFittedError):
        sample_dataframe(fast_flow(), 10)
    with pytest.raises(TypeError, match="has no sample method"):
        sample_dataframe(StandardScaler(), 10)


def test_dask_is_optional():
    # import skflow leaves dask alone; without dask, skflow.dask names the extra.
    code = (
        "import sys, skflow\n"
        "assert 'dask' not in sys.modules, 'import skflow imported dask'\n"
        "sys.modules['dask'] = None\n"
        "try:\n"
        "    import skflow.dask\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install skflow[dask]" in done.stdout


def test_subsample_is_uniform_over_unequal_partitions(tmp_path):
    from skflow.dask import subsample

    table = pd.DataFrame({"x": np.arange(20_000), "y": np.arange(20_000) % 7})
    frame = dask.dataframe.from_pandas(table, npartitions=1).repartition(
        divisions=[0, 2_000, 5_000, 19_999]
    )
    rows = subsample(frame, 5_000, random_state=0)
    assert rows.shape == (5_000, 2) and rows["x"].is_unique
    # Shares of 10%, 15% and 75%: hypergeometric spread of about 18 rows.
    counts = np.histogram(rows["x"], bins=[0, 2_000, 5_000, 20_000])[0]
    np.testing.assert_allclose(counts, [500, 750, 3_750], atol=90)
    pd.testing.assert_frame_equal(rows, subsample(frame, 5_000, random_state=0))
    frame.to_parquet(tmp_path / "rows")
    again = subsample(tmp_path / "rows", 5_000, random_state=0, columns=["x"])
    assert again["x"].tolist() == rows["x"].tolist()
    with pytest.raises(ValueError, match="more than the 20000 rows"):
        subsample(frame, 20_001)


def _blocks_frame(n_rows=1_500, npartitions=3):
    rng = np.random.RandomState(0)
    rows = pd.DataFrame(
        {"a": rng.normal(size=n_rows) * 100.0, "b": rng.exponential(size=n_rows)}
    )
    return rows, dask.dataframe.from_pandas(rows, npartitions=npartitions)


def test_fit_partitions_streams_every_row_once_a_pass():
    from skflow.dask import _PartitionStream

    # 10 partitions of 30 rows, served 64 at a time: a pass is 300 rows, so
    # the first 4 batches hold 256 distinct rows, and 5 batches start pass 2.
    table = pd.DataFrame({"a": np.arange(300.0), "b": np.zeros(300)})
    frame = dask.dataframe.from_pandas(table, npartitions=10)

    class Identity:
        # What the stream asks of the estimator: validated and scaled rows.
        def _validate_data_against_fit(self, block):
            return block.to_numpy()

        def _scale(self, rows):
            return rows

    rng = np.random.default_rng(0)
    stream = _PartitionStream(frame.to_delayed(), rng, client=None)
    first = stream.read().to_numpy()
    next_batch = stream.batches(Identity(), first, 64, torch.device("cpu"), None)
    served = np.concatenate([next_batch().numpy()[:, 0] for _ in range(4)])
    assert len(np.unique(served)) == 256
    assert stream.n_read == 9  # the first partition, then 8 more as needed
    next_batch()
    assert stream.n_read == 11  # the 10th, and the first of the next pass


def test_fit_partitions_fits_a_flow_from_parquet(tmp_path, cluster):
    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {"a": rng.normal(size=3000) * 100.0, "b": rng.exponential(size=3000)}
    )
    dask.dataframe.from_pandas(table, npartitions=6).to_parquet(tmp_path / "rows")

    def fitted(random_state):
        return _quiet_fit_partitions(fast_flow(), tmp_path / "rows", random_state)

    flow = fitted(0)
    assert flow.n_iter_ == fast_flow().max_iter
    assert list(flow.feature_names_in_) == ["a", "b"]
    rows = flow.sample(2000, random_state=1)
    assert list(rows.columns) == ["a", "b"]
    # Scaled back to the data's units (the first partition's scaling).
    assert 50 < rows["a"].std() < 200
    first = flow.sample(20, random_state=1)
    pd.testing.assert_frame_equal(fitted(0).sample(20, random_state=1), first)
    assert not fitted(1).sample(20, random_state=1).equals(first)
    # On a cluster the next partition is read on a worker meanwhile: same fit.
    cluster(2)
    pd.testing.assert_frame_equal(fitted(0).sample(20, random_state=1), first)


def _quiet_fit_partitions(estimator, data, random_state):
    from skflow.dask import fit_partitions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_partitions(estimator, data, random_state=random_state)


@pytest.mark.parametrize(
    "estimator, match",
    [
        (SlicedWassersteinFlow(parameterization="particles"), "parameterization"),
        (EntropicOTGenerator(solver="semi-discrete"), "one dual weight per"),
        (ProximalMFGFlow(privacy=3.0), "private ProximalMFGFlow"),
        (LipschitzParticleSampler(), "every row at once"),
    ],
    ids=["particles", "semi-discrete", "private", "lipschitz"],
)
def test_fit_partitions_refuses_what_it_cannot_stream(estimator, match, monkeypatch):
    from skflow.dask import _PartitionStream, fit_partitions

    frame = dask.dataframe.from_pandas(
        pd.DataFrame({"a": np.arange(60.0), "b": np.arange(60.0) ** 2}), npartitions=2
    )
    read = []
    monkeypatch.setattr(_PartitionStream, "read", lambda self: read.append(1))
    with pytest.raises(ValueError, match=match) as error:
        fit_partitions(estimator, frame)
    assert "skflow.dask.subsample" in str(error.value)
    assert read == []  # refused before any partition was read


def _fast(cls, **params):
    """The quick-to-fit ``cls`` of skflow._testing, with ``params``."""
    from sklearn.base import clone

    from skflow._testing import fast_samplers

    return clone(next(e for e in fast_samplers() if type(e) is cls)).set_params(
        **params
    )


def _fast_proximal():
    return _fast(ProximalMFGFlow, batch_size=100)


def _fast_sinkhorn():
    return _fast(EntropicOTGenerator, solver="auto", batch_size=60)


@pytest.mark.parametrize(
    "make, batches_per_iteration, batch_rows",
    [(_fast_proximal, 2, 100), (_fast_sinkhorn, 1, 120)],
    ids=["proximal", "sinkhorn"],
)
def test_minibatch_families_fit_from_streamed_partitions(
    make, batches_per_iteration, batch_rows, tmp_path
):
    from skflow.dask import _PartitionStream

    table, frame = _blocks_frame(n_rows=3_000, npartitions=30)  # 100 rows each
    stream = _PartitionStream(frame.to_delayed(), np.random.default_rng(0), None)
    estimator = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator._fit_stream(stream.read(), stream)
    # Every data batch of the fit came from the stream, fresh rows each (the
    # first partition's, then the next ones'), and no more was read than the
    # batch budget needs: 100-row partitions, read only when a batch is short.
    budget = estimator.n_iter_ * batches_per_iteration * batch_rows
    assert stream.n_read == int(np.ceil(budget / 100))
    assert getattr(estimator, "solver_", "sinkhorn") == "sinkhorn"
    assert list(estimator.feature_names_in_) == ["a", "b"]
    rows = estimator.sample(500, random_state=1)
    assert np.isfinite(rows.to_numpy()).all() and 20 < rows["a"].std() < 500
    frame.to_parquet(tmp_path / "rows")
    again = _quiet_fit_partitions(make(), tmp_path / "rows", random_state=0)
    repeat = _quiet_fit_partitions(make(), tmp_path / "rows", random_state=0)
    pd.testing.assert_frame_equal(
        again.sample(20, random_state=1), repeat.sample(20, random_state=1)
    )
