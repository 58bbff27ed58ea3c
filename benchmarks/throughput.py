"""Training speed of every notebook, on the plain float32 path and on its fast paths, side by side.

    python benchmarks/throughput.py [--only simple_gan dcgan cyclegan64 cyclegan256] [--paths ...] [--rounds 5]
                                    [--mnist-dir ../shared/data/mnist] [--monet-dir ../shared/data/monet2photo]

Each configuration runs its notebook through papermill in a fresh kernel with a step budget
(a few epochs of 3 to 400 steps, no evaluation during training but the last epoch's) and reads the speed back from
the run's metrics.csv: the first epoch holds the graph tracing (warm-up), the later ones give the
steady-state images/s and seconds per step. Per configuration it reports the kernel's peak RSS,
the FLOPs of one training step (counted from the notebook's own networks), and the fraction of
this machine's peak that the step reaches, the peak being the faster of a float32 matrix product
and a 3×3 convolution measured in the same run, and the training loop's rate against the
step-only rate. That ratio is measured inside the notebook's own kernel after its training cell
(a cell this script adds to its copy of the notebook): rounds of one more epoch of the notebook's
loop (its pipeline, its callbacks, its progress bar) alternate with as many steps of the same
compiled model on one constant batch (no input pipeline, no callbacks), both timed between the
first and the last step, so the machine's drift (up to 2x within minutes here) hits both alike.
Epochs that ran a quality evaluation (the notebook's last) are left out of the steady-state rate.

Paths compared, each against the plain path of the same notebook measured in the same run:
- ``float32``: TensorFlow's defaults (``TF_ENABLE_ONEDNN_OPTS=0``, ``precision=float32``, no XLA);
- ``float32 + oneDNN``: what the notebooks do by default on a CPU;
- ``+ XLA``: ``jit_compile=on``;
- ``mixed_bfloat16`` (with oneDNN), without and with XLA: only on CPUs with native bf16 (elsewhere it is
  emulated and many times slower).
Writes benchmarks/results/throughput.json (rows of the configurations not named in --only are
kept from the last result) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULT = REPO / "benchmarks" / "results" / "throughput.json"
sys.path.insert(0, str(REPO / "tests"))  # notebook_code: the notebooks' own definition cells
sys.path.insert(0, str(REPO))

from gan_helpers.performance import cpu_has_native_bf16  # noqa: E402
from gan_helpers.runs import read_metrics  # noqa: E402

# What each notebook runs per step, as multiples of one forward pass per image of each network
# (a backward pass costs about twice its forward pass: gradients for inputs and for weights).
#   GAN step: D on real and fake (2 fwd + 2 bwd), G forward twice, D forward + input gradient, G backward.
#   CycleGAN step: 6 generator passes with backward (18), D in the generator loss (2 fwd + 2 input
#   gradients = 4), D on real and pooled fake for both discriminators (4 fwd + 4 bwd = 12).
PASSES = {"gan": {"generator": 4, "discriminator": 8}, "cyclegan": {"generator": 18, "discriminator": 16}}

ALL_PATHS = ["float32", "float32 + oneDNN", "float32 + oneDNN + XLA", "mixed_bfloat16", "mixed_bfloat16 + XLA"]

CONFIGS = {
    "simple_gan": dict(notebook="simple_gan_mnist", kind="gan", batch=64, steps=400, epochs=4),
    "dcgan": dict(notebook="dcgan_mnist", kind="gan", batch=64, steps=200, epochs=4,
                  gan_options=dict(ema_decay=0.999)),  # the notebook's default: the averaged generator on
    "cyclegan64": dict(notebook="cyclegan_monet2photo", kind="cyclegan", steps=12, epochs=3,
                       params=dict(image_size=64, n_res_blocks=6)),
    "cyclegan256": dict(notebook="cyclegan_monet2photo", kind="cyclegan", steps=3, epochs=3,
                        params=dict(image_size=256, n_res_blocks=9)),
}


def forward_flops(model) -> float:
    """FLOPs (2 per multiply-add) of one forward pass of one image through ``model``'s Dense and conv layers."""
    import numpy as np
    from keras import layers

    total = 0.0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, layers.Conv2DTranspose):
            in_h, in_w, in_c = layer.input.shape[1:]
            total += 2 * in_h * in_w * in_c * np.prod(layer.kernel_size) * layer.filters
        elif isinstance(layer, layers.Conv2D):
            out_h, out_w, out_c = layer.output.shape[1:]
            total += 2 * out_h * out_w * out_c * np.prod(layer.kernel_size) * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            positions = np.prod(layer.input.shape[1:-1]) if len(layer.input.shape) > 2 else 1
            total += 2 * positions * layer.input.shape[-1] * layer.units
    return float(total)


