"""The torch models of the zoo. Every model takes (N, 1, 28, 28) images in [0, 1] and returns logits."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from digitrec.errors import UsageError

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class Normalize(nn.Module):
    """Standardize inputs inside the model, so the exported ONNX graph takes plain [0, 1] pixels."""

    def __init__(self, mean: float = MNIST_MEAN, std: float = MNIST_STD):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def keras_init(model: nn.Module) -> nn.Module:
    """Glorot-uniform weights and zero biases: the Keras defaults the lessons' models were trained with."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def mlp(units: int = 128, dropout: float = 0.2, classes: int = 10) -> nn.Module:
    """The Keras lesson's MLP; ``units`` and ``dropout`` are the hyperparameters its exercise varies."""
    return keras_init(nn.Sequential(nn.Flatten(), nn.Linear(784, units), nn.ReLU(), nn.Dropout(dropout),
                                    nn.Linear(units, classes)))


def mlp512(classes: int = 10) -> nn.Module:
    return keras_init(nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, classes)))


class LeNet(nn.Module):
    """The PyTorch MNIST example quoted in the first lesson."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = F.relu(self.fc1(x.flatten(1)))
        x = F.dropout(x, training=self.training)
        return self.fc2(x)


def cnn_64_32(classes: int = 10) -> nn.Module:
    return keras_init(nn.Sequential(
        nn.Conv2d(1, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, classes),
    ))


def cnn_32_64(classes: int = 10) -> nn.Module:
    return keras_init(nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * 12 * 12, classes),
    ))


def fast(classes: int = 10) -> nn.Module:
    """Built for time-to-accuracy on a CPU: stride-2 convolutions instead of pooling (a pooled conv stack
    costs several times more per step on CPU), no batch norm, a small dense head."""
    return nn.Sequential(
        Normalize(),
        nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, classes),
    )


def _conv_bn(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def best(classes: int = 10, final_convs: int = 1, width: int = 32) -> nn.Module:
    """Built for accuracy: conv + batch-norm stack, max-pool downsampling, global pooling. Channels are
    ``width`` at 28×28, twice that at 14×14 and four times at 7×7, where ``final_convs`` convolutions work
    (Fashion-MNIST uses 2 and width 48: its finer distinctions need the capacity, digits do not)."""
    if final_convs < 1 or width < 1:
        raise UsageError(f"model best needs final_convs >= 1 and width >= 1, got {final_convs} and {width}")
    w = width
    top = [layer for i in range(final_convs) for layer in _conv_bn(2 * w if i == 0 else 4 * w, 4 * w)]
    return nn.Sequential(
        Normalize(),
        *_conv_bn(1, w), *_conv_bn(w, w), nn.MaxPool2d(2),
        *_conv_bn(w, 2 * w), *_conv_bn(2 * w, 2 * w), nn.MaxPool2d(2),
        *top, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * w, classes),
    )


def robust(classes: int = 10) -> nn.Module:
    """The bundled model, built for real input at serving speed: stride-2 convolutions with batch norm
    (folded into the convolutions on export), dropout; trained with heavy augmentation and a "no digit"
    class. About 1.8 M multiply-adds and 190 k parameters: onnxruntime classifies tens of thousands a second."""
    def conv(cin: int, cout: int, k: int, stride: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        Normalize(), *conv(1, 32, 5, 2), *conv(32, 64, 3, 2), *conv(64, 64, 3, 2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(128, classes),
    )


BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "mlp": mlp,
    "mlp512": mlp512,
    "cnn-lenet": LeNet,
    "cnn-64-32": cnn_64_32,
    "cnn-32-64": cnn_32_64,
    "fast": fast,
    "best": best,
    "robust": robust,
}


def build(name: str, **options: Any) -> nn.Module:
    """Build a zoo model; ``options`` are its builder's hyperparameters (see :func:`builder_options`) and
    ``classes``, the number of outputs (11 for a model with a "no digit" class)."""
    return BUILDERS[name](**options)


def builder_options(name: str) -> dict[str, Any]:
    """A model's tunable hyperparameters and their defaults, e.g. ``{"units": 128, "dropout": 0.2}``
    (``classes`` is not one: it follows from the dataset)."""
    return {p.name: p.default for p in inspect.signature(BUILDERS[name]).parameters.values()
            if p.default is not inspect.Parameter.empty and p.name != "classes"}
