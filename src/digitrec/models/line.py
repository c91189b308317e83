"""The number reader's network: reads a run of touching digits left to right with a CTC head.

Input (N, 1, 28, W) in [0, 1], bright ink on black, the digits 20 px tall as in MNIST (W a multiple of 4).
Output (N, W/4, 11) log-probabilities per column step: the ten digits, then CTC's blank.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from digitrec.models.zoo import Normalize

BLANK = 10


def _conv_bn(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class LineReader(nn.Module):
    """Conv stack (28 rows pooled to 7, columns to a quarter), the 7 rows folded into one feature vector
    per column step, a temporal convolution that lets each step see its neighbours' features (where one
    digit ends and the next begins), and per-step scores for the ten digits and the blank."""

    def __init__(self, width: int = 32, classes: int = 10):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            Normalize(),
            *_conv_bn(1, w // 2), nn.MaxPool2d(2),
            *_conv_bn(w // 2, w), *_conv_bn(w, w), nn.MaxPool2d(2),
            *_conv_bn(w, 2 * w), *_conv_bn(2 * w, 2 * w),
            nn.Conv2d(2 * w, 2 * w, (7, 1), bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
        )
        self.sequence = nn.Sequential(
            nn.Conv1d(2 * w, 2 * w, 5, padding=2), nn.ReLU(), nn.Dropout(0.1), nn.Conv1d(2 * w, classes + 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = self.features(x).squeeze(2)  # (N, C, W/4)
        return self.sequence(columns).transpose(1, 2).log_softmax(-1)  # (N, W/4, classes + 1)
