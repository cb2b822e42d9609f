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
from framing.record import LABELS, Article, Span

NAMED_KINDS = ("person", "organisation", "media")


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


def framing_cues(article: Article) -> list[dict[str, Any]]:
    """Words that carry framing: loaded attribution cues ("boasted", "admitted")."""
    cues = []
    for i, s in enumerate(article.sentences):
        if s.cue is not None and s.cue.loaded:
            cues.append({"sentence": i, "start": s.cue.start, "end": s.cue.end, "text": s.cue.text, "kind": "loaded_attribution"})
    return cues


def article_profile(article: Article) -> dict[str, Any]:
    """The sourcing and framing profile of a scored article (see the module docstring)."""
    n = len(article.sentences)
    counts = Counter(s.label for s in article.sentences if s.label)
    labels = {label: {"count": counts.get(label, 0), "share": _share(counts.get(label, 0), n)} for label in LABELS}
    claims = [c for c in claim_sources(article) if c is not None]
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    for _, who, kind in claims:
        by_source[who][kind] += 1
    sources = [
        {"name": who, "kind": kinds.most_common(1)[0][0], "claims": sum(kinds.values())}
        for who, kinds in by_source.items()
        if who not in ("(no source given)", "(source not found)")
    ]
    sources.sort(key=lambda x: (-x["claims"], x["name"]))
    kinds = Counter(kind for _, _, kind in claims)
    named = sum(kinds[k] for k in NAMED_KINDS)
    attribution = {
        "claims": len(claims),
        "named": _share(named, len(claims)),
        "anonymous": _share(kinds["anonymous"], len(claims)),
        "unattributed": _share(kinds["unattributed"], len(claims)),
        "not_found": _share(kinds["not_found"], len(claims)),
        "by_kind": {k: kinds[k] for k in ("person", "organisation", "media", "anonymous", "unattributed", "not_found")},
    }
    cues = framing_cues(article)
    out = {
        "sentences": n,
        "labels": labels,
        "sources": sources,
        "attribution": attribution,
        "framing_cues": cues,
    }
    found = article.extra.get("techniques")
    if isinstance(found, list):
        out["techniques"] = technique_profile(article, found)
    out["summary"] = summary(labels, sources, attribution, cues, n, out.get("techniques"))
    return out


def technique_profile(article: Article, found: list[dict[str, Any]]) -> dict[str, Any]:
    """Technique counts, and the share of editorial-framing sentences that carry at least one technique."""
    counts = Counter(str(t["technique"]) for t in found)
    editorial = [s for s in article.sentences if s.label == "editorial_framing"]
    carrying = sum(any(t["start"] < s.end and s.start < t["end"] for t in found) for s in editorial)
    return {"counts": dict(counts.most_common()), "spans": len(found), "editorial_with_technique": _share(carrying, len(editorial))}


def summary(
    labels: dict[str, Any], sources: list[dict[str, Any]], attribution: dict[str, Any], cues: list[dict[str, Any]], n: int,
    techniques: dict[str, Any] | None = None,
) -> str:
    """A few plain sentences a reviewer can check against the highlighted text."""
    if n == 0:
        return "No sentences."
    parts = []
    claims = attribution["claims"]
    edit, fact = labels["editorial_framing"], labels["reported_fact"]
    parts.append(
        f"{claims} of {n} sentences ({_pct(claims, n)}) report what someone said; "
        f"{edit['count']} ({_pct(edit['count'], n)}) are the writer's own framing; {fact['count']} are reported facts."
    )
    if claims:
        text = f"{attribution['named'] * 100:.0f}% of claims have a named source, {attribution['anonymous'] * 100:.0f}% an anonymous one"
        if attribution["unattributed"]:
            text += f", {attribution['unattributed'] * 100:.0f}% none at all (hedges such as \"is said to\")"
        if attribution["not_found"]:
            text += f", and for {attribution['not_found'] * 100:.0f}% no source was found"
        parts.append(text + ".")
    if sources:
        top = sources[0]
        share = top["claims"] / claims if claims else 0.0
        lead = f"The main source is {top['name']} ({top['kind']}, {top['claims']} claim{'s' if top['claims'] != 1 else ''}"
        parts.append(lead + (", most of the article's claims)." if share > 0.5 else ")."))
        if len(sources) == 1 and claims > 2:
            parts.append("Only one source is quoted.")
    if cues:
        words = Counter(c["text"].lower() for c in cues)
        parts.append("Loaded attribution cues frame sources: " + ", ".join(f'"{w}"' + (f" ×{k}" if k > 1 else "") for w, k in words.most_common()) + ".")
    if techniques and techniques["spans"]:
        top = ", ".join(f"{name.replace('_', ' ')} ×{k}" for name, k in list(techniques["counts"].items())[:3])
        parts.append(f"{techniques['spans']} propaganda-technique spans ({top}).")
    if edit["share"] >= 0.3:
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

    def add(self, profile: dict[str, Any]) -> None:
        self.articles += 1
        self.sentences += profile["sentences"]
        self.label_counts.update({l: v["count"] for l, v in profile["labels"].items()})
        self.editorial_share_sum += profile["labels"]["editorial_framing"]["share"]
        self.claims += profile["attribution"]["claims"]
        self.kinds.update(profile["attribution"]["by_kind"])
        self.sources.update({x["name"]: x["claims"] for x in profile["sources"]})
        self.loaded_cues += len(profile["framing_cues"])
        self.techniques.update((profile.get("techniques") or {}).get("counts", {}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "outlet": self.outlet,
            "articles": self.articles,
            "sentences": self.sentences,
            "labels": {l: _share(self.label_counts[l], self.sentences) for l in LABELS},
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


def outlet_profiles(articles: Iterable[Article], stats: dict[str, OutletStats] | None = None) -> list[dict[str, Any]]:
    """Per ``meta.outlet``: articles, sentences, label shares over all sentences, the mean share of
    editorial framing per article, the share of claims by kind of source, the top sources and the
    number of loaded cues. Articles without an outlet are left out. Pass ``stats`` to keep adding to
    running totals (``framing score`` does, one article at a time)."""
    stats = {} if stats is None else stats
    for article in articles:
        outlet = article.meta.get("outlet")
        if not outlet:
            continue
        profile = article.extra.get("profile") or article_profile(article)
        stats.setdefault(str(outlet), OutletStats(str(outlet))).add(profile)
    return [stats[k].to_dict() for k in sorted(stats)]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"
