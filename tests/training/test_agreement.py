from __future__ import annotations

from pathlib import Path

from framing.record import Article, Sentence
from training.agreement import agreement, disagreements, disagreements_markdown


def _article(labels: list[str], notes: list[str] | None = None) -> Article:
    text = " ".join(f"Sentence {i}." for i in range(len(labels)))
    sentences, pos = [], 0
    for i, label in enumerate(labels):
        piece = f"Sentence {i}."
        sentences.append(Sentence(pos, pos + len(piece), label))
        pos += len(piece) + 1
    return Article("a1", text, {"notes": notes or []}, sentences)


def test_kappa_counts_agreement_beyond_chance() -> None:
    first = _article(["attributed_claim", "reported_fact", "editorial_framing", "reported_fact"])
    same = agreement([first], [first])
    assert same["observed_agreement"] == 1.0 and abs(same["kappa"] - 1.0) < 1e-9
    other = _article(["attributed_claim", "reported_fact", "reported_fact", "reported_fact"])
    half = agreement([first], [other])
    assert half["observed_agreement"] == 0.75 and 0.0 < half["kappa"] < 0.75


def test_disagreements_are_listed_with_both_notes_as_a_markdown_table(tmp_path: Path) -> None:
    first = _article(["attributed_claim", "reported_fact"], notes=["1: a fact | with a pipe"])
    second = _article(["attributed_claim", "editorial_framing"], notes=["1: writer's verdict"])
    (tmp_path / "round7.jsonl").write_text(first.to_json() + "\n", encoding="utf-8")
    (tmp_path / "round7.blind.jsonl").write_text(second.to_json() + "\n", encoding="utf-8")
    rows = disagreements(tmp_path)
    assert [(r["sentence"], r["first"], r["second"]) for r in rows] == [(1, "reported_fact", "editorial_framing")]
    table = disagreements_markdown(rows)
    assert table.startswith("# Disagreements of the double annotations (rounds 7)")
    row = table.strip().splitlines()[-1]
    assert row.count(" | ") == 7  # the note's own pipe is escaped, so the row keeps its 8 cells
    assert "a fact \\| with a pipe" in row and "writer's verdict" in row
