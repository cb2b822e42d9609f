from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from framing.record import Article, TechniqueSpan
from framing.taxonomy import TECHNIQUES


def test_carry_techniques_follows_the_teacher_piece_under_each_student_token() -> None:
    from training.distill import carry_techniques

    teacher = [(0, 5), (6, 11), (12, 16)]  # "Mayor Lopez said"
    probs = np.zeros((3, len(TECHNIQUES)), dtype=np.float32)
    probs[1, TECHNIQUES.index("Name_Calling,Labeling")] = 0.9
    student = [(-1, -1), (0, 3), (3, 5), (6, 9), (9, 11), (12, 16), (17, 20)]  # a piece past the teacher's text
    carried = carry_techniques(student, teacher, probs)
    names = carried[:, TECHNIQUES.index("Name_Calling,Labeling")]
    # -1: no target (a special token; a piece the teacher never read, past where it cut the sentence).
    assert names.tolist() == pytest.approx([-1.0, 0.0, 0.0, 0.9, 0.9, 0.0, -1.0])
    assert carried.shape == (len(student), len(TECHNIQUES))


def test_a_token_the_teacher_never_read_is_not_taught_none() -> None:
    """Where the teacher has no piece (it cut a long sentence at its max_tokens), the student got a hard
    "outside every span" target: carried tags are now all zero there (no KL pull) and technique targets
    -1, which the loss skips."""
    import torch

    from framing.model.windows import TAGS
    from training.distill import carry_tags, technique_distill_loss

    teacher = [(0, 5)]
    tags = np.zeros((1, len(TAGS)), dtype=np.float32)
    tags[0, TAGS.index("B-source")] = 1.0
    carried = carry_tags([(-1, -1), (0, 5), (6, 11)], teacher, tags)
    assert carried[0, TAGS.index("O")] == 1.0 and carried[1, TAGS.index("B-source")] == 1.0
    assert not carried[2].any()

    logits = torch.tensor([[[2.0] * len(TECHNIQUES), [-3.0] * len(TECHNIQUES)]])
    sentence_ids = torch.tensor([[0, 0]])
    found_only = technique_distill_loss(logits[:, :1], {"soft_techniques": [[[0.5] * len(TECHNIQUES)]]}, sentence_ids[:, :1])
    with_unread = technique_distill_loss(logits, {"soft_techniques": [[[0.5] * len(TECHNIQUES), [-1.0] * len(TECHNIQUES)]]}, sentence_ids)
    assert found_only is not None and with_unread is not None
    assert with_unread.item() == pytest.approx(found_only.item())


def test_teacher_outputs_are_cached_per_article_and_read_back_without_running_the_teacher(technique_model_dir: Path, seed: Article, tmp_path: Path) -> None:
    from framing.model.torch_model import TransformerModel
    from training.distill import teacher_outputs

    model = TransformerModel.load(technique_model_dir)
    calls = []

    class Counting:
        spec = model.spec
        encode = staticmethod(model.encode)

        def run(self, batch: dict[str, Any], techniques: bool) -> Any:
            calls.append(len(batch["input_ids"]))
            return model.run(batch, techniques)

    other = copy.deepcopy(seed)
    other.id = "other"
    other.text = other.text.replace("said", "told")  # a different text: its own cache entry
    first = teacher_outputs(Counting(), [seed], True, tmp_path, log=lambda _: None)
    assert calls and first[0].techniques is not None and first[0].techniques.shape == (len(first[0].offsets), len(TECHNIQUES))
    assert not np.isnan(first[0].heads).any() and first[0].heads.shape == (len(seed.sentences), 3)
    assert sum(calls) == len(model.windows([seed]))
    calls.clear()
    again = teacher_outputs(Counting(), [seed, other], True, tmp_path, log=lambda _: None)
    assert sum(calls) == len(model.windows([other]))  # only the new article ran...
    calls.clear()
    third = teacher_outputs(Counting(), [other, seed], True, tmp_path, log=lambda _: None)
    assert calls == []  # ...and now both come from the cache
    assert third[1].offsets == first[0].offsets
    # Read back or computed, the same numbers (a cold and a warm cache train the same student).
    for cached, computed in ((third[1], first[0]), (third[0], again[1])):
        assert np.array_equal(cached.heads, computed.heads) and np.array_equal(cached.tags, computed.tags)
        assert np.array_equal(cached.techniques, computed.techniques)


