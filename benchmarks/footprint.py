"""What a run of each notebook leaves on Drive, at its default model and settings.

    python benchmarks/footprint.py [--only dcgan_mnist ...]

Runs each notebook through papermill with its default parameters except for how long it trains
(a few epochs on a slice of the data; the sizes of checkpoints, the best generator's weights and
the exported generators depend on the model, not on how long it trained), measures every file of
its run folder, and adds the sample grids a default-length run would leave (their measured mean
size times the number of grids it writes; the animation likewise, per frame). Writes
``results/footprint.json``; drive_layout.md quotes the totals.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import harness

# notebook -> (parameters that keep the run short, grids of a default run, frames of its animation)
SHORT_RUNS = {
    "simple_gan_mnist": ({"epochs": 2, "max_images": 640}, 30, 30),
    "dcgan_mnist": ({"epochs": 2, "max_images": 640}, 20, 20),
    "cyclegan_monet2photo": ({"epochs": 1, "decay_epochs": 1, "images_per_epoch": 2, "inception_weights": ""},
                             200, 26),  # its animation takes every 8th grid of 200, and the last
}
DATA = {"simple_gan_mnist": "mnist", "dcgan_mnist": "mnist", "cyclegan_monet2photo": "monet2photo"}


def sizes(folder: Path) -> dict[str, int]:
    """Bytes of every file under ``folder``, by path relative to it."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def default_run_bytes(files: dict[str, int], default_grids: int, default_frames: int) -> dict[str, int]:
    """The measured files, with the grids (and the animation's frames) of a default-length run."""
    grids = [size for name, size in files.items() if name.startswith("samples/epoch_")]
    per_grid = sum(grids) / max(len(grids), 1)
    total = {"checkpoints": sum(s for n, s in files.items() if n.startswith("checkpoints/epoch_")),
             "best generator": sum(s for n, s in files.items() if n.startswith("checkpoints/best")),
             "exported generators": sum(s for n, s in files.items() if n.endswith(".keras")),
             "sample grids": round(per_grid * default_grids),
             "animation": round(files.get("samples/samples.gif", 0) * default_frames / max(len(grids), 1))}
    measured_samples = sum(grids) + files.get("samples/samples.gif", 0)
    total["other"] = sum(files.values()) - measured_samples - sum(v for k, v in total.items()
                                                                 if k not in ("sample grids", "animation"))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=list(SHORT_RUNS))
    parser.add_argument("--out", default=str(harness.RESULTS / "footprint.json"))
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="gan-footprint-"))
    result = {}
    for notebook in args.only:
        short, default_grids, default_frames = SHORT_RUNS[notebook]
        data_dir = str(harness.SHARED_DATA / DATA[notebook])
        run = harness.run_notebook(notebook, {**short, "data_dir": data_dir}, home, "footprint")
        files = sizes(run.folder)
        parts = default_run_bytes(files, default_grids, default_frames)
        result[notebook] = {"default_grids": default_grids, "measured_run": short, "files": files,
                            "default_run_bytes": parts, "default_run_total_mb": round(sum(parts.values()) / 1e6, 1)}
        print(f"{notebook}: {result[notebook]['default_run_total_mb']} MB for a default run "
              + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in parts.items()))
    harness.write_result(args.out, result)


if __name__ == "__main__":
    main()
