"""Small Keras layers that the notebooks' saved models contain, registered so that
``keras.models.load_model`` finds them in any Python that can ``import gan_helpers``.

The architectures themselves stay in the notebooks; only building blocks that Keras lacks live here.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="gan_helpers")
class ReflectionPadding2D(keras.layers.Layer):
    """Pad height and width by mirroring the image at its border (``np.pad(mode="reflect")``).

    CycleGAN's generator pads this way before its 7×7 and 3×3 convolutions: zero padding would
    show the network a dark frame, which it learns to reproduce as border artefacts.
    Input (batch, height, width, channels); ``padding`` pixels are added on each side.
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
            raise ValueError(f"padding={padding!r} must be a whole number >= 0.")
        self.padding = padding

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = lambda size: None if size is None else size + 2 * self.padding  # noqa: E731
        return batch, grow(height), grow(width), channels

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}
