"""Which code trained a run: a fingerprint of the model's own code and of its networks.

A student who edits ``train_step`` or a layer and presses *Run all* should not silently resume
weights that the old code trained. `code_fingerprint` hashes what decides what is trained:

- the code of every class in the model that is not Keras's own (the notebook's GAN class with
  its ``train_step``, a custom layer such as CycleGAN's image pool), method by method, and of
  the notebook's functions that this code calls (a loss function, say);
- each network the model holds (``generator``, ``discriminator``, ...): its layers, in order,
  with their settings (units, kernel sizes, activations, ...).

Comments and formatting do not count (the code is hashed in parsed form); nor do layer names
(Keras numbers them anew each time a cell runs), the precision policy, or anything the notebook
defines that the model does not use. `gan_helpers.Run` keeps the fingerprint in config.json,
names an automatic run after it, and refuses to resume checkpoints made by other code.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import textwrap
from typing import Any

import keras

IGNORED_SETTINGS = {"name", "dtype", "trainable"}  # not what is trained: naming and precision


def code_fingerprint(model: keras.Model) -> dict[str, str]:
    """``{part: short hash}`` for the model's own classes (``class GAN``), the notebook's functions
    they call (``function generator_loss``), and its networks (``network generator``)."""
    parts = {}
    layers = [model, *model._flatten_layers(include_self=False, recursive=True)]
    to_visit = [cls for cls in {type(layer) for layer in layers} | set(type(model).__mro__) if _own(cls)]
    seen = set()
    while to_visit:
        thing = to_visit.pop()
        if thing in seen:
            continue
        seen.add(thing)
        functions = _functions_of(thing)
        source = _source(thing, functions)
        if source is not None:
            parts[f"{'class' if inspect.isclass(thing) else 'function'} {thing.__name__}"] = _hash(source)
        to_visit.extend(_called(functions))
    for attribute, value in sorted(vars(model).items()):
        if isinstance(value, keras.layers.Layer) and not attribute.startswith("_"):
            parts[f"network {attribute}"] = _hash(json.dumps(_layer_settings(value), sort_keys=True, default=str))
    return parts


def fingerprint_digest(parts: dict[str, str]) -> str:
    """One short hash for a whole `code_fingerprint`."""
    return _hash(json.dumps(parts, sort_keys=True))[:8]


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _own(thing: Any) -> bool:
    """A class or function of the notebook's (or a user's module), not of Keras, TensorFlow or Python."""
    module = getattr(thing, "__module__", None) or ""
    return (inspect.isclass(thing) or inspect.isfunction(thing)) and not module.startswith(
        ("keras", "tensorflow", "builtins", "numpy", "gan_helpers"))


def _functions_of(thing: Any) -> list:
    """A function itself, or a class's own methods (properties, static and class methods too)."""
    if inspect.isfunction(thing):
        return [thing]
    members = (getattr(m, "fget", None) or getattr(m, "__func__", m) for m in vars(thing).values())
    return [m for m in members if inspect.isfunction(m)]


def _source(thing: Any, functions: list) -> str | None:
    """The parsed code of ``functions`` (a class made in a notebook cell has no source file that
    ``inspect`` can read whole before Python 3.13, but its functions do), with a class's bases."""
    parsed = []
    for function in functions:
        try:
            parsed.append(ast.dump(ast.parse(textwrap.dedent(inspect.getsource(function)))))
        except (OSError, TypeError, SyntaxError):
            return None
    bases = [" ".join(base.__name__ for base in thing.__bases__)] if inspect.isclass(thing) else []
    return "\n".join(bases + parsed)


def _called(functions: list) -> list:
    """The notebook's own functions and classes that ``functions`` refer to by a global name."""
    found = []
    for function in functions:
        codes = [function.__code__]
        while codes:
            code = codes.pop()
            codes.extend(c for c in code.co_consts if inspect.iscode(c))
            found.extend(function.__globals__[name] for name in code.co_names
                         if name in function.__globals__ and _own(function.__globals__[name]))
    return found


def _layer_settings(layer: keras.layers.Layer) -> list:
    """The layers under ``layer`` (or itself), each as its class and its settings."""
    inner = list(layer._flatten_layers(include_self=False, recursive=True))
    settings = []
    for each in inner or [layer]:
        if each._flatten_layers(include_self=False, recursive=False):
            continue  # a container: its layers are listed themselves
        try:
            config = each.get_config()
        except NotImplementedError:
            config = {}
        config = {key: value for key, value in config.items() if key not in IGNORED_SETTINGS}
        settings.append([type(each).__name__, config, [list(v.shape) for v in each.weights]])
    return settings
