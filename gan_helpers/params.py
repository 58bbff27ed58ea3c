"""Notebook parameters: check them before anything runs, shrink them in smoke mode, name the run.

A notebook keeps its parameters as plain values in one cell (papermill and Colab forms
both edit them). This module turns those values into a checked ``dict``:

    params = gh.check_params(dict(dataset=dataset, epochs=epochs, ...), rules)
    params = gh.shrink_for_smoke(params, env.smoke)

Every check raises ``ValueError`` naming the parameter, the bad value and what is allowed,
before any download or training starts.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from typing import Any

import numpy as np


def check_choice(name: str, value: Any, allowed: list) -> Any:
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"Parameter {name}={value!r} is not allowed. Choose one of: {', '.join(map(repr, allowed))}.")
    return value


def check_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` must be a whole number (not a bool, not 2.5) in [minimum, maximum]."""
    is_whole_float = isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not (isinstance(value, (int, np.integer)) or is_whole_float):
        raise ValueError(f"Parameter {name}={value!r} must be a whole number (an int), got {type(value).__name__}.")
    value = int(value)
    upper = f" and at most {maximum}" if maximum is not None else ""
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"Parameter {name}={value} is out of range: it must be at least {minimum}{upper}.")
    return value


def check_float(name: str, value: Any, minimum: float = 0.0, maximum: float | None = None,
                include_minimum: bool = False) -> float:
    """``value`` must be a finite number above ``minimum`` (or equal, with ``include_minimum``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        raise ValueError(f"Parameter {name}={value!r} must be a finite number.")
    value = float(value)
    too_low = value < minimum if include_minimum else value <= minimum
    if too_low or (maximum is not None and value > maximum):
        bound = "at least" if include_minimum else "greater than"
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ValueError(f"Parameter {name}={value} is out of range: it must be {bound} {minimum}{upper}.")
    return value


def check_params(params: dict[str, Any], rules: dict[str, tuple]) -> dict[str, Any]:
    """Check every parameter that has a rule and return a cleaned copy.

    ``rules`` maps a name to ``("choice", [allowed...])``, ``("int", minimum)``,
    ``("float", minimum)`` (exclusive) or ``("str",)``. A rule without a parameter is an
    error too (the notebook forgot to pass it).
    """
    checked = dict(params)
    for name, rule in rules.items():
        if name not in params:
            raise ValueError(f"Parameter {name!r} is missing; add it to the parameters cell.")
        kind, *args = rule
        if kind == "choice":
            checked[name] = check_choice(name, params[name], *args)
        elif kind == "int":
            checked[name] = check_int(name, params[name], *args)
        elif kind == "float":
            checked[name] = check_float(name, params[name], *args)
        elif kind == "str":
            if not isinstance(params[name], str):
                raise ValueError(f"Parameter {name}={params[name]!r} must be a string.")
        else:
            raise ValueError(f"Unknown rule kind {kind!r} for parameter {name!r}; use choice, int, float or str.")
    return checked


# What smoke mode caps a run to: a couple of epochs over a few hundred images.
SMOKE_LIMITS = {"epochs": 2, "batch_size": 32, "max_images": 256, "sample_every": 1}
# Parameters for which 0 means "all": smoke mode replaces a 0 by the cap.
ZERO_MEANS_ALL = {"max_images", "images_per_epoch"}


def shrink_for_smoke(params: dict[str, Any], smoke: bool, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    """In smoke mode, cap epochs, batch size and data (``SMOKE_LIMITS``); otherwise no change.

    ``limits`` adds caps for a notebook's own parameters (or overrides the defaults), e.g.
    ``{"image_size": 32}``. The notebook runs the same code either way; only these numbers differ.
    """
    if not smoke:
        return dict(params)
    shrunk = dict(params)
    for name, cap in {**SMOKE_LIMITS, **(limits or {})}.items():
        if name in shrunk:
            value = shrunk[name]
            shrunk[name] = cap if name in ZERO_MEANS_ALL and not value else min(value, cap)
    return shrunk


def auto_run_name(params: dict[str, Any], prefix_key: str = "dataset") -> str:
    """A run name that is the same for the same parameters: ``<dataset>-<8 hex digits>``.

    Re-running a notebook with unchanged parameters therefore resumes the same run, and
    changing a parameter starts a new one. ``epochs`` and the bookkeeping parameters (``sample_every``,
    ``eval_every``, ``eval_samples``) are left out: they do not change what is trained, and a finished run
    can be extended by raising ``epochs``.
    """
    identity = {k: v for k, v in params.items() if k not in {"epochs", "sample_every", "eval_every", "eval_samples", "run_name"}}
    digest = hashlib.sha1(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{params.get(prefix_key, 'run')}-{digest}"


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy, TensorFlow and Keras; with ``deterministic``, also make TF ops deterministic.

    Deterministic ops give bit-identical reruns (used by the resume tests) and may be slower on GPUs.
    """
    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
