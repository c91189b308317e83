"""Export any zoo model to ONNX with one contract: input ``image`` (N, 1, 28, 28) float in [0, 1], output
``probabilities`` (N, classes). Prediction and serving then have a single code path, scikit-learn included."""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
from onnx import TensorProto, helper

INPUT, OUTPUT = "image", "probabilities"
OPSET = 17


def export_torch(model, path: Path, temperature: float = 1.0, classes: int = 10) -> None:
    """``temperature`` (from calibration) is folded into the graph; a model with an extra "no digit" output
    exports only the ``classes`` digit probabilities, which then sum to less than 1 when it is unsure."""
    import torch

    class Probabilities(torch.nn.Module):
        def __init__(self, net: torch.nn.Module):
            super().__init__()
            self.net = net

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.net(image) / temperature, dim=1)[:, :classes]

    wrapped = Probabilities(model.eval()).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The TorchScript-based exporter: a self-contained file in a fraction of a second, with batch norm
        # folded into the convolutions (the dynamo exporter takes ~13 s here for the same graph).
        torch.onnx.export(wrapped, (torch.zeros(1, 1, 28, 28),), str(path), input_names=[INPUT],
                          output_names=[OUTPUT], dynamic_axes={INPUT: {0: "N"}, OUTPUT: {0: "N"}},
                          opset_version=OPSET, dynamo=False)
    _stamp(path)


def export_sklearn(model, path: Path) -> None:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    proto = convert_sklearn(model, initial_types=[("flat", FloatTensorType([None, 784]))],
                            options={id(model): {"zipmap": False}}, target_opset=OPSET)
    graph = proto.graph
    probabilities = next(o for o in graph.output if "prob" in o.name)
    # Put a Reshape in front so the model takes images like every other model, and keep one output.
    shape = helper.make_tensor("flat_shape", TensorProto.INT64, [2], [-1, 784])
    reshape = helper.make_node("Reshape", [INPUT, "flat_shape"], ["flat"], name="to_flat")
    nodes = [reshape, *graph.node]
    if probabilities.name != OUTPUT:
        nodes.append(helper.make_node("Identity", [probabilities.name], [OUTPUT], name="to_probabilities"))
    new_graph = helper.make_graph(
        nodes, "sk_mlp", [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 10])],
        initializer=[shape, *graph.initializer],
    )
    out = helper.make_model(new_graph, opset_imports=proto.opset_import)
    out.ir_version = proto.ir_version
    onnx.checker.check_model(out)
    onnx.save(out, str(path))
    _stamp(path)


def _stamp(path: Path) -> None:
    model = onnx.load(str(path))
    model.producer_name = "digitrec"
    model.doc_string = "digitrec digit classifier: image (N,1,28,28) in [0,1] -> probabilities (N,classes)"
    onnx.save(model, str(path))
