"""The window model run by ONNX Runtime, for scoring: the default way ``framing score`` runs.

The weights stay in the model directory's safetensors. The first load exports the whole scoring network
(encoder, sentence pooling, the three heads, sigmoid and softmax) from torch to ONNX and keeps the graph
in a cache (``FRAMING_CACHE_DIR``, default ``~/.cache/framing``) under a hash of the weights, the configs
and the library versions: a retrained model never meets a stale graph, and nothing in the model
directory is written. Later loads read the cached graph and the tokenizer's ``tokenizer.json`` only, so
scoring imports neither torch nor transformers: a process loads the model in 0.3 s instead of 2.2 s, in
130 MB instead of 340. Training always uses torch (``framing.transformer``); ``onnx`` gives its outputs (``tests/test_onnx_model.py``
checks them on padded batches).

``onnx-int8`` additionally quantises the weights of the matrix multiplications to int8 (dynamic, per
channel; see ``quantize_int8``): faster on CPUs with int8 dot products, at an accuracy cost
``benchmarks/score_speed.py`` reports.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from framing.files import cache_dir, read_cached, write_cached
from framing.model.base import Prediction, default_threads
from framing.model.windows import Outputs, WindowSpec, predict_windows
from framing.record import Article

GRAPH_VERSION = "scoring-4"
"""Part of every cache key: bump it when what ``export_onnx`` puts in the graph changes."""


def export_onnx(directory: Path, techniques: bool) -> bytes:
    """The scoring network of the model in ``directory`` as an ONNX graph with dynamic batch, token and
    sentence-slot axes. Inputs: ``input_ids``, ``attention_mask``, ``sentence_ids`` (as
    ``framing.windows.pad`` makes them) and ``slots`` (0 .. n_sentences - 1); outputs: ``sentence_probs``,
    ``tag_probs`` and, with ``techniques``, ``technique_probs``."""
    import torch

    from framing.model.torch_model import TransformerModel

    class Scoring(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = TransformerModel.load(directory).network.eval()
            # sdpa's exported graph guards its masked softmax against all-masked rows with IsNaN/Where
            # over every (head, token, token) score, a tenth of int8 model time, for rows that never occur
            # (a window always holds [CLS]). Eager attention gives the same outputs without it.
            self.network.encoder.set_attn_implementation("eager")

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, sentence_ids: torch.Tensor, slots: torch.Tensor
        ) -> tuple[torch.Tensor, ...]:
            net = self.network
            hidden = net.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            out = (torch.sigmoid(net.head(net.pool(hidden, sentence_ids, slots))), torch.softmax(net.tagger(hidden), dim=-1))
            if techniques and net.techniques is not None:
                return (*out, torch.sigmoid(net.techniques(hidden)))
            return out

    # Traced on a padded batch with two sentence slots, so the attention-mask and pooling paths are the
    # ones recorded: a batch of all-ones masks could let the tracer record the mask being skipped.
    input_ids = torch.full((2, 12), 101, dtype=torch.long)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 7:] = 0
    sentence_ids = torch.tensor([[-1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, -1], [-1, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1]])
    tokens, sentences = {0: "batch", 1: "tokens"}, {0: "batch", 1: "sentences"}
    inputs = {"input_ids": tokens, "attention_mask": tokens, "sentence_ids": tokens, "slots": {0: "sentences"}}
    outputs = {"sentence_probs": sentences, "tag_probs": tokens, **({"technique_probs": tokens} if techniques else {})}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python branches on shapes
        torch.onnx.export(
            Scoring(),
            (input_ids, attention_mask, sentence_ids, torch.arange(2)),
            buffer,  # type: ignore[arg-type]  # a file-like object is accepted too
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes={**inputs, **outputs},
            opset_version=17,
            dynamo=False,
        )
    return buffer.getvalue()


def quantize_int8(graph: bytes) -> bytes:
    """Dynamic int8 quantisation of the graph's weight matrix multiplications, one scale per output
    channel, except the first layer's feed-forward output projection. Its input (the GELU of the first
    layer) has the widest range, and int8 there cost the shipped student 0.9 point of CheckThat!
    macro-F1; kept in fp32, int8 stays within 0.5 point of fp32 on every held-out set for 7 % of speed."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = [n.name for n in onnx.load_from_string(graph).graph.node if n.op_type == "MatMul" and "layer.0/output/dense" in n.name]
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(graph)
        logging.disable(logging.WARNING)  # its root-logger advice to pre-process the graph, on every export
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep)
        finally:
            logging.disable(logging.NOTSET)
        return target.read_bytes()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def graph_key(directory: Path, int8: bool, techniques: bool) -> str:
    """Changes whenever the weights, a config, the int8 or technique choice or an exporting library does."""
    digest = hashlib.sha256()
    files = [
        "encoder.safetensors" if (directory / "encoder.safetensors").exists() else "model.safetensors",
        "config.json",
        "head.safetensors",
    ]
    for name in files + (["techniques.safetensors"] if techniques else []):
        digest.update(hashlib.sha256((directory / name).read_bytes()).digest())
    versions = "|".join(_version(p) for p in ("torch", "transformers", "onnxruntime"))
    digest.update(f"{GRAPH_VERSION}|{int8}|{techniques}|{versions}".encode())
    return digest.hexdigest()[:32]


