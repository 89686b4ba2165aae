"""PyTorch token classifier to ONNX graphs: export, fusion, fp16 and int8 conversion, external data.

Each step writes one file and returns a JSON-able record of what it did, so the exporter can verify
the file and put the record into the bundle's manifest. Nothing here judges whether a graph is
good enough: that is :mod:`model_export.verify`'s job.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger("clinx.export")

OPSET = 18
MIN_OPSET = 17
# One protobuf message cannot exceed 2 GiB; leave room for the graph itself beside the weights.
INLINE_LIMIT = 1_800_000_000
# Encoders ORT's BERT fusions understand (same attention block, post-LayerNorm).
FUSION_MODEL_TYPES = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "camembert": "bert"}
# Finite in fp16 (unlike finfo(float32).min) and still far below any real attention score.
MASK_FILL = -10000.0
# Kept in fp32 in the fp16 variant: their reductions overflow or lose too much in half precision.
FP16_KEEP_FP32 = ["LayerNormalization", "SimplifiedLayerNormalization", "Softmax"]


class _LogitsOnly(torch.nn.Module):
    """``(input_ids, attention_mask) -> logits``, the bundle's I/O contract.

    With ``additive_mask`` the padding mask is turned into the classic BERT additive mask
    (``(1 - mask) * -10000`` over ``[batch, 1, 1, seq]``) before the model sees it: transformers
    passes a 4-D mask through unchanged, and this is the expression ORT's attention fusion matches,
    where transformers 5's own boolean mask construction is not.
    """

    def __init__(self, model: torch.nn.Module, additive_mask: bool) -> None:
        super().__init__()
        self.model = model
        self.additive_mask = additive_mask

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask: torch.Tensor = attention_mask
        if self.additive_mask:
            mask = (1.0 - attention_mask.unsqueeze(1).unsqueeze(2).to(torch.float32)) * MASK_FILL
        return self.model(input_ids=input_ids, attention_mask=mask).logits  # type: ignore[no-any-return]


def fusion_model_type(config: Any) -> str | None:
    """The ORT optimizer's model type for this encoder, or None when it has no fusions for it."""
    return FUSION_MODEL_TYPES.get(str(getattr(config, "model_type", "")))


