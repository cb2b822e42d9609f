from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framing.model.baseline import BaselineModel
from framing.record import Article, Sentence, read_jsonl

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "samples" / "seed-article.annotated.jsonl"
SEED_TEXT = SHARED / "samples" / "seed-article.txt"


MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="session", autouse=True)
def repository_models_untouched() -> Iterator[None]:
    """No test leaves a new file or folder directly in the repository's models/ (a training checkpoint with
    the default ``checkpoint_dir`` once did: models/minilm-window.checkpoint, which a real ``--resume``
    could meet). Writes inside an existing model folder are not watched."""
    before = {p.name for p in MODELS.iterdir()}
    yield
    left = sorted({p.name for p in MODELS.iterdir()} - before)
    if left:
        pytest.fail(f"tests left {left} in {MODELS} (or a training run in the background saved there meanwhile)")


@pytest.fixture(scope="session", autouse=True)
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exported ONNX graphs go to a throwaway directory, not the user's ~/.cache."""
    path = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FRAMING_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def seed() -> Article:
    return read_jsonl(SEED)[0]


def _one(text: str, targets: dict[str, int]) -> Article:
    return Article(id=text[:20], text=text, sentences=[Sentence(0, len(text), extra={"targets": targets})])


@pytest.fixture(scope="session")
def tiny_model(seed: Article, tmp_path_factory: pytest.TempPathFactory) -> BaselineModel:
    """A baseline fitted in a second on the seed article plus a handful of weakly labelled sentences,
    saved and loaded back, so tests never depend on the shipped model."""
    from training.config import BaselineConfig
    from training.train_baseline import fit

    extra = [
        _one("This is surely a disaster for everyone involved.", {"other": 0, "editorial": 1}),
        _one("The plan will likely fail, by all appearances.", {"other": 0, "editorial": 1}),
        _one("The council met on Tuesday and approved the budget.", {"other": 0, "editorial": 0, "attributed": 0}),
        _one("The minister said the talks would resume.", {"other": 0, "editorial": 0, "attributed": 1}),
    ]
    model = fit([seed, *extra], BaselineConfig(name="tiny-test-model", min_df=1))
    directory = tmp_path_factory.mktemp("tiny-model")
    model.save(directory)
    return BaselineModel.load(directory)


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model: BaselineModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tiny-model-dir")
    tiny_model.save(directory)
    return directory


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_transformer_dir(seed: Article, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT with a word-level vocabulary built from the seed article,
    saved as a framing model directory: fast, offline, and exercising the real loading code."""
    import re

    from transformers import BertConfig, BertModel, BertTokenizerFast

    from framing.model.torch_model import TransformerModel, WindowClassifier

    directory = tmp_path_factory.mktemp("tiny-transformer")
    words = sorted(set(re.findall(r"[a-z]+|[^\sa-z0-9]", seed.text.lower())) | {"war", "goes", "on"})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=128
    )
    import torch

    torch.manual_seed(0)
    network = WindowClassifier(BertModel(config), config.hidden_size)
    TransformerModel(network, tokenizer, {"name": "tiny-transformer", "max_tokens": 64}).save(directory)
    return directory


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless chromium through Playwright (installed by install.sh), shared by the report tests."""
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: run ./install.sh (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def download_export(page: Any, path: Path) -> Path:
    """Click the review page's Export button and save the download to ``path``."""
    with page.expect_download() as info:
        page.locator("#export").click()
    info.value.save_as(path)
    return path


def open_page(opener: Any, path: Path) -> tuple[Any, list[str]]:
    """Open a report page from a browser or a browser context; the list collects console errors, page
    errors, dialogs (a script run from article text) and any request that leaves the machine."""
    page = opener.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.on("request", lambda r: errors.append("request: " + r.url) if not r.url.startswith(("file:", "blob:")) else None)
    page.goto(path.as_uri())
    return page, errors


@pytest.fixture(scope="session")
def technique_model_dir(tiny_transformer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny transformer with a technique head whose Loaded_Language output fires on many tokens."""
    import torch

    from framing.model.torch_model import TransformerModel, technique_head
    from framing.taxonomy import TECHNIQUES

    directory = tmp_path_factory.mktemp("tiny-techniques")
    model = TransformerModel.load(tiny_transformer_dir)
    torch.manual_seed(1)
    head = technique_head(32, len(TECHNIQUES))
    with torch.no_grad():
        head[2].bias.fill_(-3.0)
        head[2].bias[TECHNIQUES.index("Loaded_Language")] = 0.5  # fires on many tokens
    model.network.techniques = head
    model.info["technique_thresholds"] = 0.5
    model.save(directory)
    return directory
