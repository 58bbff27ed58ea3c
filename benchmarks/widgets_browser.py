"""The widgets in a real browser: Jupyter on 127.0.0.1, headless Chromium, screenshots before and after.

    python benchmarks/widgets_browser.py [--generator RUN] [--conditional RUN] [--cyclegan RUN]

Starts a Jupyter server (the ``notebook`` package) on 127.0.0.1 with a small notebook that calls
``gh.latent_explorer``, ``gh.class_picker`` and ``gh.translate_widget``, opens it in headless
Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by Selenium), runs all cells, and
for each widget takes a screenshot, acts as a person would (drags the latent slider, clicks the
class "7", uploads a picture the script makes), and takes another. A widget passes when its
picture changed where the generator's output changed (the pixels of its image element differ).
Screenshots go to ``results/widgets_<widget>_{before,after}.png``, numbers to ``results/widgets_browser.json``.

Without ``--generator`` etc. it uses small untrained generators it builds (their outputs still
differ from one input to the next); pass run folders of trained runs for pictures worth showing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
import numpy as np
from PIL import Image

NOTEBOOK_CELLS = [
    "import gan_helpers as gh\nprint('headless:', gh.widgets.headless())",
    "explorer = gh.latent_explorer({generator!r}, seeds=(1, 2), save_dir='explorer_out')",
    "picker = gh.class_picker({conditional!r}, label=3, seed=0, per_class=8, save_dir='explorer_out')",
    "translator = gh.translate_widget({cyclegan!r})",
]


CATCH_FILE_CHOOSER = """
const click = HTMLInputElement.prototype.click;
HTMLInputElement.prototype.click = function () {
  if (this.type !== "file") return click.call(this);
  this.id = "caught-file-input";
  document.body.appendChild(this);
};
"""


def tiny_models(folder: Path) -> dict[str, str]:
    """Untrained stand-ins: an unconditional and a conditional 28x28 generator, and two 64-px translators."""
    import keras

    keras.utils.set_random_seed(0)
    noise = keras.Input((16,))
    x = keras.layers.Dense(7 * 7 * 8, activation="relu")(noise)
    x = keras.layers.Reshape((7, 7, 8))(x)
    x = keras.layers.Conv2DTranspose(1, 4, strides=4, padding="same", activation="tanh")(x)
    (folder / "unconditional").mkdir(parents=True)
    keras.Model(noise, x).save(folder / "unconditional" / "generator.keras")
    noise, label = keras.Input((16,)), keras.Input((), dtype="int32")
    x = keras.layers.Concatenate()([noise, keras.layers.Embedding(10, 16)(label)])
    x = keras.layers.Reshape((7, 7, 8))(keras.layers.Dense(7 * 7 * 8, activation="relu")(x))
    x = keras.layers.Conv2DTranspose(1, 4, strides=4, padding="same", activation="tanh")(x)
    (folder / "conditional").mkdir()
    keras.Model([noise, label], x).save(folder / "conditional" / "generator.keras")
    (folder / "cyclegan").mkdir()
    for direction in ("AtoB", "BtoA"):
        image = keras.Input((64, 64, 3))
        keras.Model(image, keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(image)).save(
            folder / "cyclegan" / f"generator_{direction}.keras")
    return {"generator": str(folder / "unconditional"), "conditional": str(folder / "conditional"),
            "cyclegan": str(folder / "cyclegan")}


def my_photo() -> Image.Image:
    """A small landscape to upload: a sky getting lighter toward the horizon, a sun, green hills (160x96)."""
    from PIL import ImageDraw

    sky = np.linspace([40, 90, 200], [190, 215, 240], 96).astype(np.uint8)
    picture = Image.fromarray(np.repeat(sky[:, np.newaxis], 160, axis=1))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((110, 12, 138, 40), fill=(250, 210, 80))
    draw.ellipse((-40, 60, 100, 150), fill=(60, 140, 60))
    draw.ellipse((60, 70, 220, 170), fill=(40, 110, 50))
    return picture


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_jupyter(folder: Path, port: int, token: str, log) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("GAN_SMOKE", "GAN_HEADLESS")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"  # no TensorFlow start-up lines in the screenshots
    # JupyterLab renders only the cells in view by default; render them all, so every widget can be found
    settings = folder / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env["JUPYTERLAB_SETTINGS_DIR"] = str(folder / "lab-settings")
    env["PYTHONPATH"] = os.pathsep.join([str(harness.REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.Popen([sys.executable, "-m", "jupyter", "notebook", "--no-browser", f"--port={port}",
                             "--ServerApp.ip=127.0.0.1", "--allow-root", f"--IdentityProvider.token={token}",
                             f"--ServerApp.root_dir={folder}", "--ServerApp.open_browser=False"],
                            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # noqa: BLE001 - not there yet
            value = None
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,2000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shot(element, path: Path) -> np.ndarray:
    """A screenshot of ``element`` (scrolled to the top of JupyterLab's notebook panel first, which scrolls itself)."""
    element.parent.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
    time.sleep(0.5)
    path.write_bytes(element.screenshot_as_png)
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def changed_fraction(before: np.ndarray, after: np.ndarray) -> float:
    """The fraction of pixels that differ (over the common area of two screenshots)."""
    h, w = min(before.shape[0], after.shape[0]), min(before.shape[1], after.shape[1])
    return float((np.abs(before[:h, :w] - after[:h, :w]).sum(axis=-1) > 0).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", help="an unconditional run folder (or generator .keras)")
    parser.add_argument("--conditional", help="a conditional GAN run folder")
    parser.add_argument("--cyclegan", help="a CycleGAN run folder")
    args = parser.parse_args()
    from selenium.webdriver import ActionChains
    from selenium.webdriver.common.by import By

    work = Path(tempfile.mkdtemp(prefix="widgets-browser-"))
    models = tiny_models(work / "models")
    models.update({k: str(Path(v).resolve()) for k, v in vars(args).items() if v})
    cells = [c.format(**models) for c in NOTEBOOK_CELLS]
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, work / "widgets.ipynb")
    picture = my_photo()
    picture.save(work / "my_photo.jpg")

    port, token = free_port(), secrets.token_hex(16)
    log = open(work / "jupyter.log", "wb")
    server = start_jupyter(work, port, token, log)
    driver = None
    results: dict[str, dict] = {}
    out = harness.RESULTS if os.environ.get("GAN_SMOKE") != "1" else work
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1), 60, "the Jupyter server")
        driver = browser()
        driver.get(f"http://127.0.0.1:{port}/notebooks/widgets.ipynb?token={token}")
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 90, "the notebook")
        try:  # a new notebook asks which kernel to start: the default (Python 3)
            wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"), 15, "").click()
        except TimeoutError:
            pass
        run_menu = wait_for(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel")
                                     if e.text == "Run"][0], 30, "the Run menu")
        run_menu.click()
        wait_for(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel")
                          if e.text == "Run All Cells"][0], 10, "Run All Cells").click()

        slider = wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".widget-slider .noUi-handle"), 180,
                          "the latent explorer's slider")
        cell = lambda i: driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[i]  # noqa: E731
        images = lambda i: cell(i).find_elements(By.CSS_SELECTOR, ".widget-image")  # noqa: E731
        wait_for(lambda: images(1)[0].size["height"] > 10 and images(2)[0].size["height"] > 10, 120, "the pictures")
        wait_for(lambda: cell(3).find_elements(By.CSS_SELECTOR, ".widget-upload"), 60, "the upload button")
        results["kernel_headless"] = "headless: True" in cell(0).text

        # 1. the latent explorer: drag the slider from t = 0 to about 0.5
        explorer_image, explorer_view = images(1)[0], cell(1).find_element(By.CSS_SELECTOR, ".jp-OutputArea-output")
        before = shot(explorer_image, out / "widgets_latent_explorer_image_before.png")
        view_before = shot(explorer_view, out / "widgets_latent_explorer_before.png")
        ActionChains(driver).drag_and_drop_by_offset(slider, 150, 0).perform()
        time.sleep(3)
        readout = cell(1).find_elements(By.CSS_SELECTOR, ".widget-readout")[0].text
        after = shot(explorer_image, out / "widgets_latent_explorer_image_after.png")
        view_after = shot(explorer_view, out / "widgets_latent_explorer_after.png")
        results["latent_explorer"] = {"action": f"dragged the slider from t = 0.00 to t = {readout}",
                                      "image_pixels_changed": changed_fraction(before, after),
                                      "view_pixels_changed": changed_fraction(view_before, view_after)}

        # 2. the class picker: click the class "7"
        seven = [b for b in cell(2).find_elements(By.CSS_SELECTOR, "button") if b.text == "7"][0]
        grid, picker_view = images(2)[0], cell(2).find_element(By.CSS_SELECTOR, ".jp-OutputArea-output")
        before = shot(grid, out / "widgets_class_picker_image_before.png")
        view_before = shot(picker_view, out / "widgets_class_picker_before.png")
        seven.click()
        time.sleep(3)
        after = shot(grid, out / "widgets_class_picker_image_after.png")
        view_after = shot(picker_view, out / "widgets_class_picker_after.png")
        results["class_picker"] = {"action": "clicked the class 7 (from 3)", "image_pixels_changed": changed_fraction(before, after),
                                   "view_pixels_changed": changed_fraction(view_before, view_after)}

        # 3. translate your own picture: upload a JPEG the script made
        translate_view = cell(3).find_element(By.CSS_SELECTOR, ".jp-OutputArea-output")
        view_before = shot(translate_view, out / "widgets_translate_before.png")
        # The upload button opens the browser's file chooser from a file input it keeps out of the page;
        # where a person picks a file there, the script catches that input and gives it the file.
        driver.execute_script(CATCH_FILE_CHOOSER)
        cell(3).find_element(By.CSS_SELECTOR, ".widget-upload").click()
        wait_for(lambda: driver.find_element(By.ID, "caught-file-input"), 10, "the file chooser").send_keys(
            str(work / "my_photo.jpg"))
        wait_for(lambda: cell(3).find_elements(By.CSS_SELECTOR, "a[download]"), 60, "the translations")
        time.sleep(2)
        view_after = shot(translate_view, out / "widgets_translate_after.png")
        links = [a.get_attribute("download") for a in cell(3).find_elements(By.CSS_SELECTOR, "a[download]")]
        results["translate"] = {"action": "uploaded my_photo.jpg (160x96)",
                                "view_pixels_changed": changed_fraction(view_before, view_after), "download_links": links}
    finally:
        if driver is not None:
            driver.save_screenshot(str(work / "page.png"))
            driver.quit()
        server.terminate()
        server.wait(timeout=30)
        log.close()
    passed = (not results["kernel_headless"] and results["latent_explorer"]["image_pixels_changed"] > 0 and results["class_picker"]["image_pixels_changed"] > 0
              and results["translate"]["view_pixels_changed"] > 0 and len(results["translate"]["download_links"]) == 2)
    harness.write_result(harness.RESULTS / "widgets_browser.json", {
        "command": f"python benchmarks/widgets_browser.py {' '.join(sys.argv[1:])}".strip(),
        "models": {k: ("untrained stand-in" if v.startswith(str(work)) else v) for k, v in models.items()},
        "browser": "Debian chromium (headless) via Selenium", "widgets": results, "passed": passed})
    print(json.dumps(results, indent=2))
    print("PASSED" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
