"""The fine-tuned encoder run by ONNX Runtime, for scoring.

The weights stay in the model directory's safetensors; the first load exports the torch encoder to ONNX
(under a second for MiniLM) and keeps the graph in a cache (``FRAMING_CACHE_DIR``, default
``~/.cache/framing``) under a hash of the weights, the encoder config and the library versions, so later
loads skip both the export and the import of transformers' model code (about 2.5 s of every
``framing score`` start). Nothing in the model directory is written. ONNX Runtime fuses the
layer norms, GELU and attention arithmetic that torch runs op by op, which on 2 CPU cores scores about
1.6× faster than torch with the same outputs (``benchmarks/score_speed.py`` measures both, and
``tests/test_ort_encoder.py`` checks the outputs agree on padded batches). Training always uses torch.

``int8`` additionally quantises the weights of every matrix multiplication to int8 (dynamic,
per channel): faster again on CPUs with int8 dot products, at an accuracy cost the benchmark reports.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

BACKENDS: tuple[str, ...] = ("onnx-int8", "onnx", "torch")
"""Ways to run the encoder when scoring; the first is the default. ``onnx-int8`` is the fastest backend
whose held-out macro-F1 stays within 0.5 point of fp32 (``benchmarks/score_speed.py``); ``onnx`` gives
torch's fp32 outputs exactly."""
DEFAULT_BACKEND = BACKENDS[0]


class _LastHidden(nn.Module):
    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def export_onnx(encoder: nn.Module) -> bytes:
    """The encoder as an ONNX graph with dynamic batch and sequence axes."""
    # Traced on a padded batch, so the attention-mask path is the one recorded: a batch of all-ones
    # masks could let the tracer record the mask being skipped.
    input_ids = torch.full((2, 12), 101, dtype=torch.long)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 7:] = 0
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python branches on shapes
        torch.onnx.export(
            _LastHidden(encoder.eval()),
            (input_ids, attention_mask),
            buffer,
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "hidden")},
            opset_version=17,
            dynamo=False,
        )
    return buffer.getvalue()


def quantize_int8(graph: bytes) -> bytes:
    """Dynamic int8 quantisation of the graph's matrix multiplications, one scale per output channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(graph)
        logging.disable(logging.WARNING)  # its root-logger advice to pre-process the graph, on every load
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(logging.NOTSET)
        return target.read_bytes()


def cache_dir() -> Path:
    if os.environ.get("FRAMING_CACHE_DIR"):
        return Path(os.environ["FRAMING_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "framing"


def graph_key(weights: Path, config: Path, int8: bool) -> str:
    """Changes whenever the weights, the encoder config, the int8 choice or an exporting library does."""
    import onnxruntime
    import transformers

    digest = hashlib.sha256()
    for part in (weights.read_bytes(), config.read_bytes(), f"{int8}|{torch.__version__}|{transformers.__version__}|{onnxruntime.__version__}".encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:32]


def cached_encoder(weights: Path, config: Path, int8: bool, build_encoder: Callable[[], nn.Module]) -> OrtEncoder:
    """The encoder's session, from the cached ONNX graph or from one exported from ``build_encoder()`` and
    cached. A cache that cannot be written (read-only home, full disk) only costs the export on every
    load; a cached graph that ONNX Runtime cannot read is replaced."""
    path = cache_dir() / f"encoder-{graph_key(weights, config, int8)}{'-int8' if int8 else ''}.onnx"
    if path.is_file():
        try:
            return OrtEncoder(path.read_bytes())
        except Exception:  # noqa: BLE001 - ONNX Runtime raises its own exception types for a bad graph
            path.unlink(missing_ok=True)
    graph = export_onnx(build_encoder())
    if int8:
        graph = quantize_int8(graph)
    part = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as handle:
            part = Path(handle.name)
            handle.write(graph)
        os.replace(part, path)  # whole or absent: a reader never sees half a graph
    except OSError:
        if part is not None:
            part.unlink(missing_ok=True)
    return OrtEncoder(graph)


class _Output:
    """What the torch encoder returns, as far as the window classifier reads it."""

    def __init__(self, last_hidden_state: torch.Tensor) -> None:
        self.last_hidden_state = last_hidden_state


class OrtEncoder(nn.Module):
    """Drop-in for the torch encoder at inference: same call, same ``last_hidden_state``."""

    def __init__(self, graph: bytes) -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        # Follow torch's thread setting, so one-thread Ray actors stay on one core each.
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> _Output:
        (hidden,) = self.session.run(["hidden"], {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})
        return _Output(torch.from_numpy(hidden))
