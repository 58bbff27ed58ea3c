"""Notebook parameters: check them before anything runs, shrink them in smoke mode, name the run.

A notebook declares each parameter once, as a plain value with its Colab form annotation in
its ``parameters`` cell (papermill and Colab forms both edit these values):

    epochs = 20  #@param {type:"integer"}
    dataset = "mnist"  #@param ["mnist", "fashion_mnist"]

The next cell turns them into a checked ``dict``; types and choices come from the annotations,
and a short table gives the ranges that are not the default (whole numbers >= 1, numbers > 0):

    params = gh.read_params(globals(), ranges={"beta_1": "[0, 1]", "seed": "[0, inf)"})
    params = gh.shrink_for_smoke(params, env.smoke)

Every check raises ``ValueError`` naming the parameter, the bad value and what is allowed,
before any download or training starts.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import random
import re
from dataclasses import dataclass
from typing import Any

import numpy as np


def check_choice(name: str, value: Any, allowed: list) -> Any:
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"Parameter {name}={value!r} is not allowed. Choose one of: {', '.join(map(repr, allowed))}.")
    return value


def check_int(name: str, value: Any, minimum: int | None = 1, maximum: int | None = None) -> int:
    """``value`` must be a whole number (not a bool, not 2.5) in [minimum, maximum] (None: no bound)."""
    is_whole_float = isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not (isinstance(value, (int, np.integer)) or is_whole_float):
        raise ValueError(f"Parameter {name}={value!r} must be a whole number (an int), got {type(value).__name__}.")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = [f"at least {minimum}" if minimum is not None else "", f"at most {maximum}" if maximum is not None else ""]
        raise ValueError(f"Parameter {name}={value} is out of range: it must be {' and '.join(b for b in bounds if b)}.")
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


# ---------------------------------------------------------------- the parameters cell, declared once

# Parameters that say how a run is trained for, measured, stored, sped up or continued, not what is trained:
# they are left out of the automatic run name, and may change between sessions of one run
# (more ``epochs`` extend a finished run; a resumed run may use another ``precision`` or data folder).
BOOKKEEPING_PARAMS = frozenset({
    "epochs", "run_name", "sample_every", "eval_every", "eval_samples",
    "data_dir", "data_source", "kaggle_images", "inception_weights",
    "precision", "jit_compile", "steps_per_execution", "strategy",
    "time_budget", "train_minutes", "checkpoint_every", "keep_checkpoints", "resume_changed_code",
})

# Numbers without a declared range must be positive: whole numbers at least 1, others above 0.
DEFAULT_RANGES = {"int": "[1, inf)", "float": "(0, inf)"}
COLAB_TYPES = {"integer": "int", "number": "float", "string": "str", "boolean": "bool", "date": "str", "raw": "any"}
_ASSIGNMENT_WITH_FORM = re.compile(r"^\s*[A-Za-z_]\w*\s*=.*#\s*@param\b", re.MULTILINE)
_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,]+?)\s*,\s*([^\])]+?)\s*([\])])\s*$")


@dataclass(frozen=True)
class ParamSpec:
    """One line of a parameters cell: ``name = default  #@param <annotation>``.

    ``kind`` is ``int``, ``float``, ``str``, ``bool``, ``choice`` or ``any``; ``choices`` the
    dropdown's values; ``interval`` the allowed range of a number, in interval notation.
    """

    name: str
    default: Any
    kind: str
    choices: tuple = ()
    interval: str | None = None


def parse_parameters_cell(source: str) -> dict[str, ParamSpec]:
    """Read a parameters cell's assignments and their Colab ``#@param`` annotations.

    ``{type:"integer"}`` -> int, ``{type:"number"}`` -> float, ``{type:"string"}`` -> str,
    ``{type:"boolean"}`` -> bool, ``["a", "b"]`` -> one of those, ``{type:"slider", min:.., max:..}``
    -> a number in that range; a line without an annotation takes the type of its value.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    specs = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError as error:
            raise ValueError(f"Parameter {name}: its default must be a plain value (a number, string or bool).") from error
        rest = lines[node.end_lineno - 1][node.end_col_offset:].strip()
        annotation = re.sub(r"^#\s*@param\s*", "", rest) if re.match(r"#\s*@param\b", rest) else ""
        specs[name] = _spec_from_annotation(name, default, annotation)
    return specs


