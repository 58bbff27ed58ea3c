"""Pictures of a GAN run: sample grids, loss curves, GIFs, and two Keras callbacks (the grids, a live view).

Everything here writes files (atomically, so a crash never leaves a half-written
PNG) and works headless: matplotlib is used through ``Figure`` + ``FigureCanvasAgg``
and never touches pyplot's global state.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import BinaryIO, Sequence

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from .files import write_atomically
from .progress import in_notebook
from .runs import read_metrics

BORDER_PX = 2
BORDER_VALUE = 255  # white lines between tiles
SMALL_IMAGE_PX = 64  # tiles smaller than this are upscaled ...
MIN_GRID_WIDTH_PX = 256  # ... until the grid is at least this wide
_EPOCH_FILE = re.compile(r"epoch_(\d+)\.png")


def fixed_noise(num_images: int, latent_dim: int, seed: int) -> np.ndarray:
    """Standard-normal latent vectors, float32 (num_images, latent_dim), identical per seed."""
    if num_images < 1 or latent_dim < 1:
        raise ValueError(f"num_images and latent_dim must be >= 1, got {num_images}, {latent_dim}")
    return np.random.default_rng(seed).standard_normal((num_images, latent_dim), dtype=np.float32)


def save_grid(images, path: str | Path, ncols: int | None = None, titles: Sequence[str] | None = None) -> Path:
    """Tile images in [-1, 1] into one PNG (`grid_image`) and return its path."""
    picture = grid_image(images, ncols, titles)
    return write_atomically(path, lambda file: picture.save(file, format="PNG"))


def grid_image(images, ncols: int | None = None, titles: Sequence[str] | None = None) -> Image.Image:
    """Tile images in [-1, 1] into one picture (``ncols`` per row; None: near-square).

    ``images`` is an array or tensor shaped (N, H, W, C) with C = 1 or 3, or (N, H, W).
    Values are clipped to [-1, 1] and mapped linearly to 0..255. Grey grids are mode "L",
    colour "RGB". Tiles smaller than 64 px are enlarged by a whole-number factor (nearest
    neighbour) so the grid is at least ~256 px wide. ``titles``: one per column, written above it.
    """
    images = np.asarray(keras.ops.convert_to_numpy(images), dtype=np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(
            f"grid_image expects a non-empty batch shaped (N, H, W, C) with C in (1, 3), "
            f"or (N, H, W); got shape {images.shape}. Pass a batch, e.g. generator(noise)."
        )
    if not np.all(np.isfinite(images)):
        raise ValueError("save_grid got NaN or inf pixels; the generator has probably diverged.")
    count, height, width, channels = images.shape
    if ncols is None:
        ncols = math.ceil(math.sqrt(count))
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1 (or None for a near-square grid), got {ncols}")
    nrows = math.ceil(count / ncols)

    if max(height, width) < SMALL_IMAGE_PX:
        scale = max(1, math.ceil(MIN_GRID_WIDTH_PX / (ncols * width)))
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
        height, width = height * scale, width * scale

    pixels = np.rint((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    grid_shape = (nrows * (height + BORDER_PX) + BORDER_PX, ncols * (width + BORDER_PX) + BORDER_PX)
    grid = np.full((*grid_shape, channels), BORDER_VALUE, dtype=np.uint8)
    for index, tile in enumerate(pixels):
        top = BORDER_PX + (index // ncols) * (height + BORDER_PX)
        left = BORDER_PX + (index % ncols) * (width + BORDER_PX)
        grid[top : top + height, left : left + width] = tile
    picture = Image.fromarray(grid[..., 0] if channels == 1 else grid)  # mode "L" or "RGB"
    return picture if titles is None else _with_column_titles(picture, list(titles), ncols, width)


def _with_column_titles(grid: Image.Image, titles: list[str], ncols: int, width: int) -> Image.Image:
    """``grid`` under a white band holding each column's title, centred, shortened with "…" to fit."""
    if len(titles) != ncols:
        raise ValueError(f"Got {len(titles)} titles for {ncols} columns: give one title per column.")
    font = ImageFont.load_default(size=max(10, min(18, width // 7)))
    band = round(font.size * 1.6)
    picture = Image.new(grid.mode, (grid.width, grid.height + band), "white")
    picture.paste(grid, (0, band))
    draw = ImageDraw.Draw(picture)
    for column, title in enumerate(titles):
        while len(title) > 1 and draw.textlength(title, font=font) > width:
            title = title[:-2] + "…"
        centre = BORDER_PX + column * (width + BORDER_PX) + width / 2
        draw.text((centre, band / 2), title, fill="black", font=font, anchor="mm")
    return picture


def show_image(path: str | Path) -> None:
    """Show a PNG/GIF inline in an IPython kernel (Jupyter, Colab); else print ``saved <path>``."""
    try:
        from IPython import get_ipython
        from IPython.display import Image as InlineImage, display
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        display(InlineImage(filename=str(path)))
    else:
        print(f"saved {path}")


def new_figure(width: float, height: float, layout: str | None = None) -> Figure:
    """A matplotlib figure drawn off-screen (no pyplot state, safe in threads and notebooks)."""
    figure = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Save ``figure`` as a PNG atomically (also on Drive); return the path."""
    return write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))


def plot_losses(
    metrics_csv: str | Path, path: str | Path, columns: list[str] | None = None
) -> Path:
    """Plot loss columns of a run's metrics CSV against "epoch"; save a PNG, return its path.

    By default every column whose name ends in "loss" is drawn; pass ``columns`` to choose.
    """
    metrics_csv = Path(metrics_csv)
    rows = read_metrics(metrics_csv)
    if not rows:
        raise ValueError(f"{metrics_csv} is missing or empty: nothing to plot yet; train an epoch.")
    header = list(dict.fromkeys(name for row in rows for name in row))
    columns = columns or [name for name in header if name.endswith("loss")]
    missing = [name for name in ["epoch", *columns] if name not in header]
    if missing or not columns:
        raise ValueError(
            f"{metrics_csv} has no column(s) {missing or 'ending in loss'}; "
            f"its columns are {header}. Pass columns= with names from that list."
        )

    figure = new_figure(7, 4, layout="tight")
    axes = figure.add_subplot()
    draw_curves(axes, rows, columns)
    axes.set_ylabel("loss")
    axes.legend()
    return save_figure(figure, path)


def draw_curves(axes, rows: list[dict[str, float]], columns: list[str]) -> None:
    """Plot each of ``columns`` of metrics rows against "epoch" on ``axes`` (a column with no value: no line)."""
    epochs = [row["epoch"] for row in rows]
    for name in columns:
        values = [row.get(name, math.nan) for row in rows]
        if not all(math.isnan(v) for v in values):
            axes.plot(epochs, values, marker="o" if len(rows) < 30 else "", label=name)
    axes.set_xlabel("epoch")
    axes.grid(alpha=0.3)


def make_gif(frames: list[str | Path], path: str | Path, duration_ms: int = 300) -> Path:
    """Animate the PNG ``frames`` in order into a looping GIF; the last frame stays 3x longer."""
    if not frames:
        raise ValueError("make_gif got no frames; pass e.g. sample_paths(folder) after training.")
    pictures = []
    for frame in frames:
        with Image.open(frame) as picture:
            pictures.append(picture.convert("RGB"))
    sizes = {picture.size for picture in pictures}
    if len(sizes) > 1:
        raise ValueError(f"make_gif needs frames of one size, got sizes {sorted(sizes)}")
    durations = [duration_ms] * (len(pictures) - 1) + [3 * duration_ms]
    def write(file: BinaryIO) -> None:
        pictures[0].save(file, format="GIF", save_all=True, append_images=pictures[1:],
                         duration=durations, loop=0)  # loop=0: forever

    return write_atomically(path, write)


def sample_paths(folder: str | Path) -> list[Path]:
    """The ``epoch_*.png`` grids in ``folder``, sorted by epoch number (empty if none)."""
    numbered: dict[Path, int] = {}
    for path in Path(folder).glob("epoch_*.png"):
        match = _EPOCH_FILE.fullmatch(path.name)
        if match:
            numbered[path] = int(match[1])
    return sorted(numbered, key=numbered.__getitem__)


class SampleGrid(keras.callbacks.Callback):
    """Save (and optionally show) a grid of generator samples at chosen epochs.

    After epoch ``n`` (1-based) it writes ``folder/epoch_{n:04d}.png`` when ``n % every == 0``
    or when ``n`` is the final epoch (``self.params["epochs"]``, if Keras provides it).
    The generator runs in inference mode (``training=False``): BatchNormalization uses its
    moving statistics and Dropout is off, so grids from different epochs are comparable.
    A conditional generator also gets ``labels`` (one per noise vector; see
    `gan_helpers.sampling.class_grid_inputs` for one row per class, with ``ncols`` the row length).
    """

    def __init__(
        self,
        generator: keras.Model,
        noise: np.ndarray,
        folder: str | Path,
        every: int = 1,
        show: bool = True,
        labels: np.ndarray | None = None,
        ncols: int | None = None,
    ):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1 (save every n-th epoch), got {every}")
        self.generator = generator
        self.noise = np.asarray(noise, dtype=np.float32)
        self.folder = Path(folder)
        self.every = every
        self.show = show
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int32)
        self.ncols = ncols

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        epoch_number = epoch + 1
        final_epoch = (self.params or {}).get("epochs")
        if epoch_number % self.every != 0 and epoch_number != final_epoch:
            return
        inputs = self.noise if self.labels is None else [self.noise, self.labels]
        images = self.generator(inputs, training=False)
        path = save_grid(images, self.folder / f"epoch_{epoch_number:04d}.png", ncols=self.ncols)
        if self.show:
            show_image(path)


class LiveTrainingView(keras.callbacks.Callback):
    """Keras callback: one picture in the notebook that each update replaces: the newest sample
    grid, the loss curves and a quality measured during training (metrics.csv's ``quality``
    column, default ``q_frechet_distance``; None: no quality panel), after every ``every`` epochs and the last.

    Put it after the run's callbacks (`gan_helpers.Run.callbacks`), which write the epoch's metrics
    row and grid first. The picture is a notebook display updated in place, so a long run stays
    one picture (also in a notebook papermill executes); outside a notebook it draws nothing.
    The progress line (`gan_helpers.TrainingProgress`) stays below it.
    """

    def __init__(self, metrics_csv: str | Path, samples_dir: str | Path, every: int = 1,
                 quality: str | None = "q_frechet_distance", notebook: bool | None = None):
        super().__init__()
        if every < 1:
            raise ValueError(f"every={every}: update the view at least every 1 epoch.")
        self.metrics_csv, self.samples_dir, self.every, self.quality = Path(metrics_csv), Path(samples_dir), every, quality
        self.notebook = in_notebook() if notebook is None else notebook
        self.display_id = f"live-view-{id(self)}"
        self.updates = 0  # how often the picture was redrawn (tests read it)

    def on_epoch_end(self, epoch, logs=None):
        completed = epoch + 1
        if completed % self.every and completed != (self.params or {}).get("epochs"):
            return
        if self.notebook:
            from IPython.display import Image as InlineImage, display

            buffer = io.BytesIO()
            try:
                self.figure().savefig(buffer, format="png", dpi=80)
                shown = InlineImage(data=buffer.getvalue())
            except (OSError, ValueError) as error:  # a damaged file must not end the training: say so instead
                shown = f"live view: {error}"
            display(shown, display_id=self.display_id, update=self.updates > 0)
        self.updates += 1

    def figure(self) -> Figure:
        """The view as a figure: newest grid | losses | quality, against epochs."""
        rows, grids = read_metrics(self.metrics_csv), sample_paths(self.samples_dir) if self.samples_dir.exists() else []
        panels = 3 if self.quality else 2
        figure = new_figure(4.4 * panels, 3.6, layout="tight")
        grid_axes, loss_axes, *quality_axes = figure.subplots(1, panels, width_ratios=[1, 1.3, 1.3][:panels])
        grid_axes.axis("off")
        if grids:
            with Image.open(grids[-1]) as picture:
                grid_axes.imshow(np.asarray(picture.convert("RGB")))
            grid_axes.set_title(grids[-1].stem.replace("_", " "))
        curves = [(loss_axes, [n for n in (rows[-1] if rows else {}) if n.endswith("loss")], "losses")]
        if self.quality:
            title = "Fréchet distance (lower is better)" if self.quality == "q_frechet_distance" else self.quality
            curves.append((quality_axes[0], [self.quality], title))
        for axes, names, title in curves:
            draw_curves(axes, rows, names)
            axes.set_title(title)
            if axes.lines:
                axes.legend(fontsize=8)
            else:
                axes.text(0.5, 0.5, "not measured yet", ha="center", va="center", transform=axes.transAxes)
        if self.quality == "q_frechet_distance" and quality_axes[0].lines:
            quality_axes[0].set_yscale("log")
        return figure
