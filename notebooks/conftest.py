"""pytest + nbval: execute every notebook here in smoke mode, on fake data, in a throwaway root.

nbval cannot inject parameters, so the notebooks read these environment variables through
gan_helpers (see README, "Environment variables"). The kernels inherit them.
"""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fake_data import write_tiny_mnist, write_tiny_unpaired  # noqa: E402

# One fake data folder serves every notebook: the four MNIST files, and monet2photo/ in the
# official CycleGAN layout (the CycleGAN notebook finds it as <GAN_DATA_DIR>/monet2photo).
_scratch = Path(tempfile.mkdtemp(prefix="gan-nbval-"))
_data = write_tiny_mnist(_scratch / "fake_data")
write_tiny_unpaired(_data, "monet2photo")
os.environ["GAN_SMOKE"] = "1"
os.environ["GAN_HOME"] = str(_scratch / "home")
os.environ["GAN_DATA_DIR"] = str(_data)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")  # the GPU is shared with the other test processes
