"""Shared fixtures and options.

``--device`` (default ``cpu``) runs device-aware tests on another torch device,
e.g. ``pytest --device cuda``; ``--runslow`` includes tests marked ``slow``.
"""

import numpy as np
import pytest
import torch


def pytest_addoption(parser):
    parser.addoption(
        "--device", default="cpu", help="torch device for device-aware tests"
    )
    parser.addoption(
        "--runslow", action="store_true", default=False, help="run slow tests"
    )


def pytest_collection_modifyitems(config, items):
    device = config.getoption("--device")
    skip_slow = pytest.mark.skip(reason="slow: pass --runslow to run")
    skip_gpu = pytest.mark.skip(reason="needs --device cuda and a CUDA device")
    has_gpu = device.startswith("cuda") and torch.cuda.is_available()
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def device(request):
    """The torch device string under test."""
    return request.config.getoption("--device")


def _read_only(array):
    array = np.asarray(array, dtype=np.float64)
    array.setflags(write=False)
    return array


@pytest.fixture(scope="session")
def wine_data():
    """load_wine's 178 x 13 rows: features on very different scales."""
    from sklearn.datasets import load_wine

    return _read_only(load_wine().data)


@pytest.fixture(scope="session")
def blobs_data():
    """A small 2-D two-component Gaussian mixture, 200 rows."""
    from skflow.datasets import make_gaussian_mixture

    X, _ = make_gaussian_mixture(200, 2, 2, random_state=0)
    return _read_only(X)


@pytest.fixture(autouse=True)
def _global_random_state_untouched():
    """Each test starts and ends with the same global numpy and torch states.

    skflow never draws from them (the contract tests check it); some tests do,
    e.g. through ``np.random.rand``. Restoring them after every test keeps any
    such draw from changing what the next test sees, so each test's outcome
    does not depend on the order or the subset of tests run.
    """
    numpy_state = np.random.get_state()  # noqa: NPY002 (the global state itself)
    torch_state = torch.random.get_rng_state()
    yield
    np.random.set_state(numpy_state)  # noqa: NPY002
    torch.random.set_rng_state(torch_state)
