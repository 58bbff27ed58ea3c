"""Training speed of every notebook, on the plain float32 path and on its fast paths, side by side.

    python benchmarks/throughput.py [--only simple_gan dcgan cyclegan64 cyclegan256] [--paths ...] [--rounds 5]
                                    [--mnist-dir ../shared/data/mnist] [--monet-dir ../shared/data/monet2photo]

Each configuration runs its notebook (harness.run_notebook, a fresh kernel) with a step budget: a few
epochs of ``STEPS`` steps, no evaluation during training but the last epoch's. From the run's metrics.csv:
the first epoch holds the graph tracing (warm-up), the later ones without an evaluation give the
steady-state images/s and seconds per step. A last cell in the notebook's kernel then compares the
training loop with the bare step (``gh.performance.loop_vs_step_only``: rounds of one more epoch of the
notebook's loop, its pipeline, callbacks and progress bar, alternating with as many steps of the same
compiled model on one constant batch) and records the kernel's peak RSS. Per configuration it also
reports the FLOPs of one training step (counted on the notebook's own networks) and the fraction of
this machine's peak reached, the peak measured in the same run.

Paths, each against the plain path of the same notebook in the same run:
- ``float32``: TensorFlow's defaults (``TF_ENABLE_ONEDNN_OPTS=0``, ``precision=float32``, no XLA);
- ``float32 + oneDNN``: what the notebooks do on a CPU without native bf16; ``+ XLA``: ``jit_compile=on``;
- ``mixed_bfloat16`` (with oneDNN), without and with XLA: by default only on CPUs with native bf16.
Writes benchmarks/results/throughput.json (rows of configurations not in --only are kept from the last result).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import harness

RESULT = harness.RESULTS / "throughput.json"
ALL_PATHS = ["float32", "float32 + oneDNN", "float32 + oneDNN + XLA", "mixed_bfloat16", "mixed_bfloat16 + XLA"]
STEPS = {"simple_gan": 400, "dcgan": 200, "cyclegan64": 12, "cyclegan256": 3}  # per epoch
EPOCHS = {"simple_gan": 4, "dcgan": 4, "cyclegan64": 3, "cyclegan256": 3}
ROUNDS = 5  # loop / step-only rounds in each kernel

# Forward passes per image of each network in one train step (a backward pass costs about two forward):
#   GAN step: D on real and fake (2 fwd + 2 bwd), G forward twice, D forward + input gradient, G backward.
#   CycleGAN step: 6 generator passes with backward (18), D in the generator loss (2 fwd + 2 input
#   gradients = 4), D on real and pooled fake for both discriminators (4 fwd + 4 bwd = 12).
PASSES = {"gan": {"generator": 4, "discriminator": 8}, "cyclegan": {"generator": 18, "discriminator": 16}}

# The last cell added to the notebook: its own loop against its bare step, and the kernel's peak memory.
LAST_CELL = """import json, resource
rounds = gh.performance.loop_vs_step_only(gan, training_data(0, 0), callbacks, steps_per_epoch - 1, {rounds})
peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
open({out!r}, "w").write(json.dumps({{"rounds": rounds, "peak_rss_kb": peak_rss_kb}}))"""


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


def flops_per_image(name: str) -> float:
    """Training FLOPs per image (per image pair for the CycleGAN) of the notebook's networks."""
    _, generator, discriminator = harness.notebook_networks(name)
    passes = PASSES[harness.CONFIGS[name]["kind"]]
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


def precision_of(path: str) -> str:
    """The dtype policy a speed path trains in."""
    return "mixed_bfloat16" if path.startswith("mixed_bfloat16") else "float32"


