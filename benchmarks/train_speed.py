"""Training speed: the ``fast`` preset's time-to-accuracy over three seeds, and the zoo side by side.

    python benchmarks/train_speed.py                 # fast preset, seeds 0 1 2
    python benchmarks/train_speed.py --zoo [--zoo-models sk-mlp,mlp,...,runs/best]   # the contest, one run

``train_seconds`` is the training loop's wall time (what `digitrec train --json` reports): data loading,
export and the final test evaluation are outside it. Accuracy is on the full MNIST test set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
from pathlib import Path

import torch

from digitrec.models import MODELS
from digitrec.training.config import make_config
from digitrec.training.trainer import train


def fast_preset(seeds: list[int], out: Path) -> dict:
    runs = []
    for seed in seeds:
        result = train(make_config(preset="fast", seed=seed), out / f"fast-seed{seed}")
        runs.append({"seed": seed, "test_accuracy": result.test_accuracy,
                     "train_seconds": round(result.train_seconds, 2)})
        print(f"fast preset seed {seed}: {result.test_accuracy * 100:.2f} % in {result.train_seconds:.1f} s", flush=True)
    return {
        "runs": runs,
        "mean_test_accuracy": statistics.mean(r["test_accuracy"] for r in runs),
        "median_train_seconds": statistics.median(r["train_seconds"] for r in runs),
        "max_train_seconds": max(r["train_seconds"] for r in runs),
    }


def zoo(models: list[str], out: Path) -> str:
    from digitrec.reports.compare import compare

    return compare(models, "mnist", out_dir=out / "zoo").to_markdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--zoo", action="store_true", help="also train and compare the zoo")
    parser.add_argument("--zoo-models", default=",".join(m for m in MODELS if m not in ("best", "robust")))
    parser.add_argument("--out", default=None, help="where models go (default: a temporary folder)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="digitrec-bench-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; torch {torch.__version__}; "
          f"threads {torch.get_num_threads()}")
    result = fast_preset([int(s) for s in args.seeds.split(",")], out)
    print(json.dumps(result, indent=2))
    if args.zoo:
        print(zoo(args.zoo_models.split(","), out))


if __name__ == "__main__":
    main()
