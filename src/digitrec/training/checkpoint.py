"""Checkpoints: one safetensors file, written atomically every epoch (no pickle: safe to share).

Tensors hold the model, optimizer and EMA state; the file's metadata holds the rest as JSON (epoch,
history, config). Epoch-level randomness is derived from (seed, epoch), so resuming from a checkpoint
continues exactly as if training had never stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from digitrec.errors import DigitrecError
from digitrec.modeldir import write_atomic

CHECKPOINT = "checkpoint.safetensors"


def flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], list[dict]]:
    tensors = {}
    for idx, slots in state["state"].items():
        for key, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{idx}.{key}"] = value
            elif value is not None:
                tensors[f"{idx}.{key}"] = torch.tensor(value)
    return tensors, state["param_groups"]


def unflatten_optimizer(tensors: dict[str, torch.Tensor], groups: list[dict]) -> dict:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    return {"state": state, "param_groups": groups}


def save_checkpoint(path: Path, parts: dict[str, dict[str, torch.Tensor]], info: dict[str, Any]) -> None:
    """``parts`` maps a prefix ("model", "optim", "ema", ...) to a flat dict of tensors."""
    tensors = {f"{prefix}/{name}": t.detach().cpu().contiguous()
               for prefix, flat in parts.items() for name, t in flat.items()}
    write_atomic(path, save(tensors, metadata={"digitrec": json.dumps(info)}))


def load_checkpoint(path: Path) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    try:
        raw = path.read_bytes()
        tensors = load(raw)
        info = json.loads(_metadata(raw)["digitrec"])
    except FileNotFoundError:
        raise DigitrecError(f"{path}: no checkpoint to resume from; train without --resume") from None
    except (SafetensorError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DigitrecError(f"{path}: corrupt checkpoint ({exc}); delete it and train without --resume") from None
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for name, tensor in tensors.items():
        prefix, _, rest = name.partition("/")
        parts.setdefault(prefix, {})[rest] = tensor
    return parts, info


def _metadata(raw: bytes) -> dict[str, str]:
    header_len = int.from_bytes(raw[:8], "little")
    if header_len > len(raw) - 8:
        raise ValueError("header longer than file")
    return json.loads(raw[8 : 8 + header_len]).get("__metadata__", {})
