"""The generated tables of benchmarks/README.md and README.md are what benchmarks/results/*.json give."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_readme_tables_match_the_results():
    checked = subprocess.run([sys.executable, str(BENCHMARKS / "report.py"), "--check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_readme_is_short():
    assert len((BENCHMARKS / "README.md").read_text().splitlines()) <= 160
