"""The result tables of benchmarks/README.md (and of README.md's leaderboard and
benchmarks/results/wgan_gp_settings.md), generated from benchmarks/results/*.json.

    python benchmarks/report.py           # rewrite the generated sections of those pages
    python benchmarks/report.py --check   # exit 1 if a page is not what the JSON files give

Each generated section sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` in a
page; the prose around them is written by hand. Every row names the machine it was measured on
(the result's ``machine`` record; "not recorded" where an old result has none).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Callable

from harness import RESULTS

README = RESULTS.parent / "README.md"
MAIN_README = RESULTS.parent.parent / "README.md"
PAGES = (README, MAIN_README, RESULTS / "wgan_gp_settings.md")
MARKER = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end: (?P=name) -->)", re.S)


def load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def short_machine(machine: dict | None) -> str:
    """A short name for a ``harness.machine()`` record: the AMD generation where known."""
    if not machine or "cpu" not in machine:
        return "not recorded"
    family, model = machine.get("family"), machine.get("model")
    if "AMD" in machine.get("cpu", "") and family in (23, 25, 26):
        zen4 = model is not None and (0x10 <= model <= 0x1F or 0x60 <= model <= 0xAF)
        return {23: "Zen 2", 25: "Zen 4" if zen4 else "Zen 3", 26: "Zen 5"}[family]
    cpu = machine.get("cpu", "?").replace("(R)", "").replace(" Processor", "").replace(" CPU", "")
    return f"{cpu} family {family} model {model}"


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def machines() -> str:
    """One line per machine named in the results, sorted by name (so deleting a result file does not reorder them).

    Of the records of one machine, one measured on it (no ``source``) and naming its model describes it.
    """
    seen: dict[str, tuple[tuple[bool, bool], str]] = {}
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        records = [data.get("machine")] + [r.get("machine") for r in data.get("results", [])]
        records += [v.get("machine") for v in data.values() if isinstance(v, dict)]
        for record in records:
            if isinstance(record, dict) and "cpu" in record:
                isa = "AVX-512 with avx512_bf16" if record["avx512_bf16"] else "AVX-512" if record["avx512"] else "AVX2, no bf16"
                model = f" model {record['model']}" if record.get("model") is not None else ""
                source = f" ({record['source']})" if record.get("source") else ""
                rank = (not record.get("source"), record.get("model") is not None)  # measured here, with its model
                name = short_machine(record)
                if name not in seen or rank > seen[name][0]:
                    seen[name] = (rank, f"{record['cpu']}, family {record['family']}{model}, "
                                        f"{record['cores']} cores, {isa}{source}")
    return "\n".join(f"- **{name}**: {text}" for name, (_, text) in sorted(seen.items()))


def quality() -> str:
    data = load("quality.json")
    rows = []
    for key, r in data.items():
        if "/" not in key:
            continue
        e, name = r["evaluation"], f"{r['model']} ({r['dataset']}" + (f"; {r['note']})" if r.get("note") else ")")
        rows.append([name, r["epochs"], f"{r['train_seconds'] / 60:.1f}", r["precision"], f"{e['frechet_distance']:.2f}",
                     f"{e['kid']:.2f}", f"{e['precision']:.2f}", f"{e['recall']:.2f}", f"{e['classifier_score']:.2f}",
                     e["classes_covered"], f"{r['full_evaluation_seconds']:.1f}", short_machine(r.get("machine"))])
        if r.get("evaluation_without_ema"):
            w = r["evaluation_without_ema"]
            rows.append(["… its trained generator, no average", "", "", "", f"{w['frechet_distance']:.2f}", f"{w['kid']:.2f}",
                         f"{w['precision']:.2f}", f"{w['recall']:.2f}", f"{w['classifier_score']:.2f}", w["classes_covered"],
                         "", ""])
    f = next(r["floor"] for k, r in data.items() if "/" in k)
    rows.append(["real vs real (floor)", "", "", "", f"{f['frechet_distance']:.2f}", f"{f['kid']:.3f}", f"{f['precision']:.2f}",
                 f"{f['recall']:.2f}", f"{f['classifier_score']:.2f}", f["classes_covered"], "", ""])
    return table(["run", "epochs", "train min", "dtype", "Fréchet distance", "KID", "precision", "recall",
                  "classifier score", "classes", "eval s", "machine"], rows)


def time_to_quality() -> str:
    """One row per time_to_quality*.json: the recipe, when score ≥ target came, the curve at a few epochs."""
    epochs = (1, 3, 5, 7, 10, 20)
    rows = []
    for path in sorted(RESULTS.glob("time_to_quality*.json")):
        r = json.loads(path.read_text())
        params, curve = r.get("parameters") or {}, r["curve"]
        score = {row["epoch"]: row["q_classifier_score"] for row in curve}
        speeds = [row["images_per_sec"] for row in curve]
        recipe = path.stem.removeprefix("time_to_quality").strip("_") or "defaults"
        rate = params.get("g_learning_rate", 2e-4)  # the default before parameters were recorded
        reached = (f"epoch {r['epoch']}, {r['minutes']:.1f} min" if r["reached"]
                   else f"not in {len(curve)} epochs ({r['total_training_minutes']:.1f} min)")
        rows.append([f"`{path.name}`", recipe, f"{rate * 1e4:g}e-4", params.get("seed", 42), reached,
                     " / ".join(f"{score[e]:.2f}" if e in score else "–" for e in epochs),
                     f"{curve[-1]['q_frechet_distance']:.1f}", f"{min(speeds):.0f}–{max(speeds):.0f}",
                     short_machine(r.get("machine"))])
    return table(["result", "recipe", "learning rates", "seed", "score ≥ 9.0 first after",
                  "score after epoch " + " / ".join(map(str, epochs)), "last Fréchet distance", "images/s", "machine"], rows)


def throughput() -> str:
    rows = []
    for r in load("throughput.json")["results"]:
        achieved = r["gflop_per_image"] * r["images_per_sec"]
        rows.append([r["config"], r["path"], f"{r['images_per_sec']:,.0f}" if r["images_per_sec"] >= 100 else f"{r['images_per_sec']:.2f}", f"{r['seconds_per_step']:.3f}",
                     f"{r['speedup_vs_float32']:.2f}×", f"{r['loop_vs_step_only']:.2f}", f"{r['peak_rss_gb']:.2f}",
                     f"{achieved:.0f}", f"{100 * achieved / r['peak_gflops']:.0f}%", short_machine(r.get("machine"))])
    return table(["notebook", "path", "images/s", "s/step", "vs float32", "loop / step-only", "peak RSS GB",
                  "GFLOP/s", "% of peak", "machine"], rows)


def step_ab() -> str:
    rows = []
    for path in sorted(RESULTS.glob("step_ab_*.json")):
        r = json.loads(path.read_text())
        ratio, a, b = r["b_over_a"], r["images_per_sec"][r["a"]], r["images_per_sec"][r["b"]]
        rows.append([r["model"], f"{r['a']} → {r['b']}" + (f" ({r['precision']})" if r.get("precision") else ""),
                     len(a), f"{statistics.median(a):.0f}", f"{statistics.median(b):.0f}",
                     f"{ratio['median']:.2f}× ({ratio['min']:.2f}–{ratio['max']:.2f})", short_machine(r.get("machine"))])
    return table(["model", "A → B", "rounds", "A images/s", "B images/s", "B / A, median (range)", "machine"], rows)


def seed_spreads() -> str:
    """Mean ± std over seeds of the DCGAN's final evaluation, per arm of a comparison: float32 vs bf16
    (dcgan_precision_sweep.json), one device vs two replicas (distribute_mirrored.json)."""
    arms: list[tuple[str, list[dict], dict | None]] = []  # (label, runs as flat records, machine)
    sweep = load("dcgan_precision_sweep.json")
    for precision in dict.fromkeys(run["precision"] for run in sweep["runs"]):
        arms.append((precision, [run for run in sweep["runs"] if run["precision"] == precision], sweep.get("machine")))
    if (RESULTS / "distribute_mirrored.json").exists():
        mirrored = load("distribute_mirrored.json")
        labels = {"none": "1 device (`strategy` none)", "mirrored": "2 replicas (`strategy` mirrored)"}
        for strategy, label in labels.items():
            runs = [{**run["evaluation"], "train_seconds": run["train_seconds"]}
                    for run in mirrored["runs"] if run["strategy"] == strategy]
            if runs:
                arms.append((label, runs, mirrored.get("machine")))
    rows = []
    for label, runs, machine in arms:
        def spread(key: str, digits: int) -> str:
            values = [run[key] for run in runs]
            deviation = statistics.stdev(values) if len(values) > 1 else float("nan")
            return f"{statistics.mean(values):.{digits}f} ± {deviation:.{digits}f}"

        rows.append([label, len(runs), spread("classifier_score", 2), spread("frechet_distance", 1), spread("kid", 2),
                     spread("recall", 3), spread("train_seconds", 0), short_machine(machine)])
    return table(["arm", "seeds", "classifier score", "Fréchet distance", "KID", "recall", "train s (2 epochs)",
                  "machine"], rows)


def cyclegan() -> list[list]:
    """Rows of the "other" table: the CycleGAN's step times, its quality runs, ``gh.translate()``."""
    speed = load("cyclegan_speed.json")
    rows = [["CycleGAN step time (`cyclegan_speed.py`, batch 1, float32)", "; ".join(
        f"{r['image_size']} px, {r['n_res_blocks']} blocks: {r['seconds_per_step']:.2f} s/step ({r['timed_steps']} steps; "
        f"first {r['first_step_seconds']:.0f} s)" for r in speed["results"]), short_machine(speed.get("machine"))]]
    if (RESULTS / "cyclegan_quality.json").exists():
        for name, r in load("cyclegan_quality.json").items():
            if name in ("machine", "date"):
                continue
            if name == "long":
                rows.append(cyclegan_long_row(r))
                continue
            e = r["evaluation"]

            def test(direction: str) -> str:
                accuracy, floor = e[f"two_sample_accuracy_{direction}"], e[f"two_sample_floor_{direction}"]
                return (f"{accuracy:.2f} ± {e[f'two_sample_accuracy_std_{direction}']:.2f} (real vs real "
                        f"{floor:.2f}, {e[f'two_sample_images_{direction}']} images)")

            patch = f", `d_patch` {r['variant']['d_patch']}" if "d_patch" in r["variant"] else ""
            rows.append([f"CycleGAN 64 px, {r['steps']:,} steps, `upsample` {r['variant']['upsample']}, `ema_decay` "
                         f"{r['variant']['ema_decay']:g}{patch} (`cyclegan_quality.py`; grid "
                         f"`results/cyclegan_quality_{name}_grid.png`)",
                         f"two-sample accuracy photo → Monet {test('b_to_a')}, Monet → photo {test('a_to_b')}; "
                         f"checkerboard energy of the fake Monets {e['checkerboard_energy_b_to_a']:.4f} (real "
                         f"{e['checkerboard_energy_real_b_to_a']:.4f}); cycle L1 {e['cycle_l1_a']:.3f} / "
                         f"{e['cycle_l1_b']:.3f}; {r['train_seconds'] / 60:.0f} min", short_machine(r.get("machine"))])
    sample = load("translate_sample.json")
    rows.append(["`gh.translate()` of a finished 64 px run's generators (`translate_sample.py`)", f"{sample['seconds_per_image']:.2f} s per image",
                 short_machine(sample.get("machine"))])
    return rows


