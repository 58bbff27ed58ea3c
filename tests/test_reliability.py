"""Issue 22: runs killed, corrupted and misconfigured. Each test reproduces one reported failure.

Faults are injected, never the code under test replaced: a full disk is a copy/rename that raises
ENOSPC, a kill is SIGKILL of a real process, damage is bytes written over a real file.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np
import pytest

import gan_helpers as gh
from gan_helpers import files

REPO = Path(__file__).resolve().parent.parent
PARAMS = {"dataset": "mnist", "epochs": 3, "batch_size": 32, "g_learning_rate": 2e-4, "seed": 1}


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    return gh.setup(quiet=True)


@pytest.fixture
def local_temp(monkeypatch, tmp_path):
    """The folder local temporary files go to (instead of the machine's /tmp), to see what is left."""
    folder = tmp_path / "local-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def half_copy_then_disk_full(src, dst, *args, **kwargs):
    Path(dst).write_bytes(Path(src).read_bytes()[:100])  # part of it arrived, then the disk filled up
    disk_full()


def small_trained_model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    return model


# ---------------------------------------------------------------- 8. temporary files


@pytest.mark.parametrize("fault", ["copy", "rename"])
def test_a_failed_atomic_write_leaves_no_temporary_file(monkeypatch, tmp_path, local_temp, fault):
    destination = tmp_path / "run" / "checkpoints" / "epoch_0001.npz"
    if fault == "copy":
        monkeypatch.setattr(shutil, "copyfile", half_copy_then_disk_full)
    else:
        monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        files.write_atomically(destination, b"x" * 100_000)
    assert list(local_temp.iterdir()) == []  # the local copy is gone ...
    assert list(destination.parent.iterdir()) == []  # ... and so is the half-copied .partial


def test_a_failed_model_save_leaves_no_temporary_file(monkeypatch, env, local_temp):
    run = gh.Run(env, "exp", "r", PARAMS)
    model = small_trained_model()
    monkeypatch.setattr(shutil, "copyfile", half_copy_then_disk_full)
    with pytest.raises(OSError, match="No space left"):
        run.save_model(model, "generator.keras")
    monkeypatch.undo()
    assert list(local_temp.iterdir()) == []
    assert not list(run.folder.glob(".*")) and not run.generator_path.exists()


KILLED_SAVE = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from gan_helpers import files
real_replace = os.replace
def replace_then_die(src, dst):
    if str(dst).endswith("generator.keras"):
        print(f"LOCAL {{files.tempfile.gettempdir()}}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # killed between the copy and the rename
    real_replace(src, dst)
os.replace = replace_then_die
files.write_atomically(Path(sys.argv[1]) / "generator.keras", b"model bytes" * 1000)
"""


def test_a_kill_during_the_generator_save_leaves_partials_that_the_next_run_deletes(env, local_temp):
    run = gh.Run(env, "exp", "r", PARAMS)
    script = KILLED_SAVE.format(repo=str(REPO))
    process = subprocess.run([sys.executable, "-c", script, str(run.folder)], capture_output=True, text=True,
                             timeout=300, env={**os.environ, "TMPDIR": str(local_temp)})
    assert process.returncode == -signal.SIGKILL, process.stderr
    leftovers = list(run.folder.glob(".generator.keras.*.partial"))
    assert len(leftovers) == 1 and not run.generator_path.exists()
    (local_leftover,) = local_temp.iterdir()  # the killed process's local copy
    os.utime(local_leftover, (0, 0))  # old enough to be stale for sure
    for folder in (run.samples_dir, run.checkpoints.folder, run.folder / "translated" / "testA_to_B"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".epoch_0001.png.4242.partial").write_bytes(b"half")
    (run.folder / ".keep-me").write_text("not ours")

    gh.Run(env, "exp", "r", PARAMS)  # the next session

    assert sorted(p.name for p in run.folder.rglob(".*")) == [".keep-me"]
    assert list(local_temp.iterdir()) == []


# ---------------------------------------------------------------- 1. config.json missing


def trained_run(env, params=PARAMS, epochs=(1, 2)) -> gh.Run:
    run = gh.Run(env, "exp", "r", params)
    model = small_trained_model()
    for epoch in epochs:
        run.checkpoints.save(model, epoch)
    return run


def test_checkpoints_without_config_json_are_refused_naming_the_folder_and_the_choices(env):
    run = trained_run(env)
    run.config_path.unlink()
    before = sorted(p.relative_to(run.folder) for p in run.folder.rglob("*"))
    with pytest.raises(ValueError) as refused:
        gh.Run(env, "exp", "r", {**PARAMS, "g_learning_rate": 1e-3})
    message = str(refused.value)
    assert str(run.folder) in message and "no config.json" in message
    assert "restore config.json" in message and "another run_name" in message
    assert "g_learning_rate: 0.0002 -> 0.001" in message  # the checkpoint remembers what it was trained with
    assert sorted(p.relative_to(run.folder) for p in run.folder.rglob("*")) == before  # nothing was written
    with pytest.raises(ValueError, match="saved with this session's parameters"):
        gh.Run(env, "exp", "r", PARAMS)  # the same values: still refused (the session history is gone)


def test_a_folder_without_checkpoints_or_config_json_is_a_new_run(env):
    run = gh.Run(env, "exp", "r", PARAMS)
    run.config_path.unlink()
    gh.Run(env, "exp", "r", {**PARAMS, "g_learning_rate": 1e-3})
    assert json.loads(run.config_path.read_text())["params"]["g_learning_rate"] == 1e-3


# ---------------------------------------------------------------- 3. damaged bookkeeping files


@pytest.mark.parametrize("damage", [b"{\"params\": {\"seed\": 1", b"\x00\xff\xfe binary", b"[1, 2, 3]"])
def test_damaged_config_json_with_checkpoints_is_refused_naming_the_file(env, damage):
    run = trained_run(env)
    run.config_path.write_bytes(damage)
    with pytest.raises(ValueError) as refused:
        gh.Run(env, "exp", "r", PARAMS)
    message = str(refused.value)
    assert "damaged config.json" in message and str(run.folder) in message
    assert "restore config.json" in message and "another run_name" in message
    assert run.config_path.read_bytes() == damage  # left for the user to restore


def test_damaged_config_json_without_checkpoints_is_set_aside_with_a_warning(env, capsys):
    run = gh.Run(env, "exp", "r", PARAMS)
    run.config_path.write_text("{not json")
    gh.Run(env, "exp", "r", PARAMS)
    out = capsys.readouterr().out
    assert f"Warning: {run.config_path} is damaged" in out and "set aside as config.json.damaged-" in out
    (aside,) = run.folder.glob("config.json.damaged-*")
    assert aside.read_text() == "{not json"
    assert json.loads(run.config_path.read_text())["params"] == {**PARAMS, "run_name": "r"}


@pytest.mark.parametrize("damage", [
    "epoch,d_loss,seconds\n1,0.5,2.0\n2,zero point four,2.0\n",  # a value that is no number
    "epoch,d_loss\n1,0.5,7,8\n",  # more values than columns
    "d_loss,seconds\n0.5,2.0\n",  # no epoch column
    "\x00\x01garbage\x00",  # not a CSV
    b"epoch,d_loss\n1,\xff\xfe\x00\n",  # not text
])
def test_damaged_metrics_csv_is_set_aside_with_a_warning_before_training(env, capsys, damage):
    run = gh.Run(env, "exp", "r", PARAMS)
    (run.metrics_path.write_bytes if isinstance(damage, bytes) else run.metrics_path.write_text)(damage)
    with pytest.raises(ValueError, match="metrics.csv is damaged"):
        gh.read_metrics(run.metrics_path)  # what failed before, naming no file
    run = gh.Run(env, "exp", "r", PARAMS)
    out = capsys.readouterr().out
    assert f"Warning: {run.metrics_path} is damaged" in out and "set aside as metrics.csv.damaged-" in out
    (aside,) = run.folder.glob("metrics.csv.damaged-*")
    assert aside.read_bytes() == (damage if isinstance(damage, bytes) else damage.encode())
    assert not run.metrics_path.exists()
    assert run.metrics() == []


def test_a_run_with_a_damaged_metrics_csv_trains_on_and_logs_the_new_epochs(tmp_path, tiny_mnist_dir, capsys):
    from tiny_gan import train

    run = train(tmp_path, tiny_mnist_dir, "run", epochs=1)
    run.metrics_path.write_text("epoch,d_loss\n1,garbage\n")
    run = train(tmp_path, tiny_mnist_dir, "run", epochs=2)
    assert "set aside as metrics.csv.damaged-" in capsys.readouterr().out
    assert [row["epoch"] for row in run.metrics()] == [2]
    assert json.loads(run.summary_path.read_text())["status"] == "complete"


# ---------------------------------------------------------------- 2. a kill between a checkpoint and its grid


def grids(run: gh.Run) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in gh.sample_paths(run.samples_dir)}


def test_a_kill_between_a_checkpoint_and_its_grid_loses_no_grid(tmp_path, tiny_mnist_dir):
    from tiny_gan import train

    reference = grids(train(tmp_path / "reference", tiny_mnist_dir, "run", epochs=3))
    assert list(reference) == ["epoch_0001.png", "epoch_0002.png", "epoch_0003.png"]

    victim = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("tiny_gan.py")), "--home", str(tmp_path / "killed"),
         "--data-dir", str(tiny_mnist_dir), "--epochs", "3", "--die-after-checkpoint-epoch", "2"],
        capture_output=True, text=True, timeout=300)
    assert victim.returncode == -signal.SIGKILL and "DYING_AFTER_CHECKPOINT 2" in victim.stdout, victim.stderr
    run = train(tmp_path / "killed", tiny_mnist_dir, "run", epochs=3)  # the re-run resumes after epoch 2

    assert grids(run) == reference  # every grid, identical to the uninterrupted run's
    assert gh.sample_paths(run.samples_dir)[-1].name == "epoch_0003.png"  # the notebooks' "Final grid"


@pytest.mark.parametrize("epochs_before", [2, 3])  # then resumed for epoch 3, or already complete
def test_a_grid_missing_for_the_restored_epoch_is_drawn_from_its_checkpoint(tmp_path, tiny_mnist_dir, capsys,
                                                                           epochs_before):
    from tiny_gan import train

    reference = grids(train(tmp_path / "reference", tiny_mnist_dir, "run", epochs=3))
    run = train(tmp_path / "old", tiny_mnist_dir, "run", epochs=epochs_before)
    (run.samples_dir / f"epoch_{epochs_before:04d}.png").unlink()  # as an older version's kill left it
    capsys.readouterr()
    run = train(tmp_path / "old", tiny_mnist_dir, "run", epochs=3)
    assert f"Drew the missing sample grid of epoch {epochs_before}" in capsys.readouterr().out
    assert grids(run) == reference


@pytest.mark.parametrize("damage", [b"{\"epoch\": 2, \"metric\": \"frechet", b"\xff\xfe\x00", b"[]", b"{\"epoch\": \"two\"}"])
def test_damaged_best_json_is_set_aside_before_training_and_the_best_starts_afresh(tmp_path, tiny_mnist_dir, capsys,
                                                                                  damage):
    images = gh.to_model_range(gh.load_mnist_family("mnist", "test", cache_dir=tmp_path, data_dir=tiny_mnist_dir)[0])
    generator = keras.Sequential([keras.Input((8,)), keras.layers.Dense(28 * 28, activation="tanh"),
                                  keras.layers.Reshape((28, 28, 1))])
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / "best.json").write_bytes(damage)
    with pytest.raises(ValueError, match="best.json is damaged"):
        gh.QualityDuringTraining.best_record(folder)  # named, not a bare JSONDecodeError

    callback = gh.QualityDuringTraining(generator, 8, images, gh.load_classifier("mnist"), folder, num_samples=64)
    out = capsys.readouterr().out  # found when the callback is made, before any training
    assert f"Warning: {folder / 'best.json'} is damaged" in out and "set aside as best.json.damaged-" in out
    (aside,) = folder.glob("best.json.damaged-*")
    assert aside.read_bytes() == damage and callback.best_so_far() is None

    callback.set_model(small_trained_model())
    callback.set_params({"epochs": 5})
    callback.on_epoch_end(2, {})  # the next evaluation (after epoch 3) is the new best
    assert gh.QualityDuringTraining.best_record(folder)["epoch"] == 3
    assert (folder / "best.npz").exists()


# ---------------------------------------------------------------- 5. translations of images that share a stem


def solid(value: int) -> np.ndarray:
    return np.full((40, 40, 3), value, np.uint8)


def test_translations_of_images_that_share_a_stem_do_not_overwrite_each_other(tmp_path):
    from PIL import Image

    test_a = tmp_path / "testA"
    test_a.mkdir()
    sources = {"dup.jpg": 20, "dup.png": 120, "DUP.jpeg": 200, "dup_png.jpg": 60, "other.jpg": 240}
    for name, value in sources.items():
        Image.fromarray(solid(value)).save(test_a / name)
    images, names = gh.load_images(test_a, 32)  # as the CycleGAN notebook reads a test split ...
    written = gh.write_images(images, names, tmp_path / "translated" / "testA_to_B")  # ... and writes it back

    assert len(written) == len(names) == len(sources)  # as many files written as images read
    assert sorted(p.name for p in (tmp_path / "translated" / "testA_to_B").iterdir()) == sorted(p.name for p in written)
    for name, path in zip(names, written):
        assert abs(np.asarray(Image.open(path)).mean() - sources[name]) < 3, (name, path.name)  # its own image
    named = dict(zip(names, (p.name for p in written)))
    assert named["dup.jpg"] == "dup_jpg.jpg" and named["dup.png"] == "dup_png.jpg" and named["other.jpg"] == "other.jpg"


# ---------------------------------------------------------------- 6. an empty split


@pytest.mark.parametrize("content", [{}, {"README.txt": "no pictures here"}, {"photo.gif": "GIF89a"}])
def test_an_empty_split_is_named_with_what_it_must_hold(tmp_path, content):
    from PIL import Image

    dataset = tmp_path / "monet2photo"
    for split in gh.SPLIT_FOLDERS:
        (dataset / split).mkdir(parents=True)
        if split != "testA":
            Image.fromarray(solid(100)).save(dataset / split / "one.jpg")
    for name, text in content.items():
        (dataset / "testA" / name).write_text(text)
    found = "only " + ", ".join(repr(n) for n in content) if content else "nothing"

    with pytest.raises(FileNotFoundError) as refused:  # data_dir: checked before any image is loaded
        gh.find_unpaired_dataset("monet2photo", cache_dir=tmp_path / "cache", data_dir=dataset)
    message = str(refused.value)
    assert f"The folder {dataset / 'testA'} holds no image file (it holds {found})" in message
    assert "It must hold the images themselves, as .jpg, .jpeg, .png files" in message

    with pytest.raises(ValueError) as refused:  # a cached copy emptied later: found where it is loaded
        gh.load_images(dataset / "testA", 32)
    assert f"The folder {dataset / 'testA'} holds no image file (it holds {found})" in str(refused.value)


# ---------------------------------------------------------------- 7. zip bombs


def write_zip(path: Path, entries: dict[str, int | bytes], compression=None) -> Path:
    """A zip of ``entries``: bytes as given, or an int: that many zero bytes, streamed (never in memory)."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=compression or zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            with archive.open(name, "w", force_zip64=True) as entry:
                if isinstance(content, bytes):
                    entry.write(content)
                else:
                    for start in range(0, content, 1 << 20):
                        entry.write(bytes(min(1 << 20, content - start)))
    return path


def small_jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(solid(90)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("bomb", [
    {"monet2photo/trainA/zeros.jpg": 256 << 20},  # one entry: 256 MiB of zeros in a zip of 0.25 MB
    {f"monet2photo/trainB/{i:03d}.jpg": 1 << 20 for i in range(64)},  # many 1 MiB entries
])
def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_extracted(tmp_path, bomb):
    layout = {f"monet2photo/{split}/one.jpg": small_jpeg() for split in gh.SPLIT_FOLDERS}
    archive = write_zip(tmp_path / "monet2photo.zip", {**layout, **bomb})
    assert archive.stat().st_size < 1_000_000
    cache = tmp_path / "cache"
    with pytest.raises(gh.UnsafeArchiveError) as refused:
        gh.find_unpaired_dataset("monet2photo", cache_dir=cache, source=archive, official_url=None, use_tfds=False)
    message = str(refused.value)
    assert f"Refusing to extract {archive}" in message and "Nothing was extracted" in message
    assert "times as many), more than max_compression_ratio = 100" in message
    assert "find_unpaired_dataset(..., max_compression_ratio=...)" in message
    assert sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) == 0  # not one byte unpacked


def test_the_unpacked_size_is_capped_and_the_cap_can_be_raised(tmp_path):
    import zipfile

    layout = {f"monet2photo/{split}/one.jpg": small_jpeg() for split in gh.SPLIT_FOLDERS}
    archive = write_zip(tmp_path / "monet2photo.zip", layout, compression=zipfile.ZIP_STORED)
    get = dict(cache_dir=tmp_path / "cache", source=archive, official_url=None, use_tfds=False)
    with pytest.raises(gh.UnsafeArchiveError, match=r"unpack to [\d,]+ bytes, more than max_unpacked_bytes = 1,000 bytes"):
        gh.find_unpaired_dataset("monet2photo", max_unpacked_bytes=1000, **get)
    assert not list((tmp_path / "cache").rglob("*.jpg"))
    folder = gh.find_unpaired_dataset("monet2photo", max_unpacked_bytes=10_000, **get)  # raised: it fits
    assert len(gh.list_images(folder / "testA")) == 1


# ---------------------------------------------------------------- 9. a bad root or data folder


def test_gan_home_pointing_at_a_file_is_named_with_the_fix(monkeypatch, tmp_path):
    home = tmp_path / "home.txt"
    home.write_text("a file")
    monkeypatch.setenv("GAN_HOME", str(home))
    with pytest.raises(ValueError) as refused:
        gh.setup(quiet=True)
    message = str(refused.value)
    assert f"GAN_HOME={str(home)!r}" in message and "is a file, not a folder" in message
    assert "Set GAN_HOME to a folder you can write to" in message


@pytest.mark.parametrize("where", ["under a file", "/proc"])
def test_gan_home_that_cannot_be_created_is_named_with_the_fix(monkeypatch, tmp_path, where):
    if where == "/proc":
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc here")
        home = "/proc/gan-home"
    else:
        (tmp_path / "file").write_text("x")
        home = str(tmp_path / "file" / "gan-home")
    monkeypatch.setenv("GAN_HOME", home)
    with pytest.raises(ValueError) as refused:
        gh.setup(quiet=True)
    message = str(refused.value)
    assert f"GAN_HOME={home!r}" in message and "the folder cannot be created" in message
    assert "Set GAN_HOME to a folder you can write to" in message


@pytest.mark.parametrize("how", ["read-only folder", "read-only file system"])
def test_a_read_only_root_is_found_by_setup(monkeypatch, tmp_path, how):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GAN_HOME", str(home))
    if how == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders; the file-system case covers it")
        home.chmod(0o555)
    else:
        real_open = os.open

        def read_only_file_system(path, *args, **kwargs):
            if Path(path).parent == home:
                raise OSError(errno.EROFS, "Read-only file system")
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", read_only_file_system)
    try:
        with pytest.raises(ValueError) as refused:
            gh.setup(quiet=True)
    finally:
        home.chmod(0o755)
    message = str(refused.value)
    assert f"GAN_HOME={str(home)!r}" in message and "is not writable" in message
    assert "Set GAN_HOME to a folder you can write to" in message
    assert list(home.iterdir()) == []


@pytest.mark.parametrize("bad", [123, 1.5, True, ["/data"]])
def test_data_dir_that_is_not_a_string_is_named(monkeypatch, tmp_path, bad):
    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    with pytest.raises(ValueError) as refused:
        gh.setup(data_dir=bad, quiet=True)  # e.g. papermill's -p data_dir 123 gives an int
    message = str(refused.value)
    assert f"data_dir={bad!r} (of type {type(bad).__name__}) is not a folder path" in message
    assert 'Set data_dir to the path of the folder' in message


def test_gan_data_dir_that_is_no_folder_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_HOME", str(tmp_path))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=r"GAN_DATA_DIR='.*missing' does not exist\. Point GAN_DATA_DIR"):
        gh.setup(quiet=True)
    with pytest.raises(FileNotFoundError, match=r"data_dir='.*nowhere' does not exist\. Point data_dir"):
        gh.setup(data_dir=str(tmp_path / "nowhere"), quiet=True)
