"""The number reader: what it is given (the line strip), how its output is decoded, the bundled reader on
touching MNIST test digits, and `digitrec train-reader` end to end."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from digitrec.inference.reader import NumberReader, RunReading, best_path, best_path_text, ctc_log_likelihood
from digitrec.modeldir import BUNDLED
from digitrec.models.line import BLANK
from digitrec.preprocess.lines import LINE_HEIGHT, MARGIN, STEP, to_line_input

from conftest import assert_clean_error, run_cli


@settings(max_examples=200, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 120), st.integers(1, 400)),
              elements=st.sampled_from([0, 0, 0, 40, 255])))
def test_line_input_is_always_a_valid_strip(piece):
    line = to_line_input(piece)
    if not piece.any():
        assert line is None
        return
    assert line.image.dtype == np.float32 and line.image.shape[0] == LINE_HEIGHT
    assert line.image.shape[1] % STEP == 0 and line.image.shape[1] >= 2 * MARGIN + 1
    assert 0.0 <= line.image.min() and line.image.max() <= 1.0 and line.image.max() > 0
    # every output step maps back onto a column at or right of the first ink, monotonically
    columns = [line.piece_column(t) for t in range(line.image.shape[1] // STEP)]
    assert columns == sorted(columns)


def test_line_input_keeps_the_run_at_digit_height_and_maps_columns_back():
    piece = np.zeros((120, 400), np.uint8)
    piece[20:100, 50:250] = 255  # 80 px tall, 200 wide: scaled by 1/4 to MNIST's 20 px
    line = to_line_input(piece)
    rows = np.flatnonzero(line.image.max(1) > 0.5)
    assert rows[-1] - rows[0] + 1 == 20 and line.scale == pytest.approx(0.25)
    assert line.image.shape[1] == 50 + 2 * MARGIN + (-(50 + 2 * MARGIN)) % STEP
    assert line.piece_column(0) == pytest.approx(50 + (STEP / 2 - MARGIN) * 4)
    last = line.image.shape[1] // STEP - 1
    assert line.piece_column(last) > 240  # the last step lies over the right end of the run


def test_best_path_merges_repeats_and_splits_at_blanks():
    steps = [1, 1, BLANK, 1, 7, 7, BLANK, BLANK, 3]
    log_probs = np.full((len(steps), 11), np.log(0.01), np.float32)
    for t, c in enumerate(steps):
        log_probs[t, c] = np.log(0.9)
    log_probs[4, 7] = np.log(0.95)  # the surer of the two 7 steps
    read = best_path(log_probs)
    assert [int(p.argmax()) for p, _ in read] == [1, 1, 7, 3] and best_path_text(log_probs) == "1173"
    assert [step for _, step in read][2] == 4
    assert all(abs(p.sum() - 1) < 1e-5 for p, _ in read)
    assert best_path(np.tile(np.eye(11, dtype=np.float32)[BLANK], (5, 1))) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.lists(st.integers(0, 9), max_size=5), st.integers(0, 2**32 - 1))
def test_ctc_likelihood_is_torch_s_ctc_loss(steps, digits, seed):
    """The forward algorithm agrees with torch's CTC loss (its negative), repeated digits and too few steps
    included."""
    import torch  # the reference; training needs it anyway

    logits = torch.from_numpy(np.random.default_rng(seed).normal(0, 2, (steps, 11)).astype(np.float64))
    log_probs = torch.log_softmax(logits, -1)
    loss = torch.nn.functional.ctc_loss(log_probs[:, None], torch.tensor([digits], dtype=torch.long),
                                        torch.tensor([steps]), torch.tensor([len(digits)]), blank=BLANK,
                                        reduction="sum", zero_infinity=False)
    ours = ctc_log_likelihood(log_probs.numpy(), digits)
    assert ours == pytest.approx(-float(loss), rel=1e-9, abs=1e-9)


def test_a_reading_gives_every_other_reading_its_odds():
    """Two steps say 6 clearly, one says 1 barely over blank: the best path reads "61", yet "6" alone keeps
    fair odds, "1" alone poor ones, and the single-digit probabilities favour 6."""
    log_probs = np.log(np.full((6, 11), 0.01))
    for t, (digit, p) in enumerate([(BLANK, 0.9), (6, 0.9), (6, 0.8), (BLANK, 0.9), (1, 0.45), (BLANK, 0.9)]):
        log_probs[t, digit] = np.log(p)
    log_probs[4, BLANK] = np.log(0.4)
    log_probs -= np.logaddexp.reduce(log_probs, axis=1, keepdims=True)
    reading = RunReading(best_path(log_probs), log_probs)
    assert best_path_text(log_probs) == "61"
    assert reading.log_likelihood([6]) - reading.log_likelihood([6, 1]) > np.log(1 / 7)
    assert reading.log_likelihood([1]) < reading.log_likelihood([6]) - 3
    one = reading.as_one_digit()
    assert one.argmax() == 6 and one.sum() == pytest.approx(1.0)


def touching(digits: list[np.ndarray], overlap: int) -> np.ndarray:
    """MNIST digits (bright on black) 3× their size, each overlapping the previous by ``overlap`` px."""
    big = [cv2.resize(d, (84, 84), interpolation=cv2.INTER_CUBIC) for d in digits]
    inks = [b[:, np.flatnonzero(b.max(0) > 40)[0] : np.flatnonzero(b.max(0) > 40)[-1] + 1] for b in big]
    canvas = np.zeros((84, sum(i.shape[1] for i in inks)), np.uint8)
    x = 0
    for ink in inks:
        region = canvas[:, x : x + ink.shape[1]]
        np.maximum(region, ink, out=region)
        x += ink.shape[1] - overlap
    return canvas[:, : x + overlap]


def test_bundled_reader_reads_touching_test_digits(mnist_test):
    reader = NumberReader(threads=1)
    rng = np.random.default_rng(3)
    right = 0
    for _ in range(40):
        idx = rng.integers(len(mnist_test), size=int(rng.integers(2, 5)))
        piece = touching([mnist_test.images[i] for i in idx], overlap=8)
        read = reader.read([piece])[0].digits
        text = "".join(str(int(p.argmax())) for p, _ in read)
        right += text == "".join(str(mnist_test.labels[i]) for i in idx)
        columns = [c for _, c in read]
        assert columns == sorted(columns) and all(0 <= c < piece.shape[1] for c in columns)
    assert right >= 36, right  # ≥ 90 % of runs of 2-4 touching digits read whole
    assert (BUNDLED / "reader.onnx").stat().st_size < 200 * 1024


def test_train_reader_writes_a_reader_that_loads(tmp_path):
    out = tmp_path / "reader"
    result = run_cli("train-reader", "--epochs", "1", "--runs", "256", "--out", str(out), "--json", check=True)
    summary = json.loads(result.stdout_text.strip().splitlines()[-1])
    assert summary["config"]["epochs"] == 1 and len(summary["history"]) == 1
    assert 0.0 <= summary["val_run_accuracy_int8"] <= 1.0
    assert sorted(p.name for p in out.iterdir()) == ["reader.onnx", "training.json"]
    reader = NumberReader(out / "reader.onnx", threads=1)
    piece = np.zeros((40, 90), np.uint8)
    piece[5:35, 10:14] = 255
    assert len(reader.read([piece, np.zeros((5, 5), np.uint8)])) == 2  # an untrained reader may read anything


def test_train_reader_refuses_bad_options_at_once(tmp_path):
    assert_clean_error(run_cli("train-reader", "--epochs", "0", "--out", str(tmp_path / "r")), "--epochs", "Invalid value")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert_clean_error(run_cli("train-reader", "--out", str(blocker / "reader")), "cannot write the reader")


def test_bundled_reader_keeps_int8_weights_but_computes_in_float():
    """No activation is quantized: on x86 CPUs without VNNI, u8 × s8 convolutions saturate and the reader
    read half a point fewer runs; its weights stay int8 on disk."""
    import onnx

    graph = onnx.load(str(BUNDLED / "reader.onnx")).graph
    assert not [n for n in graph.node if n.op_type == "QuantizeLinear"]
    int8 = {i.name for i in graph.initializer if i.data_type == onnx.TensorProto.INT8}
    dequantized = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    convolutions = [n for n in graph.node if n.op_type == "Conv"]
    assert convolutions and all(dequantized.get(n.input[1]) in int8 for n in convolutions)


def test_float_activations_compute_the_fp32_network(tmp_path, mnist_test):
    """The bundled digit model's QDQ int8 file, rewritten: its answers are the fp32 model's to within the
    weights' rounding, where the int8 one strays further."""
    import onnxruntime as ort

    from digitrec.export.quantize import with_float_activations

    with_float_activations(BUNDLED / "model.int8.onnx", tmp_path / "float.onnx")
    x = (mnist_test.images[:1000].astype(np.float32) / 255)[:, None]

    def run(path):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]

    fp32, rewritten = run(BUNDLED / "model.onnx"), run(tmp_path / "float.onnx")
    assert np.abs(rewritten - fp32).max() < 0.1
    assert (rewritten.argmax(1) == fp32.argmax(1)).mean() >= 0.998
    assert (tmp_path / "float.onnx").stat().st_size < 1.1 * (BUNDLED / "model.int8.onnx").stat().st_size
