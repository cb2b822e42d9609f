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
