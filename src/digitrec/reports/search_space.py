"""A sweep's search space, written on the command line as ``--param NAME=SPEC``:

- ``lr=1e-4..1e-2:log`` — a range (``:log`` samples it on a log scale);
- ``batch_size=32,64,128`` — a choice among values;
- ``epochs=5`` — a fixed value.

A name is a training setting (``lr``, ``batch_size``, ``epochs``, ``optimizer``, ``weight_decay``, …) or a
hyperparameter of the model's builder in the zoo (``units``, ``dropout`` for ``mlp``). Each value takes the
type of the setting it sets, so ``dropout=0..1`` is a float range and ``units=32..512`` an int range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

import optuna

from digitrec.errors import UsageError
from digitrec.training.config import TrainConfig

TUNABLE_SETTINGS = ("epochs", "batch_size", "lr", "optimizer", "schedule", "weight_decay", "momentum",
                    "label_smoothing", "augment", "ema")
DEFAULT_SPACE = ("lr=1e-4..1e-2:log", "batch_size=32,64,128,256")
PARAM = re.compile(r"^(?P<name>[A-Za-z][\w-]*)=(?P<spec>.+)$")


@dataclass(frozen=True)
class Param:
    name: str
    kind: type  # int, float, str or bool: the type of the setting it sets
    target: str  # "config": a training setting; "model": a builder hyperparameter
    text: str  # as it is stored in the study and shown to people
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind is int:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def extremes(self) -> list[Any]:
        """The values to validate before a sweep starts: both ends of a range, or every choice."""
        return list(self.choices) if self.choices else [self.low, self.high]


def tunable(model: str) -> dict[str, tuple[type, str]]:
    """Name → (type, target) of everything a sweep of ``model`` can tune."""
    from digitrec.models.zoo import BUILDERS, builder_options

    defaults = {f.name: f.default for f in fields(TrainConfig)}
    names = {name: (type(defaults[name]), "config") for name in TUNABLE_SETTINGS}
    if model in BUILDERS:
        names.update({name: (type(default), "model") for name, default in builder_options(model).items()})
    return names


def parse_value(text: str, kind: type, param: str) -> Any:
    text = text.strip()
    try:
        if kind is bool:
            return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[text.lower()]
        if kind is int:
            number = float(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        return kind(text)
    except (ValueError, KeyError):
        raise UsageError(f"--param {param}: '{text}' is not a valid {kind.__name__}") from None


def parse_param(text: str, model: str) -> Param:
    match = PARAM.match(text.strip())
    if not match:
        raise UsageError(f"--param '{text}': expected NAME=LOW..HIGH[:log], NAME=A,B,C or NAME=VALUE "
                         "(e.g. lr=1e-4..1e-2:log)")
    name, spec = match["name"].replace("-", "_"), match["spec"].strip()
    known = tunable(model)
    if name not in known:
        raise UsageError(f"--param '{text}': '{name}' is not tunable for {model}; tunable: {', '.join(known)}")
    kind, target = known[name]
    canonical = f"{name}={spec}"
    log = spec.endswith(":log")
    body = spec.removesuffix(":log")
    if ".." not in body:
        if log:
            raise UsageError(f"--param {canonical}: ':log' applies to a range LOW..HIGH")
        choices = tuple(dict.fromkeys(parse_value(v, kind, canonical) for v in body.split(",")))
        return Param(name, kind, target, canonical, choices=choices)
    if kind not in (int, float):
        raise UsageError(f"--param {canonical}: '{name}' takes {kind.__name__} values; list them as A,B,C")
    low_text, _, high_text = body.partition("..")
    low, high = parse_value(low_text, kind, canonical), parse_value(high_text, kind, canonical)
    if not low < high:
        raise UsageError(f"--param {canonical}: the range's low end must be below its high end")
    if log and low <= 0:
        raise UsageError(f"--param {canonical}: a log range must be above 0")
    return Param(name, kind, target, canonical, low, high, log)


def parse_space(texts: list[str] | tuple[str, ...], model: str) -> list[Param]:
    space = [parse_param(t, model) for t in texts]
    names = [p.name for p in space]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"--param {', '.join(repeated)} given more than once")
    return space
