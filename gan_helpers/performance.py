"""Speed switches: numeric precision and XLA compilation, chosen for the device.

A notebook passes its ``precision`` and ``jit_compile`` parameters through these functions
before it builds its models:

- ``choose_precision("auto")`` picks the Keras dtype policy this device runs fastest without
  hurting quality: ``mixed_bfloat16`` on GPUs of compute capability 8.0 and newer (A100, L4,
  H100) and on CPUs with native bf16 instructions (AVX-512 BF16 or AMX), ``mixed_float16`` on
  other tensor-core GPUs (T4, V100), ``float32`` elsewhere. On a CPU without native bf16,
  bf16 is emulated and many times slower, so ``auto`` never picks it there.
- ``set_precision(...)`` applies the choice as the global policy; layers built afterwards
  compute in it. The notebooks keep each network's last layer and the losses in float32.
- ``with_loss_scaling(optimizer, policy)`` wraps an optimizer in a ``LossScaleOptimizer``
  under ``mixed_float16``, whose narrow range would otherwise let small gradients underflow;
  a train step then multiplies its loss by ``optimizer.scale_loss`` (a no-op otherwise).
- ``choose_jit_compile("auto")`` is on with a GPU and off on a CPU, where XLA measured slower.
- ``float32_policy()``: a ``with`` block whose layers are built in float32 whatever the global
  policy; the measuring networks (the quality classifiers, InceptionV3) are built in one, so a
  metric means the same in every training precision.
- ``steps_rate(model, data, images_per_step, steps)`` measures a compiled model's training speed
  (images/s between its first and last step); ``loop_vs_step_only(...)`` compares a notebook's
  training loop (pipeline, callbacks, progress line) with its bare step, in the notebook's kernel.
- ``machine()`` describes the CPU a result was measured on, ``machine_name(...)`` in one line:
  every published figure names its machine.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
JIT_COMPILE_CHOICES = ("auto", "on", "off")


def machine(cpuinfo_path: str | Path = "/proc/cpuinfo") -> dict[str, Any]:
    """The CPU a result was measured on: model name, family and model numbers, cores, native bf16."""
    fields: dict[str, str] = {}
    try:
        for line in Path(cpuinfo_path).read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())  # the first processor's
    except OSError:
        pass
    flags = set(fields.get("flags", "").split())
    return {"cpu": fields.get("model name", platform.processor() or "unknown"),
            "family": int(fields["cpu family"]) if "cpu family" in fields else None,
            "model": int(fields["model"]) if fields.get("model", "").isdigit() else None,
            "cores": os.cpu_count(), "avx512": "avx512f" in flags, "avx512_bf16": "avx512_bf16" in flags}


def machine_name(described: dict[str, Any] | str | None) -> str:
    """One line for a ``machine()`` record (or the text older results carry)."""
    if described is None or isinstance(described, str):
        return described or "not recorded"
    isa = "AVX-512 with avx512_bf16" if described["avx512_bf16"] else "AVX-512" if described["avx512"] else "AVX2"
    return (f"{described['cpu']} (family {described['family']} model {described['model']}), "
            f"{described['cores']} cores, {isa}")


def cpu_has_native_bf16(cpuinfo_path: str | Path = "/proc/cpuinfo") -> bool:
    """True when the CPU has bf16 arithmetic (flags ``avx512_bf16`` or ``amx_bf16``); False if unknown."""
    try:
        text = Path(cpuinfo_path).read_text()
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def gpu_compute_capability() -> tuple[int, int] | None:
    """The first GPU's CUDA compute capability, e.g. (7, 5) for a T4; None without a GPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
    return tuple(capability) if capability else (0, 0)


