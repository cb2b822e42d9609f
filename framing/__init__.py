"""framing: label every sentence of a news article as attributed claim, editorial framing or reported fact."""

from framing.model import load_model
from framing.record import LABELS, Article, Sentence, Span, read_jsonl
from framing.score import score_articles, score_text

__all__ = ["LABELS", "Article", "Sentence", "Span", "load_model", "read_jsonl", "score_articles", "score_text"]
__version__ = "0.1.0"
