"""Training on several devices with ``tf.distribute``: which strategy, and a train step's maths across replicas.

`choose_strategy` turns a notebook's ``strategy`` parameter into a ``tf.distribute.Strategy``. Build the
networks, the GAN and its optimizers inside ``strategy.scope()`` and ``fit()`` does the rest: it splits
every batch of the dataset across the replicas (``batch_size`` is the *global* batch) and runs the
train step on each, and the optimizers **sum** the replicas' gradients before applying them.

A hand-written train step then needs three things to compute on N replicas the update one device
computes on the whole batch:

- `replica_loss`: each replica's loss divided by N, exactly what Keras does to its built-in losses
  (``keras.losses.Loss`` with reduction ``sum_over_batch_size``), so that the summed gradients are
  those of the mean over the global batch. Log the loss *before* this scaling.
- `global_batch` and `replica_share`: random numbers (noise, labels, interpolation weights) drawn for
  the whole global batch from the model's seeded generator, identical on every replica, of which each
  replica keeps its own rows. One device draws the very same numbers, so the runs agree, and a
  checkpoint's random state means the same whatever the replica count.
- `all_replicas`: the rows of every replica, for state one device updates from the whole batch.
- `replicas`: how many there are, e.g. for ``BatchNormalization(synchronized=replicas() > 1)``, whose
  statistics are then those of the global batch, as on one device.

With one replica (the default strategy, one GPU, a CPU) all three change nothing.
"""

from __future__ import annotations

import glob
import os

import tensorflow as tf

STRATEGIES = ("auto", "mirrored", "tpu", "none")
CPU_REPLICAS_VARIABLE = "GAN_CPU_REPLICAS"  # split the CPU into this many logical devices (tests, trying it out)


def tpu_attached() -> bool:
    """Whether this machine has a TPU (a Colab or Kaggle TPU runtime), without connecting to it."""
    if any(os.environ.get(name) for name in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE")):
        return True
    return bool(glob.glob("/dev/accel*") or glob.glob("/dev/vfio/[0-9]*"))


def split_cpu(replicas: int) -> list[str]:
    """Split the CPU into ``replicas`` logical devices (before TensorFlow starts its runtime) and name them."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    except RuntimeError:  # the runtime already started: fine if it was split the same way
        pass
    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(devices) != replicas:
        raise RuntimeError(f"{CPU_REPLICAS_VARIABLE}={replicas}, but TensorFlow already started with {len(devices)} "
                           "CPU device(s): the CPU can only be split before any TensorFlow operation runs. "
                           "Restart the kernel (Runtime > Restart session) and run the notebook from the top.")
    return devices


def choose_strategy(name: str = "auto", batch_size: int | None = None, quiet: bool = False) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy for the notebook's ``strategy`` parameter, printed with its replicas.

    - ``"auto"``: a TPU when one is attached (``TPUStrategy``), ``MirroredStrategy`` with two or more GPUs,
      else TensorFlow's default strategy (one device);
    - ``"mirrored"``: ``MirroredStrategy`` over every GPU (on a machine without GPUs: over the CPU, split
      into ``$GAN_CPU_REPLICAS`` logical devices when that is set, which is how the tests run it);
    - ``"tpu"``: ``TPUStrategy`` (an error if no TPU is attached);
    - ``"none"``: the default strategy.

    ``batch_size`` (the global batch) must split evenly across the replicas. Call it before any other
    TensorFlow work (a TPU and a split CPU must be set up first).
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy={name!r}: choose one of {STRATEGIES}.")
    gpus = tf.config.list_physical_devices("GPU")
    if name == "auto":
        name = "tpu" if tpu_attached() else "mirrored" if len(gpus) >= 2 else "none"
    if name == "tpu":
        strategy = _tpu_strategy()
    elif name == "mirrored":
        cpu_replicas = int(os.environ.get(CPU_REPLICAS_VARIABLE) or 0)
        devices = None if gpus else split_cpu(cpu_replicas) if cpu_replicas > 1 else ["/cpu:0"]
        strategy = tf.distribute.MirroredStrategy(devices)
    else:
        strategy = tf.distribute.get_strategy()
    count = strategy.num_replicas_in_sync
    if batch_size is not None and batch_size % count:
        raise ValueError(f"batch_size={batch_size} does not split evenly across the {count} replicas of "
                         f"strategy={name!r}: use a multiple of {count} (e.g. {count * -(-batch_size // count)}), "
                         "or strategy = 'none' for one device.")
    if not quiet:
        kind = type(strategy).__name__
        kind = "default (one device)" if kind.startswith("_Default") else kind
        share = "" if count == 1 else " · batch_size is the global batch, " + (
            f"{batch_size // count} per replica" if batch_size else f"split {count} ways")
        print(f"strategy: {kind} · {count} replica(s){share}")
    return strategy


def _tpu_strategy() -> tf.distribute.Strategy:
    advice = "In Colab choose Runtime > Change runtime type > TPU, or set strategy = 'auto'."
    if not tpu_attached():
        raise RuntimeError(f"strategy='tpu', but this machine has no TPU. {advice}")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="" if "COLAB_TPU_ADDR" in os.environ else "local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise RuntimeError(f"strategy='tpu', but the TPU could not be reached ({error}). {advice}") from error
    return tf.distribute.TPUStrategy(resolver)


def usable_steps_per_execution(requested: int, strategy: tf.distribute.Strategy) -> int:
    """``requested``, or 1 where Keras cannot run several steps per execution: under ``MirroredStrategy``
    with two or more replicas, Keras 3.15's multi-step loop fails ("You must feed a value for placeholder
    tensor", also for a plain ``Sequential`` with a built-in loss; TensorFlow 2.21). Says so when it changes it."""
    if requested > 1 and strategy.num_replicas_in_sync > 1 and isinstance(strategy, tf.distribute.MirroredStrategy):
        print(f"steps_per_execution={requested} does not work under MirroredStrategy in this Keras version: "
              "training with 1 step per execution.")
        return 1
    return requested


def replicas() -> int:
    """How many replicas the current strategy trains on (1 outside any strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def global_batch(replica_batch):
    """The whole batch's size, from one replica's share of it (inside a train step)."""
    return replica_batch * replicas()


def replica_share(values):
    """This replica's rows of ``values``, which were drawn for the global batch (the same on every replica).

    Replica i keeps rows ``i * b`` to ``(i + 1) * b``, the rows ``fit()`` gives it of each data batch.
    """
    context = tf.distribute.get_replica_context()
    count = replicas()
    if context is None or count == 1:
        return values
    size = tf.shape(values)[0] // count
    start = tf.cast(context.replica_id_in_sync_group, size.dtype) * size
    return values[start:start + size]


def all_replicas(values):
    """Every replica's ``values`` joined in replica order: the global batch's rows, on each replica.

    For state that one device would update from the whole batch (e.g. the CycleGAN's image pool):
    update it from ``all_replicas(x)`` the same way on every replica, then keep `replica_share`.
    """
    context = tf.distribute.get_replica_context()
    if context is None or replicas() == 1:
        return values
    gathered = context.all_gather(values, axis=0)
    if values.shape[0] is not None:  # keep a known batch size known
        gathered = tf.ensure_shape(gathered, [values.shape[0] * replicas(), *values.shape[1:]])
    return gathered


def replica_loss(loss):
    """One replica's loss scaled for the global batch: divided by the number of replicas, as Keras scales its
    built-in losses, so that the gradients the optimizer sums over replicas are those of the global mean."""
    count = replicas()
    return loss if count == 1 else loss * tf.cast(1.0 / count, loss.dtype)