def cyclegan_long_row(r: dict) -> list:
    """The long CycleGAN run: its photos' translations against every real Monet painting."""
    w, e, f, floor = r["wide"], r["evaluation"], r["wide"]["features"], r["wide"]["features_floor"]
    return [f"CycleGAN 64 px, {r['steps']:,} steps (half decaying), `upsample` {r['variant']['upsample']}, `ema_decay` "
            f"{r['variant']['ema_decay']:g}, {r['heldout_photos']} training photos held out (`cyclegan_quality.py "
            f"--long`; grids `results/cyclegan_quality_long_epoch*.png`)",
            f"{w['num_translations']} test photos' translations vs {w['num_monets']} real Monets: two-sample accuracy "
            f"{w['two_sample_accuracy']:.2f} ± {w['two_sample_accuracy_std']:.2f} ({w['two_sample_images']} per set; real "
            f"vs real {w['two_sample_floor']:.2f}; the photos untranslated {w['untranslated_two_sample_accuracy']:.2f}); "
            f"FD {f['frechet_distance']:.1f} (floor {floor['frechet_distance']:.1f}), KID {f['kid']:.2f} "
            f"({floor['kid']:.2f}) in the CIFAR-10 classifier's features; checkerboard energy {w['checkerboard_energy']:.4f} "
            f"(real {w['checkerboard_energy_real']:.4f}); cycle L1 {e['cycle_l1_a']:.3f} / {e['cycle_l1_b']:.3f}; "
            f"{r['train_seconds'] / 60:.0f} min", short_machine(r.get("machine"))]


