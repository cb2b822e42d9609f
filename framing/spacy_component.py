"""framing as a spaCy pipeline component (``pip install 'framing[spacy]'``).

    import spacy
    nlp = spacy.blank("en")            # any English pipeline; no spaCy model is needed
    nlp.add_pipe("framing")            # or nlp.add_pipe("framing", config={"model": "models/x"})
    doc = nlp(text)
    for span in doc.spans["framing"]:
        print(span.label_, span.text)

``doc.spans["framing"]`` holds one span per sentence, labelled with its label (``attributed_claim``,
``editorial_framing``, ``reported_fact``, ``other``), and the source, cue and technique spans, labelled
``source``, ``cue`` and the technique's name. ``doc._.framing`` is the scored article record (its
probabilities, resolved sources and profile). Sentences are framing's own (``framing.segment``), not the
pipeline's: a span covers whole tokens, widened when a boundary falls inside one.
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from framing.model import SentenceModel, load_model
from framing.record import Article
from framing.score import score_text

if not Doc.has_extension("framing"):
    Doc.set_extension("framing", default=None)


class FramingComponent:
    """Scores each doc's text with a framing model and sets ``doc.spans["framing"]``."""

    def __init__(self, model: SentenceModel) -> None:
        self.model = model

    def __call__(self, doc: Doc) -> Doc:
        article = score_text(doc.text, self.model, article_id="doc")
        doc.spans["framing"] = spans(doc, article)
        doc._.framing = article
        return doc


def spans(doc: Doc, article: Article) -> list[Span]:
    """The sentence, source, cue and technique spans of a scored article as spans of ``doc``."""
    found: list[Span | None] = []
    for s in article.sentences:
        found.append(doc.char_span(s.start, s.end, label=s.label or "other", alignment_mode="expand"))
        for role, part in (("source", s.source), ("cue", s.cue)):
            if part is not None:
                found.append(doc.char_span(part.start, part.end, label=role, alignment_mode="expand"))
    for t in article.techniques or []:
        found.append(doc.char_span(t.start, t.end, label=t.technique, alignment_mode="expand"))
    return [span for span in found if span is not None]


@Language.factory("framing", default_config={"model": None, "backend": "onnx-int8"})
def make_framing(nlp: Language, name: str, model: str | None, backend: str) -> FramingComponent:
    """The ``framing`` factory: ``model`` is a model directory (default: the shipped default model)."""
    loaded: Any = load_model(model, backend=backend)
    return FramingComponent(loaded)
