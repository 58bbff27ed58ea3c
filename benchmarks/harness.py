"""What every benchmark script shares: run a notebook, build its model, time A/B steps, write a result.

- ``run_notebook(notebook, parameters, home, run_name)`` executes a notebook with papermill (through
  ``gan_helpers.sweep.execute_notebook``, the one papermill call of the project) in a kernel whose
  ``GAN_HOME`` is ``home``, and returns a ``NotebookRun``: its run folder, ``summary()``, ``config()``,
  ``metrics()``, the executed copy and the wall time. ``GAN_SMOKE=1`` in the environment passes through
  (a quick check of a script); ``write_result`` then writes to a scratch folder instead of ``results/``.
- ``step_model(name)`` builds one of ``CONFIGS`` from the notebook's own ``definitions`` cells (its
  networks and its GAN class, compiled as in the notebook) with one constant batch, for step timings.
- ``interleaved_rates(models, rounds, steps)`` times the models in alternating blocks of steps in one
  process, so the drift of a shared machine (tens of percent within minutes) hits each alike.
- ``unpacked_cifar10(folder)``: CIFAR-10 as a folder ``gan_helpers.load_cifar10`` reads (``../shared``'s
  ``cifar10-jpg.tar.gz`` is unpacked into a temporary folder once).
- ``write_result(path, result)`` writes a result JSON that names the machine (``machine()``);
  ``load_result(path)`` reads one back to add runs to.

Scripts run as ``python benchmarks/<script>.py``; Python puts this folder on the path, so they
``import harness``.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from gan_helpers.performance import machine, machine_name  # noqa: F401 (scripts call harness.machine())

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
RESULTS = REPO / "benchmarks" / "results"
SHARED_DATA = REPO.parent / "shared" / "data"  # real datasets beside the checkout, where present

# The notebooks' models as the step timings build them: which notebook, its kind of train step, its
# default batch, and the parameters that differ from the notebook's defaults.
CONFIGS: dict[str, dict[str, Any]] = {
    "simple_gan": dict(notebook="simple_gan_mnist", kind="gan", batch=64),
    "dcgan": dict(notebook="dcgan_mnist", kind="gan", batch=64, gan_options=dict(ema_decay=0.999),
                  discriminator_args=(0.0,)),  # d_dropout
    # a critic (built by build_critic, trained by c_optimizer) and n_critic batches of real images in each step
    "wgan_gp": dict(notebook="wgan_gp_mnist", kind="gan", batch=64, gan_options=dict(ema_decay=0.999, n_critic=1),
                    build_discriminator="build_critic", gan_class="WGANGP", d_optimizer="c_optimizer"),
    "cyclegan64": dict(notebook="cyclegan_monet2photo", kind="cyclegan", batch=1,
                       params=dict(image_size=64, n_res_blocks=6)),
    "cyclegan256": dict(notebook="cyclegan_monet2photo", kind="cyclegan", batch=1,
                        params=dict(image_size=256, n_res_blocks=9)),
}
LATENT_DIM = 100  # the MNIST notebooks' default


# ---- the machine: gan_helpers.performance.machine() (leaderboards record it too)

def write_result(path: str | Path, result: dict[str, Any]) -> Path:
    """Write ``result`` as JSON with the machine and the date; under ``GAN_SMOKE=1`` to a scratch folder."""
    path = Path(path)
    if os.environ.get("GAN_SMOKE") == "1":  # a smoke check is no result
        path = Path(tempfile.gettempdir()) / "gan-benchmarks-smoke" / path.name
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **result}
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written {path}")
    return path


def load_result(path: str | Path) -> dict[str, Any]:
    """A result written earlier by ``write_result``, without its machine and date, to add runs to; {} if none."""
    path = Path(path)
    results = json.loads(path.read_text()) if path.exists() else {}
    results.pop("machine", None), results.pop("date", None)
    return results


def parse_parameters(pairs: list[list[str]]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs as notebook parameters: each value a number where it reads as JSON, else text."""
    parameters = {}
    for name, text in pairs:
        try:
            parameters[name] = json.loads(text)
        except json.JSONDecodeError:
            parameters[name] = text
    return parameters


# ---- notebooks through papermill

@dataclass
class NotebookRun:
    """A notebook executed by ``run_notebook``: its run folder and what it wrote there."""
    folder: Path
    executed: Path
    wall_seconds: float

    def summary(self) -> dict:
        return json.loads((self.folder / "summary.json").read_text())

    def config(self) -> dict:
        return json.loads((self.folder / "config.json").read_text())

    def metrics(self) -> list[dict]:
        from gan_helpers.runs import read_metrics

        return read_metrics(self.folder / "metrics.csv")


