"""Where does an MNIST notebook's training loop lose time against its step-only rate?

    python benchmarks/loop_probe.py simple_gan 300     # or dcgan; steps per variant

Fits the notebook's own GAN (throughput.py's step_model: the notebook's definitions cells) in one
process on: one constant batch; the notebook's pipeline (gh.make_dataset over 60,000 random uint8
images); the pipeline plus the run's per-step EpochMetricsLog; the pipeline with Keras' progress bar;
and with steps_per_execution=8. Prints images/s over the whole fit() and between the first and last
step. Not a saved result: a quick probe (run it on an idle machine).
"""
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(REPO))
import keras  # noqa: E402
import numpy as np  # noqa: E402

import gan_helpers as gh  # noqa: E402
from gan_helpers.runs import EpochMetricsLog  # noqa: E402
from throughput import CONFIGS, step_model  # noqa: E402

CONFIG = CONFIGS[sys.argv[1]]
STEPS, BATCH = int(sys.argv[2]), CONFIG["batch"]
images = np.random.default_rng(0).integers(0, 255, (60000, 28, 28), dtype=np.uint8)
labels = np.zeros(60000, np.int64)


class Times(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def run(name, pipeline=True, extra=(), verbose=0, spe=1):
    gan, constant, _ = step_model(CONFIG, steps_per_execution=spe)
    data = gh.make_dataset(images, labels, BATCH, seed=0) if pipeline else constant
    gan.fit(data, steps_per_epoch=4 * spe, epochs=1, verbose=0)  # graph tracing
    times = Times()
    start = time.perf_counter()
    gan.fit(data, steps_per_epoch=STEPS, epochs=1, verbose=verbose, callbacks=[times, *extra])
    total = time.perf_counter() - start
    between = (times.times[-1] - times.times[0]) / (len(times.times) - 1) / spe
    print(f"{name:40s} whole fit {STEPS * BATCH / total:7.0f} img/s   between steps {BATCH / between:7.0f} img/s",
          flush=True)


metrics_csv = os.path.join(os.environ.get("TMPDIR", "/tmp"), "loop_probe_metrics.csv")
run("constant batch", pipeline=False)
run("make_dataset")
run("make_dataset + EpochMetricsLog", extra=[EpochMetricsLog(metrics_csv, BATCH)])
run("make_dataset + progress bar (verbose=1)", verbose=1)
run("make_dataset, steps_per_execution=8", spe=8)
run("constant batch, steps_per_execution=8", pipeline=False, spe=8)
