"""Parameter checks, smoke shrinking, run names, and environment detection."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import gan_helpers as gh
from gan_helpers import environment
from gan_helpers import params as params_module
from gan_helpers.environment import device_name
from gan_helpers.params import SMOKE_LIMITS, check_float, check_int, latest_parameters_cell, parse_parameters_cell

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# A parameters cell as a notebook writes it: each parameter declared once, with its Colab form annotation.
CELL = """
dataset = "mnist"  #@param ["mnist", "fashion_mnist"]
epochs = 3  #@param {type:"integer"}
batch_size = 64  #@param {type:"integer"}
latent_dim = 100  #@param {type:"integer"}
learning_rate = 2e-4  #@param {type:"number"}
beta_1 = 0.5  #@param {type:"number"}
seed = 42  #@param {type:"integer"}
use_ema = True  #@param {type:"boolean"}
run_name = ""  #@param {type:"string"}
strength = 5  #@param {type:"slider", min:1, max:10, step:1}
"""
RANGES = {"beta_1": "[0, 1]", "seed": "[0, inf)"}
GOOD = {"dataset": "mnist", "epochs": 3, "batch_size": 64, "latent_dim": 100, "learning_rate": 2e-4}
DEFAULTS = {**GOOD, "beta_1": 0.5, "seed": 42, "use_ema": True, "run_name": "", "strength": 5}


def read(**changes):
    """The checked parameters after a user (form or papermill) changed some values."""
    return gh.read_params({**DEFAULTS, **changes}, RANGES, cell_source=CELL)


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
    ("learning_rate", "fast", "finite number"),
    ("beta_1", 1.5, "at most 1"),
    ("beta_1", -0.1, "at least 0"),
    ("seed", -1, "at least 0"),
    ("use_ema", "yes", "True or False"),
    ("run_name", 7, "string"),
    ("run_name", "../../etc", "plain folder name"),
    ("run_name", ".hidden", "plain folder name"),
    ("strength", 11, "at most 10"),
])
def test_bad_parameter_is_named_with_what_is_allowed(name, bad, expected):
    with pytest.raises(ValueError) as error:
        read(**{name: bad})
    assert f"{name}=" in str(error.value)
    assert expected in str(error.value)


def test_types_and_choices_come_from_the_cell_and_whole_floats_become_ints():
    checked = read(epochs=3.0, learning_rate=1, beta_1=0, seed=0, dataset="fashion_mnist", run_name="mine")
    assert checked["epochs"] == 3 and isinstance(checked["epochs"], int)
    assert checked["learning_rate"] == 1.0 and isinstance(checked["learning_rate"], float)
    assert checked["beta_1"] == 0.0 and checked["seed"] == 0 and checked["dataset"] == "fashion_mnist"
    assert list(checked) == list(DEFAULTS)  # every declared parameter, in the cell's order


def test_the_cell_declares_types_ranges_and_choices():
    specs = parse_parameters_cell(CELL)
    assert specs["dataset"].kind == "choice" and specs["dataset"].choices == ("mnist", "fashion_mnist")
    assert [specs[n].kind for n in ("epochs", "learning_rate", "use_ema", "run_name")] == ["int", "float", "bool", "str"]
    assert specs["strength"].interval == "[1, 10]" and specs["learning_rate"].default == 2e-4


def test_a_missing_value_or_a_range_for_an_undeclared_parameter_is_reported():
    values = dict(DEFAULTS)
    del values["latent_dim"]
    with pytest.raises(ValueError, match="latent_dim"):
        gh.read_params(values, RANGES, cell_source=CELL)
    with pytest.raises(ValueError, match="learning_rat.*does not declare"):
        gh.read_params(DEFAULTS, {"learning_rat": "(0, 1)"}, cell_source=CELL)
    with pytest.raises(ValueError, match="not an interval"):
        gh.read_params(DEFAULTS, {"beta_1": "0 to 1"}, cell_source=CELL)


@pytest.mark.parametrize("interval, good, bad", [
    ("[0, 1)", [0, 0.999], [1, -0.001]),
    ("(0, 1]", [1e-9, 1], [0, 1.001]),
    ("[-1, 1]", [-1, 1], [-1.01, 1.01]),
])
def test_intervals_include_exactly_their_closed_ends(interval, good, bad):
    cell = 'x = 0.5  #@param {type:"number"}\n'
    for value in good:
        assert gh.read_params({"x": value}, {"x": interval}, cell_source=cell)["x"] == value
    for value in bad:
        with pytest.raises(ValueError, match="x="):
            gh.read_params({"x": value}, {"x": interval}, cell_source=cell)


def test_the_parameters_cell_is_found_in_the_notebook_history(monkeypatch):
    """In a notebook the cell comes from IPython's input history: the newest one with form lines,
    not papermill's injected cell (plain assignments) nor the checking cell itself."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    monkeypatch.setattr(params_module, "_newest_parameters_cell", [])
    injected = "# Parameters\nepochs = 7\n"
    checking = "params = gh.read_params(globals())\n"
    monkeypatch.setitem(shell.user_ns, "In", ["", 'epochs = 1  #@param {type:"integer"}\n', CELL, injected, checking])
    assert latest_parameters_cell() == CELL
    monkeypatch.setitem(shell.user_ns, "In", ["", injected, checking])
    with pytest.raises(RuntimeError, match="parameters cell"):
        latest_parameters_cell()


