"""A CycleGAN run killed with SIGKILL in the middle of an epoch, run again: how much training is
lost, where it resumes, and whether it ends with the weights of an uninterrupted run.

    python benchmarks/survival.py [--kill-after 60] [-p NAME VALUE ...]

Runs the CycleGAN notebook through papermill three times on real monet2photo (64 px, 6 residual
blocks, 2 epochs of ``--images-per-epoch`` steps, ``checkpoint_every`` 2 minutes, deterministic ops):
an uninterrupted reference (or ``--reference HOME``, one made earlier with the same parameters); a
run killed with SIGKILL (the papermill process and its kernel) ``--kill-after`` seconds after its first
checkpoint inside an epoch; the same command again, which resumes it. Writes ``results/survival.json``: when it was killed, the newest checkpoint then (its
age is the training lost), the position the re-run resumed from, and the largest difference
between the final weights of the two runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import harness

NOTEBOOK = harness.NOTEBOOKS / "cyclegan_monet2photo.ipynb"
PARAMETERS = {"image_size": 64, "n_res_blocks": 6, "epochs": 1, "decay_epochs": 1, "checkpoint_every": 2,
              "inception_weights": "", "run_name": "survival"}


def launch(home: Path, parameters: dict, log: Path) -> subprocess.Popen:
    """The notebook under papermill, in its own process group (so a kill takes its kernel too)."""
    command = [sys.executable, "-m", "papermill", str(NOTEBOOK), str(log.with_suffix(".ipynb")), "--cwd",
               str(harness.NOTEBOOKS), "-k", "python3"]
    for name, value in parameters.items():
        command += ["-p", name, str(value)] if not isinstance(value, str) else ["-r", name, value]
    env = {**os.environ, "GAN_HOME": str(home), "GAN_DETERMINISTIC": "1", "GAN_SMOKE": os.environ.get("GAN_SMOKE", "0")}
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


def checkpoint_positions(folder: Path) -> list[tuple[int, int, float]]:
    """(epoch, step, modification time) of each checkpoint in ``folder``, oldest first."""
    found = []
    for path in folder.glob("epoch_*.npz"):
        match = re.match(r"epoch_(\d+)(?:_step_(\d+))?\.npz$", path.name)
        if match:
            found.append((int(match.group(1)), int(match.group(2) or 0), path.stat().st_mtime))
    return sorted(found)


def final_arrays(run_folder: Path, epochs: int) -> dict[str, np.ndarray]:
    with np.load(run_folder / "checkpoints" / f"epoch_{epochs:04d}.npz") as archive:
        return {name: archive[name] for name in archive.files if name != "meta"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--monet-dir", default=str(harness.SHARED_DATA / "monet2photo"))
    parser.add_argument("--images-per-epoch", type=int, default=400)
    parser.add_argument("--kill-after", type=float, default=45.0,
                        help="seconds after the first checkpoint inside an epoch at which the run is killed")
    parser.add_argument("--reference", default=None, help="GAN_HOME of an uninterrupted run made earlier")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--out", default=str(harness.RESULTS / "survival.json"))
    args = parser.parse_args()
    parameters = {**PARAMETERS, "data_dir": args.monet_dir, "images_per_epoch": args.images_per_epoch,
                  **harness.parse_parameters(args.p)}
    epochs = parameters["epochs"] + parameters["decay_epochs"]
    work = Path(tempfile.mkdtemp(prefix="gan-survival-"))
    print(f"Working in {work}")

    reference_home, reference_seconds = Path(args.reference or work / "reference"), None
    if not args.reference:
        started = time.time()
        reference = launch(reference_home, parameters, work / "reference.log")
        assert reference.wait() == 0, (work / "reference.log").read_text()[-3000:]
        reference_seconds = time.time() - started
        print(f"reference: {reference_seconds / 60:.1f} min")

    killed_home = work / "killed"
    checkpoints = killed_home / "runs" / "cyclegan_monet2photo" / parameters["run_name"] / "checkpoints"
    started = time.time()
    victim = launch(killed_home, parameters, work / "killed.log")
    while not any(step for _, step, _ in (checkpoint_positions(checkpoints) if checkpoints.exists() else [])):
        assert victim.poll() is None, "the run ended before a checkpoint inside an epoch"
        time.sleep(2)
    time.sleep(args.kill_after)
    os.killpg(victim.pid, signal.SIGKILL)
    killed_at = time.time()
    victim.wait()
    newest = checkpoint_positions(checkpoints)[-1]
    print(f"killed {killed_at - started:.0f} s after launch; newest checkpoint: epoch {newest[0]} step {newest[1]}, "
          f"{killed_at - newest[2]:.0f} s old")

    rerun = launch(killed_home, parameters, work / "rerun.log")
    assert rerun.wait() == 0, (work / "rerun.log").read_text()[-3000:]
    executed = json.loads((work / "rerun.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    resumed = re.search(r"Resuming (at step \d+ of epoch \d+|after epoch \d+)", text)

    a = final_arrays(reference_home / "runs" / "cyclegan_monet2photo" / parameters["run_name"], epochs)
    b = final_arrays(killed_home / "runs" / "cyclegan_monet2photo" / parameters["run_name"], epochs)
    differences = [float(np.max(np.abs(a[name].astype(np.float64) - b[name].astype(np.float64))))
                   for name in a if a[name].size]
    result = {
        "parameters": parameters,
        "reference_minutes": round(reference_seconds / 60, 2) if reference_seconds else None,
        "killed_after_launch_seconds": round(killed_at - started, 1),
        "newest_checkpoint_at_kill": {"epoch": newest[0], "step": newest[1],
                                      "age_seconds": round(killed_at - newest[2], 1)},
        "resumed": resumed.group(0) if resumed else None,
        "arrays_compared": len(differences),
        "max_abs_weight_difference": max(differences),
        "identical": all(np.array_equal(a[name], b[name]) for name in a),
    }
    print(json.dumps(result, indent=2))
    harness.write_result(args.out, result)


if __name__ == "__main__":
    main()
