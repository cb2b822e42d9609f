from __future__ import annotations

import json
from pathlib import Path

import pytest

from framing.model import ModelError
from framing.model.registry import use_model


WEIGHTS = ("model.safetensors", "config.json", "head.safetensors", "tokenizer.json")


def _model(root: Path, name: str, f1: float | None, **info: object) -> None:
    (root / name).mkdir(parents=True)
    metrics = {} if f1 is None else {"annotations-test": {"labels": {"macro_f1": f1}}}
    (root / name / "framing-model.json").write_text(
        json.dumps({"kind": "transformer-window", "metrics": metrics, **info}), encoding="utf-8"
    )
    for file in WEIGHTS:  # the registry checks that they are there, not what they hold
        (root / name / file).write_bytes(b"")


def test_models_use_compares_on_the_same_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAMING_MODELS_DIR", str(tmp_path))
    _model(tmp_path, "current", 0.60)
    _model(tmp_path, "worse", 0.55)
    _model(tmp_path, "better", 0.65)
    # Retrained from "current": its run measured current at 0.70 on the same articles, which wins over
    # the 0.60 stored with current by an older run.
    _model(
        tmp_path,
        "retrained",
        0.66,
        continued_from=str(tmp_path / "current"),
        baseline_name="previous model (current)",
        baseline_metrics={"annotations-test": {"labels": {"macro_f1": 0.70}}},
    )
    (tmp_path / "DEFAULT").write_text("current\n", encoding="utf-8")
    with pytest.raises(ModelError, match="lower than the current default"):
        use_model("worse")
    with pytest.raises(ModelError, match="0.700"):
        use_model("retrained")
    assert use_model("better").name == "better"
    assert (tmp_path / "DEFAULT").read_text(encoding="utf-8").strip() == "better"
    assert use_model("worse", force=True).is_default


def test_an_unfinished_model_never_becomes_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed during evaluation left a directory with the parent's metrics and no technique head:
    ``models use`` took it without --force, and it scored with no technique head and no warning."""
    from framing.model import load_model
    from framing.model.registry import list_models

    monkeypatch.setenv("FRAMING_MODELS_DIR", str(tmp_path))
    _model(tmp_path, "current", 0.60)
    (tmp_path / "DEFAULT").write_text("current\n", encoding="utf-8")
    _model(tmp_path, "half", 0.90, techniques=True)  # declares a technique head it does not have
    _model(tmp_path, "headless", 0.90)
    (tmp_path / "headless" / "head.safetensors").unlink()
    for name, reason in (("half", "techniques.safetensors missing"), ("headless", "head.safetensors missing")):
        for force in (False, True):
            with pytest.raises(ModelError, match=reason):
                use_model(name, force=force)
    with pytest.raises(ModelError, match="incomplete"):
        load_model(tmp_path / "half")
    assert (tmp_path / "DEFAULT").read_text(encoding="utf-8").strip() == "current"
    # A model a training run is still writing (its staging directory) is not listed at all.
    _model(tmp_path, ".retrained.abc.partial", 0.99)
    assert ".retrained.abc.partial" not in {e.name for e in list_models()}


def test_a_truncated_weights_file_is_a_clear_error(tiny_transformer_dir: Path, tmp_path: Path) -> None:
    import shutil

    from framing.model import load_model

    broken = tmp_path / "broken"
    shutil.copytree(tiny_transformer_dir, broken)
    weights = next(p for p in broken.glob("*.safetensors") if p.name != "head.safetensors")
    weights.write_bytes(weights.read_bytes()[:100])
    for backend in ("torch", "onnx"):
        with pytest.raises(ModelError, match=f"cannot read the model in {broken}"):
            load_model(broken, backend=backend)