def build_networks(config: dict):
    """The notebook's definitions module and a (generator, discriminator) built by its own functions."""
    from notebook_code import notebook_definitions

    module = notebook_definitions(f"{config['notebook']}.ipynb")
    if config["kind"] == "gan":
        discriminator = (module.build_discriminator(0.0) if config["notebook"] == "dcgan_mnist"
                         else module.build_discriminator())
        return module, module.build_generator(100), discriminator
    size, blocks = config["params"]["image_size"], config["params"]["n_res_blocks"]
    return module, module.build_generator(size, blocks), module.build_discriminator(size)


def flops_per_image(config: dict) -> float:
    """Training FLOPs per image (per image pair for the CycleGAN) of the notebook's networks at this configuration."""
    _, generator, discriminator = build_networks(config)
    passes = PASSES[config["kind"]]
    return passes["generator"] * forward_flops(generator) + passes["discriminator"] * forward_flops(discriminator)


def machine_peak() -> dict:
    """GFLOP/s of a float32 4096² matrix product, of a 3×3, 256→256 float32 convolution at 64×64 (batch 4)
    and of a bfloat16 4096² matrix product (emulated, so slow, on CPUs without native bf16)."""
    import tensorflow as tf

    def rate(fn, flops, repeats=5):
        fn()  # warm-up
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - started)
        return flops / best / 1e9

    a = tf.random.normal((4096, 4096))
    a16 = tf.cast(a, tf.bfloat16)
    x, k = tf.random.normal((4, 64, 64, 256)), tf.random.normal((3, 3, 256, 256))
    matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, a)))
    matmul16 = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a16, a16), tf.float32)))
    conv = tf.function(lambda: tf.reduce_sum(tf.nn.conv2d(x, k, 1, "SAME")))
    return {"matmul_gflops": rate(lambda: matmul().numpy(), 2 * 4096 ** 3),
            "conv_gflops": rate(lambda: conv().numpy(), 2 * 4 * 64 * 64 * 256 * 9 * 256),
            "bf16_matmul_gflops": rate(lambda: matmul16().numpy(), 2 * 4096 ** 3)}


def small_monet_folder(source: Path, target: Path, train: int = 12, test: int = 2) -> Path:
    """A few real images per split, so the end of the notebook (translating the test sets) stays short."""
    for split, count in (("trainA", train), ("trainB", train), ("testA", test), ("testB", test)):
        (target / split).mkdir(parents=True, exist_ok=True)
        for path in sorted((source / split).iterdir())[:count]:
            shutil.copy(path, target / split / path.name)
    return target


RUNNER = """
import resource, sys, json, papermill as pm
notebook, output, cwd, parameters = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
pm.execute_notebook(notebook, output, parameters=parameters, cwd=cwd, progress_bar=False)
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

# Added after the notebook's training cell (in a copy): the loop against the step-only rate, in rounds.
LOOP_VS_STEP_ONLY_CELL = """
import json as _json, sys as _sys
_sys.path.insert(0, {benchmarks!r})
from throughput import steps_rate as _steps_rate

_constant = tf.data.Dataset.from_tensors(next(iter(train_data))).repeat()
_rounds = []
for _round in range({rounds}):  # steps per second (batch=1): as many steps of the loop, then of the bare step
    _loop = _steps_rate(gan, train_data, 1, steps_per_epoch - 1, callbacks=callbacks, verbose="auto",
                        initial_epoch=1000 + _round)
    _step_only = _steps_rate(gan, _constant, 1, steps_per_epoch - 1)
    _rounds.append({{"loop_steps_per_sec": _loop, "step_only_steps_per_sec": _step_only}})