def measure(name: str, path: str, home: Path, data_dir: Path, rounds: int) -> dict:
    """Run one notebook on one path in a fresh kernel; return its speed figures."""
    config, steps, epochs = harness.CONFIGS[name], STEPS[name], EPOCHS[name]
    parameters = {"data_dir": str(data_dir), "precision": precision_of(path),
                  "jit_compile": "on" if "XLA" in path else "off", **config.get("params", {})}
    if config["kind"] == "gan":
        parameters |= dict(epochs=epochs, max_images=config["batch"] * steps, eval_every=1000, sample_every=1000)
    else:
        parameters |= dict(epochs=epochs - 1, decay_epochs=1, images_per_epoch=steps)
    run_name = f"throughput-{name}-{path}".replace(" + ", "-")
    probe = home / f"{run_name}-loop.json"
    run = harness.run_notebook(config["notebook"], parameters, home, run_name,
                               last_cell=LAST_CELL.format(rounds=rounds, out=str(probe)),
                               TF_ENABLE_ONEDNN_OPTS="0" if path == "float32" else "1")
    rows = run.metrics()
    steady = [r["seconds"] / steps for r in rows[1:epochs] if "q_classifier_score" not in r]  # no evaluation
    step_seconds = statistics.median(steady)
    measured = json.loads(probe.read_text())
    loop = [r["loop_steps_per_sec"] for r in measured["rounds"]]
    step_only = [r["step_only_steps_per_sec"] for r in measured["rounds"]]
    ratio = harness.ratio_summary(loop, step_only)
    return {"config": name, "path": path, "steps_per_epoch": steps, "epochs": epochs,
            "seconds_per_step": step_seconds, "images_per_sec": config["batch"] / step_seconds,
            "warmup_seconds": rows[0]["seconds"] - step_seconds * steps,
            "peak_rss_gb": measured["peak_rss_kb"] / 1024 ** 2, "notebook_wall_seconds": run.wall_seconds,
            "loop_images_per_sec": config["batch"] * statistics.median(loop),
            "step_only_images_per_sec": config["batch"] * statistics.median(step_only),
            "loop_vs_step_only": ratio["median"], "loop_vs_step_only_range": [ratio["min"], ratio["max"]],
            "loop_rounds": measured["rounds"]}


def main() -> None:
    from gan_helpers.performance import cpu_has_native_bf16

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(STEPS), default=list(STEPS))
    parser.add_argument("--paths", nargs="+", choices=ALL_PATHS,
                        help="default: all (the bf16 ones only on a CPU with native bf16); float32 always runs too")
    parser.add_argument("--mnist-dir", default=str(harness.SHARED_DATA / "mnist"))
    parser.add_argument("--monet-dir", default=str(harness.SHARED_DATA / "monet2photo"))
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="loop / step-only rounds in each kernel")
    args = parser.parse_args()

    native_bf16 = cpu_has_native_bf16()
    paths = args.paths or [p for p in ALL_PATHS if native_bf16 or precision_of(p) == "float32"]
    paths = ["float32"] + [p for p in paths if p != "float32"]
    peak = machine_peak()
    print(f"peak: float32 matmul {peak['matmul_gflops']:.0f} GFLOP/s, 3x3 conv {peak['conv_gflops']:.0f}, "
          f"bfloat16 matmul {peak['bf16_matmul_gflops']:.0f}")
    kept = ([r for r in json.loads(RESULT.read_text())["results"] if r["config"] not in args.only]
            if RESULT.exists() else [])
    results = []
    with tempfile.TemporaryDirectory(prefix="throughput-") as scratch:
        home = Path(scratch)
        monet = (small_monet_folder(Path(args.monet_dir), home / "monet2photo")
                 if any(harness.CONFIGS[c]["kind"] == "cyclegan" for c in args.only) else None)
        for name in args.only:
            flops = flops_per_image(name)
            data_dir = Path(args.mnist_dir) if harness.CONFIGS[name]["kind"] == "gan" else monet
            for path in paths:
                row = measure(name, path, home, data_dir, args.rounds)
                row |= {"gflop_per_image": flops / 1e9, "machine": harness.machine(), "peak": peak,
                        "peak_gflops": (peak["bf16_matmul_gflops"] if precision_of(path) == "mixed_bfloat16"
                                        else max(peak["matmul_gflops"], peak["conv_gflops"]))}
                results.append(row)
                print(f"{name:12s} {path:24s} {row['images_per_sec']:8.1f} images/s  peak RSS "
                      f"{row['peak_rss_gb']:.2f} GB  loop/step-only {row['loop_vs_step_only']:.2f}", flush=True)
    results = kept + results
    for row in results:
        plain = next(r for r in results if r["config"] == row["config"] and r["path"] == "float32")
        row["speedup_vs_float32"] = row["images_per_sec"] / plain["images_per_sec"]
    harness.write_result(RESULT, {"results": results})
    print("tables: python benchmarks/report.py")


if __name__ == "__main__":
    main()