def _spec_from_annotation(name: str, default: Any, annotation: str) -> ParamSpec:
    own_kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(default), "any")
    if annotation.startswith("["):
        choices_text = annotation[:annotation.index("]") + 1]
        choices = tuple(ast.literal_eval(choices_text))
        if "allow-input" in annotation[len(choices_text):]:
            return ParamSpec(name, default, own_kind)
        return ParamSpec(name, default, "choice", choices)
    fields = dict(re.findall(r"([\w-]+)\s*:\s*\"?([^,\"}]+)\"?", annotation))
    form_type = fields.get("type")
    if form_type == "slider":
        return ParamSpec(name, default, own_kind, interval=f"[{fields.get('min', '-inf')}, {fields.get('max', 'inf')}]")
    if form_type is None:
        return ParamSpec(name, default, own_kind)
    if form_type not in COLAB_TYPES:
        raise ValueError(f"Parameter {name}: unknown form type {form_type!r}; use one of {', '.join(COLAB_TYPES)}.")
    return ParamSpec(name, default, COLAB_TYPES[form_type])


_newest_parameters_cell: list[str] = []  # what `watch_parameters_cells` saw last


def watch_parameters_cells() -> None:
    """In IPython (Jupyter, Colab, papermill, nbval), remember each cell with ``#@param`` lines
    that runs from now on, so `read_params` can read the declarations. ``import gan_helpers``
    calls it; it does nothing outside IPython or when already watching."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_gan_helpers_watching", False):
        return

    def remember(info) -> None:
        if _ASSIGNMENT_WITH_FORM.search(info.raw_cell or ""):
            _newest_parameters_cell[:] = [info.raw_cell]

    shell.events.register("pre_run_cell", remember)
    shell._gan_helpers_watching = True


def latest_parameters_cell() -> str:
    """The source of the parameters cell the notebook ran last: the newest cell with ``#@param``
    lines (papermill's injected cell, which has none, overrides the values but not the
    declarations), as `watch_parameters_cells` saw it or else from IPython's input history."""
    if _newest_parameters_cell:
        return _newest_parameters_cell[0]
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = lambda: None  # noqa: E731
    shell = get_ipython()
    history = shell.user_ns.get("In", []) if shell is not None else []
    for source in reversed(history):
        if _ASSIGNMENT_WITH_FORM.search(source):
            return source
    raise RuntimeError("No parameters cell found: run the cell with the `#@param` lines first "
                       "(outside a notebook, pass its text as cell_source=...).")


def read_params(namespace: dict[str, Any], ranges: dict[str, str] | None = None,
                cell_source: str | None = None) -> dict[str, Any]:
    """Check the notebook's parameters, declared once in its parameters cell, and return them.

    ``namespace`` is the notebook's ``globals()``: it holds the values, which papermill or a
    Colab form may have changed. The parameters cell declares each one (name, default and
    ``#@param`` annotation, see `parse_parameters_cell`); ``ranges`` gives a number's allowed
    interval where it is not the default (whole numbers ``[1, inf)``, other numbers ``(0, inf)``),
    e.g. ``{"beta_1": "[0, 1]", "seed": "[0, inf)"}``. A bad value raises ``ValueError`` naming
    the parameter, the value and what is allowed, before anything is downloaded or trained.
    """
    specs = parse_parameters_cell(cell_source if cell_source is not None else latest_parameters_cell())
    unknown = sorted(set(ranges or {}) - set(specs))
    if unknown:
        raise ValueError(f"ranges names {', '.join(unknown)}, which the parameters cell does not declare "
                         f"(it declares {', '.join(specs)}).")
    params = {}
    for name, spec in specs.items():
        if name not in namespace:
            raise ValueError(f"Parameter {name!r} is declared but has no value; run the parameters cell first.")
        interval = (ranges or {}).get(name) or spec.interval
        params[name] = check_value(name, namespace[name], spec, interval)
    if "run_name" in params:
        check_run_name(params["run_name"], allow_empty=True)
    return params


