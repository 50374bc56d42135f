"""Plumbing between numpy and torch: the guarded import behind the first optimiser."""

import os
import signal
import subprocess
import sys
import textwrap
import types
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

import skflow
import skflow._torch_utils as torch_utils
from skflow._testing import fast_flow


@pytest.fixture
def rows():
    return np.random.RandomState(0).normal(size=(60, 2))


def _fit(sampler, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return sampler.fit(X)


def _fake_importlib(monkeypatch, import_module):
    # A process that has not built an optimiser yet.
    monkeypatch.setattr(torch_utils, "_optimizer_import_done", False)
    monkeypatch.setattr(
        torch_utils, "importlib", types.SimpleNamespace(import_module=import_module)
    )


def test_ctrl_c_during_the_first_optimizer_import_waits_for_it(rows, monkeypatch):
    import importlib

    events = []

    def interrupted_import(name):
        if not events:
            signal.raise_signal(signal.SIGINT)
            events.append("signal sent")
        module = importlib.import_module(name)
        events.append("import finished")
        return module

    _fake_importlib(monkeypatch, interrupted_import)
    sampler = fast_flow()
    with pytest.raises(KeyboardInterrupt):
        _fit(sampler, rows)
    # The import ran to its end before Ctrl-C was raised, and the failed first
    # fit left the sampler unfitted; the default handler is back in place.
    assert events == ["signal sent", "import finished"]
    assert not hasattr(sampler, "n_iter_")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert _fit(sampler, rows).n_iter_ >= 1
    assert torch_utils._optimizer_import_done


def test_a_broken_optimizer_import_says_to_restart(monkeypatch):
    def half_imported(name):
        raise AttributeError("partially initialized module 'torch._dynamo'")

    _fake_importlib(monkeypatch, half_imported)
    with pytest.raises(RuntimeError, match="restart the Python process"):
        torch_utils.adam([torch.zeros(2, requires_grad=True)], lr=0.1)


# Ctrl-C arrives when torch's import of torch._dynamo, started by the first
# optimiser of a fresh process, is a dozen submodules deep.
_CTRL_C_IN_A_FRESH_PROCESS = """
import os, signal, sys, warnings
import numpy as np
from skflow._testing import fast_flow

assert "torch._dynamo" not in sys.modules, "skflow imports torch._dynamo"


class CtrlCDuringImport:
    seen = 0

    def find_spec(self, name, path=None, target=None):
        if name.startswith("torch._dynamo."):
            CtrlCDuringImport.seen += 1
            if CtrlCDuringImport.seen == 12:
                os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, CtrlCDuringImport())
X = np.random.RandomState(0).normal(size=(60, 2))
warnings.simplefilter("ignore")
try:
    fast_flow().fit(X)
except KeyboardInterrupt:
    print("interrupted")
assert CtrlCDuringImport.seen >= 12
fast_flow().fit(X)
print("refitted")
"""


def test_ctrl_c_in_the_first_seconds_leaves_later_fits_working():
    # The child imports the skflow under test, wherever it lies.
    root = os.path.dirname(os.path.dirname(skflow.__file__))
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CTRL_C_IN_A_FRESH_PROCESS)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["interrupted", "refitted"]
