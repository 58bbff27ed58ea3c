"""gan_helpers: the plumbing the gan-notebooks share.

One module per concern, each readable on its own:

- ``environment``: Colab or local, Drive, root folder, smoke mode, device
- ``params``: read and check a notebook's parameters cell, shrink it in smoke mode, name runs, seed
- ``data``: MNIST / Fashion-MNIST download with verification and caching, tf.data pipelines
- ``image_data``: unpaired image-folder datasets (CycleGAN's monet2photo and every published pair):
  download, safe extraction, robust decoding, the augmented tf.data pipeline, JPEG folders and ``images.zip``
- ``colour_data``: colour datasets for the DCGAN family: CIFAR-10 (official archive, verified, read
  without extracting or unpickling code), CelebA (from a zip you give) and any folder of images
- ``datasets``: one call for a DCGAN-family notebook's data: training images at the chosen size, and
  the real images its metrics compare with (test split, held-out images or half of a folder)
- ``layers``: small Keras layers saved models contain (``ReflectionPadding2D``), registered for loading
- ``translate``: load a run's saved image-to-image generators and translate an image in one call
- ``sampling``: draw images from any run's saved generator (conditional or not) in one call
- ``runs``: run folders, config.json, metrics.csv, summary.json, generator.keras
- ``checkpoints``: atomic checkpoints and exact resume, at an epoch's end or inside one
- ``session``: a session that ends well: time budget, checkpoints every few minutes, the stop button
- ``schedules``: learning rates that fall linearly to 0 by the end of a run (counted in epochs or minutes)
- ``progress``: training progress that fits the place (a replaced line in a notebook, a line per epoch)
- ``plots``: sample grids, loss curves, GIFs, the live training view
- ``widgets``: play with a trained generator (latent explorer, class picker, translate your photos)
- ``files``: atomic writes that survive a kill and work on Drive
- ``classifier``: the small MNIST / Fashion-MNIST / CIFAR-10 classifiers that the quality metrics use
- ``metrics``: the math of FID-style distances, KID, precision/recall, coverage, classifier score
- ``two_sample``: can a small CNN tell generated images from real ones (0.5 = no)? And a checkerboard measure
- ``distribute``: ``tf.distribute`` strategies (several GPUs, TPU) and a train step's maths across replicas
- ``performance``: speed switches: precision (mixed bf16/fp16) and XLA, chosen for the device
- ``quality``: evaluate a generator beside the real-vs-real floor, during and after training
- ``sweep``: run a notebook over a grid of parameters with papermill (``python -m gan_helpers.sweep``)
- ``compare``: read run folders into one table, plot their metrics and samples side by side
- ``leaderboard``: every MNIST-family GAN over seeds under one time budget, ranked (``python -m gan_helpers.leaderboard``)
"""

from .checkpoints import CheckpointEveryEpoch, CheckpointFolder, Position, load_checkpoint, save_checkpoint
from .data import DATASETS, batches_per_epoch, load_mnist_family, make_dataset, require_labels
from .distribute import (STRATEGIES, all_replicas, choose_strategy, global_batch, replica_loss, replica_share, replicas,
                         usable_steps_per_execution)
from .environment import Environment, setup, smoke_mode, warn_if_no_gpu
from .image_data import (CYCLEGAN_PAIRS, SPLIT_FOLDERS, UnreadableImagesWarning, UnsafeArchiveError, domain_names,
                         find_unpaired_dataset, iter_image_batches, list_images, load_images, make_unpaired_dataset,
                         rgb_to_model_range, to_uint8, write_images, write_images_zip)
from .layers import ReflectionPadding2D
from .params import (BOOKKEEPING_PARAMS, auto_run_name, read_params, seed_everything, shrink_for_smoke,
                     watch_parameters_cells)
from .performance import (JIT_COMPILE_CHOICES, PRECISIONS, choose_jit_compile, choose_precision, float32_policy,
                          set_precision, with_loss_scaling)
from .progress import TrainingProgress
from .plots import (LiveTrainingView, SampleGrid, fixed_noise, grid_image, make_gif, plot_losses, sample_paths, save_grid,
                    show_image)
from .classifier import extractor_for, load_classifier
from .colour_data import CIFAR10_CLASSES, load_celeba, load_cifar10, load_image_folder
from .datasets import (DATASET_CHOICES, TRAINING_DEFAULTS, TrainingData, image_size_for, load_training_data,
                       with_training_defaults)
from .quality import (FULL_EVALUATION_SAMPLES, QualityDuringTraining, evaluate_generator, generate_images,
                      inception_features, inception_metrics, load_inception, metrics_table, plot_class_histogram,
                      quality_floor, to_model_range)
from .runs import Run, read_metrics
from .schedules import LinearDecay
from .session import SessionControl, TrainingPaused
from .translate import load_generator, run_domain_names, translate
from .sampling import class_grid_inputs, sample, save_samples
from .widgets import class_picker, latent_explorer, slerp, translate_widget
from . import compare  # gh.compare.collect_runs(...) etc.
from . import two_sample  # gh.two_sample.compare_with_real(...) etc.

__version__ = "0.1.0"

watch_parameters_cells()  # in a notebook: remember the parameters cell that read_params checks


def __getattr__(name: str):
    """``gh.sweep`` and ``gh.leaderboard`` are imported on first use, so that ``python -m gan_helpers.sweep``
    (or ``.leaderboard``) does not import its module twice."""
    if name in ("sweep", "leaderboard"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gan_helpers' has no attribute {name!r}")
