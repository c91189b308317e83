"""``predict --explain``: draw every preprocessing stage of one input as a labelled image strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PANEL = 140  # panel height in pixels
LABEL = 22


def strip(trace: list[tuple[str, np.ndarray]], caption: str = "") -> Image.Image:
    """One panel per stage (name underneath); the last, the model's 28×28 input, enlarged without smoothing."""
    panels = []
    for i, (name, image) in enumerate(trace):
        array = np.asarray(image)
        if array.dtype != np.uint8:
            array = np.clip(array * (255 if array.max() <= 1.0 else 1), 0, 255).astype(np.uint8)
        panel = Image.fromarray(array).convert("RGB")
        last = i == len(trace) - 1
        scale = PANEL / max(panel.height, 1)
        width = max(1, round(panel.width * scale)) if panel.width * scale < 3 * PANEL else 3 * PANEL
        panel = panel.resize((width, PANEL), Image.Resampling.NEAREST if last or panel.height < 64
                             else Image.Resampling.BILINEAR)
        panels.append((name, panel))
    font = ImageFont.load_default()
    gap = 8
    width = sum(p.width for _, p in panels) + gap * (len(panels) + 1)
    height = PANEL + LABEL + gap * 2 + (LABEL if caption else 0)
    out = Image.new("RGB", (width, height), (246, 246, 246))
    draw = ImageDraw.Draw(out)
    x = gap
    for name, panel in panels:
        out.paste(panel, (x, gap))
        draw.rectangle([x - 1, gap - 1, x + panel.width, gap + panel.height], outline=(180, 180, 180))
        draw.text((x + 2, gap + PANEL + 4), name, fill=(30, 30, 30), font=font)
        x += panel.width + gap
    if caption:
        draw.text((gap, gap + PANEL + LABEL + 2), caption, fill=(0, 0, 0), font=font)
    return out


def save_strip(trace: list[tuple[str, np.ndarray]], path: Path, caption: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    strip(trace, caption).save(path)
    return path
