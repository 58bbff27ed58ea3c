"""Play with a trained generator: notebook widgets, and the same views as pictures when nobody is watching.

- `latent_explorer(generator)`: two noise seeds, a slider that walks from one latent point to the
  other (spherical interpolation), the image there and a strip of the whole path; a fresh grid;
  save the image or the strip as a PNG.
- `class_picker(generator)`: a conditional generator's grid for one class and one noise seed; a
  slider that changes the noise while the class stays; a row of every class with the same noise.
- `translate_widget(run_folder)`: upload your own pictures, see both CycleGAN translations beside
  each one, download them.

Each call returns an object whose handlers (``move``, ``pick``, ``translate_files`` ...) do the
work and can be called directly. Where someone is looking (Jupyter, Colab), the call shows
ipywidgets controls. Headless (papermill, nbval, smoke mode, a script, ``GAN_HEADLESS=1``), it shows
one static picture of the same view and returns at once: nothing waits for input.
"""

from __future__ import annotations

import base64
import io
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np
from PIL import Image

from .environment import in_colab, smoke_mode
from .plots import grid_image
from .progress import in_notebook
from .sampling import check_labels, is_conditional, latent_dim, load_run_generator, num_classes
from .translate import DIRECTIONS, load_generator, run_domain_names, translate_with

PREVIEW_PX = 192  # the explorer's single image is shown this wide


def headless() -> bool:
    """True where no person can use a widget: outside a notebook, in smoke mode, with
    ``GAN_HEADLESS=1``, or in a kernel started by nbclient (papermill, sweeps), which keeps no history."""
    if os.environ.get("GAN_HEADLESS", "").strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if smoke_mode() or not in_notebook():
        return True
    from IPython import get_ipython

    history = getattr(get_ipython(), "history_manager", None)
    return str(getattr(history, "hist_file", "")) == ":memory:"


