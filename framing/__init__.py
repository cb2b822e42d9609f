"""framing: label every sentence of a news article as attributed claim, editorial framing or reported fact."""

from framing.model import load_model
from framing.record import LABELS, Article, Sentence, Span, read_jsonl
from framing.report import render
from framing.score import score_articles, score_text

# A scored article shows itself in Jupyter with the report's marks (``framing.render``).
setattr(Article, "_repr_html_", render)  # noqa: B010 - the record module stays free of the report's templates

__all__ = ["LABELS", "Article", "Sentence", "Span", "load_model", "read_jsonl", "render", "score_articles", "score_text"]
__version__ = "0.1.0"