def _fixed(value: float | None, digits: int) -> str:
    """``value`` with ``digits`` decimals; a dash where it was not measured."""
    return "–" if value is None else f"{value:.{digits}f}"


def _rate(value: float) -> str:
    """A learning rate as the notebooks write it: 0.0002 -> 2e-4."""
    return f"{value:.0e}".replace("e-0", "e-")


def _class_shares(evaluation: dict) -> str:
    """The smallest–largest share (%) of the classifier's predicted classes; empty if not measured."""
    histogram = evaluation.get("class_histogram") or []
    return f"{100 * min(histogram):.1f}–{100 * max(histogram):.1f}" if histogram else ""


def variants() -> str:
    """variants.json: WGAN-GP, cGAN and AC-GAN with every metric, then the floor; below, the DCGAN's
    loss × d_norm grid, one cell per run (its defaults: `ns`, `batch`)."""
    data = load("variants.json")
    runs = {key: r for key, r in data.items() if "/" in key}

    def grid_cell(e) -> str:
        return (f"{e['classifier_score']:.2f} · {e['frechet_distance']:.1f} · {e['kid']:.2f} · "
                f"{e['precision']:.2f} · {e['recall']:.2f} · {_class_shares(e)}")

    def row(name, r, e) -> list:
        accuracy = e.get("conditional_accuracy")
        return [name, r["epochs"] if r else "", f"{r['train_seconds'] / 60:.1f}" if r else "",
                _fixed(e["frechet_distance"], 1), _fixed(e["kid"], 2), _fixed(e["precision"], 2), _fixed(e["recall"], 2),
                _fixed(e["classifier_score"], 2), e["classes_covered"], _class_shares(e),
                _fixed(None if accuracy is None else 100 * accuracy, 1),
                _fixed(e.get("intra_class_frechet_distance"), 1), short_machine(r.get("machine")) if r else ""]

    names = {"wgan-gp/wgan_gp": "WGAN-GP", "conditional/cgan": "cGAN", "conditional/acgan": "AC-GAN"}
    rows = [row(name, runs[key], runs[key]["evaluation"]) for key, name in names.items() if key in runs]
    floor = next((r["floor"] for r in runs.values() if r["floor"].get("conditional_accuracy") is not None),
                 next(iter(runs.values()))["floor"])
    rows.append(row("real vs real (floor)", None, floor))
    first = table(["run", "epochs", "train min", "FD", "KID", "precision", "recall", "score", "classes", "class %",
                   "cond. acc. %", "intra-class FD", "machine"], rows)

    norms = ("batch", "spectral", "none")
    grid_epochs = [r["epochs"] for key, r in runs.items() if key.startswith("dcgan-grid/")]
    usual_epochs = max(grid_epochs, key=grid_epochs.count) if grid_epochs else None
    grid = []
    for loss in ("ns", "mm", "lsgan", "hinge"):
        cells, machines = [], set()
        for norm in norms:
            r = runs.get(f"dcgan-grid/{loss}-{norm}")
            if r is None:
                cells.append("not measured")
                continue
            # while a grid is being completed, a cell at other epochs than most says so itself
            machines.add(short_machine(r.get("machine")))
            other_epochs = f" ({r['epochs']} ep.)" if r["epochs"] != usual_epochs else ""
            cells.append(grid_cell(r["evaluation"]) + other_epochs)
        grid.append([f"`{loss}`", *cells, "; ".join(sorted(machines))])
    grid_floor = next((r["floor"] for key, r in runs.items() if key.startswith("dcgan-grid/")), None)
    if grid_floor:
        grid.append(["real vs real (floor)", grid_cell(grid_floor), "", "", ""])
    second = table([f"`loss` \\ `d_norm`, {usual_epochs} epoch{'s' if usual_epochs != 1 else ''}: score · FD · KID · precision · recall · class %",
                    *(f"`{n}`" for n in norms), "machine"], grid)
    return "\n\n".join([first, second])


