"""Run one benchmark cell in a fresh interpreter and read back its result.

A process's peak resident memory (``ru_maxrss``) only ever grows, so cells that
report memory each run in their own child: the script calls itself with
``--child ARGS...``, the child prints one JSON line, and the parent reads it.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys


def peak_mib() -> float:
    """This process's own peak resident memory in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_in_child(script: str, *args: str) -> dict:
    """Run ``python script --child *args``; return the JSON of its last line."""
    child = subprocess.run(
        [sys.executable, script, "--child", *args],
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        raise RuntimeError(
            f"{script} --child {' '.join(args)} failed:\n{child.stderr[-3000:]}"
        )
    return json.loads(child.stdout.strip().splitlines()[-1])
