"""The review report: one self-contained HTML page per scored article and an index for a batch.

Pages carry their CSS and JS inline and load nothing from the network. Every piece of article text goes
through Jinja2's autoescaping, so an article containing ``<script>`` shows it as text.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, TemplateError, select_autoescape

from framing.files import atomic_writer
from framing.model.decode import whole_words
from framing.profile import OutletStats, OutletTotals, article_profile
from framing.record import Article, ArticleProfile, Sentence, TechniqueSpan
from framing.taxonomy import KIND_NAMES, LABEL_NAMES, LABEL_STYLE, LABELS, TECHNIQUE_DEFINITIONS, UNCERTAIN_MARGIN


@dataclass
class Piece:
    """A run of text inside a sentence: plain, or a source or cue span, possibly inside technique spans."""

    text: str
    role: str = ""  # "", "source" or "cue"
    loaded: bool = False
    techniques: list[str] = field(default_factory=list)
    technique_ids: list[int] = field(default_factory=list)  # positions in the record's ``techniques``


@dataclass
class SentenceView:
    index: int
    label: str
    pieces: list[Piece]
    probs: list[tuple[str, float]]
    source: str = ""
    source_text: str = ""
    kind: str = ""
    cue: str = ""
    loaded: bool = False
    before: str = ""  # the text between the previous sentence and this one
    techniques: list[tuple[str, float]] = field(default_factory=list)
    uncertain: bool = False
    """The two most likely labels are within ``UNCERTAIN_MARGIN``: where a reviewer should start."""


@dataclass
class ArticlePage:
    article: Article
    filename: str
    profile: ArticleProfile
    sentences: list[SentenceView] = field(default_factory=list)
    tail: str = ""

    @property
    def title(self) -> str:
        return headline(self.article)

    @property
    def review_key(self) -> str:
        """What a reviewer's stored corrections are kept under: a digest of the text, the sentence spans
        and the model, so corrections never move to another article that shares the id."""
        a = self.article
        spans = ";".join(f"{s.start}-{s.end}" for s in a.sentences)
        return hashlib.sha256("\x00".join([a.text, spans, str(a.meta.get("model", ""))]).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def page_filename(article_id: str) -> str:
    """A file name that is safe on every filesystem and unique per id (the hash tells apart ids that
    differ only in characters the slug drops)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", article_id).strip("._")[:60] or "article"
    return f"{slug}-{hashlib.sha1(article_id.encode('utf-8')).hexdigest()[:8]}.html"


def _pieces(article: Article, sentence: Sentence, techniques: list[TechniqueSpan]) -> list[Piece]:
    """Cut the sentence at every span boundary, so source/cue marks and (overlapping) technique spans nest."""
    marks = [(span.start, span.end, role, bool(span.loaded)) for role, span in (("source", sentence.source), ("cue", sentence.cue)) if span]
    inside = [(n, t) for n, t in enumerate(techniques) if t.start < sentence.end and sentence.start < t.end]
    cuts = {sentence.start, sentence.end}
    for start, end, _, _ in marks:
        cuts.update((start, end))
    for _, t in inside:
        cuts.update((max(t.start, sentence.start), min(t.end, sentence.end)))
    points = sorted(c for c in cuts if sentence.start <= c <= sentence.end)
    pieces = []
    for a, b in zip(points, points[1:]):
        mark = next((m for m in marks if m[0] <= a and b <= m[1]), None)
        covering = [(n, t) for n, t in inside if t.start <= a and b <= t.end]
        names = sorted({t.technique for _, t in covering})
        pieces.append(Piece(article.text[a:b], mark[2] if mark else "", mark[3] if mark else False, names, [n for n, _ in covering]))
    return pieces


def headline(article: Article) -> str:
    """What names an article for a reader: its title, else the first line of its text, else its id."""
    title = article.meta.get("title")
    if title:
        return str(title)
    first = article.text.strip().split("\n", 1)[0].strip()
    return first[:150] + ("…" if len(first) > 150 else "") if first else article.id


def _uncertain(probs: dict[str, float] | None) -> bool:
    if not probs:
        return False
    top = sorted(probs.values(), reverse=True)
    return len(top) > 1 and top[0] - top[1] < UNCERTAIN_MARGIN


_BLANK_LINES = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*)+")


def _between(text: str) -> str:
    """The text between two sentences, shown with at most one empty line (runs of empty lines in an
    article left large gaps in the page)."""
    return _BLANK_LINES.sub("\n\n", text)


def article_page(article: Article) -> ArticlePage:
    """The view of one scored article that the page template renders."""
    if any(s.label is None for s in article.sentences):
        raise ValueError(f"article {article.id!r} is not scored (sentences without a label): run `framing score` first")
    # A profile this version could not read (another version's, or edited by hand) is recomputed.
    page = ArticlePage(article, page_filename(article.id), article.profile or article_profile(article))
    techniques = [TechniqueSpan(*whole_words(article.text, t.start, t.end), t.technique, t.prob) for t in article.techniques or []]
    pos = 0
    for i, s in enumerate(article.sentences):
        src = s.source
        page.sentences.append(
            SentenceView(
                index=i,
                label=s.label or "other",
                pieces=_pieces(article, s, techniques),
                probs=[(label, float((s.probs or {}).get(label, 0.0))) for label in LABELS],
                source=(src.resolved or src.text) if src else "",
                source_text=src.text if src else "",
                kind=(src.kind or "") if src else ("unattributed" if s.cue is not None and s.label == "attributed_claim" else ""),
                cue=s.cue.text if s.cue else "",
                loaded=bool(s.cue and s.cue.loaded),
                before=_between(article.text[pos : s.start]),
                techniques=[(t.technique, t.prob or 0.0) for t in techniques if t.start < s.end and s.start < t.end],
                uncertain=_uncertain(s.probs),
            )
        )
        pos = s.end
    page.tail = _between(article.text[pos:])
    return page


