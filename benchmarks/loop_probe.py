"""Where does an MNIST notebook's training loop lose time against its step-only rate?

    python benchmarks/loop_probe.py simple_gan_mnist 300     # or dcgan_mnist; steps per variant

Fits the notebook's own GAN (its definitions cells) in one process on: one constant batch; the
notebook's pipeline (gh.make_dataset over 60,000 random uint8 images); the pipeline plus the run's
per-step EpochMetricsLog; the pipeline with Keras' progress bar; and with steps_per_execution=8.
Prints images/s over the whole fit() and between the first and last step. Not a saved result:
a quick probe (run it on an idle machine).
"""
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import gan_helpers as gh  # noqa: E402
from gan_helpers.runs import EpochMetricsLog  # noqa: E402
from notebook_code import notebook_definitions  # noqa: E402

m = notebook_definitions(sys.argv[1] + ".ipynb")
STEPS, BATCH = int(sys.argv[2]), 64
images = np.random.default_rng(0).integers(0, 255, (60000, 28, 28), dtype=np.uint8)
labels = np.zeros(60000, np.int64)

class Times(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.t = getattr(self, "t", [])
        self.t.append(time.perf_counter())

def build(spe=1):
    g = m.build_generator(100)
    d = m.build_discriminator(0.0) if "dcgan" in sys.argv[1] else m.build_discriminator()
    kw = dict(ema_decay=0.999) if "dcgan" in sys.argv[1] else {}
    gan = m.GAN(g, d, 100, 0, **kw)
    adam = lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)  # noqa: E731
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), steps_per_execution=spe)
    return gan

def run(name, data, extra=(), verbose=0, spe=1):
    gan = build(spe)
    gan.fit(data, steps_per_epoch=4 * spe, epochs=1, verbose=0)
    t = Times()
    start = time.perf_counter()
    gan.fit(data, steps_per_epoch=STEPS, epochs=1, verbose=verbose, callbacks=[t, *extra])
    total = time.perf_counter() - start
    between = (t.t[-1] - t.t[0]) / (len(t.t) - 1) / spe
    print(f"{name:40s} whole fit {STEPS * BATCH / total:7.0f} img/s   between steps {BATCH / between:7.0f} img/s", flush=True)

const = tf.data.Dataset.from_tensors((tf.random.uniform((BATCH, 28, 28, 1), -1, 1), tf.zeros((BATCH,)))).repeat()
pipe = lambda: gh.make_dataset(images, labels, BATCH, seed=0)  # noqa: E731
run("constant batch", const)
run("make_dataset", pipe())
run("make_dataset + EpochMetricsLog", pipe(), [EpochMetricsLog(os.path.join(os.environ.get("TMPDIR", "/tmp"), "loop_probe_metrics.csv"), BATCH)])
run("make_dataset + progress bar (verbose=1)", pipe(), verbose=1)
run("make_dataset, steps_per_execution=8", pipe(), spe=8)
run("constant batch, steps_per_execution=8", const, spe=8)
