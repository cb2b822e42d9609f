"""How an article, and an outlet over many articles, sources and frames the news.

An article's profile goes into its record under ``profile``: the share of each label, the sources with
their claim counts and kinds, how many claims have a named source / an anonymous one / none, the framing
cues found, and a short summary that says why. ``outlet_profiles`` adds the profiles of many articles up
per ``meta.outlet``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from framing.attribution import HEDGE, source_kind
from framing.record import (
    LABELS,
    Article,
    ArticleProfile,
    Attribution,
    FramingCue,
    LabelCount,
    SourceCount,
    Span,
    TechniqueCounts,
    TechniqueSpan,
)
from framing.taxonomy import CLAIM_KINDS, NAMED_KINDS


def claim_sources(article: Article) -> list[tuple[int, str, str] | None]:
    """For each sentence, (sentence index, who, kind) of the claim it makes, or ``None`` for sentences
    that are not attributed claims. A claim that names no source and has no hedge continues the claim
    before it (a quote runs on over several sentences), so it counts towards the same source."""
    out: list[tuple[int, str, str] | None] = []
    previous: tuple[str, str] | None = None
    for i, s in enumerate(article.sentences):
        if s.label != "attributed_claim":
            # An editorial sentence that names a source ("The Kremlin ... are alleging") keeps the thread.
            if s.source is None or s.label != "editorial_framing":
                previous = None
            else:
                previous = _who(s.source)
            out.append(None)
            continue
        if s.source is not None:
            previous = _who(s.source)
            out.append((i, *previous))
        elif s.cue is None and previous is not None:
            out.append((i, *previous))
        elif HEDGE.search(article.text, s.start, s.end):
            previous = None
            out.append((i, "(no source given)", "unattributed"))
        else:
            # A cue ("she said") whose source was not found, or nothing at all: not a hedge, so not
            # counted as attributed to nobody either.
            previous = None
            out.append((i, "(source not found)", "not_found"))
    return out


def _who(source: Span) -> tuple[str, str]:
    # Gold records carry spans without kind or resolved name: type them the same way predictions are.
    who = source.resolved or source.text
    return who, source.kind or source_kind(who)


def framing_cues(article: Article) -> list[FramingCue]:
    """Words that carry framing: loaded attribution cues ("boasted", "admitted")."""
    return [
        FramingCue(i, s.cue.start, s.cue.end, s.cue.text, "loaded_attribution")
        for i, s in enumerate(article.sentences)
        if s.cue is not None and s.cue.loaded
    ]


def article_profile(article: Article) -> ArticleProfile:
    """The sourcing and framing profile of a scored article (see the module docstring)."""
    n = len(article.sentences)
    counts = Counter(s.label for s in article.sentences if s.label)
    labels = {label: LabelCount(counts.get(label, 0), _share(counts.get(label, 0), n)) for label in LABELS}
    claims = [c for c in claim_sources(article) if c is not None]
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    for _, who, kind in claims:
        by_source[who][kind] += 1
    sources = [
        SourceCount(who, kinds.most_common(1)[0][0], sum(kinds.values()))
        for who, kinds in by_source.items()
        if who not in ("(no source given)", "(source not found)")
    ]
    sources.sort(key=lambda x: (-x.claims, x.name))
    kinds = Counter(kind for _, _, kind in claims)
    named = sum(kinds[k] for k in NAMED_KINDS)
    attribution = Attribution(
        claims=len(claims),
        named=_share(named, len(claims)),
        anonymous=_share(kinds["anonymous"], len(claims)),
        unattributed=_share(kinds["unattributed"], len(claims)),
        not_found=_share(kinds["not_found"], len(claims)),
        by_kind={k: kinds[k] for k in CLAIM_KINDS},
    )
    cues = framing_cues(article)
    techniques = technique_profile(article, article.techniques) if article.techniques is not None else None
    return ArticleProfile(n, labels, sources, attribution, cues, techniques, summary(labels, sources, attribution, cues, n, techniques))


def technique_profile(article: Article, found: list[TechniqueSpan]) -> TechniqueCounts:
    """Technique counts, and the share of editorial-framing sentences that carry at least one technique."""
    counts = Counter(t.technique for t in found)
    editorial = [s for s in article.sentences if s.label == "editorial_framing"]
    carrying = sum(any(t.start < s.end and s.start < t.end for t in found) for s in editorial)
    return TechniqueCounts(dict(counts.most_common()), len(found), _share(carrying, len(editorial)))


def summary(
    labels: dict[str, LabelCount],
    sources: list[SourceCount],
    attribution: Attribution,
    cues: list[FramingCue],
    n: int,
    techniques: TechniqueCounts | None = None,
) -> str:
    """A few plain sentences a reviewer can check against the highlighted text."""
    if n == 0:
        return "No sentences."
    parts = []
    claims = attribution.claims
    edit, fact = labels["editorial_framing"], labels["reported_fact"]
    parts.append(
        f"{claims} of {n} sentences ({_pct(claims, n)}) report what someone said; "
        f"{edit.count} ({_pct(edit.count, n)}) are the writer's own framing; {fact.count} are reported facts."
    )
    if claims:
        text = f"{attribution.named * 100:.0f}% of claims have a named source, {attribution.anonymous * 100:.0f}% an anonymous one"
        if attribution.unattributed:
            text += f', {attribution.unattributed * 100:.0f}% none at all (hedges such as "is said to")'
        if attribution.not_found:
            text += f", and for {attribution.not_found * 100:.0f}% no source was found"
        parts.append(text + ".")
    if sources:
        top = sources[0]
        share = top.claims / claims if claims else 0.0
        lead = f"The main source is {top.name} ({top.kind}, {top.claims} claim{'s' if top.claims != 1 else ''}"
        parts.append(lead + (", most of the article's claims)." if share > 0.5 else ")."))
        if len(sources) == 1 and claims > 2:
            parts.append("Only one source is quoted.")
    if cues:
        words = Counter(c.text.lower() for c in cues)
        parts.append(
            "Loaded attribution cues frame sources: "
            + ", ".join(f'"{w}"' + (f" ×{k}" if k > 1 else "") for w, k in words.most_common())
            + "."
        )
    if techniques and techniques.spans:
        top_techniques = ", ".join(f"{name.replace('_', ' ')} ×{k}" for name, k in list(techniques.counts.items())[:3])
        parts.append(f"{techniques.spans} propaganda-technique spans ({top_techniques}).")
    if edit.share >= 0.3:
        parts.append("Editorial framing is heavy: nearly a third or more of the sentences.")
    return " ".join(parts)


@dataclass
class OutletStats:
    """Running totals for one outlet, so a batch of any size is summed up in constant memory."""

    outlet: str
    articles: int = 0
    sentences: int = 0
    label_counts: Counter[str] = field(default_factory=Counter)
    editorial_share_sum: float = 0.0
    claims: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    loaded_cues: int = 0
    techniques: Counter[str] = field(default_factory=Counter)

    def add(self, profile: ArticleProfile) -> None:
        self.articles += 1
        self.sentences += profile.sentences
        self.label_counts.update({label: v.count for label, v in profile.labels.items()})
        self.editorial_share_sum += profile.labels["editorial_framing"].share
        self.claims += profile.attribution.claims
        self.kinds.update(profile.attribution.by_kind)
        self.sources.update({x.name: x.claims for x in profile.sources})
        self.loaded_cues += len(profile.framing_cues)
        if profile.techniques is not None:
            self.techniques.update(profile.techniques.counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outlet": self.outlet,
            "articles": self.articles,
            "sentences": self.sentences,
            "labels": {label: _share(self.label_counts[label], self.sentences) for label in LABELS},
            "mean_editorial_share": round(self.editorial_share_sum / self.articles, 4) if self.articles else 0.0,
            "claims": self.claims,
            "named": _share(sum(self.kinds[k] for k in NAMED_KINDS), self.claims),
            "anonymous": _share(self.kinds["anonymous"], self.claims),
            "unattributed": _share(self.kinds["unattributed"], self.claims),
            "not_found": _share(self.kinds["not_found"], self.claims),
            "top_sources": [{"name": n, "claims": c} for n, c in self.sources.most_common(5)],
            "loaded_cues": self.loaded_cues,
            "techniques": dict(self.techniques.most_common()),
        }


@dataclass
class OutletTotals:
    """``OutletStats`` per ``meta.outlet``, added up one article at a time (articles without an outlet
    are left out): how each outlet of a batch sources and frames the news."""

    by_outlet: dict[str, OutletStats] = field(default_factory=dict)

    def add(self, outlet: Any, profile: ArticleProfile) -> None:
        """Count in one article of ``outlet`` (its ``meta.outlet``; nothing when it has none)."""
        if outlet:
            self.by_outlet.setdefault(str(outlet), OutletStats(str(outlet))).add(profile)

    def __bool__(self) -> bool:
        return bool(self.by_outlet)

    def to_list(self) -> list[dict[str, Any]]:
        """Per outlet, in name order: articles, sentences, label shares over all sentences, the mean share
        of editorial framing per article, the share of claims by kind of source, the top sources and the
        number of loaded cues."""
        return [self.by_outlet[k].to_dict() for k in sorted(self.by_outlet)]


def outlet_profiles(articles: Iterable[Article]) -> list[dict[str, Any]]:
    """``OutletTotals`` of ``articles``, as a list (see ``OutletTotals.to_list``)."""
    totals = OutletTotals()
    for article in articles:
        totals.add(article.meta.get("outlet"), article.profile or article_profile(article))
    return totals.to_list()


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"
