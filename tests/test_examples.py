"""Every script in examples/ runs to completion and saves its figure.

Each runs in a fresh subprocess (as a user would run it) with the Agg backend, in
a temporary working directory, importing the skflow of this checkout.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


# Each script takes 10-40 s: `python -m pytest -m "not example"` runs the fast
# suite alone; the README's command and CI run them too.
@pytest.mark.example
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        # Generous: on a busy machine the thread policy keeps a script near its
        # idle time, but a slow CPU may still take several times as long.
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(tmp_path.glob("*.png")), f"{script.name} saved no figure"
