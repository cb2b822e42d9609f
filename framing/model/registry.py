"""The models under ``models/`` (``framing models list``) and the choice of the default one
(``framing models use``), with its quality gate: a model that scores lower on held-out data than the
current default does not replace it unless forced."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.files import atomic_writer
from framing.model.base import ModelError
from framing.model.loader import missing_files, models_dir

QUALITY_SET = "annotations-test"
"""The held-out set whose macro-F1 decides whether a model may replace the default."""


@dataclass
class ModelEntry:
    """A model directory under ``models_dir()`` as ``framing models list`` shows it."""

    name: str
    kind: str
    macro_f1: float | None
    is_default: bool
    info: dict[str, Any]


def list_models() -> list[ModelEntry]:
    """Every model directory under ``models_dir()``, with its held-out macro-F1 where it has one."""
    root = models_dir()
    pointer = root / "DEFAULT"
    default = pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None
    out = []
    for info_path in sorted(root.glob("*/framing-model.json")):
        if info_path.parent.name.startswith("."):
            continue  # a model still being written by a training run
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        out.append(ModelEntry(info_path.parent.name, str(info.get("kind")), macro_f1(info), info_path.parent.name == default, info))
    return out


def macro_f1(info: dict[str, Any]) -> float | None:
    """Held-out macro-F1 of a model on ``QUALITY_SET``, from its stored metrics."""
    try:
        return float(info["metrics"][QUALITY_SET]["labels"]["macro_f1"])
    except (KeyError, TypeError, ValueError):
        return None


def comparison(new: ModelEntry, current: ModelEntry) -> tuple[str, float, float] | None:
    """(held-out set, new macro-F1, current macro-F1) on the same data: ``QUALITY_SET`` first, else a set
    the new model was measured on together with the current one when it was retrained from it."""
    new_metrics = new.info.get("metrics") or {}
    sets = sorted((k for k, v in new_metrics.items() if isinstance(v, dict) and "labels" in v), key=lambda k: k != QUALITY_SET)
    # Retrained from the current model: the run measured both on exactly the same held-out articles,
    # which beats figures stored with the current model by another run (or another code version).
    same_run = Path(str(new.info.get("continued_from", ""))).name == current.name and str(new.info.get("baseline_name", "")).startswith(
        "previous model"
    )

    def f1(metrics: Any, name: str) -> float | None:
        try:
            value = float(metrics[name]["labels"]["macro_f1"])
        except (KeyError, TypeError, ValueError):
            return None
        return None if math.isnan(value) else value

    for name in sets:
        mine = f1(new_metrics, name)
        theirs = f1(new.info.get("baseline_metrics"), name) if same_run else None
        if theirs is None:
            theirs = f1(current.info.get("metrics"), name)
        if mine is not None and theirs is not None:
            return name, mine, theirs
    return None


def use_model(name: str, force: bool = False) -> ModelEntry:
    """Make ``name`` the default model. Refuses one whose held-out macro-F1 is lower than the current
    default's on the same data (or that cannot be compared), unless ``force``; refuses an incomplete
    model (a file it needs is missing) even then."""
    entries = {e.name: e for e in list_models()}
    if name not in entries:
        raise ModelError(f"no model named {name!r} in {models_dir()} (have: {', '.join(sorted(entries)) or 'none'})")
    new = entries[name]
    missing = missing_files(models_dir() / name, new.info)
    if missing:
        raise ModelError(f"{name} is incomplete ({', '.join(missing)} missing): it cannot become the default")
    current = next((e for e in entries.values() if e.is_default), None)
    if current is not None and current.name != name and not force:
        compared = comparison(new, current)
        if compared is None:
            raise ModelError(f"cannot compare {name} with {current.name}: no held-out macro-F1 on the same data (use --force)")
        where, mine, theirs = compared
        if mine < theirs:
            raise ModelError(
                f"{name} has macro-F1 {mine:.3f} on {where}, lower than the current default {current.name} "
                f"({theirs:.3f}); use --force to switch anyway"
            )
    with atomic_writer(models_dir() / "DEFAULT") as handle:
        handle.write(name + "\n")
    new.is_default = True
    return new
