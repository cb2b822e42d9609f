from __future__ import annotations

import json
from pathlib import Path

import pytest

from framing.model import ModelError
from framing.model.registry import use_model


def _model(root: Path, name: str, f1: float | None, **info: object) -> None:
    (root / name).mkdir(parents=True)
    metrics = {} if f1 is None else {"annotations-test": {"labels": {"macro_f1": f1}}}
    (root / name / "framing-model.json").write_text(
        json.dumps({"kind": "transformer-window", "metrics": metrics, **info}), encoding="utf-8"
    )


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
