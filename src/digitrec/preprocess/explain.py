"""``predict --explain``: draw every preprocessing stage of one input as a labelled image strip."""

from __future__ import annotations

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


def number_sheet(image: np.ndarray, boxes: list[tuple[tuple[int, int, int, int], str, np.ndarray | None]],
                 caption: str = "") -> Image.Image:
    """The input with a box and the answer over each digit found, and below it the 28×28 each box became."""
    picture = Image.fromarray(image).convert("RGB")
    scale = min(1.0, 900 / max(picture.size))
    if scale < 1:
        picture = picture.resize((round(picture.width * scale), round(picture.height * scale)))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default()
    for (x, y, w, h), text, _ in boxes:
        x, y, w, h = (round(v * scale) for v in (x, y, w, h))
        draw.rectangle([x, y, x + w, y + h], outline=(220, 30, 30), width=2)
        draw.text((x + 2, max(0, y - 12)), text, fill=(220, 30, 30), font=font)
    tiles = [(text, Image.fromarray(np.uint8(np.clip(tile * 255, 0, 255))).resize((84, 84), Image.Resampling.NEAREST))
             for _, text, tile in boxes if tile is not None]
    width = max(picture.width, 8 + 92 * len(tiles))
    out = Image.new("RGB", (width, picture.height + 84 + LABEL * 2 + 16), (246, 246, 246))
    out.paste(picture, (0, 0))
    draw = ImageDraw.Draw(out)
    for i, (text, tile) in enumerate(tiles):
        out.paste(tile, (8 + 92 * i, picture.height + 8))
        draw.text((8 + 92 * i, picture.height + 96), text, fill=(30, 30, 30), font=font)
    if caption:
        draw.text((8, picture.height + 96 + LABEL), caption, fill=(0, 0, 0), font=font)
    return out

