from __future__ import annotations

import numpy as np
import pytest

from framing.model.decode import decode_techniques
from framing.taxonomy import TECHNIQUES


def test_decode_techniques_runs_per_technique() -> None:
    offsets = [(-1, -1), (0, 4), (5, 9), (10, 14), (15, 19)]
    probs = np.zeros((5, len(TECHNIQUES)))
    doubt, loaded = TECHNIQUES.index("Doubt"), TECHNIQUES.index("Loaded_Language")
    probs[1:3, doubt] = 0.9
    probs[2:5, loaded] = 0.7
    probs[0, :] = 0.99  # special token: ignored
    spans = decode_techniques(offsets, probs, "aaaa bbbb cccc dddd", threshold=0.5)
    assert [(s.technique, s.start, s.end) for s in spans] == [("Doubt", 0, 9), ("Loaded_Language", 5, 19)]
    assert spans[0].prob == pytest.approx(0.9)


def test_technique_spans_are_whole_words_of_three_characters_or_more() -> None:
    """20 % of the spans on 40 PTC dev articles started or ended inside a word ("mp" of "Pompeo")."""
    text = "Mike Pompeo said it was tantamount to war."
    offsets = [(0, 4), (5, 7), (7, 9), (9, 11), (12, 16), (17, 19), (20, 23), (24, 27), (27, 30), (30, 34), (35, 37), (38, 41), (41, 42)]
    probs = np.zeros((len(offsets), len(TECHNIQUES)))
    loaded, slogans = TECHNIQUES.index("Loaded_Language"), TECHNIQUES.index("Slogans")
    probs[2, loaded] = 0.9  # "mp" inside "Pompeo"
    probs[8:10, loaded] = 0.9  # "tamount" inside "tantamount"
    probs[10, slogans] = 0.9  # "to": under three characters
    spans = decode_techniques(offsets, probs, text, threshold=0.5)
    assert [(text[s.start : s.end], s.technique) for s in spans] == [("Pompeo", "Loaded_Language"), ("tantamount", "Loaded_Language")]


def test_an_open_source_span_takes_the_next_word_the_tagger_still_leans_towards() -> None:
    """The tagger trailed off after the first word of "46 percent" (O its most likely tag for
    "percent"); a cue is not dragged across a word the tagger gives it little chance of."""
    from framing.model.decode import decode_tags
    from framing.model.windows import TAGS

    text = "46 percent said no"
    offsets = [(0, 2), (3, 10), (11, 15), (16, 18)]

    def row(**p: float) -> list[float]:
        return [p.get(t.replace("-", "_"), 0.0) for t in TAGS]

    probs = np.array([
        row(B_source=0.9, O=0.1),
        row(O=0.7, I_source=0.3),   # leans towards the source: continues it
        row(B_cue=0.9, O=0.1),
        row(O=0.9, I_cue=0.1),      # below the cue's threshold: the cue stays "said"
    ])
    spans = [(g.role, text[g.start : g.end]) for g in decode_tags(offsets, probs, TAGS, text)]
    assert spans == [("source", "46 percent"), ("cue", "said")]