@contextlib.contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Set environment variables (inherited by a kernel started inside the block), then restore them."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_notebook(notebook: str, parameters: dict[str, Any], home: str | Path, run_name: str,
                 last_cell: str | None = None, **env: str) -> NotebookRun:
    """Execute ``notebooks/<notebook>.ipynb`` with ``parameters`` as run ``run_name`` under ``home``.

    A run of that name already complete under ``home`` is not trained again (the notebook resumes).
    ``last_cell``: code appended as a last cell (in a copy), run in the notebook's kernel with its variables.
    ``env``: environment variables for the kernel (``GAN_HOME`` is ``home``).
    """
    import nbformat

    from gan_helpers.sweep import execute_notebook

    home = Path(home).expanduser()
    source = NOTEBOOKS / f"{notebook}.ipynb"
    executed = home / "executed" / f"{notebook}-{run_name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    if last_cell is not None:
        content = nbformat.read(source, as_version=4)
        content.cells.append(nbformat.v4.new_code_cell(last_cell))
        source = executed.with_suffix(".input.ipynb")
        nbformat.write(content, source)
    started = time.perf_counter()
    with environment(GAN_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2", **env):
        execute_notebook(source, executed, {**parameters, "run_name": run_name}, cwd=NOTEBOOKS)
    return NotebookRun(home / "runs" / notebook / run_name, executed, time.perf_counter() - started)


def unpacked_cifar10(data_dir: Path) -> Path:
    """``data_dir``, or where its ``cifar10-jpg.tar.gz`` (a train/ test/ folder layout) unpacks to."""
    archive = data_dir / "cifar10-jpg.tar.gz"
    if not archive.is_file() or (data_dir / "train").is_dir():
        return data_dir
    target = Path(tempfile.gettempdir()) / "gan-notebooks-cifar10-jpg"
    if not (target / "test").is_dir():
        print(f"unpacking {archive} into {target}", file=sys.stderr)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    return target


# ---- the notebooks' own models, for step timings

def notebook_networks(name: str):
    """The notebook's definitions module and a (generator, discriminator) built by its own functions."""
    from gan_helpers.notebook_code import notebook_definitions

    config = CONFIGS[name]
    module = notebook_definitions(f"{config['notebook']}.ipynb")
    if config["kind"] == "gan":
        build_discriminator = getattr(module, config.get("build_discriminator", "build_discriminator"))
        discriminator = build_discriminator(*config.get("discriminator_args", ()))
        return module, module.build_generator(LATENT_DIM), discriminator
    size, blocks = config["params"]["image_size"], config["params"]["n_res_blocks"]
    return module, module.build_generator(size, blocks), module.build_discriminator(size)


def step_model(name: str, networks: tuple | None = None, gan_class: type | None = None, batch: int | None = None,
               gan_options: dict | None = None):
    """The notebook's model for ``CONFIGS[name]``, compiled as in the notebook, and an endless dataset of one
    constant batch: ``(model, dataset, images_per_step)``. ``networks`` = (generator, discriminator),
    ``gan_class`` (a GAN notebook's ``GAN`` or a subclass), ``batch`` and ``gan_options`` replace the
    notebook's. Layers take the dtype policy in force when this is called."""
    import keras
    import tensorflow as tf

    config = CONFIGS[name]
    module, generator, discriminator = notebook_networks(name)
    if networks is not None:
        generator, discriminator = networks
    adam = lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)  # noqa: E731
    if config["kind"] == "gan":
        batch = batch or config["batch"]
        options = config.get("gan_options", {}) if gan_options is None else gan_options
        model = (gan_class or getattr(module, config.get("gan_class", "GAN")))(
            generator, discriminator, LATENT_DIM, 0, **options)
        model.compile(**{config.get("d_optimizer", "d_optimizer"): adam(), "g_optimizer": adam()})
        batch *= getattr(model, "n_critic", 1)  # real images per step: an epoch is the same number for every model
        data = (tf.random.uniform((batch, 28, 28, 1), -1, 1), tf.zeros((batch,)))
    else:
        batch, size = 1, config["params"]["image_size"]
        model = module.CycleGAN(generator, module.build_generator(size, config["params"]["n_res_blocks"]),
                                discriminator, module.build_discriminator(size))
        model.compile(g_optimizer=adam(), d_optimizer=adam())
        data = (tf.random.uniform((1, size, size, 3), -1, 1), tf.random.uniform((1, size, size, 3), -1, 1))
    return model, tf.data.Dataset.from_tensors(data).repeat(), batch


def interleaved_rates(models: dict[str, tuple], rounds: int, steps: int) -> dict[str, list[float]]:
    """Images/s of each ``(model, dataset, images_per_step)`` in ``rounds`` rounds of ``steps``-step blocks,
    the models alternating (and the order reversed every other round, so none always goes first)."""
    from gan_helpers.performance import steps_rate

    for model, data, images_per_step in models.values():
        steps_rate(model, data, images_per_step, 3)  # graph tracing
    rates: dict[str, list[float]] = {name: [] for name in models}
    for round_index in range(rounds):
        for name in (list(models) if round_index % 2 == 0 else list(models)[::-1]):
            rates[name].append(steps_rate(*models[name], steps))
        print(f"round {round_index + 1}: " + "  ".join(f"{n} {r[-1]:8.1f}" for n, r in rates.items()), flush=True)
    return rates


def ratio_summary(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    """Median, smallest and largest of the per-round ratios ``numerator / denominator``."""
    ratios = [a / b for a, b in zip(numerator, denominator)]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
