"""The generated tables of benchmarks/README.md and README.md are what benchmarks/results/*.json give."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import report  # noqa: E402  (benchmarks/report.py)


def test_readme_tables_match_the_results():
    checked = subprocess.run([sys.executable, str(BENCHMARKS / "report.py"), "--check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_readme_is_short():
    """A reference page, not a diary: room for the tables of record (with two leaderboards), not for history."""
    assert len((BENCHMARKS / "README.md").read_text().splitlines()) <= 170


def test_colour_baselines_name_their_learning_rates_and_readme_shows_only_the_defaults(monkeypatch):
    record = {"notebook": "dcgan_mnist", "epochs": 3, "train_seconds": 120.0, "machine": None,
              "frechet_distance_over_time": [],
              "evaluation": {"frechet_distance": 30.0}, "floor": {"frechet_distance": 0.1}}
    decayed = {**record, "parameters": {"dataset": "cifar10", "g_learning_rate": 2e-4, "d_learning_rate": 2e-4,
                                        "lr_decay": "linear"}}
    constant = {**record, "parameters": {"dataset": "cifar10", "g_learning_rate": 6e-4, "d_learning_rate": 2e-4,
                                         "lr_decay": "none"}}
    monkeypatch.setattr(report, "measured_colour_baselines",
                        lambda: [("dcgan_cifar10", decayed), ("dcgan_cifar10-lr_decaynone", constant)])
    assert report.learning_rates(decayed["parameters"]) == "2e-4 falling linearly to 0"
    assert report.learning_rates(constant["parameters"]) == "2e-4 / 6e-4, constant"
    grids = report.colour_grids()
    assert "**dcgan_cifar10**" in grids and "2e-4 falling linearly to 0" in grids and "lr_decaynone" not in grids


def test_a_machine_is_described_by_a_record_measured_on_it_whatever_the_file_order(monkeypatch, tmp_path):
    measured = {"cpu": "AMD EPYC", "family": 26, "model": 2, "cores": 2, "avx512": True, "avx512_bf16": True}
    from_notes = {"cpu": "AMD EPYC", "family": 26, "cores": 2, "avx512": True, "avx512_bf16": True,
                  "source": "per the session notes"}
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    for first, second in ((measured, from_notes), (from_notes, measured)):
        (tmp_path / "a.json").write_text(json.dumps({"machine": first}))
        (tmp_path / "b.json").write_text(json.dumps({"date": "today", "group/run": {"machine": second}}))
        assert report.machines() == "- **Zen 5**: AMD EPYC, family 26 model 2, 2 cores, AVX-512 with avx512_bf16"