def export_onnx(model: Any, path: Path, pad_id: int) -> None:
    """torch.export-based ONNX export with dynamic batch and sequence axes; weights as external data.

    The TorchScript exporter traces transformers' attention-mask code into shape-specialised graphs
    whose logits differ from PyTorch's; the dynamo exporter does not. Fusable encoders are exported
    with eager attention (the pattern ORT fuses); the weights always go to ``<name>.data`` so any
    size works, and :func:`save_onnx` decides later whether the bundle keeps them inline.
    """
    from torch.export import Dim

    additive = fusion_model_type(model.config) is not None
    previous = model.config._attn_implementation
    ids = torch.full((2, 16), pad_id, dtype=torch.long)
    ids[:, 1:15] = 5
    mask = torch.ones((2, 16), dtype=torch.long)
    batch, sequence = Dim("batch"), Dim("sequence", max=8192)
    model.eval()
    if additive:
        model.set_attn_implementation("eager")
    try:
        torch.onnx.export(
            _LogitsOnly(model, additive).eval(),
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_shapes={"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}},
            opset_version=OPSET,
            dynamo=True,
            external_data=True,
            verbose=False,
        )
    finally:
        if additive:
            model.set_attn_implementation(previous)


def weight_bytes(model: Any) -> int:
    """Bytes of the initializers, whether held inline or in external data."""
    from onnx import external_data_helper

    total = 0
    for tensor in model.graph.initializer:
        if external_data_helper.uses_external_data(tensor):
            info = external_data_helper.ExternalDataInfo(tensor)
            total += int(info.length or 0)
        else:
            total += tensor.ByteSize()
    return total


def needs_external(model: Any, forced: bool | None) -> bool:
    """External data when asked for, or when the model cannot be one protobuf message."""
    return bool(forced) if forced is not None else weight_bytes(model) > INLINE_LIMIT


def save_onnx(model: Any, path: Path, external: bool) -> None:
    """Write ``path``; with ``external`` all weights go to one ``<name>.data`` file beside it."""
    import onnx

    clear(path)
    onnx.save_model(model, str(path), save_as_external_data=external, all_tensors_to_one_file=True,
                    location=path.name + ".data", size_threshold=1024)


def clear(path: Path) -> None:
    """Remove a graph and its ``.data`` file: writers append to an existing data file."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".data").unlink(missing_ok=True)


def external_files(path: Path) -> list[str]:
    """The external data files a graph refers to, relative to its directory, in first-use order."""
    import onnx
    from onnx import external_data_helper

    model = onnx.load(str(path), load_external_data=False)
    files: list[str] = []
    for tensor in model.graph.initializer:
        if external_data_helper.uses_external_data(tensor):
            location = external_data_helper.ExternalDataInfo(tensor).location
            if location not in files:
                files.append(location)
    return files


def opset_of(path: Path) -> int:
    """The default-domain opset a graph was written for (0 when it declares none)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next((int(entry.version) for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 0)


def fusion_settings(config: Any) -> dict[str, Any] | None:
    """What ORT's optimizer needs to know about this encoder, or None when it has no fusions for it."""
    model_type = fusion_model_type(config)
    if model_type is None:
        return None
    return {"model_type": model_type, "num_heads": int(config.num_attention_heads),
            "hidden_size": int(config.hidden_size)}


def optimize(source: Path, target: Path, settings: dict[str, Any], external: bool) -> dict[str, Any]:
    """ORT's transformer optimizer (attention, LayerNorm, GELU and bias fusions) from ``source`` to ``target``.

    ``settings`` come from :func:`fusion_settings`. Returns the record for the manifest;
    ``applied`` is False (and ``reason`` says why) when the optimizer fails or fuses nothing.
    """
    import onnx
    import onnxruntime
    from onnxruntime.transformers.onnx_model import OnnxModel
    from onnxruntime.transformers.optimizer import optimize_model

    record: dict[str, Any] = {"tool": "onnxruntime.transformers.optimizer", "onnxruntime": onnxruntime.__version__,
                              **settings, "opt_level": 0}
    try:
        graph = OnnxModel(onnx.load(str(source)))
        record["rewrites"] = canonicalise_for_fusion(graph)
        optimized = optimize_model(graph.model, model_type=settings["model_type"], num_heads=settings["num_heads"],
                                   hidden_size=settings["hidden_size"], opt_level=0)
        statistics = optimized.get_fused_operator_statistics()
        clear(target)
        optimized.save_model_to_file(str(target), use_external_data_format=external)
    except Exception as error:  # the optimizer is best effort: the unfused graph is always valid
        log.warning("ONNX Runtime optimizer failed, keeping the unfused graph: %s", error)
        return {**record, "applied": False, "reason": f"optimizer failed: {type(error).__name__}: {error}"[:500]}
    record["fused_operators"] = {name: int(count) for name, count in statistics.items() if count}
    record["applied"] = bool(record["fused_operators"])
    if not record["applied"]:
        record["reason"] = "the optimizer matched no fusion pattern"
    return record


def canonicalise_for_fusion(graph: Any) -> dict[str, int]:
    """Rewrite two dynamo-export idioms into the forms ORT's attention fusion matches.

    * ``Unsqueeze(attention_mask, axes=[1, 2])`` becomes two single-axis Unsqueezes (the exporter's
      optimiser merges them; the fusion's mask path expects the pair).
    * ``Softmax(Add(Mul(MatMul(q, k), c), mask))`` becomes ``Div(MatMul, 1 / c)``: with two ``Mul``
      parents the fusion picks the first and misses the mask.
    Both are exact up to float rounding; parity is checked on the result anyway.
    """
    from onnx import TensorProto, helper, numpy_helper

    counts = {"split_mask_unsqueeze": 0, "scale_mul_to_div": 0}
    inputs = {tensor.name for tensor in graph.model.graph.input}
    for node in list(graph.model.graph.node):
        if node.op_type != "Unsqueeze" or node.input[0] not in inputs or len(node.input) < 2:
            continue
        axes = graph.get_constant_value(node.input[1])
        if axes is None or [int(axis) for axis in np.ravel(axes)] != [1, 2]:
            continue
        axis = helper.make_tensor(f"{node.name}_axis_1", TensorProto.INT64, [1], [1])
        graph.add_initializer(axis)
        middle = f"{node.output[0]}_first_axis"
        graph.add_node(helper.make_node("Unsqueeze", [node.input[0], axis.name], [middle], name=f"{node.name}_first"))
        node.input[0], node.input[1] = middle, axis.name
        counts["split_mask_unsqueeze"] += 1
    producers = graph.output_name_to_node()
    for softmax in [node for node in graph.model.graph.node if node.op_type == "Softmax"]:
        add = producers.get(softmax.input[0])
        if add is None or add.op_type != "Add":
            continue
        for name in add.input:
            mul = producers.get(name)
            if mul is None or mul.op_type != "Mul":
                continue
            for index, operand in enumerate(mul.input):
                scale = graph.get_constant_value(operand)
                other = producers.get(mul.input[1 - index])
                if scale is None or np.size(scale) != 1 or other is None or other.op_type != "MatMul":
                    continue
                reciprocal = np.asarray(1.0 / scale, dtype=scale.dtype).reshape(np.shape(scale))
                tensor = numpy_helper.from_array(reciprocal, f"{mul.name}_reciprocal")
                graph.add_initializer(tensor)
                mul.op_type = "Div"
                mul.input[:] = [mul.input[1 - index], tensor.name]
                counts["scale_mul_to_div"] += 1
                break
    graph.topological_sort()
    return counts


def convert_fp16(source: Path, target: Path, external: bool) -> dict[str, Any]:
    """fp16 weights and activations for CUDA; inputs stay int64 and logits float32 (keep_io_types).

    LayerNormalization and Softmax stay fp32; fused ORT kernels (SkipLayerNormalization, Attention)
    accumulate in fp32 internally on CUDA, so they run in fp16.
    """
    import onnx
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST
    from onnxruntime.transformers.onnx_model import OnnxModel

    graph = OnnxModel(onnx.load(str(source)))
    graph.convert_float_to_float16(keep_io_types=True, op_block_list=[*DEFAULT_OP_BLOCK_LIST, *FP16_KEEP_FP32])
    clear(target)
    graph.save_model_to_file(str(target), use_external_data_format=external)
    return {"tool": "onnxruntime.transformers.float16", "keep_io_types": True, "kept_fp32": FP16_KEEP_FP32}


def quantize_int8(source: Path, target: Path, *, per_channel: bool, reduce_range: bool, external: bool,
                  exclude: Sequence[str] = ()) -> dict[str, Any]:
    """Dynamic int8 quantisation of the weights (activations quantised at run time) for the CPU;
    the nodes named in ``exclude`` stay in fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    clear(target)
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=per_channel,
                     reduce_range=reduce_range, use_external_data_format=external,
                     nodes_to_exclude=list(exclude) or None)
    return {"method": "dynamic", "weight_type": "QInt8", "per_channel": per_channel, "reduce_range": reduce_range,
            "fp32_nodes": len(exclude), "cpu_int8_features": cpu_int8_features()}


def cpu_int8_features() -> list[str]:
    """The CPU's int8 dot-product extensions (VNNI makes int8 fast and reduce_range unnecessary)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []))
    return sorted(flags & {"avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8"})


def quantize_static_int8(source: Path, target: Path, calibration: Sequence[tuple[np.ndarray, np.ndarray]], *,
                         external: bool, exclude: Sequence[str] = ()) -> dict[str, Any]:
    """Static int8 (QDQ, per-channel weights, activation ranges from ``calibration``): batches of
    ``(input_ids, attention_mask)`` windows of the training corpus, so the scales do not depend on the
    batch being served, unlike dynamic quantisation's."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Windows(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.batches = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {"input_ids": batch[0], "attention_mask": batch[1]}

    clear(target)
    quantize_static(str(source), str(target), Windows(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul"],
                    use_external_data_format=external, nodes_to_exclude=list(exclude) or None)
    return {"method": "static", "format": "QDQ", "weight_type": "QInt8", "activation_type": "QUInt8",
            "per_channel": True, "calibration_batches": len(calibration), "fp32_nodes": len(exclude),
            "cpu_int8_features": cpu_int8_features()}