def wgan_gp_settings() -> str:
    """variants.json's WGAN-GP settings runs (``variants.py wgan-gp-settings``): the equal-time screening
    rows first, the longer runs after them."""
    runs = {key: r for key, r in load("variants.json").items() if key.startswith("wgan-gp-settings/")}
    rows = []
    for r in sorted(runs.values(), key=lambda r: round(r["train_seconds"] / 60)):
        p, e = r["parameters"], r["evaluation"]
        decay = ", falling linearly to 0" if p.get("lr_decay") == "linear" else ""
        rows.append([r["label"], f"{_rate(p['g_learning_rate'])} / {_rate(p['c_learning_rate'])}{decay}",
                     f"{p['beta_1']:g} / {p['beta_2']:g}", p["n_critic"], f"{p.get('gp_weight', 10):g}",
                     f"{r['train_seconds'] / 60:.1f}",
                     r["epochs"], _fixed(e["classifier_score"], 2), _fixed(e["frechet_distance"], 1),
                     _fixed(e["kid"], 2), _class_shares(e), short_machine(r.get("machine"))])
    return table(["WGAN-GP settings", "Adam lr G / critic", "β1 / β2", "`n_critic`", "`gp_weight`", "train min",
                  "epochs done", "score", "FD", "KID", "class %", "machine"], rows) if rows else "No WGAN-GP settings measured yet."