def check_value(name: str, value: Any, spec: ParamSpec, interval: str | None = None) -> Any:
    """``value`` checked (and converted: ``3.0`` -> 3 for a whole number) against ``spec``."""
    if spec.kind == "choice":
        return check_choice(name, value, list(spec.choices))
    if spec.kind == "str" and not isinstance(value, str):
        raise ValueError(f"Parameter {name}={value!r} must be a string (text), got {type(value).__name__}.")
    if spec.kind == "bool" and not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Parameter {name}={value!r} must be True or False.")
    if spec.kind in ("int", "float"):
        low, high, include_low, include_high = parse_interval(interval or DEFAULT_RANGES[spec.kind], name)
        if spec.kind == "int":
            minimum = None if math.isinf(low) else (math.ceil(low) if include_low else math.floor(low) + 1)
            maximum = None if math.isinf(high) else (math.floor(high) if include_high else math.ceil(high) - 1)
            return check_int(name, value, minimum, maximum)
        value = check_float(name, value, low, None if math.isinf(high) else high, include_minimum=include_low)
        if not include_high and value == high:
            raise ValueError(f"Parameter {name}={value} is out of range: it must be less than {high}.")
        return value
    return bool(value) if spec.kind == "bool" else value


def parse_interval(text: str, name: str = "") -> tuple[float, float, bool, bool]:
    """``"[0, 1)"`` -> ``(0.0, 1.0, True, False)``: bounds and whether each is included."""
    match = _INTERVAL.match(text)
    try:
        low, high = float(match.group(2)), float(match.group(3))
    except (AttributeError, ValueError):
        raise ValueError(f"Range {text!r} of {name or 'a parameter'} is not an interval like '[1, inf)' or '(0, 1]'.") from None
    return low, high, match.group(1) == "[", match.group(4) == "]"


def check_run_name(run_name: str, allow_empty: bool = False) -> str:
    """A run name must be a plain folder name: no path separators, not ``.``-hidden, not too long."""
    if not isinstance(run_name, str):
        raise ValueError(f"Parameter run_name={run_name!r} must be a string.")
    if run_name == "" and allow_empty:
        return run_name
    if (not run_name or "/" in run_name or "\\" in run_name or "\0" in run_name or run_name.startswith(".")
            or run_name != run_name.strip() or len(run_name) > 200):
        raise ValueError(
            f"Parameter run_name={run_name!r} must be a plain folder name: no '/' or '\\', not starting with '.', "
            "no spaces at the ends, at most 200 characters (e.g. 'my-run-1'); leave it empty to name the run "
            "after its parameters.")
    return run_name


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


def auto_run_name(params: dict[str, Any], prefix_key: str = "dataset", code: str | None = None) -> str:
    """A run name that is the same for the same parameters (and code): ``<dataset>-<8 hex digits>``.

    Re-running a notebook with unchanged parameters therefore resumes the same run, and
    changing a parameter starts a new one. The bookkeeping parameters (``BOOKKEEPING_PARAMS``: ``epochs``,
    evaluation, data location, speed switches) are left out: they do not change what is trained, and a
    finished run can be extended by raising ``epochs``. ``code``: the `fingerprint_digest` of the
    notebook's code, so edited model or step code starts a new run too.
    """
    identity = {k: v for k, v in params.items() if k not in BOOKKEEPING_PARAMS}
    if code:
        identity["__code__"] = code
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