def _unique(filename: str, used: set[str]) -> str:
    stem, n = filename.removesuffix(".html"), 2
    while filename in used:
        filename, n = f"{stem}-{n}.html", n + 1
    used.add(filename)
    return filename


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    """One template environment for every page (building it per page cost 32 ms a page)."""
    env = Environment(
        loader=PackageLoader("framing", "templates"), autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True
    )
    env.globals.update(
        LABELS=LABELS, LABEL_NAMES=LABEL_NAMES, LABEL_STYLE=LABEL_STYLE, KIND_NAMES=KIND_NAMES, TECHNIQUE_DEFINITIONS=TECHNIQUE_DEFINITIONS
    )
    return env


def _review_record(article: Article) -> dict[str, Any]:
    """What a review page exports from: the record without its profile (recomputed after corrections)."""
    record = article.to_dict()
    record.pop("profile", None)
    return record


def render_article(page: ArticlePage, index_href: str | None = "index.html", review: bool = False) -> str:
    """The page of one article; ``review`` adds the controls to correct labels and export the corrections."""
    record = _review_record(page.article) if review else None
    return _environment().get_template("article.html.j2").render(page=page, index_href=index_href, review=review, record=record)


def render(article: Article) -> str:
    """A scored article as an HTML fragment with the report's marks (labels, sources, cues, techniques)
    and its CSS inline, for a notebook or any page: what displaCy gives spaCy users. Loads nothing."""
    return _environment().get_template("fragment.html.j2").render(page=article_page(article))


def render_index(
    rows: list[dict[str, Any]],
    outlets: list[dict[str, Any]],
    failures: list[str],
    totals: dict[str, Any] | None = None,
    review: bool = False,
) -> str:
    """The batch index: one row per article, the batch totals, the outlets; with ``review``, the
    button that exports every reviewed article of the batch as one JSONL."""
    return _environment().get_template("index.html.j2").render(rows=rows, outlets=outlets, failures=failures, totals=totals, review=review)


@dataclass
class ReportResult:
    pages: list[Path]
    index: Path
    failures: list[str]


def write_report(
    articles: Iterable[Article], directory: str | Path, read_failures: list[str] | None = None, review: bool = False
) -> ReportResult:
    """Write one page per scored article and ``index.html`` into ``directory``. An article that cannot
    be rendered is listed in the index and in the result's ``failures``, and the others are still
    written. ``read_failures`` (filled while ``articles`` is read, e.g. bad JSONL lines) are listed too."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    outlets = OutletTotals()
    totals = OutletStats("all")
    failed: list[str] = []
    pages: list[Path] = []
    used: set[str] = set()
    for article in articles:
        try:
            page = article_page(article)
            # Two articles with one id (a/story.txt, b/story.txt) get two pages.
            page.filename = _unique(page.filename, used)
            html = render_article(page, review=review)
        except (ValueError, KeyError, TypeError, TemplateError) as exc:
            failed.append(str(exc) if isinstance(exc, ValueError) else f"article {getattr(article, 'id', '?')!r}: cannot render ({exc!r})")
            continue
        path = directory / page.filename
        with atomic_writer(path) as handle:
            handle.write(html)
        pages.append(path)
        profile = page.profile
        outlet = str(article.meta.get("outlet") or "")
        outlets.add(outlet, profile)
        totals.add(profile)
        rows.append(
            {
                "href": page.filename,
                "title": page.title,
                "id": article.id,
                "outlet": outlet,
                "date": str(article.meta.get("date") or ""),
                "sentences": profile.sentences,
                "editorial": profile.labels["editorial_framing"].share,
                "attributed": profile.labels["attributed_claim"].share,
                "reported": profile.labels["reported_fact"].share,
                "named": profile.attribution.named,
                "anonymous": profile.attribution.anonymous,
                "cues": len(profile.framing_cues),
                "techniques": profile.techniques.spans if profile.techniques else 0,
                "top_source": profile.sources[0].name if profile.sources else "",
                "sources": " · ".join(s.name for s in profile.sources),
                "uncertain": sum(v.uncertain for v in page.sentences),
                # The index exports every reviewed article: it needs each page's record and review key.
                "review_key": page.review_key if review else "",
                "record": _review_record(article) if review else None,
            }
        )
    rows.sort(key=lambda r: -r["editorial"])
    failed = [*(read_failures or []), *failed]
    index = directory / "index.html"
    with atomic_writer(index) as handle:
        handle.write(render_index(rows, outlets.to_list(), failed, totals.to_dict() if rows else None, review))
    return ReportResult(pages, index, failed)