def measured_colour_baselines() -> list[tuple[str, dict]]:
    """colour_baselines.json as (baseline name, record) pairs; empty before the first measurement."""
    if not (RESULTS / "colour_baselines.json").exists():
        return []
    return [(name, r) for name, r in load("colour_baselines.json").items() if name not in ("machine", "date")]


def default_colour_baselines() -> list[tuple[str, dict]]:
    """The colour baselines at the notebooks' defaults; records with other settings (named
    `<baseline>-<NAME><VALUE>`) stay in colour_baselines.json as the evidence for those defaults."""
    return [(name, r) for name, r in measured_colour_baselines() if "-" not in name]


def learning_rates(parameters: dict) -> str:
    """How a baseline's learning rates went: "2e-4 falling linearly to 0" or "6e-4, constant"."""
    rates = sorted({parameters["g_learning_rate"], parameters["d_learning_rate"]})
    text = " / ".join(_rate(rate) for rate in rates)
    return f"{text} falling linearly to 0" if parameters.get("lr_decay") == "linear" else f"{text}, constant"


def colour() -> str:
    """colour_baselines.json: each colour baseline's final evaluation beside its floor, and its Fréchet
    distance over the training minutes."""
    rows = []
    for name, r in default_colour_baselines():
        e, f = r["evaluation"], r["floor"]
        accuracy = e.get("conditional_accuracy")
        points = r["frechet_distance_over_time"]
        points = points[::max(1, len(points) // 6)][:6] + points[-1:] if len(points) > 7 else points
        curve = " → ".join(f"{point['frechet_distance']:.1f}" for point in points)
        minutes = [point["minutes"] for point in points]
        rows.append([f"{name} (learning rates {learning_rates(r['parameters'])}; grid `results/colour_{name}_grid.png`)", f"{r['epochs']} / {r['train_seconds'] / 60:.0f}",
                     f"{e['frechet_distance']:.1f} ({f['frechet_distance']:.1f})", f"{e['kid']:.2f} ({f['kid']:.2f})",
                     f"{e['precision']:.2f} / {e['recall']:.2f} ({f['precision']:.2f} / {f['recall']:.2f})",
                     f"{e['classifier_score']:.2f} ({f['classifier_score']:.2f})",
                     "–" if accuracy is None else f"{100 * accuracy:.1f}% ({100 * f['conditional_accuracy']:.1f}%)",
                     f"{curve} (after {minutes[0]:.0f}–{minutes[-1]:.0f} min)" if minutes else "not recorded (README)",
                     short_machine(r.get("machine"))])
    if not rows:
        return "Not measured yet."
    return table(["baseline", "epochs / min", "FD (floor)", "KID", "precision / recall", "score", "cond. acc.",
                  "FD during training", "machine"], rows)


def colour_grids(results_link: str = "benchmarks/results/") -> str:
    """For README.md: each default colour baseline's final grid with its headline numbers."""
    parts = []
    for name, r in default_colour_baselines():
        e, f = r["evaluation"], r["floor"]
        accuracy = e.get("conditional_accuracy")
        conditional = "" if accuracy is None else f", conditional accuracy {100 * accuracy:.1f}% (real images {100 * f['conditional_accuracy']:.1f}%)"
        parts.append(f"**{name}** (`{r['notebook']}.ipynb`, `dataset` {r['parameters']['dataset']}, {r['epochs']} epochs in "
                     f"{r['train_seconds'] / 60:.0f} minutes on a 2-core {short_machine(r.get('machine'))} CPU, learning rates "
                     f"{learning_rates(r['parameters'])}): Fréchet "
                     f"distance {e['frechet_distance']:.1f} (real images {f['frechet_distance']:.1f}){conditional}. "
                     f"{r.get('note', '')}\n\n![{name}]({results_link}colour_{name}_grid.png)"
                     + (f" ![{name}: Fréchet distance during training]({results_link}colour_{name}_frechet_distance.png)"
                        if r["frechet_distance_over_time"] else ""))
    return "\n\n".join(parts) or "Not measured yet."


def two_sample_sensitivity() -> list[list]:
    """two_sample_sensitivity.json as a row: the two-sample test on real Monets against degraded copies."""
    if not (RESULTS / "two_sample_sensitivity.json").exists():
        return []
    r = load("two_sample_sensitivity.json")
    tests = "; ".join(f"{name} {t['accuracy']:.2f} ± {t['accuracy_std']:.2f}" for name, t in r["tests"].items())
    n = next(iter(r["tests"].values()))["images_per_set"]
    return [[f"what the CycleGAN's two-sample test notices (`two_sample_sensitivity.py`): half of the {r['paintings']:,} "
             f"real Monets at {r['side']} px against the other half degraded ({n} per set)", tests,
             short_machine(r.get("machine"))]]


def other() -> str:
    classifiers = load("classifiers.json")
    rows = cyclegan() + two_sample_sensitivity()
    accuracies = [f"{name} {100 * c['test_accuracy']:.2f}% ({c['epochs']} epochs, {c['training_seconds']:.0f} s)"
                  for name, c in classifiers.items() if name != "machine"]
    rows.append(["feature classifiers of the quality metrics: test accuracy", "; ".join(accuracies), "not recorded"])
    if (RESULTS / "distribute_jobs.json").exists():
        jobs = load("distribute_jobs.json")
        walls = {n: [s["wall_seconds"] for s in jobs["sweeps"] if s["jobs"] == n] for n in (1, 2)}
        if walls[1] and walls[2]:
            one, two = statistics.mean(walls[1]), statistics.mean(walls[2])
            runs = jobs["sweeps"][0]["runs"]
            rows.append([f"a sweep of {runs} Simple GAN runs ({jobs['epochs']} epoch each, real MNIST), `--jobs 2` vs "
                         f"`--jobs 1` (`distribute.py jobs`, {jobs['cores']} cores)",
                         f"{two:.0f} s vs {one:.0f} s ({one / two:.2f}× faster; sweeps of "
                         + ", ".join(f"{s['wall_seconds']:.0f} s with --jobs {s['jobs']}" for s in jobs["sweeps"]) + ")",
                         short_machine(jobs.get("machine"))])
    if (RESULTS / "survival.json").exists():
        s, p = load("survival.json"), load("survival.json")["parameters"]
        at = s["newest_checkpoint_at_kill"]
        weights = "identical" if s["identical"] else f"max difference {s['max_abs_weight_difference']:.2g}"
        measured = (f"CycleGAN {p['image_size']} px, `checkpoint_every` {p['checkpoint_every']}, SIGKILL inside an epoch, "
                    f"run again: {s['resumed']}, {at['age_seconds']:.0f} s of training lost, final weights {weights} "
                    f"({s['arrays_compared']} arrays)")
        if (RESULTS / "footprint.json").exists():
            footprint = {k: v for k, v in load("footprint.json").items() if k not in ("machine", "date")}
            measured += ". On Drive, a default run: " + "; ".join(
                f"{notebook} {f['default_run_total_mb']:.0f} MB (" + ", ".join(
                    f"{name} {size / 1e6:.0f}" for name, size in f["default_run_bytes"].items() if size >= 5e5) + ")"
                for notebook, f in footprint.items())
        rows.append(["Colab survival (`survival.py`, `footprint.py`)", measured, short_machine(s.get("machine"))])
    if (RESULTS / "widgets_browser.json").exists():
        w = load("widgets_browser.json")
        parts = [f"{name.replace('_', ' ')}: {r['action']}, "
                 + (f"{100 * r['image_pixels_changed']:.0f}% of its image's pixels changed"
                    if "image_pixels_changed" in r else f"{100 * r['view_pixels_changed']:.0f}% of the view changed, "
                    f"{len(r['download_links'])} download links")
                 for name, r in w["widgets"].items() if isinstance(r, dict)]
        rows.append([f"widgets in headless Chromium (`widgets_browser.py`; screenshots `results/widgets_*.png`)",
                     ("passed: " if w["passed"] else "FAILED: ") + "; ".join(parts), short_machine(w.get("machine"))])
    return table(["run", "measured", "machine"], rows)


def seed_count(seeds: int) -> str:
    return f"{seeds} seed" + "s" * (seeds != 1)


def leaderboards(results_link: str = "benchmarks/results/") -> str:
    """leaderboard_*.json: each leaderboard's tables as gan_helpers.leaderboard wrote them, and its plots
    (linked from README.md, hence ``results_link``)."""
    parts = []
    for path in sorted(RESULTS.glob("leaderboard_*.json")):
        data = json.loads(path.read_text())
        parts.append(f"**{data['dataset']}**, {seed_count(data['seeds'])}, {data['budget_minutes']:g} minutes of training per "
                     f"run, {short_machine(data.get('machine'))}, {data['date']} (`{data['command']}`; protocol: "
                     f"[{path.name}]({results_link}{path.name})):")
        for t in data["tables"]:
            parts += [f"*{t['title']}*", t["markdown"]]
        parts += [f"![{name}]({results_link}{file})" for name, file in data.get("plots", {}).items()]
    return "\n\n".join(parts) or "No leaderboard measured yet."


def _number(x: float, digits: str) -> str:
    """A metric for a sentence: thousands separated from 100 on, else ``digits`` (a format spec)."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:{digits}}"


def _ranked_model(row: dict) -> str:
    """One leaderboard row in a sentence: the model, its mean Fréchet distance ± std, its seeds if not all finished."""
    if row["frechet_distance_mean"] is None:
        return f"{row['model']} (no finished run yet)"
    spread = "" if row["frechet_distance_std"] is None else f" ± {_number(row['frechet_distance_std'], '.2g')}"
    seeds = "" if row["seeds_done"] == row["seeds"] else f" ({row['seeds_done']}/{row['seeds']} seeds)"
    return f"{row['model']} {_number(row['frechet_distance_mean'], '.3g')}{spread}{seeds}"


def leaderboard_summaries() -> str:
    """benchmarks/README.md's view of leaderboard_*.json: per table the ranking by mean Fréchet distance ± std,
    and the Fréchet distance against minutes (README.md has every metric and the final grids)."""
    parts = []
    for path in sorted(RESULTS.glob("leaderboard_*.json")):
        data = json.loads(path.read_text())
        lines = [f"**{data['dataset']}**, {seed_count(data['seeds'])}, {short_machine(data.get('machine'))}, {data['date']} "
                 f"(`{data['command']}`; every metric and the final grids: [README.md](../README.md#leaderboard), "
                 f"[{path.name}](results/{path.name}))."]
        for t in data["tables"]:
            ranked = [r for r in t["rows"] if r["frechet_distance_mean"] is not None]
            ranking = " · ".join([f"{i}. {_ranked_model(r)}" for i, r in enumerate(ranked, 1)]
                                 + [_ranked_model(r) for r in t["rows"] if r["frechet_distance_mean"] is None])
            lines.append(f"*{t['title']}*, Fréchet distance (floor {data['floor']['frechet_distance']:.2f}): {ranking}")
        parts.append(" ".join(lines))  # one paragraph per leaderboard: the page stays short
        if "frechet_distance_vs_minutes" in data.get("plots", {}):
            parts.append(f"![Fréchet distance against minutes](results/{data['plots']['frechet_distance_vs_minutes']})")
    return "\n\n".join(parts) or "No leaderboard measured yet."


SECTIONS: dict[str, Callable[[], str]] = {
    "machines": machines, "quality": quality, "time-to-quality": time_to_quality, "throughput": throughput,
    "step-ab": step_ab, "seed-spreads": seed_spreads, "other": other,
    "variants": variants, "leaderboard": leaderboards, "leaderboard-summaries": leaderboard_summaries, "colour": colour,
    "colour-grids": colour_grids, "wgan-gp-settings": wgan_gp_settings,
}


def render(readme: str) -> str:
    """``readme`` with every generated section rewritten from the JSON files."""
    def section(match: re.Match) -> str:
        return match.group(1) + SECTIONS[match.group("name")]() + "\n" + match.group(4)

    return MARKER.sub(section, readme)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the pages are up to date")
    args = parser.parse_args()
    stale = []
    for page in PAGES:
        current = page.read_text()
        wanted = render(current)
        if wanted == current:
            continue
        stale.append(page)
        if not args.check:
            page.write_text(wanted)
            print(f"written {page}")
    if args.check and stale:
        print(f"{', '.join(map(str, stale))}: not what benchmarks/results/*.json give: run python benchmarks/report.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
