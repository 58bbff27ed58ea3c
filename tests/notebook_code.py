"""The notebooks' ``definitions`` cells as modules: `gan_helpers.notebook_code`, under the name tests import."""

from gan_helpers.notebook_code import NOTEBOOKS, TAG, definition_source, notebook_definitions  # noqa: F401