def slerp(z0: np.ndarray, z1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation from ``z0`` (t = 0) to ``z1`` (t = 1): the path stays at the norm
    Gaussian noise has, where a straight line would pass through unlikely, too-short vectors."""
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cosine = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))
    if np.sin(omega) < 1e-6:  # (anti)parallel: any path is as good; take the straight one
        return ((1.0 - t) * z0 + t * z1).astype(np.float32)
    return ((np.sin((1.0 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)).astype(np.float32)


def seed_noise(seed: int, dim: int, n: int = 1) -> np.ndarray:
    """``n`` noise vectors of length ``dim`` that depend only on ``seed`` (float32, (n, dim))."""
    return np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)


def png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def set_picture(image_widget: Any, picture: Image.Image, min_width: int = 0) -> None:
    """Show ``picture`` in an ``ipywidgets.Image`` at its own size (not stretched to the page's width),
    or enlarged to ``min_width`` pixels."""
    image_widget.value = png_bytes(picture)
    image_widget.width = str(max(picture.width, min_width))


def show_picture(picture: Image.Image) -> Image.Image:
    """Show a PIL picture inline in a notebook (else do nothing); return it."""
    if in_notebook():
        from IPython.display import Image as InlineImage, display

        display(InlineImage(data=png_bytes(picture)))
    return picture


def _generator(generator_or_run: keras.Model | str | Path) -> tuple[keras.Model, Path | None]:
    if isinstance(generator_or_run, (str, Path)):
        folder = Path(generator_or_run).expanduser()
        return load_run_generator(folder), (folder if folder.suffix != ".keras" else folder.parent)
    return generator_or_run, None


def _generate(generator: keras.Model, noise: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """The generator's images (float32 in [-1, 1]) in inference mode."""
    inputs = noise if labels is None else [noise, labels]
    return keras.ops.convert_to_numpy(keras.ops.cast(generator(inputs, training=False), "float32"))


def _enlarged(images: np.ndarray, width: int = PREVIEW_PX) -> Image.Image:
    picture = grid_image(images, ncols=len(images))
    scale = max(1, width // picture.width)
    return picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)


def _parse_seed(value: int | str | None) -> int:
    """An int seed from a number, a numeric string, or "random"/None/"" (a new random seed)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "random"}):
        return random.randrange(2**31)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"seed={value!r}: give a whole number, or 'random'.") from None


class View:
    """What the widgets share: `show` displays ``widget()`` where someone is looking, else ``picture()``."""

    def widget(self):
        raise NotImplementedError

    def picture(self) -> Image.Image:
        raise NotImplementedError

    def show(self):
        """Show the widget, or headless the static picture; return what was shown."""
        if headless():
            return show_picture(self.picture())
        from IPython.display import display

        shown = self.widget()
        display(shown)
        return shown


class LatentExplorer(View):
    """Walk the latent space of an unconditional generator (or of one class of a conditional one).

    ``seeds``: the noise seeds of the path's two ends (a number, or "random"). ``steps``: images in
    the strip. ``save_dir``: where `save` writes PNGs (default: the run folder when given one, else
    the current folder), in its ``explorer/`` subfolder.
    """

    def __init__(self, generator: keras.Model | str | Path, seeds: Sequence[int | str] = (0, 1), steps: int = 8,
                 label: int | None = None, save_dir: str | Path | None = None):
        self.generator, run_folder = _generator(generator)
        if steps < 2:
            raise ValueError(f"steps={steps}: the strip needs at least 2 images (its two ends).")
        self.latent_dim, self.steps, self.t = latent_dim(self.generator), steps, 0.0
        self.label = None
        if is_conditional(self.generator):
            self.label = int(check_labels(0 if label is None else label, 1, num_classes(self.generator))[0])
        elif label is not None:
            raise ValueError(f"label={label!r}: this generator is unconditional; leave label out.")
        self.save_dir = Path(save_dir or run_folder or Path.cwd()).expanduser() / "explorer"
        self.controls: dict[str, Any] = {}
        self.set_seeds(*seeds)

    def set_seeds(self, seed0: int | str | None, seed1: int | str | None) -> None:
        """The path's two ends: noise from ``seed0`` and ``seed1`` ("random": a new seed)."""
        self.seeds = (_parse_seed(seed0), _parse_seed(seed1))
        self.z0, self.z1 = (seed_noise(seed, self.latent_dim)[0] for seed in self.seeds)
        self._refresh(strip=True)

    def _images(self, noise: np.ndarray) -> np.ndarray:
        labels = None if self.label is None else np.full(len(noise), self.label, np.int32)
        return _generate(self.generator, noise, labels)

    def image_at(self, t: float) -> np.ndarray:
        """The generator's image (float32 in [-1, 1], (H, W, C)) at ``slerp(z0, z1, t)``."""
        return self._images(slerp(self.z0, self.z1, t)[np.newaxis])[0]

    def path(self) -> np.ndarray:
        """The ``steps`` images from ``z0`` to ``z1``, evenly spaced in t."""
        return self._images(np.stack([slerp(self.z0, self.z1, t) for t in np.linspace(0.0, 1.0, self.steps)]))

    def move(self, t: float) -> np.ndarray:
        """The slider's handler: go to ``t`` (0..1) and return the image there."""
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"t={t}: the path runs from 0 (seed {self.seeds[0]}) to 1 (seed {self.seeds[1]}).")
        self.t = float(t)
        image = self.image_at(self.t)
        if "image" in self.controls:
            set_picture(self.controls["image"], _enlarged(image[np.newaxis]))
        return image

    def fresh_grid(self, n: int = 16) -> Image.Image:
        """The "new grid" button: ``n`` images from new random noise."""
        picture = grid_image(self._images(seed_noise(random.randrange(2**31), self.latent_dim, n)))
        if "grid" in self.controls:
            set_picture(self.controls["grid"], picture)
        return picture

    def save(self, what: str = "image") -> Path:
        """Save the current ``"image"`` or the ``"strip"`` as a PNG in ``save_dir``; return its path."""
        if what not in ("image", "strip"):
            raise ValueError(f"what={what!r}: save 'image' (the one at the slider) or 'strip' (the whole path).")
        self.save_dir.mkdir(parents=True, exist_ok=True)
        name = f"seeds_{self.seeds[0]}_{self.seeds[1]}" + (f"_t{self.t:.2f}" if what == "image" else "_strip")
        path = self.save_dir / f"{name}.png"
        images = self.image_at(self.t)[np.newaxis] if what == "image" else self.path()
        (_enlarged(images) if what == "image" else grid_image(images, ncols=self.steps)).save(path)
        if "message" in self.controls:
            self.controls["message"].value = f"saved {path}"
        return path

    def picture(self) -> Image.Image:
        """The static view: the strip from seed to seed, with the image at ``t`` enlarged above it."""
        strip = grid_image(self.path(), ncols=self.steps)
        image = _enlarged(self.image_at(self.t)[np.newaxis])
        canvas = Image.new(strip.mode, (max(strip.width, image.width), strip.height + image.height), 255)
        canvas.paste(image, ((canvas.width - image.width) // 2, 0))
        canvas.paste(strip, (0, image.height))
        return canvas

    def _refresh(self, strip: bool = False) -> None:
        if "image" in self.controls:
            self.move(self.t)
        if strip and "strip" in self.controls:
            set_picture(self.controls["strip"], grid_image(self.path(), ncols=self.steps))

    def widget(self):
        """The controls (ipywidgets): seeds, the slider, the image, the strip, new grid, save."""
        import ipywidgets as w

        c = self.controls
        c["seed0"], c["seed1"] = (w.Text(str(s), description=f"seed {i}", layout=w.Layout(width="12em"))
                                  for i, s in enumerate(self.seeds))
        c["slider"] = w.FloatSlider(value=self.t, min=0.0, max=1.0, step=0.01, description="t",
                                    continuous_update=True, layout=w.Layout(width="30em"))
        c["image"], c["strip"], c["grid"] = w.Image(format="png"), w.Image(format="png"), w.Image(format="png")
        c["message"] = w.Label("")
        buttons = {"use seeds": lambda _: self._on_seeds(), "random seeds": lambda _: self._on_seeds(random_=True),
                   "new grid": lambda _: self.fresh_grid(), "save image": lambda _: self.save("image"),
                   "save strip": lambda _: self.save("strip")}
        row = []
        for text, handler in buttons.items():
            button = w.Button(description=text)
            button.on_click(handler)
            row.append(button)
        c["slider"].observe(lambda change: self.move(change["new"]), names="value")
        self._refresh(strip=True)
        self.fresh_grid()
        return w.VBox([w.HBox([c["seed0"], c["seed1"]]), w.HBox(row[:2] + row[3:]), c["slider"], c["image"],
                       c["strip"], row[2], c["grid"], c["message"]])

    def _on_seeds(self, random_: bool = False) -> None:
        seeds = ("random", "random") if random_ else (self.controls["seed0"].value, self.controls["seed1"].value)
        try:
            self.set_seeds(*seeds)
        except ValueError as error:
            self.controls["message"].value = str(error)
            return
        self.controls["seed0"].value, self.controls["seed1"].value = (str(s) for s in self.seeds)


def latent_explorer(generator: keras.Model | str | Path, seeds: Sequence[int | str] = (0, 1), steps: int = 8,
                    label: int | None = None, save_dir: str | Path | None = None) -> LatentExplorer:
    """Show a `LatentExplorer` for ``generator`` (a model, or a run folder) and return it."""
    explorer = LatentExplorer(generator, seeds, steps, label, save_dir)
    explorer.show()
    return explorer


class ClassPicker(View):
    """One class of a conditional generator at a time, and every class with the same noise.

    `pick` (the class), `set_seed` (the grid's noise) and `vary` (the slider: walks the style
    noise from ``seed`` toward ``seed + 1`` while the class stays) are the handlers."""

    def __init__(self, generator: keras.Model | str | Path, label: int = 0, seed: int = 0, per_class: int = 16,
                 save_dir: str | Path | None = None):
        self.generator, run_folder = _generator(generator)
        if not is_conditional(self.generator):
            raise ValueError("This generator takes noise only (unconditional): it has no classes to pick. "
                             "Use gh.latent_explorer(generator) instead.")
        self.classes, self.latent_dim, self.per_class, self.t = num_classes(self.generator), latent_dim(self.generator), per_class, 0.0
        self.save_dir = Path(save_dir or run_folder or Path.cwd()).expanduser() / "explorer"
        self.controls: dict[str, Any] = {}
        self.label = int(check_labels(label, 1, self.classes)[0])
        self.seed = _parse_seed(seed)

    def style_noise(self) -> np.ndarray:
        """The noise the slider is at: slerp from ``seed``'s first vector to ``seed + 1``'s."""
        return slerp(seed_noise(self.seed, self.latent_dim)[0], seed_noise(self.seed + 1, self.latent_dim)[0], self.t)

    def class_grid(self) -> np.ndarray:
        """``per_class`` images of class ``label``; the first uses the slider's noise, the rest ``seed``'s."""
        noise = seed_noise(self.seed, self.latent_dim, self.per_class)
        noise[0] = self.style_noise()
        return _generate(self.generator, noise, np.full(self.per_class, self.label, np.int32))

    def every_class(self) -> np.ndarray:
        """One image per class, all from the slider's noise (the style held fixed)."""
        noise = np.repeat(self.style_noise()[np.newaxis], self.classes, axis=0)
        return _generate(self.generator, noise, np.arange(self.classes, dtype=np.int32))

    def pick(self, label: int) -> np.ndarray:
        """The class buttons' handler: show class ``label``; return its grid."""
        self.label = int(check_labels(label, 1, self.classes)[0])
        return self._refresh()

    def set_seed(self, seed: int | str) -> np.ndarray:
        """The seed box's handler ("random": a new seed); return the new grid."""
        self.seed, self.t = _parse_seed(seed), 0.0
        if "slider" in self.controls:
            self.controls["slider"].value = 0.0
        return self._refresh()

    def vary(self, t: float) -> np.ndarray:
        """The slider's handler: move the style noise to ``t`` (0..1); return the row of every class."""
        self.t = float(t)
        self._refresh()
        return self.every_class()

    def _refresh(self) -> np.ndarray:
        grid = self.class_grid()
        if "grid" in self.controls:
            set_picture(self.controls["grid"], grid_image(grid))
            set_picture(self.controls["row"], grid_image(self.every_class(), ncols=self.classes))
        return grid

    def save(self) -> Path:
        """Save the current class grid as a PNG in ``save_dir``; return its path."""
        self.save_dir.mkdir(parents=True, exist_ok=True)
        path = self.save_dir / f"class_{self.label}_seed_{self.seed}.png"
        grid_image(self.class_grid()).save(path)
        return path

    def picture(self) -> Image.Image:
        """The static view: the class grid above the row of every class."""
        grid, row = grid_image(self.class_grid()), grid_image(self.every_class(), ncols=self.classes)
        canvas = Image.new(grid.mode, (max(grid.width, row.width), grid.height + row.height), 255)
        canvas.paste(grid, ((canvas.width - grid.width) // 2, 0))
        canvas.paste(row, (0, grid.height))
        return canvas

    def widget(self):
        import ipywidgets as w

        c = self.controls
        c["classes"] = w.ToggleButtons(options=list(range(self.classes)), value=self.label, description="class",
                                       style={"button_width": "2.5em"})
        c["seed"] = w.Text(str(self.seed), description="seed", layout=w.Layout(width="12em"))
        c["slider"] = w.FloatSlider(value=self.t, min=0.0, max=1.0, step=0.01, description="noise")
        c["grid"], c["row"], c["message"] = w.Image(format="png"), w.Image(format="png"), w.Label("")
        save = w.Button(description="save grid")
        c["classes"].observe(lambda change: self.pick(change["new"]), names="value")
        c["slider"].observe(lambda change: self.vary(change["new"]), names="value")
        c["seed"].on_submit(lambda box: self._on_seed(box.value))
        save.on_click(lambda _: setattr(c["message"], "value", f"saved {self.save()}"))
        self._refresh()
        return w.VBox([c["classes"], w.HBox([c["seed"], save]), c["grid"], c["slider"],
                       w.Label("every class, same noise:"), c["row"], c["message"]])

    def _on_seed(self, value: str) -> None:
        try:
            self.set_seed(value)
            self.controls["seed"].value = str(self.seed)
        except ValueError as error:
            self.controls["message"].value = str(error)


def class_picker(generator: keras.Model | str | Path, label: int = 0, seed: int = 0, per_class: int = 16,
                 save_dir: str | Path | None = None) -> ClassPicker:
    """Show a `ClassPicker` for a conditional ``generator`` (a model, or a run folder) and return it."""
    picker = ClassPicker(generator, label, seed, per_class, save_dir)
    picker.show()
    return picker


@dataclass
class Translation:
    """One uploaded picture (resized to the generators' size) and its translation in each direction."""

    name: str
    picture: np.ndarray
    translated: dict[str, np.ndarray]
    paths: dict[str, Path]


class TranslateWidget(View):
    """Translate pictures of your own with a CycleGAN run's two generators, both directions.

    `translate_files` (the upload's handler) takes ``{file name: bytes}``; the translations are
    written as PNGs to ``<run folder>/my_translations/<name>_<direction>.png`` and offered for download."""

    def __init__(self, run_folder: str | Path, examples: Sequence[str | Path] = ()):
        self.run_folder = Path(run_folder).expanduser()
        self.generators = {direction: load_generator(self.run_folder, direction) for direction in DIRECTIONS}
        self.out_dir = self.run_folder / "my_translations"
        self.examples = [Path(p) for p in examples]
        self.results: list[Translation] = []
        self.controls: dict[str, Any] = {}

    def translate_files(self, files: dict[str, bytes]) -> list[Translation]:
        """Translate each picture (JPEG, PNG ...) in both directions; write and return the results."""
        results = []
        for name, content in files.items():
            try:
                with Image.open(io.BytesIO(content)) as opened:
                    picture = opened.convert("RGB")
            except Exception as error:  # noqa: BLE001 - any undecodable upload: say which
                raise ValueError(f"{name} is not a picture PIL can read ({type(error).__name__}); "
                                 "upload a JPEG or PNG.") from error
            translated = {direction: translate_with(generator, picture) for direction, generator in self.generators.items()}
            size = next(iter(translated.values())).shape[0]
            resized = np.asarray(picture.resize((size, size), Image.Resampling.BICUBIC), dtype=np.uint8)
            self.out_dir.mkdir(parents=True, exist_ok=True)
            paths = {}
            for direction, image in translated.items():
                paths[direction] = self.out_dir / f"{Path(name).stem}_{direction}.png"
                Image.fromarray(image).save(paths[direction])
            results.append(Translation(name, resized, translated, paths))
        self.results = results
        if "view" in self.controls:
            set_picture(self.controls["view"], self.picture(), min_width=3 * 160)
            self.controls["links"].value = self.download_links()
        return results

    def picture(self) -> Image.Image:
        """Each picture with its translations beside it: input | A→B | B→A, one row per picture."""
        rows = [np.concatenate([r.picture, *(r.translated[d] for d in DIRECTIONS)], axis=1) for r in self.results]
        return Image.fromarray(np.concatenate(rows, axis=0)) if rows else Image.new("RGB", (1, 1), "white")

    def download_links(self) -> str:
        """HTML links that download each translation (data URLs: they work in Jupyter and Colab)."""
        links = []
        for result in self.results:
            for direction, path in result.paths.items():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                links.append(f'<a download="{path.name}" href="data:image/png;base64,{data}">{path.name}</a>')
        return " · ".join(links)

    def widget(self):
        import ipywidgets as w

        if in_colab():  # Colab shows ipywidgets' FileUpload with its custom widget manager
            from google.colab import output

            output.enable_custom_widget_manager()
        c = self.controls
        c["upload"] = w.FileUpload(accept="image/*", multiple=True, description="Upload pictures")
        c["view"], c["links"] = w.Image(format="png"), w.HTML("")
        c["upload"].observe(lambda change: self.translate_files(uploaded_files(change["new"])), names="value")
        name_a, name_b = run_domain_names(self.run_folder)
        legend = f"each row: your picture · as {name_b} (A→B) · as {name_a} (B→A)"
        return w.VBox([c["upload"], w.Label(legend), c["view"], c["links"]])

    def show(self):
        """Show the widget; headless, translate the ``examples`` (if any) and show them as a picture."""
        if headless() and self.examples:
            self.translate_files({p.name: p.read_bytes() for p in self.examples})
        elif headless():
            print("translate_widget: headless (no widget front end), so no upload; pass examples=[...] to see some.")
            return None
        return super().show()


def uploaded_files(value: Any) -> dict[str, bytes]:
    """``FileUpload.value`` (ipywidgets 8: a tuple of dicts with name and content; 7: a dict by name) as {name: bytes}."""
    if isinstance(value, dict):
        return {name: bytes(item["content"]) for name, item in value.items()}
    return {item["name"]: bytes(item["content"]) for item in value}


def translate_widget(run_folder: str | Path, examples: Sequence[str | Path] = ()) -> TranslateWidget:
    """Show a `TranslateWidget` for a CycleGAN run folder and return it."""
    widget = TranslateWidget(run_folder, examples)
    widget.show()
    return widget
