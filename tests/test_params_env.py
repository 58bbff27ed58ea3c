"""Parameter checks, smoke shrinking, run names, and environment detection."""

from __future__ import annotations

import json

import pytest

import gan_helpers as gh
from gan_helpers.params import SMOKE_LIMITS, check_float, check_int

RULES = {
    "dataset": ("choice", ["mnist", "fashion_mnist"]),
    "epochs": ("int", 1),
    "batch_size": ("int", 1),
    "latent_dim": ("int", 1),
    "learning_rate": ("float", 0.0),
}
GOOD = {"dataset": "mnist", "epochs": 3, "batch_size": 64, "latent_dim": 100, "learning_rate": 2e-4}


@pytest.mark.parametrize("name, bad, expected", [
    ("epochs", -1, "at least 1"),
    ("epochs", 0, "at least 1"),
    ("batch_size", 0, "at least 1"),
    ("latent_dim", 2.5, "whole number"),
    ("latent_dim", "100", "whole number"),
    ("latent_dim", True, "whole number"),
    ("dataset", "cifar10", "'mnist', 'fashion_mnist'"),
    ("learning_rate", 0.0, "greater than 0"),
    ("learning_rate", float("nan"), "finite"),
])
def test_bad_parameter_is_named_with_what_is_allowed(name, bad, expected):
    with pytest.raises(ValueError) as error:
        gh.check_params({**GOOD, name: bad}, RULES)
    assert f"{name}=" in str(error.value)
    assert expected in str(error.value)


def test_good_parameters_pass_and_whole_floats_become_ints():
    checked = gh.check_params({**GOOD, "epochs": 3.0}, RULES)
    assert checked["epochs"] == 3 and isinstance(checked["epochs"], int)


def test_missing_parameter_is_reported():
    params = dict(GOOD)
    del params["latent_dim"]
    with pytest.raises(ValueError, match="latent_dim"):
        gh.check_params(params, RULES)


def test_range_checks():
    assert check_int("x", 5, 1, 10) == 5
    with pytest.raises(ValueError, match="at most 10"):
        check_int("x", 11, 1, 10)
    assert check_float("beta_1", 0.0, 0.0, 1.0, include_minimum=True) == 0.0
    with pytest.raises(ValueError, match="at most 1.0"):
        check_float("beta_1", 1.5, 0.0, 1.0)


def test_smoke_mode_shrinks_only_when_on():
    params = {**GOOD, "epochs": 50, "batch_size": 256, "max_images": 0, "sample_every": 5}
    assert gh.shrink_for_smoke(params, smoke=False) == params
    small = gh.shrink_for_smoke(params, smoke=True)
    assert small["epochs"] == SMOKE_LIMITS["epochs"] and small["batch_size"] == SMOKE_LIMITS["batch_size"]
    assert small["max_images"] == SMOKE_LIMITS["max_images"] and small["sample_every"] == 1
    assert small["latent_dim"] == params["latent_dim"]  # the model itself is unchanged


def test_auto_run_name_follows_parameters_but_not_epochs():
    a = gh.auto_run_name(GOOD)
    assert a.startswith("mnist-") and a == gh.auto_run_name(dict(GOOD))
    assert gh.auto_run_name({**GOOD, "epochs": 99}) == a
    assert gh.auto_run_name({**GOOD, "eval_samples": 10_000}) == a  # how it is measured, not what is trained
    assert gh.auto_run_name({**GOOD, "learning_rate": 1e-4}) != a


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False), ("", False)])
def test_smoke_mode_from_environment(monkeypatch, value, expected):
    monkeypatch.setenv("GAN_SMOKE", value)
    assert gh.smoke_mode() is expected


def test_setup_uses_gan_home_and_data_dir(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    env = gh.setup(data_dir=str(tmp_path))
    assert env.root == tmp_path / "home" and env.root.is_dir()
    assert env.data_dir == tmp_path and not env.in_colab
    assert env.runs_dir == env.root / "runs" and env.cache_dir == env.root / "datasets"
    line = capsys.readouterr().out.strip()
    assert str(env.runs_dir) in line and "CPU" in line  # no GPU on the test machines


def test_setup_reads_gan_data_dir_and_rejects_a_missing_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    assert gh.setup(quiet=True).data_dir == tmp_path
    with pytest.raises(FileNotFoundError, match="nowhere"):
        gh.setup(data_dir=str(tmp_path / "nowhere"), quiet=True)


def test_local_default_root_is_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("GAN_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert gh.setup(quiet=True).root == tmp_path / "gan-notebooks"


def test_run_folder_refuses_other_parameters_but_allows_more_epochs(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    env = gh.setup(quiet=True)
    run = gh.Run(env, "exp", "r1", {**GOOD, "seed": 1})
    config = json.loads(run.config_path.read_text())
    assert config["params"]["latent_dim"] == 100 and config["provenance"]["seed"] == 1
    assert config["provenance"]["versions"]["tensorflow"]
    assert {"checkpoints", "samples"} <= {p.name for p in run.folder.iterdir()}
    gh.Run(env, "exp", "r1", {**GOOD, "seed": 1, "epochs": 10})  # extending is fine
    assert len(json.loads(run.config_path.read_text())["sessions"]) == 2
    with pytest.raises(ValueError, match="latent_dim: 100 -> 64"):
        gh.Run(env, "exp", "r1", {**GOOD, "seed": 1, "latent_dim": 64})
    with pytest.raises(ValueError, match="run_name"):
        gh.Run(env, "exp", "../escape", GOOD)


def test_no_gpu_warning_only_in_colab(monkeypatch, capsys):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert gh.warn_if_no_gpu() is False and capsys.readouterr().out == ""
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")  # what Colab runtimes set
    assert gh.warn_if_no_gpu() is True  # the test machines have no GPU
    assert "Change runtime type > GPU" in capsys.readouterr().out


def test_a_run_reopens_with_other_bookkeeping_but_not_with_another_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    env = gh.setup(quiet=True)
    gh.Run(env, "experiment", "run", {**GOOD, "eval_every": 1, "eval_samples": 2000})
    # How often and on how many samples quality is measured, and how long it trains, may change on a resume ...
    gh.Run(env, "experiment", "run", {**GOOD, "epochs": 9, "eval_every": 5, "eval_samples": 10_000})
    # ... what is trained may not.
    with pytest.raises(ValueError, match="learning_rate"):
        gh.Run(env, "experiment", "run", {**GOOD, "learning_rate": 1e-3, "eval_every": 1, "eval_samples": 2000})
