"""The model zoo's names and recipes, readable without importing torch (for help text and listings).

Each lesson model keeps the training recipe of the lesson it comes from (optimizer, batch size, epochs),
so ``digitrec compare`` reproduces the lessons' numbers; the project's own models carry recipes tuned here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digitrec.errors import UsageError


@dataclass(frozen=True)
class Recipe:
    """Training defaults for a model; every field can be overridden on the command line."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"  # adam | adamw | sgd | rmsprop
    schedule: str = "constant"  # constant | onecycle
    weight_decay: float = 0.0
    momentum: float = 0.9
    label_smoothing: float = 0.0
    augment: str = "none"  # none | light | robust
    val_split: float = 0.1
    patience: int = 0  # early stopping on validation loss; 0 = off
    ema: bool = False
    reject: bool = False


@dataclass(frozen=True)
class ModelInfo:
    name: str
    summary: str
    origin: str  # "lesson" (reproduced faithfully) or "project"
    kind: str = "torch"  # torch | sklearn
    recipe: Recipe = field(default_factory=Recipe)


MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo("sk-mlp", "scikit-learn MLPClassifier(128, logistic, sgd) from the first lesson", "lesson",
                  kind="sklearn", recipe=Recipe(epochs=20, batch_size=200, lr=1e-3, optimizer="sgd", val_split=0.0)),
        ModelInfo("mlp", "Keras lesson MLP: 784-128 ReLU, dropout 0.2, 10", "lesson",
                  recipe=Recipe(epochs=10, batch_size=128, lr=1e-3, optimizer="adam", val_split=0.2)),
        ModelInfo("mlp512", "Keras lesson MLP: 784-512 ReLU, 10 (RMSprop)", "lesson",
                  recipe=Recipe(epochs=10, batch_size=128, lr=1e-3, optimizer="rmsprop", val_split=0.0)),
        ModelInfo("cnn-lenet", "PyTorch example CNN: conv 10@5×5, conv 20@5×5, dropout, 320-50-10", "lesson",
                  recipe=Recipe(epochs=10, batch_size=64, lr=0.01, optimizer="sgd", momentum=0.5, val_split=0.0)),
        ModelInfo("cnn-64-32", "Keras lesson CNN: conv 64@5×5, pool, conv 32@5×5, pool, 128, 10", "lesson",
                  recipe=Recipe(epochs=5, batch_size=32, lr=1e-3, optimizer="adam", val_split=0.0)),
        ModelInfo("cnn-32-64", "TFLite lesson CNN: conv 32@3×3, conv 64@3×3, pool, dropout 0.25, 10", "lesson",
                  recipe=Recipe(epochs=5, batch_size=32, lr=1e-3, optimizer="adam", val_split=0.0)),
        ModelInfo("fast", "project: strided CNN built for time-to-accuracy on a CPU (99 % in seconds)", "project",
                  recipe=Recipe(epochs=3, batch_size=256, lr=6e-3, optimizer="adamw", schedule="onecycle",
                                weight_decay=1e-4, label_smoothing=0.1, val_split=0.0)),
        ModelInfo("robust", "project: the bundled model — real input (photos, canvases, numbers) at serving "
                  "speed; says 'no digit' for letters and scribbles", "project",
                  recipe=Recipe(epochs=40, batch_size=128, lr=3e-3, optimizer="adamw", schedule="onecycle",
                                weight_decay=5e-4, label_smoothing=0.05, augment="robust", val_split=0.04,
                                ema=True, reject=True)),
        ModelInfo("best", "project: VGG-style CNN with batch norm (32-32-64-64-128), built for accuracy", "project",
                  recipe=Recipe(epochs=40, batch_size=128, lr=3e-3, optimizer="adamw", schedule="onecycle",
                                weight_decay=5e-4, label_smoothing=0.1, augment="light", val_split=0.0,
                                ema=True)),
    )
}


def get_model_info(name: str) -> ModelInfo:
    try:
        return MODELS[name]
    except KeyError:
        raise UsageError(f"unknown model '{name}'; known models: {', '.join(MODELS)}") from None