def test_cells_run_without_history_are_watched(monkeypatch):
    """nbval runs cells without storing history: the watcher still sees the parameters cell,
    papermill's values override its defaults, and read_params checks them."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    monkeypatch.setattr(params_module, "_newest_parameters_cell", [])
    monkeypatch.setattr(shell, "_gan_helpers_watching", False, raising=False)
    events_before = list(shell.events.callbacks["pre_run_cell"])
    try:
        gh.watch_parameters_cells()
        for cell in (CELL, "# Parameters\nepochs = 9\n"):
            shell.run_cell(cell, store_history=False)
        checked = shell.run_cell("import gan_helpers as gh\ngh.read_params(globals(), ranges=%r)" % RANGES,
                                 store_history=False).result
        assert checked["epochs"] == 9 and checked["dataset"] == "mnist"
        shell.run_cell('epochs = "nine"', store_history=False)
        failed = shell.run_cell("gh.read_params(globals(), ranges=%r)" % RANGES, store_history=False)
        assert isinstance(failed.error_in_exec, ValueError) and "epochs='nine'" in str(failed.error_in_exec)
    finally:
        shell.events.callbacks["pre_run_cell"][:] = events_before


@pytest.mark.parametrize("notebook", ["simple_gan_mnist.ipynb", "dcgan_mnist.ipynb", "cyclegan_monet2photo.ipynb"])
def test_every_notebook_parameter_is_declared_with_a_form_annotation(notebook):
    """Each parameter's type comes from its annotation, so each line must have one."""
    cell = next(c for c in json.loads((NOTEBOOKS / notebook).read_text())["cells"]
                if "parameters" in c.get("metadata", {}).get("tags", []))
    source = "".join(cell["source"])
    specs = parse_parameters_cell(source)
    assert len(specs) == len([line for line in source.splitlines() if line.strip()]) > 5
    assert all(re.search(r"#\s*@param", line) for line in source.splitlines() if line.strip())
    # (that the defaults pass the notebook's own checks is shown by running it: tests/test_notebooks.py, nbval)


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
    assert str(env.runs_dir) in line and f"device: {env.device}" in line
    assert env.device == device_name() and env.device.startswith(("CPU", "GPU: "))


@pytest.mark.parametrize("device", ["CPU (2 cores)", "GPU: Tesla T4"])
def test_setup_names_the_device_it_trains_on(monkeypatch, tmp_path, capsys, device):
    """Whatever device the tests run on, the line says what the detection found (here: told)."""
    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    monkeypatch.setattr(environment, "device_name", lambda: device)
    assert gh.setup().device == device
    assert f"· device: {device}" in capsys.readouterr().out


def test_setup_reads_gan_data_dir_and_rejects_a_missing_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    assert gh.setup(quiet=True).data_dir == tmp_path
    with pytest.raises(FileNotFoundError, match="nowhere"):
        gh.setup(data_dir=str(tmp_path / "nowhere"), quiet=True)


def test_each_session_records_the_device_and_the_cpu_it_ran_on(monkeypatch, tmp_path):
    from gan_helpers import runs
    from gan_helpers.performance import machine, machine_name

    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    env = gh.setup(quiet=True)
    gh.Run(env, "exp", "r1", GOOD)
    other = {"cpu": "Other CPU", "family": 1, "model": 2, "cores": 64, "avx512": False, "avx512_bf16": False}
    monkeypatch.setattr(runs, "machine", lambda: other)  # the run resumed on another computer
    run = gh.Run(env, "exp", "r1", GOOD)
    first, second = json.loads(run.config_path.read_text())["sessions"]
    assert first["machine"] == machine_name(machine()) and first["device"] == env.device
    assert second["machine"] == "Other CPU (family 1 model 2), 64 cores, AVX2"


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


@pytest.mark.parametrize("device", ["CPU (2 cores)", "GPU: Tesla T4", None])
def test_no_gpu_warning_only_in_colab_without_a_gpu(monkeypatch, capsys, device):
    """``None``: the device this test runs on, as detected."""
    expected = (device or device_name()).startswith("CPU")
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert gh.warn_if_no_gpu(device) is False and capsys.readouterr().out == ""
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")  # what Colab runtimes set
    assert gh.warn_if_no_gpu(device) is expected
    assert ("Change runtime type > GPU" in capsys.readouterr().out) is expected


def test_a_run_reopens_with_other_bookkeeping_but_not_with_another_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    env = gh.setup(quiet=True)
    gh.Run(env, "experiment", "run", {**GOOD, "eval_every": 1, "eval_samples": 2000})
    # How often and on how many samples quality is measured, and how long it trains, may change on a resume ...
    gh.Run(env, "experiment", "run", {**GOOD, "epochs": 9, "eval_every": 5, "eval_samples": 10_000})
    # ... what is trained may not.
    with pytest.raises(ValueError, match="learning_rate"):
        gh.Run(env, "experiment", "run", {**GOOD, "learning_rate": 1e-3, "eval_every": 1, "eval_samples": 2000})
