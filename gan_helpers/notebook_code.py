"""The code of a notebook's definition cells, importable by tests and benchmarks.

Cells tagged ``definitions`` hold imports, functions and classes only (no training, no files).
`notebook_definitions` runs exactly those cells, in order, as one module, so tests exercise the
code a reader sees in the notebook rather than a copy of it. The source is registered with
``linecache`` so that tracebacks, ``inspect`` and TensorFlow's AutoGraph can read it.
"""

from __future__ import annotations

import functools
import json
import linecache
import sys
import types
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"  # the repository's notebooks (a checkout)
TAG = "definitions"


def definition_source(notebook: str | Path, tag: str = TAG) -> str:
    """The source of the notebook's cells tagged ``tag``, joined in order."""
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells
               if cell["cell_type"] == "code" and tag in cell.get("metadata", {}).get("tags", [])]
    if not sources:
        raise ValueError(f"{notebook} has no code cell tagged {tag!r}.")
    return "\n\n".join(sources) + "\n"


@functools.lru_cache(maxsize=None)
def notebook_definitions(notebook: str, tag: str = TAG) -> types.ModuleType:
    """Run the notebook's ``tag`` cells as a module (once per process) and return it."""
    source = definition_source(notebook, tag)
    name = "notebook_" + Path(notebook).stem
    filename = str(NOTEBOOKS / notebook) + f" [{tag} cells]"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    exec(compile(source, filename, "exec"), module.__dict__)
    return module
