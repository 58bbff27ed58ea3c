"""pytest + nbval: execute every notebook here in smoke mode, on fake data, in a throwaway root.

nbval cannot inject parameters, so the notebooks read these environment variables through
gan_helpers (see README, "Environment variables"). The kernels inherit them.
"""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fake_data import write_tiny_mnist  # noqa: E402

_scratch = Path(tempfile.mkdtemp(prefix="gan-nbval-"))
os.environ["GAN_SMOKE"] = "1"
os.environ["GAN_HOME"] = str(_scratch / "home")
os.environ["GAN_DATA_DIR"] = str(write_tiny_mnist(_scratch / "tiny_mnist"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