def test_a_retrained_teacher_gets_a_new_cache_folder(tiny_transformer_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from training.distill import teacher_cache

    monkeypatch.setenv("FRAMING_CACHE_DIR", str(tmp_path / "cache"))
    teacher = tmp_path / "teacher"
    shutil.copytree(tiny_transformer_dir, teacher)
    before = teacher_cache(teacher, techniques=False)
    assert before.parent == tmp_path / "cache" / "teacher-outputs"
    assert teacher_cache(teacher, techniques=True) != before
    weights = next(teacher.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x01")
    assert teacher_cache(teacher, techniques=False) != before


def test_student_technique_head_moves_towards_the_technique_teacher(technique_model_dir: Path, tiny_transformer_dir: Path, seed: Article, tmp_path: Path) -> None:
    """Technique distillation alone (no gold spans anywhere) pulls the student's technique probabilities
    towards the teacher's."""
    from framing.model.torch_model import TransformerModel, technique_head
    from training.config import TransformerConfig
    from training.distill import technique_teacher_targets
    from training.train_transformer import train_model, window_dataset

    teacher = TransformerModel.load(technique_model_dir)
    student = TransformerModel.load(tiny_transformer_dir)
    student.network.techniques = technique_head(32, len(TECHNIQUES))
    article = copy.deepcopy(seed)

    def technique_probs(model: TransformerModel) -> np.ndarray:
        from framing.model.windows import pad

        windows = model.windows([copy.deepcopy(article)])
        return np.concatenate([model.run(pad([w], model.spec.pad_id), True)[2][0][[k for k, s in enumerate(w.sentence_ids) if s >= 0]] for w in windows])

    target = technique_probs(teacher)
    before = np.abs(technique_probs(student) - target).mean()
    dataset = window_dataset(student, [copy.deepcopy(article)], {})
    dataset = technique_teacher_targets(teacher, dataset, [copy.deepcopy(article)], log=lambda _: None)
    assert all(len(r["soft_techniques"]) == len(r["input_ids"]) for r in dataset)
    dataset = dataset.map(lambda r: {"targets": [[-1] * len(t) for t in r["targets"]], "tags": [-100] * len(r["tags"])})
    config = TransformerConfig(batch_windows=8, epochs=30, lr=1e-3, head_lr=1e-2, max_tokens=64, warmup=0.0, checkpoint_dir=str(tmp_path / "checkpoint"))
    train_model(student, dataset, config, log=lambda _: None)
    after = np.abs(technique_probs(student) - target).mean()
    assert after < 0.5 * before


def test_a_technique_teacher_needs_a_student_technique_head() -> None:
    from training.config import TransformerConfig

    with pytest.raises(ValueError, match="techniques: true"):
        TransformerConfig(technique_teacher="models/x")
    with pytest.raises(ValueError, match="nothing to train on"):
        TransformerConfig(sources=[])
    TransformerConfig(sources=[], techniques=True)  # the technique teacher: techniques only
    with pytest.raises(ValueError, match="technique_distill_sources"):
        TransformerConfig(techniques=True, technique_teacher="models/x", technique_distill_sources=["nowhere"])


def test_semeval2023_spans_join_ptc_spans_under_ptc_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from training import train_techniques

    labels = tmp_path / "semeval2023-labels"
    labels.mkdir()
    (labels / "techniques-2023-spans.tsv").write_text(
        "7\tLoaded_Language\t0\t4\n"  # the same span PTC has: not doubled
        "7\tConversation_Killer\t10\t20\n"  # PTC's Thought-terminating_Cliches
        "7\tGuilt_by_Association\t30\t40\n"  # PTC's Reductio_ad_hitlerum
        "7\tAppeal_to_Hypocrisy\t50\t60\n"  # no PTC counterpart: left out
        "8\tDoubt\t0\t3\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(train_techniques, "PTC", tmp_path)
    assert set(train_techniques.SEMEVAL2023_NAMES.values()) == set(TECHNIQUES)
    article = Article(id="ptc-7", text="x" * 80)
    joined = train_techniques.with_semeval2023([(article, [TechniqueSpan(0, 4, "Loaded_Language")])])
    spans = sorted((g.start, g.end, g.technique) for g in joined[0][1])
    assert spans == [(0, 4, "Loaded_Language"), (10, 20, "Thought-terminating_Cliches"), (30, 40, "Bandwagon,Reductio_ad_hitlerum")]


def test_unlabelled_articles_are_kept_for_a_teacher_and_dropped_without_one(tiny_transformer_dir: Path, technique_model_dir: Path, seed: Article) -> None:
    """An unlabelled BASIL article teaches the student only through a teacher's soft targets: its windows
    are kept for the teacher, and dropped when no teacher was asked about them."""
    from framing.model.torch_model import TransformerModel
    from framing.record import Sentence
    from training.config import TransformerConfig
    from training.distill import teacher_targets, technique_teacher_targets
    from training.train_transformer import taught, window_dataset

    with pytest.raises(ValueError, match="basil is unlabelled"):
        TransformerConfig(sources=["annotations", "basil"], teacher="models/x", distill_sources=["annotations"])
    TransformerConfig(sources=["annotations", "basil"], teacher="models/x", distill_sources=["annotations", "basil"])

    model = TransformerModel.load(tiny_transformer_dir)
    unlabelled = Article(id="basil-x_1", text=seed.text, sentences=[Sentence(s.start, s.end) for s in seed.sentences], meta={"source_set": "basil"})
    labelled = copy.deepcopy(seed)
    labelled.meta["source_set"] = "annotations"
    articles = [labelled, unlabelled]
    dataset = window_dataset(model, articles, {})
    per_article = [sum(1 for r in dataset if r["members"][0][0] == a) for a in range(2)]
    assert per_article[1] > 0 and per_article[1] == per_article[0]
    babe = Article(id="u", text=seed.text, sentences=unlabelled.sentences, meta={"source_set": "babe"})
    assert window_dataset(model, [babe], {}).num_rows == 0  # a labelled source's window with no label teaches nothing

    def kept(sources: list[str]) -> set[int]:
        taught_by = teacher_targets(model, window_dataset(model, articles, {}), articles, sources=sources, log=lambda _: None)
        return {r["members"][0][0] for r in taught_by.filter(lambda row: taught(row, articles))}

    assert kept(["annotations"]) == {0}
    assert kept(["annotations", "basil"]) == {0, 1}
    # The technique teacher leaves out the texts the technique head is measured on.
    technique_teacher = TransformerModel.load(technique_model_dir)
    by_techniques = technique_teacher_targets(technique_teacher, window_dataset(model, articles, {}), articles, log=lambda _: None, exclude=frozenset({"basil-x_1"}))
    assert {r["members"][0][0] for r in by_techniques if r["soft_techniques"]} == {0}


def test_a_teacher_killed_half_way_keeps_the_articles_it_finished(tiny_transformer_dir: Path, seed: Article, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache was written only once every article was scored: a student run killed 16 minutes into
    MPNet's pass over 8,565 windows kept nothing."""
    from framing.model.torch_model import TransformerModel
    from framing.record import Sentence
    from training import distill

    monkeypatch.setattr(distill, "CHUNK", 1)
    model = TransformerModel.load(tiny_transformer_dir)
    short = Article(id="short", text="The war goes on.", sentences=[Sentence(0, 16)])
    calls = []

    class Dying:
        spec = model.spec
        encode = staticmethod(model.encode)

        def run(self, batch: dict[str, Any], techniques: bool) -> Any:
            calls.append(batch["input_ids"].shape[0])
            if len(calls) == 2:
                raise KeyboardInterrupt  # killed after the first window: the short article's only one
            return model.run(batch, techniques)

    with pytest.raises(KeyboardInterrupt):
        distill.teacher_outputs(Dying(), [copy.deepcopy(seed), short], cache=tmp_path, log=lambda _: None)
    calls.clear()
    distill.teacher_outputs(Counting(model, calls), [copy.deepcopy(seed), short], cache=tmp_path, log=lambda _: None)
    assert len(calls) == len(model.windows([copy.deepcopy(seed)]))  # the short article came from the cache


class Counting:
    def __init__(self, model: Any, calls: list[int]) -> None:
        self.model, self.calls, self.spec, self.encode = model, calls, model.spec, model.encode

    def run(self, batch: dict[str, Any], techniques: bool) -> Any:
        self.calls.append(batch["input_ids"].shape[0])
        return self.model.run(batch, techniques)
