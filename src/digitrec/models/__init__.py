"""The model zoo: the lessons' models reproduced faithfully, and the project's own ``fast`` and ``best``."""

from digitrec.models.catalog import MODELS, ModelInfo, Recipe, get_model_info

__all__ = ["MODELS", "ModelInfo", "Recipe", "get_model_info"]
