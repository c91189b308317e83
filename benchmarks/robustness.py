"""Robustness benchmark: naive preprocessing vs digitrec's pipeline on realistic input.

Builds canvas drawings, photos of paper and digit strings from MNIST *test* digits (see realistic.py) and
reports, per set, the accuracy of (a) the lessons' naive recipe — grey, resize to 28×28, invert — and
(b) digitrec's pipeline, both with the same model. Strings count only when the whole string is right;
the naive recipe has no string reader, so it gets one guess for the whole image (a single digit).
For strings it also reports the strings with gaps and with touching digits apart; "digits alone": each
digit of each string as drawn, prepared and read on its own by the digit classifier — what a perfect
segmentation would score with that model alone; and the strings read without the number reader (the
recognition-guided splitter alone), to show what the reader adds. ``--figure PATH`` draws the string digits
the digit model misreads even when cut out perfectly: each as drawn and as the model saw it.

    python benchmarks/robustness.py [--n 1000] [--model DIR] [--seed 0] [--tta] [--json] [--figure PNG]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from realistic import make_sets  # noqa: E402

from digitrec.data import load_dataset  # noqa: E402
from digitrec.inference import Recognizer  # noqa: E402
from digitrec.preprocess.segment import to_model_input  # noqa: E402


def naive(recognizer: Recognizer, data: bytes) -> str:
    """The lessons' recipe: Image.open(...).convert('L').resize((28, 28)); 255 - x; / 255."""
    grey = np.asarray(Image.open(io.BytesIO(data)).convert("L").resize((28, 28)), dtype=np.float32)
    return str(int(recognizer.predict_arrays((255 - grey) / 255)[0].argmax()))


def ours(recognizer: Recognizer, data: bytes, kind: str) -> str:
    if kind == "string":
        return recognizer.read_number_bytes(data).text
    answer = recognizer.predict_bytes(data)
    return "" if answer.digit is None else str(answer.digit)


def digits_alone(recognizer: Recognizer, sample) -> tuple[str, list[tuple]]:
    """A string read with perfect segmentation: every digit as drawn, prepared and read on its own. Also
    the digits misread that way: (ink as drawn, model input, true digit, answer, confidence)."""
    images = np.stack([to_model_input(np.round(np.clip(ink, 0, 1) * 255).astype(np.uint8)) for ink in sample.parts])
    probabilities = recognizer.probabilities(images)
    answers = [recognizer.classes[i] for i in probabilities.argmax(1)]
    misread = [(ink, image, truth, answer, float(p.max()))
               for ink, image, truth, answer, p in zip(sample.parts, images, sample.label, answers, probabilities)
               if answer != truth]
    return "".join(answers), misread


def draw_misreads(misread: list[tuple], path: Path, columns: int = 8) -> None:
    """A grid of misread digits: as drawn (left) and as the model saw them (right), truth → answer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(misread) // columns))
    figure, axes = plt.subplots(rows, 2 * columns, figsize=(1.1 * 2 * columns, 1.35 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, (ink, image, truth, answer, confidence) in enumerate(misread):
        drawn, seen = axes[k // columns, 2 * (k % columns)], axes[k // columns, 2 * (k % columns) + 1]
        drawn.imshow(ink, cmap="gray_r", vmin=0, vmax=1)
        seen.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        drawn.set_title(f"{truth} → {answer}", fontsize=9, loc="left")
        seen.set_title(f"{confidence:.2f}", fontsize=8, loc="right", color="0.4")
    figure.tight_layout(pad=0.3)
    figure.savefig(path, dpi=80)
    plt.close(figure)


def run(n: int, model: str | None, seed: int, tta: bool = False, figure: Path | None = None) -> dict:
    test = load_dataset("mnist", "test")
    recognizer = Recognizer(model, threads=1, tta=tta)
    plain = Recognizer(model, threads=1) if tta else recognizer  # the naive recipe gets no test-time augmentation
    sets = make_sets(test.images, test.labels, n, seed)
    results = {}
    for kind, samples in sets.items():
        t = time.perf_counter()
        mine = [ours(recognizer, s.data, kind) for s in samples]
        seconds = time.perf_counter() - t
        base = [naive(plain, s.data) for s in samples]
        results[kind] = {
            "n": len(samples),
            "naive": float(np.mean([b == s.label for b, s in zip(base, samples)])),
            "digitrec": float(np.mean([m == s.label for m, s in zip(mine, samples)])),
            "ms_per_image": 1000 * seconds / len(samples),
            "errors": [(s.label, m) for m, s in zip(mine, samples) if m != s.label][:20],
        }
        if kind == "string":
            right = np.array([m == s.label for m, s in zip(mine, samples)])
            touching = np.array([s.touching for s in samples])
            results[kind]["gaps"] = float(right[~touching].mean())
            results[kind]["touching"] = float(right[touching].mean())
            alone = [digits_alone(recognizer, s) for s in samples]
            results[kind]["digits_alone"] = float(np.mean([text == s.label for (text, _), s in zip(alone, samples)]))
            misread = [digit for _, digits in alone for digit in digits]
            results[kind]["digits_alone_misread"] = f"{len(misread)} of {sum(len(s.label) for s in samples)} digits"
            if figure is not None:
                draw_misreads(misread[:64], figure)
            splitter = Recognizer(model, threads=1, tta=tta, number_reader=False)
            results[kind]["without_reader"] = float(np.mean([ours(splitter, s.data, kind) == s.label
                                                             for s in samples]))
    return {"model": recognizer.info, "seed": seed, "tta": tta, "sets": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="samples per set")
    parser.add_argument("--model", default=None, help="model directory (default: bundled)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tta", action="store_true", help="digitrec with test-time augmentation")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--figure", type=Path, help="draw the string digits misread even alone into this PNG")
    args = parser.parse_args()
    out = run(args.n, args.model, args.seed, args.tta, args.figure)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"model {out['model']['name']} {out['model']['version']}, {args.n} samples per set, seed {args.seed}"
          f"{', test-time augmentation' if args.tta else ''}")
    print(f"{'set':8} {'naive':>8} {'digitrec':>9} {'ms/image':>9}")
    for kind, r in out["sets"].items():
        print(f"{kind:8} {r['naive'] * 100:7.2f}% {r['digitrec'] * 100:8.2f}% {r['ms_per_image']:9.2f}")
        if kind == "string":
            print(f"   with gaps {r['gaps'] * 100:.2f}%, touching {r['touching'] * 100:.2f}%, "
                  f"digits alone (perfect segmentation) {r['digits_alone'] * 100:.2f}% "
                  f"({r['digits_alone_misread']} misread), "
                  f"without the number reader (splitter only) {r['without_reader'] * 100:.2f}%")
        print("   first errors (truth, ours):", r["errors"][:10])


if __name__ == "__main__":
    main()
