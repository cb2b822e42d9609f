from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import framing
from framing.cli import app
from framing.record import Article, TechniqueSpan, read_jsonl
from framing.taxonomy import TECHNIQUES
from tests.conftest import SEED_TEXT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

runner = CliRunner()


@pytest.fixture()
def models_dir(tiny_transformer_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    shutil.copytree(tiny_transformer_dir, root / "tiny")
    (root / "DEFAULT").write_text("tiny\n", encoding="utf-8")
    monkeypatch.setenv("FRAMING_MODELS_DIR", str(root))
    return root


def test_import_retrain_compare_switch_score(models_dir: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.jsonl"
    assert runner.invoke(app, ["import", str(FIXTURES / "labelstudio-export.json"), "--from", "labelstudio", "-o", str(new)]).exit_code == 0
    more = tmp_path / "more.jsonl"
    result = runner.invoke(app, ["import", str(FIXTURES / "doccano.jsonl"), "--from", "doccano", "-o", str(more)])
    assert result.exit_code == 0 and "1 skipped" in result.output

    config = tmp_path / "retrain.yaml"
    config.write_text(
        "kind: transformer-window\nname: retrained\noutput_dir: " + str(models_dir / "retrained") + "\n"
        "init_model: default\nsources: [seed]\nsource_weights: {new: 8.0}\nmax_tokens: 64\nepochs: 2\n"
        "lr: 1.0e-3\nhead_lr: 1.0e-2\nwarmup: 0.0\nthreads: 1\ncompact: true\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["train", str(config), "--annotations", str(new), "--annotations", str(more)])
    assert result.exit_code == 0, result.output
    assert "continuing from" in result.output and "held-out sentences changed label" in result.output
    out = models_dir / "retrained"
    info = json.loads((out / "framing-model.json").read_text(encoding="utf-8"))
    # ls-0 and ls-2 fall in the test split by their id's hash: held out, measured for both models.
    assert info["metrics"]["new-test"]["articles"] == 2
    assert "new-test" in info["baseline_metrics"] and info["continued_from"].endswith("tiny")
    assert (out / "changed.jsonl").exists()
    # A second retrain never overwrites the first.
    assert runner.invoke(app, ["train", str(config), "--annotations", str(new)]).exit_code == 0
    assert (models_dir / "retrained-v2" / "framing-model.json").exists()

    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "retrained-v2" in listed.output and "tiny" in listed.output
    mine = info["metrics"]["new-test"]["labels"]["macro_f1"]
    theirs = info["baseline_metrics"]["new-test"]["labels"]["macro_f1"]
    used = runner.invoke(app, ["models", "use", "retrained"])
    if mine < theirs:
        assert used.exit_code == 1 and "lower than the current default" in used.output
        used = runner.invoke(app, ["models", "use", "retrained", "--force"])
    assert used.exit_code == 0, used.output
    assert (models_dir / "DEFAULT").read_text(encoding="utf-8").strip() == "retrained"
    # A model that cannot be compared (no shared held-out data) is refused without --force.
    refused = runner.invoke(app, ["models", "use", "tiny"])
    assert refused.exit_code == 1 and "--force" in refused.output

    scored = tmp_path / "scored.jsonl"
    result = runner.invoke(app, ["score", str(SEED_TEXT), "-o", str(scored)])
    assert result.exit_code == 0, result.output
    assert read_jsonl(scored)[0].meta["model"] == "retrained"


def test_reviewed_records_train_only_on_reviewed_sentences(seed, tmp_path: Path) -> None:  # noqa: ANN001
    from framing.model.heads import sentence_targets
    from training.train_transformer import new_annotations

    record = seed.to_dict()
    record["id"] = "rv-1"  # falls in the train split by its id's hash
    record["meta"] = {"reviewed_by": "Ana", "reviewed_at": "2026-11-25T10:00:00Z", "model": "m"}
    record["sentences"][3]["reviewed"] = True
    record["sentences"][3]["model_label"] = "reported_fact"
    path = tmp_path / "corrections.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    train, test = new_annotations([str(path)])
    assert not test and len(train) == 1
    targets = [sentence_targets(s) for s in train[0].sentences]
    assert [i for i, t in enumerate(targets) if t] == [3]
    assert train[0].meta["source_set"] == "new"


def test_joint_training_learns_the_technique_head_with_the_encoder(
    tiny_transformer_dir: Path, seed: Article, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``techniques: true`` trains the head on PTC-style articles, keeps held-out ones out, picks the
    threshold on the tuning slice and measures dev: all on stand-in PTC articles made from the seed."""
    import training.train_techniques as tt
    from training.config import TransformerConfig
    from training.splits import split_of
    from training.train_transformer import run, technique_targets, window_dataset

    text = seed.text
    start = text.index("Dashkin")
    gold = [TechniqueSpan(start, start + len("Dashkin"), "Name_Calling,Labeling"), TechniqueSpan(0, 40, "Loaded_Language")]
    ids = [f"ptc-t{n}" for n in range(12)]
    assert any(split_of(i) == "dev" for i in ids) and any(split_of(i) != "dev" for i in ids)
    monkeypatch.setattr(tt, "load_ptc", lambda split: [(Article(id=i, text=text), copy.deepcopy(gold)) for i in ids])

    # Per token, the techniques covering it; a window of an article without technique annotation gives None.
    from framing.model.torch_model import TransformerModel
    from framing.score import prepare

    model = TransformerModel.load(tiny_transformer_dir)
    marked = prepare(Article(id="m", text=text))
    marked.techniques = list(gold)
    windows = model.windows([marked])
    covered = [t for w in windows for (s, e), t in zip(w.offsets, technique_targets(w, [marked]) or []) if s >= start and e <= start + 7]
    window = windows[0]
    assert covered and all(TECHNIQUES.index("Name_Calling,Labeling") in t for t in covered)
    assert technique_targets(window, [prepare(Article(id="u", text=text))]) is None
    assert window_dataset(model, [marked], {})[0]["has_techniques"] is True

    out = tmp_path / "joint"
    config = TransformerConfig(
        base_model=str(tiny_transformer_dir),
        sources=["seed"],
        epochs=2,
        max_tokens=64,
        output_dir=str(out),
        threads=1,
        techniques=True,
        technique_thresholds=[0.3, 0.5],
    )
    logs: list[str] = []
    run(config, log=logs.append)
    assert (out / "techniques.safetensors").exists()
    info = json.loads((out / "framing-model.json").read_text(encoding="utf-8"))
    assert info["technique_thresholds"] in (0.3, 0.5)
    metrics = info["technique_metrics"]
    assert metrics["trained"] == "jointly with the encoder" and 0 < metrics["train_articles"] < len(ids) and metrics["tune_articles"] > 0
    assert 0.0 <= metrics["ptc-dev"]["span"]["f1"] <= 1.0
    scored = next(framing.score_articles([Article(id="x", text=text)], framing.load_model(out)))
    assert isinstance(scored.techniques, list)


def test_a_killed_training_run_resumes_to_the_same_model(tiny_transformer_dir: Path, tmp_path: Path) -> None:
    """``framing train CONFIG --resume`` after ``kill -9`` continues from the last checkpoint and ends
    with the weights an uninterrupted run gives."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from safetensors.numpy import load_file

    def config(name: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            f"kind: transformer-window\nname: {name}\noutput_dir: {tmp_path / name}\nbase_model: {tiny_transformer_dir}\n"
            "sources: [seed]\nmax_tokens: 64\nepochs: 25\nthreads: 1\ncheckpoint_minutes: 0\n",
            encoding="utf-8",
        )
        return path

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    whole = subprocess.run([sys.executable, "-m", "framing", "train", str(config("whole"))], cwd=repo, capture_output=True, timeout=600, env=env)
    assert whole.returncode == 0, whole.stderr.decode()[-2000:]
    state = tmp_path / "cut.checkpoint" / "progress.json"
    run = subprocess.Popen([sys.executable, "-m", "framing", "train", str(config("cut"))], cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and run.poll() is None:
        if state.exists() and json.loads(state.read_text(encoding="utf-8") or "{}").get("progress", {}).get("step", 0) >= 5:
            break
        time.sleep(0.01)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    killed_at = json.loads(state.read_text(encoding="utf-8"))["progress"]["step"]
    assert not (tmp_path / "cut" / "framing-model.json").exists()
    resumed = subprocess.run([sys.executable, "-m", "framing", "train", str(config("cut")), "--resume"], cwd=repo, capture_output=True, timeout=600, env=env)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    assert f"resuming at step {killed_at}/" in resumed.stderr.decode()
    assert not state.parent.exists()  # the model is saved: the checkpoint is gone
    for name in ("head.safetensors", "model.safetensors"):
        a, b = load_file(str(tmp_path / "whole" / name)), load_file(str(tmp_path / "cut" / name))
        assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a), name
    # safetensors wrote the weights 0600: a model trained by one user could not be read by another.
    umask = os.umask(0)
    os.umask(umask)
    assert {oct(p.stat().st_mode & 0o777) for p in (tmp_path / "whole").iterdir()} == {oct(0o666 & ~umask)}


def test_training_never_deletes_a_directory_that_is_not_a_model(tiny_transformer_dir: Path, tmp_path: Path) -> None:
    """``--output-dir models`` (no framing-model.json in it) was deleted before training began."""
    from training.config import TransformerConfig
    from training.train_transformer import run

    precious = tmp_path / "models"
    precious.mkdir()
    (precious / "DEFAULT").write_text("x\n", encoding="utf-8")
    config = TransformerConfig(base_model=str(tiny_transformer_dir), sources=["seed"], max_tokens=64, output_dir=str(precious), threads=1)
    with pytest.raises(ValueError, match="is not a model directory"):
        run(config, log=lambda m: None)
    assert (precious / "DEFAULT").read_text(encoding="utf-8") == "x\n"


def test_carry_tags_moves_a_span_start_inside_a_word_to_inside() -> None:
    import numpy as np

    from framing.model.windows import TAGS
    from training.distill import carry_tags

    # Teacher: "Mayor" is one piece (B-source), "Lopez" one (I-source), "said" (B-cue).
    teacher = [(0, 5), (6, 11), (12, 16)]
    probs = np.zeros((3, len(TAGS)), dtype=np.float32)
    probs[0, TAGS.index("B-source")] = probs[1, TAGS.index("I-source")] = probs[2, TAGS.index("B-cue")] = 1.0
    # Student cuts "Mayor" into "may" + "##or" and has a special token first.
    student = [(-1, -1), (0, 3), (3, 5), (6, 11), (12, 16)]
    carried = carry_tags(student, teacher, probs)
    assert [TAGS[i] for i in carried.argmax(1)] == ["O", "B-source", "I-source", "I-source", "B-cue"]
    assert np.allclose(carried.sum(1), 1.0)


def test_soft_targets_reach_a_student_with_another_tokenizer_by_sentence_and_offset(tiny_transformer_dir: Path, seed: Article) -> None:
    """A teacher whose tokenizer and windows differ from the student's (MPNet teaching MiniLM): each
    student sentence gets its own sentence's teacher probabilities, each token those of the teacher piece
    under its first character."""
    import re

    import numpy as np

    from framing.model.torch_model import TransformerModel
    from framing.model.windows import TAGS, WindowSpec
    from training.distill import teacher_targets
    from training.train_transformer import window_dataset

    article = copy.deepcopy(seed)
    article.meta["source_set"] = "annotations"
    other = copy.deepcopy(seed)
    other.id, other.meta["source_set"] = "weak", "babe"
    sentence_of = {}
    for n, s in enumerate(article.sentences):
        for pos in range(s.start, s.end):
            sentence_of[pos] = n
    cue_starts = {m.start() for m in re.finditer(r"\bsaid\b", article.text)}

    class WordTeacher:
        """Whole words as tokens (id = 1000 + the word's offset), 12-token windows."""

        spec = WindowSpec(cls_id=1, sep_id=2, pad_id=0, max_tokens=12)

        def encode(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
            out = []
            for text in texts:
                words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
                out.append(([1000 + a for a, _ in words], words))
            return out

        def run(self, batch: dict, techniques: bool):  # noqa: ANN201
            ids, sids = batch["input_ids"], batch["sentence_ids"]
            probs = np.zeros((*ids.shape[:1], batch["n_sentences"], 3), dtype=np.float32)
            tags = np.zeros((*ids.shape, len(TAGS)), dtype=np.float32)
            tags[..., TAGS.index("O")] = 1.0
            for w in range(ids.shape[0]):
                # Sentence offsets are relative to the sentence in encode; recover the article offset from the
                # slot's first word, which tokenize shifted by the sentence start (ids were set before the shift).
                for k in range(ids.shape[1]):
                    if sids[w, k] >= 0:
                        probs[w, sids[w, k]] = [0.1 * (sids[w, k] + 1), 0.5, 0.9]
            return probs, tags, None

    student = TransformerModel.load(tiny_transformer_dir)
    dataset = window_dataset(student, [article, other], {})
    taught = teacher_targets(WordTeacher(), dataset, [article, other], sources=["annotations"], log=lambda _: None)
    rows = list(taught)
    mine = [r for r in rows if r["members"][0][0] == 0]
    theirs = [r for r in rows if r["members"][0][0] == 1]
    assert mine and theirs
    assert all(r["soft_targets"] == [] and r["soft_tags"] == [] for r in theirs)  # babe was not asked for
    for r in mine:
        assert len(r["soft_targets"]) == len(r["members"]) and len(r["soft_tags"]) == len(r["input_ids"])
        assert all(abs(t[1] - 0.5) < 1e-6 and abs(t[2] - 0.9) < 1e-6 for t in r["soft_targets"])
        # A distribution where the teacher read the token; all zeros (no target) past where its 12-token
        # windows cut a sentence short.
        assert all(abs(sum(t) - 1.0) < 1e-5 or sum(t) == 0.0 for t in r["soft_tags"])
        # The teacher reads every sentence's first word, whatever it cuts.
        for k, sid in enumerate(r["sentence_ids"]):
            if sid >= 0 and r["offsets"][k][0] == article.sentences[r["members"][sid][1]].start:
                assert abs(sum(r["soft_tags"][k]) - 1.0) < 1e-5
    assert any(sum(t) == 0.0 for r in mine for t in r["soft_tags"])  # this teacher cuts long sentences
    del sentence_of, cue_starts


def test_a_setting_added_later_at_its_default_does_not_orphan_a_checkpoint() -> None:
    """Adding ``technique_teacher`` (default None) to the config changed every run's fingerprint, so a
    teacher killed mid-run could not be resumed by the next version of the code."""
    from training.checkpoint import Progress, fingerprint, same_run
    from training.config import TransformerConfig

    defaults = TransformerConfig().to_dict()
    config = TransformerConfig(sources=["seed"], epochs=3.0).to_dict()
    older = {k: v for k, v in config.items() if k != "technique_teacher"}  # what the older code saved
    saved = Progress(step=5, config=older, data=[10, 4])
    assert same_run(saved, config, 10, 4, defaults)
    assert not same_run(saved, {**config, "technique_teacher": "models/t"}, 10, 4, defaults)
    assert not same_run(saved, {**config, "epochs": 2.0}, 10, 4, defaults)
    assert not same_run(saved, config, 11, 4, defaults)
    assert same_run(saved, {**config, "max_minutes": 500.0, "threads": 1}, 10, 4, defaults)  # may change on resume
    # A default that changed in the code is a change: the checkpoint kept the learning rate it ran with.
    assert not same_run(saved, {**config, "lr": 1.0e-4}, 10, 4, {**defaults, "lr": 1.0e-4})
    # A checkpoint from before settings were saved is matched by its fingerprint, as it was.
    legacy = Progress(step=5, fingerprint=fingerprint(config, 10, 4))
    assert same_run(legacy, config, 10, 4, defaults) and not same_run(legacy, {**config, "epochs": 2.0}, 10, 4, defaults)
