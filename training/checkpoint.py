"""Training checkpoints, so that a long run (a teacher: hours on this CPU) survives a kill and continues.

A checkpoint is one file, ``state.safetensors`` in the run's checkpoint directory, written whole or not at
all: the network's weights, the optimizer's moments and torch's random state as tensors, and in its
metadata the step, where the epoch's batch order was drawn from, the losses so far and the minutes already
spent. ``progress.json`` beside it repeats the progress for people (and is not read back). No pickle is
written or read.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


@dataclass
class Progress:
    """Where a run is: ``step`` steps done, the current epoch's batch order drawn from ``epoch_rng`` (a
    ``random.Random`` state), ``batch`` batches of that epoch done."""

    step: int = 0
    epoch: int = 0
    batch: int = 0
    epoch_rng: list[Any] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    minutes: float = 0.0
    fingerprint: str = ""
    """What the run trains on and how (``fingerprint``): a checkpoint of another run is never resumed."""
    config: dict[str, Any] = field(default_factory=dict)
    """The settings the run was started with (``same_run`` compares them key by key)."""
    data: list[int] = field(default_factory=list)
    """Windows and planned steps."""


RESUMABLE = ("resume", "max_minutes", "checkpoint_minutes", "checkpoint_dir", "threads", "teacher_cache")
"""Settings that may change between a run and its resumption: they do not change what is trained."""


def fingerprint(config: dict[str, Any], windows: int, steps: int) -> str:
    """A digest of the config (less what may change between a run and its resumption) and the data size:
    how checkpoints made before ``Progress.config`` existed are matched."""
    kept = {k: v for k, v in sorted(config.items()) if k not in RESUMABLE}
    return hashlib.sha256(json.dumps([kept, windows, steps], sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def same_run(saved: Progress, config: dict[str, Any], windows: int, steps: int, defaults: dict[str, Any]) -> bool:
    """Whether a checkpoint continues this run: the same data size and the same settings. A setting that
    only one side has (added to the code after the checkpoint was made, or since removed) must be at its
    default; a default that changed in the code is a change, since the checkpoint kept the value it ran with."""
    if not saved.config:
        return saved.fingerprint == fingerprint(config, windows, steps)
    if saved.data != [windows, steps]:
        return False
    missing = object()
    for key in (set(saved.config) | set(config)) - set(RESUMABLE):
        mine, theirs = config.get(key, defaults.get(key, missing)), saved.config.get(key, defaults.get(key, missing))
        if json.dumps(mine, sort_keys=True, default=str) != json.dumps(theirs, sort_keys=True, default=str):
            return False
    return True


def save(directory: Path, network: torch.nn.Module, optimizer: torch.optim.Optimizer, progress: Progress) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in network.state_dict().items()}
    optim = optimizer.state_dict()
    for index, state in optim["state"].items():
        for key, value in state.items():
            tensors[f"optim.{index}.{key}"] = value.detach().contiguous() if torch.is_tensor(value) else torch.tensor(value)
    tensors["rng.torch"] = torch.get_rng_state()
    meta = {"progress": asdict(progress), "param_groups": optim["param_groups"]}
    # One file: weights and progress can never come from two different steps.
    _replace(directory / "state.safetensors", lambda path: save_file(tensors, str(path), metadata={"framing": json.dumps(meta)}))
    _replace(directory / "progress.json", lambda path: path.write_text(json.dumps({"progress": asdict(progress)}), encoding="utf-8"))


def load(directory: Path, network: torch.nn.Module, optimizer: torch.optim.Optimizer) -> Progress | None:
    """Restore ``network`` and ``optimizer`` from ``directory``; None when there is no checkpoint."""
    path = directory / "state.safetensors"
    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads((handle.metadata() or {})["framing"])
    tensors = load_file(str(path))
    network.load_state_dict({k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    progress = Progress(**meta["progress"])
    progress.epoch_rng = _as_state(progress.epoch_rng)
    return progress


def rng_state(rng: random.Random) -> list[Any]:
    """A ``random.Random`` state as JSON can hold it."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _as_state(saved: list[Any]) -> Any:
    version, internal, gauss = saved
    return (version, tuple(internal), gauss)


def _replace(path: Path, write: Any) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    part = Path(name)
    try:
        write(part)
        with open(part, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