def cached_graph(directory: Path, int8: bool, techniques: bool) -> tuple[Path, bytes]:
    """The scoring graph of ``directory``, from the cache or exported (and cached). A cached graph is used
    only when ``framing.files.read_cached`` trusts it; otherwise it is exported again and replaced. A cache that cannot be written
    (read-only home, full disk) only costs the export on every load."""
    path = cache_dir() / f"scoring-{graph_key(directory, int8, techniques)}{'-int8' if int8 else ''}.onnx"
    cached = read_cached(path)
    if cached is not None:
        return path, cached
    graph = export_onnx(directory, techniques)
    if int8:
        graph = quantize_int8(graph)
    write_cached(path, graph)
    return path, graph


def _session(graph: bytes, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


class OnnxModel:
    """A saved window classifier scored by ONNX Runtime (``load_model``'s ``onnx`` and ``onnx-int8``)."""

    kind = "transformer-window"

    def __init__(self, directory: Path, info: dict[str, Any], int8: bool, threads: int) -> None:
        from tokenizers import Tokenizer

        self.directory, self.info, self.int8, self.threads = directory, info, int8, threads
        self.max_tokens = int(info.get("max_tokens", 256))
        self.has_techniques = (directory / "techniques.safetensors").exists()
        self.use_techniques = self.has_techniques
        """Set False to skip the technique head (``framing score --no-techniques``)."""
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        special = _special_tokens(directory)
        ids = {role: self.tokenizer.token_to_id(token) for role, token in special.items()}
        cls_id, sep_id, pad_id = ids["cls"], ids["sep"], ids["pad"]
        if cls_id is None or sep_id is None or pad_id is None:
            raise ValueError(f"{directory}: tokenizer.json lacks a special token of {special}")
        self.spec = WindowSpec(cls_id, sep_id, pad_id, self.max_tokens, technique_thresholds=info.get("technique_thresholds", 0.5))
        self._sessions: dict[bool, Any] = {}
        self.session(self.use_techniques)  # export or read the graph now: a broken model fails at load

    @property
    def name(self) -> str:
        return str(self.info.get("name", self.kind))

    def session(self, techniques: bool) -> Any:
        """The ONNX Runtime session of the graph with or without the technique head (one graph each, so
        ``--no-techniques`` does not compute it)."""
        if techniques not in self._sessions:
            path, graph = cached_graph(self.directory, self.int8, techniques)
            try:
                self._sessions[techniques] = _session(graph, self.threads)
            except Exception:  # noqa: BLE001 - ONNX Runtime raises its own types for a damaged graph
                path.unlink(missing_ok=True)  # a damaged cached graph is replaced, not an error
                self._sessions[techniques] = _session(cached_graph(self.directory, self.int8, techniques)[1], self.threads)
        return self._sessions[techniques]

    def encode(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        return [(e.ids, e.offsets) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def run(self, batch: dict[str, Any], techniques: bool) -> Outputs:
        """A padded batch (``framing.windows.pad``) → sentence-head, tag and technique probabilities."""
        techniques = techniques and self.has_techniques
        feeds = {k: batch[k] for k in ("input_ids", "attention_mask", "sentence_ids")}
        feeds["slots"] = np.arange(batch["n_sentences"], dtype=np.int64)
        outputs = self.session(techniques).run(None, feeds)
        return outputs[0], outputs[1], outputs[2] if techniques else None

    def predict(self, articles: list[Article]) -> list[Prediction]:
        """Per article, label probabilities for each sentence, the source/cue spans found in it and the
        technique spans of the article."""
        techniques = self.use_techniques and self.has_techniques
        return predict_windows(articles, self.spec, self.encode, self.run, techniques)

    def predict_proba(self, articles: list[Article]) -> list[np.ndarray]:
        """Per article, an (n_sentences, 4) array of label probabilities in ``LABELS`` order."""
        return [p.probs for p in self.predict(articles)]

    @classmethod
    def load(cls, directory: str | Path, backend: str = "onnx-int8", threads: int | None = None) -> OnnxModel:
        """Load a saved window classifier for scoring with ONNX Runtime (``onnx`` or ``onnx-int8``) on
        ``threads`` threads (default: every core this process may use)."""
        if backend not in ("onnx", "onnx-int8"):
            raise ValueError(f"backend: onnx or onnx-int8, got {backend!r}")
        directory = Path(directory)
        info = json.loads((directory / "framing-model.json").read_text(encoding="utf-8"))
        return cls(directory, {**info, "backend": backend}, backend == "onnx-int8", threads or default_threads())


def _special_tokens(directory: Path) -> dict[str, str]:
    config_path = directory / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}

    # transformers writes a special token as a string or as {"content": ...}
    def name(key: str, default: str) -> str:
        value = config.get(key, default)
        return value["content"] if isinstance(value, dict) else str(value)

    return {"cls": name("cls_token", "[CLS]"), "sep": name("sep_token", "[SEP]"), "pad": name("pad_token", "[PAD]")}