def choose_precision(precision: str = "auto", *, gpu_capability: tuple[int, int] | None | str = "detect",
                     cpu_bf16: bool | None = None) -> str:
    """The Keras dtype policy for ``precision``: itself, or for ``"auto"`` the device's fastest safe one.

    ``gpu_capability`` and ``cpu_bf16`` describe the device; left out, they are detected.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not one of {PRECISIONS}. Use 'auto' to let the "
                         "device decide, or 'float32' for the plain path.")
    if precision != "auto":
        return precision
    if gpu_capability == "detect":
        gpu_capability = gpu_compute_capability()
    if gpu_capability is not None:
        if gpu_capability >= (8, 0):
            return "mixed_bfloat16"
        if gpu_capability >= (7, 0):
            return "mixed_float16"
        return "float32"
    if cpu_bf16 is None:
        cpu_bf16 = cpu_has_native_bf16()
    return "mixed_bfloat16" if cpu_bf16 else "float32"


def set_precision(precision: str = "auto") -> str:
    """Resolve ``precision`` and make it Keras' global dtype policy; returns the policy's name.

    Call it before building the models: layers take the policy in force when they are made.
    """
    import keras

    policy = choose_precision(precision)
    keras.mixed_precision.set_global_policy(policy)
    return policy


@contextlib.contextmanager
def float32_policy() -> Iterator[None]:
    """Build layers in float32 inside this block, then restore the global dtype policy."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def with_loss_scaling(optimizer, policy: str):
    """``optimizer`` wrapped in a dynamic ``LossScaleOptimizer`` under ``mixed_float16``; else unchanged."""
    import keras

    if policy == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def choose_jit_compile(jit_compile: str = "auto", *, has_gpu: bool | None = None) -> bool:
    """Whether to compile the train step with XLA: ``"on"``, ``"off"``, or ``"auto"`` (on with a GPU)."""
    if jit_compile not in JIT_COMPILE_CHOICES:
        raise ValueError(f"jit_compile={jit_compile!r} is not one of {JIT_COMPILE_CHOICES}. "
                         "'auto' compiles with XLA on a GPU and not on a CPU, where it measured slower.")
    if jit_compile != "auto":
        return jit_compile == "on"
    if has_gpu is None:
        has_gpu = gpu_compute_capability() is not None
    return has_gpu


def steps_rate(model, data, images_per_step: int, steps: int, callbacks: Sequence = (), verbose=0,
               initial_epoch: int = 0) -> float:
    """Images/s of ``steps`` train steps of the compiled ``model`` on ``data``.

    Runs ``steps + 1`` steps as one ``fit()`` epoch numbered ``initial_epoch + 1`` and times them from the
    end of the first step to the end of the last, leaving out graph tracing and the waits of seconds that
    whole ``fit()`` calls sometimes add at their start or end on a busy machine.
    """
    import keras

    step_ends: list[float] = []

    class StepEnds(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step_ends.append(time.perf_counter())

    model.fit(data, steps_per_epoch=steps + 1, epochs=initial_epoch + 1, initial_epoch=initial_epoch,
              verbose=verbose, callbacks=[*callbacks, StepEnds()])
    return images_per_step * steps / (step_ends[-1] - step_ends[0])


def loop_vs_step_only(model, train_data, callbacks: Sequence, steps: int, rounds: int) -> list[dict]:
    """The training loop's speed against the bare step's, in alternating rounds (steps per second).

    Each round runs ``steps`` steps of the loop (``train_data`` with ``callbacks``, which in the notebooks
    include the progress line, as epochs numbered from 1001 on), then as many steps of the same compiled model on one constant batch of
    ``train_data`` (no pipeline, no callbacks), so a slow minute of a shared machine slows both alike.
    """
    import tensorflow as tf

    constant = tf.data.Dataset.from_tensors(next(iter(train_data))).repeat()
    measured = []
    for round_index in range(rounds):
        loop = steps_rate(model, train_data, 1, steps, callbacks=callbacks, verbose=0,
                          initial_epoch=1000 + round_index)
        measured.append({"loop_steps_per_sec": loop, "step_only_steps_per_sec": steps_rate(model, constant, 1, steps)})
    return measured