open({result_path!r}, "w").write(_json.dumps(_rounds))
"""


def notebook_with_loop_probe(notebook: Path, target: Path, result_path: Path, rounds: int) -> Path:
    """A copy of ``notebook`` with LOOP_VS_STEP_ONLY_CELL after its training cell (the one calling ``gan.fit``)."""
    content = json.loads(notebook.read_text())
    cells = content["cells"]
    index = next(i for i, cell in enumerate(cells) if "gan.fit(" in "".join(cell["source"]))
    code = LOOP_VS_STEP_ONLY_CELL.format(rounds=rounds, result_path=str(result_path), benchmarks=str(Path(__file__).parent))
    cells.insert(index + 1, {"cell_type": "code", "execution_count": None, "id": "throughput-loop-probe",
                             "metadata": {}, "outputs": [], "source": code.strip().splitlines(keepends=True)})
    target.write_text(json.dumps(content))
    return target


def run_config(name: str, config: dict, path: str, home: Path, data_dir: Path, rounds: int) -> dict:
    """Run one notebook at one path in a fresh kernel; return its speed figures."""
    env = {**os.environ, "GAN_HOME": str(home), "GAN_SMOKE": "0",
           "TF_ENABLE_ONEDNN_OPTS": "0" if path == "float32" else "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    parameters = {"data_dir": str(data_dir), "run_name": f"throughput-{name}-{path}".replace(" ", "").replace("+", "-"),
                  "precision": path_precision(path),
                  "jit_compile": "on" if "XLA" in path else "off", **config.get("params", {})}
    if config["kind"] == "gan":
        batch = config["batch"]  # the notebook's default batch_size
        parameters |= dict(epochs=config["epochs"], max_images=batch * config["steps"], eval_every=1000,
                           sample_every=1000)
        images_per_step = batch
    else:
        parameters |= dict(epochs=config["epochs"] - 1, decay_epochs=1, images_per_epoch=config["steps"])
        images_per_step = 1
    executed = home / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    probe_result = executed / f"{parameters['run_name']}-loop.json"
    notebook = notebook_with_loop_probe(REPO / "notebooks" / f"{config['notebook']}.ipynb",
                                        executed / f"{parameters['run_name']}-input.ipynb", probe_result, rounds)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUNNER, str(notebook), str(executed / f"{parameters['run_name']}.ipynb"),
                           str(REPO / "notebooks"), json.dumps(parameters)],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{name} ({path}) failed:\n{done.stderr[-3000:]}")
    wall = time.perf_counter() - started
    peak_kb = int(done.stdout.split("PEAK_RSS_KB")[-1].split()[0])
    rows = read_metrics(home / "runs" / config["notebook"] / parameters["run_name"] / "metrics.csv")
    # The notebook's own epochs after the first (graph tracing) that ran no quality evaluation.
    steady = [r["seconds"] / config["steps"] for r in rows[1:config["epochs"]] if "q_classifier_score" not in r]
    step_seconds = statistics.median(steady)
    probe = json.loads(probe_result.read_text())
    ratios = [r["loop_steps_per_sec"] / r["step_only_steps_per_sec"] for r in probe]
    return {"config": name, "path": path, "steps_per_epoch": config["steps"], "epochs": config["epochs"],
            "seconds_per_step": step_seconds, "images_per_sec": images_per_step / step_seconds,
            "warmup_seconds": rows[0]["seconds"] - step_seconds * config["steps"],
            "peak_rss_gb": peak_kb / 1024 ** 2, "notebook_wall_seconds": wall,
            "step_only_images_per_sec": images_per_step * statistics.median(r["step_only_steps_per_sec"] for r in probe),
            "loop_images_per_sec": images_per_step * statistics.median(r["loop_steps_per_sec"] for r in probe),
            "loop_vs_step_only": statistics.median(ratios), "loop_vs_step_only_range": [min(ratios), max(ratios)],
            "loop_rounds": probe}


def path_precision(path: str) -> str:
    """The dtype policy a speed path trains in."""
    return "mixed_bfloat16" if path.startswith("mixed_bfloat16") else "float32"


def step_model(config: dict, xla: bool = False, networks: tuple | None = None, steps_per_execution: int = 1):
    """The notebook's model for ``config`` (its own networks, or ``networks`` = (generator, discriminator)),
    compiled as in the notebook, and an endless dataset of one constant batch; returns (model, dataset, batch).
    Layers take the dtype policy in force when this is called."""
    import keras
    import tensorflow as tf

    module, generator, discriminator = build_networks(config)
    if networks is not None:
        generator, discriminator = networks
    adam = lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)  # noqa: E731
    speed = dict(jit_compile=xla, steps_per_execution=steps_per_execution)
    if config["kind"] == "gan":
        batch = config["batch"]
        model = module.GAN(generator, discriminator, 100, 0, **config.get("gan_options", {}))
        model.compile(d_optimizer=adam(), g_optimizer=adam(), **speed)
        data = (tf.random.uniform((batch, 28, 28, 1), -1, 1), tf.zeros((batch,)))
    else:
        batch, size, blocks = 1, config["params"]["image_size"], config["params"]["n_res_blocks"]
        model = module.CycleGAN(generator, module.build_generator(size, blocks),
                                discriminator, module.build_discriminator(size))
        model.compile(g_optimizer=adam(), d_optimizer=adam(), **speed)
        data = (tf.random.uniform((1, size, size, 3), -1, 1), tf.random.uniform((1, size, size, 3), -1, 1))
    return model, tf.data.Dataset.from_tensors(data).repeat(), batch


def steps_rate(model, data, batch: int, steps: int, callbacks=(), verbose=0, initial_epoch: int = 0) -> float:
    """Images/s of ``steps`` train steps, timed from the end of the first to the end of the last (whole
    ``fit()`` calls here sometimes add waits of seconds at their start or end). ``steps + 1`` steps run as
    one epoch numbered ``initial_epoch + 1``."""
    import keras

    class StepTimes(keras.callbacks.Callback):
        times = []

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter())

    model.fit(data, steps_per_epoch=steps + 1, epochs=initial_epoch + 1, initial_epoch=initial_epoch, verbose=verbose,
              callbacks=[*callbacks, StepTimes()])
    return batch * steps / (StepTimes.times[-1] - StepTimes.times[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--paths", nargs="+", choices=ALL_PATHS,
                        help="default: all of them (the bf16 ones only on a CPU with native bf16); "
                             "'float32' is always measured too, as the reference")
    parser.add_argument("--mnist-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--monet-dir", default=str(REPO.parent / "shared" / "data" / "monet2photo"))
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of loop epoch + step-only block in each notebook's kernel (default 5)")
    parser.add_argument("--report", action="store_true", help="only print the table of the last result")
    args = parser.parse_args()
    if args.report:
        print_table(json.loads(RESULT.read_text()))
        return

    native_bf16 = cpu_has_native_bf16()
    paths = args.paths or [p for p in ALL_PATHS if native_bf16 or not p.startswith("mixed_bfloat16")]
    paths = ["float32"] + [p for p in paths if p != "float32"]
    if not native_bf16:
        print("mixed_bfloat16 not measured by default: this CPU has no native bf16 (no avx512_bf16 / amx_bf16 "
              "flag), so TensorFlow emulates it, many times slower than float32.")

    peak = machine_peak()
    print(f"machine: float32 matmul {peak['matmul_gflops']:.0f} GFLOP/s, 3x3 conv {peak['conv_gflops']:.0f} GFLOP/s, "
          f"bfloat16 matmul {peak['bf16_matmul_gflops']:.0f} GFLOP/s")
    # Rows of configurations not measured now are kept from the last result.
    kept = [r for r in json.loads(RESULT.read_text())["results"] if r["config"] not in args.only] if RESULT.exists() else []
    results = []
    with tempfile.TemporaryDirectory(prefix="throughput-") as scratch:
        home = Path(scratch)
        monet = small_monet_folder(Path(args.monet_dir), home / "monet2photo") if any(
            CONFIGS[c]["kind"] == "cyclegan" for c in args.only) else None
        for name in args.only:
            config = CONFIGS[name]
            flops = flops_per_image(config)
            data_dir = Path(args.mnist_dir) if config["kind"] == "gan" else monet
            for path in paths:
                row = run_config(name, config, path, home, data_dir, args.rounds)
                row["gflop_per_image"] = flops / 1e9
                row["peak_gflops"] = (peak["bf16_matmul_gflops"] if path_precision(path) == "mixed_bfloat16"
                                      else max(peak["matmul_gflops"], peak["conv_gflops"]))
                results.append(row)
                print(f"{name:12s} {path:24s} {row['images_per_sec']:8.1f} images/s  "
                      f"{row['seconds_per_step']:.3f} s/step  warm-up {row['warmup_seconds']:.0f} s  "
                      f"peak RSS {row['peak_rss_gb']:.2f} GB  loop/step-only {row['loop_vs_step_only']:.2f}", flush=True)
    results = kept + results
    for row in results:
        plain = next(r for r in results if r["config"] == row["config"] and r["path"] == "float32")
        row["speedup_vs_float32"] = row["images_per_sec"] / plain["images_per_sec"]

    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps({"machine": peak, "results": results}, indent=2))
    print_table({"machine": peak, "results": results})
    print(f"\nwritten {RESULT}")


def print_table(data: dict) -> None:
    """The markdown table of a result (as written to throughput.json)."""
    peak = data["machine"]
    print(f"\nmachine (last run): float32 matmul {peak['matmul_gflops']:.0f} GFLOP/s, 3×3 conv {peak['conv_gflops']:.0f} "
          f"GFLOP/s, bfloat16 matmul {peak.get('bf16_matmul_gflops', float('nan')):.0f} GFLOP/s (peak below: the "
          "faster float32 one for float32 paths, the bfloat16 matmul for bfloat16 paths, measured in the row's run)\n")
    print("| notebook | path | images/s | s/step | vs float32 | loop / step-only | warm-up s | peak RSS GB "
          "| GFLOP/image | GFLOP/s | % of peak |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in data["results"]:
        achieved = r["gflop_per_image"] * r["images_per_sec"]
        best = r.get("peak_gflops", max(peak["matmul_gflops"], peak["conv_gflops"]))
        print(f"| {r['config']} | {r['path']} | {r['images_per_sec']:.1f} | {r['seconds_per_step']:.3f} | "
              f"{r['speedup_vs_float32']:.2f}× | {r['loop_vs_step_only']:.2f} | {r['warmup_seconds']:.0f} | "
              f"{r['peak_rss_gb']:.2f} | {r['gflop_per_image']:.3f} | {achieved:.0f} | {100 * achieved / best:.0f}% |")


if __name__ == "__main__":
    main()
