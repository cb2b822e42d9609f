"""Who each claim comes from: source and cue spans, the full name behind "He" or "Dashkin", the kind
of source, and cues that frame the source ("boasted", "admitted").

The spans come from the model's token tagger (``framing.transformer``, trained on PolNeAR's source and
cue spans and on our annotated articles). What follows is rules over the article text, because it
needs the whole article and no corpus we have labels it:

- a pronoun source is the nearest earlier person source ("He" → "Yury Dashkin");
- a short name is the longest name in the article that ends with it ("Dashkin" → "Yury Dashkin"), with
  the role written beside its first mention (", commander of an air defense division in Kursk,");
- the kind of source comes from word lists (outlets, official bodies, unnamed-source nouns);
- a claim with no source but a hedge ("is said to", "reportedly") is ``unattributed``.
"""

from __future__ import annotations

import functools
import re

from framing.model.decode import SpanGuess
from framing.record import Article, Sentence, Span


def gold_spans(sentence: Sentence) -> list[tuple[str, int, int]] | None:
    """A gold sentence's source and cue spans as (role, start, end), or ``None`` when its corpus
    does not mark them (then the tagger learns nothing from it). A fully labelled sentence marks them."""
    if sentence.extra.get("spans_marked") is False:
        # Imported without span annotation (a CSV row, a task with no source/cue regions, a relabelled
        # or rejected sentence in a review): its missing source is unknown, not "no source".
        return None
    listed = sentence.extra.get("spans")
    if isinstance(listed, list):
        return [(str(x["role"]), int(x["start"]), int(x["end"])) for x in listed]
    if sentence.label is None:
        return None
    return [(role, span.start, span.end) for role, span in (("source", sentence.source), ("cue", sentence.cue)) if span is not None]


# --- cues -----------------------------------------------------------------------------------------

HEDGE = re.compile(
    r"\b(?:(?:is|are|was|were|has been|have been)\s+(?:said|believed|thought|reported|rumou?red|alleged|understood)\s+to"
    r"|reportedly|allegedly|supposedly|purportedly|reputedly|according to (?:reports|rumou?rs)"
    r"|it is (?:said|claimed|believed|reported))\b",
    re.IGNORECASE,
)
"""Attribution to nobody: the claim is passed on without a source."""

LOADED_CUE = re.compile(
    r"\b(?:boast|brag|admit|acknowledg|conced|confess|claim|alleg|insist|tout|trumpet|gloat|lament|complain"
    r"|whin|rant|rail|scoff|sneer|spin|spun|crow|peddl|parrot|spout|grumbl|moan|fum|bemoan|dismiss|lash)\w*",
    re.IGNORECASE,
)
"""Cue words that judge the source or what it says ("boasted", "admitted", "claimed"): the guidelines
keep them exact because they are how a writer frames a source, so they are framing cues too."""

# --- sources --------------------------------------------------------------------------------------

PRONOUNS = {"he": "person", "she": "person", "him": "person", "her": "person", "they": None, "it": None, "we": None, "i": "person"}

OUTLET = re.compile(
    r"\b(?:media|press|newspaper|news(?:paper)?s?|outlet|tabloid|broadcaster|TV|television|radio|channel|agency|wire"
    r"|Reuters|AP|AFP|Associated Press|Bloomberg|CNN|BBC|NBC|CBS|ABC|Fox|MSNBC|NPR|RT|TASS|RIA|Interfax|Sputnik|Izvestia"
    r"|Al Jazeera|Axios|Politico|Breitbart|Guardian|Telegraph|Times|Post|Journal|Herald|Tribune|Daily|Gazette|Kommersant"
    r"|Vedomosti|Xinhua|Yonhap|Kyodo|Haaretz|Newsweek|HuffPost|BuzzFeed|Vox|Slate|Atlantic|Economist|Reporters?)\b"
)
ORGANISATION = re.compile(
    r"\b(?:Kremlin|White House|Pentagon|Downing Street|Elysee|Ministry|Department|Government|Administration|Office|Agency"
    r"|Commission|Council|Committee|Parliament|Congress|Senate|House|Duma|Court|Police|Army|Navy|Forces|Command|Guard"
    r"|Force|Division|Brigade|Regiment|Battalion|Party|Union|Bank|Fund|Foundation|Institute|University|Association|Federation|Company|Corporation|Inc|Corp|Ltd"
    r"|Group|Bureau|Service|Authority|Board|Organi[sz]ation|UN|NATO|EU|FBI|CIA|NSA|DOJ|IMF|WHO|OSCE|IAEA|FSB|SBU|GOP"
    r"|Democrats|Republicans|spokes(?:man|woman|person)|(?:the|its|their|his|her)\s+(?:government|administration|ministry"
    r"|military|army|police|campaign|company|party|office|department|committee|court|prosecutors?))\b"
)
_NAME = re.compile(r"[A-Z](?:\.|[\w'’\-]*)(?:[ \t]+(?:[A-Z](?:\.|[\w'’\-]*)|de|da|van|von|bin|al|el|la|le))*")
_NOT_NAME = re.compile(
    r"^(?:A|An|The|He|She|It|They|We|I|This|That|These|Those|Some|Many|Other|Several|Two|Three|One|Its|His|Her|Their|Our|My|But|And|Yet|US|UK"
    r"|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Gen\.?|Sen\.?|Rep\.?|Gov\.?|Col\.?|Lt\.?|Sgt\.?|Adm\.?|President|Commander|Minister|Prime"
    r"|Secretary|General|Senator|Governor|Chancellor|Spokesman|Spokeswoman|Ambassador|Mayor|Judge|Director|Chief|Deputy"
    r"|Foreign|Defense|Defence|Interior|State|Vice|Former|Then|Top|Senior|Western|Eastern|Democratic|Republican"
    r"|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|August"
    r"|September|October|November|December|[A-Z][a-z]+(?:ian|ean|ese|ish|an|i))$"
)
_PERSON_NOUNS = (
    r"(?:officials?|officers?|commanders?|sources?|aides?|advisers?|advisors?|insiders?|people|persons?|someone|analysts?"
    r"|experts?|observers?|critics?|residents?|witnesses|diplomats?|lawmakers?|investigators?|soldiers?|activists?)"
)
# An unnamed person is the head of the phrase: its last word, or one of its first few ("a source close to ...").
_PERSON_NOUN = re.compile(rf"\b{_PERSON_NOUNS}$", re.IGNORECASE)
_PERSON_NOUN_FIRST = re.compile(rf"^(?:\S+\s+){{0,4}}?{_PERSON_NOUNS}\b", re.IGNORECASE)
_BODY_NOUNS = r"(?:military|army|navy|government|forces|ministry|authorities|police|administration|leadership)"
# "Russia's military": a name followed by a body noun is the body, not a person.
_BODY_AFTER_NAME = re.compile(rf"(?:['’]s)?\s+{_BODY_NOUNS}\b")
_POSSESSIVE_BODY = re.compile(rf"['’]s\s+{_BODY_NOUNS}\b")
_ROLE = r"[a-z][\w'’\- ]{2,90}?"


def _name_words(text: str) -> list[str]:
    """The capitalised words of ``text`` that look like part of a proper name (not titles, determiners,
    days or demonyms such as "Russian")."""
    words = re.findall(r"[A-Z](?:\.|[\w'’\-]*)", text)
    return [w for w in words if not _NOT_NAME.match(w)]


def _person_names(text: str) -> list[list[str]]:
    """The persons' names in ``text``, as name words: runs of capitalised words with at least one name
    word and no word of an outlet or an official body ("Karine Jean-Pierre" in "White House spokeswoman
    Karine Jean-Pierre", "Zelensky"; not "Kursk Air Division")."""
    names = []
    for run in _NAME.finditer(text):
        if OUTLET.search(run.group()) or ORGANISATION.search(run.group()) or _BODY_AFTER_NAME.match(text, run.end()):
            continue
        words = _name_words(run.group())
        if words:
            names.append(words)
    return names


def source_kind(text: str | None) -> str:
    """The kind of a source, from its (resolved) text; ``unattributed`` when there is none."""
    if not text:
        return "unattributed"
    pronoun = PRONOUNS.get(text.strip().lower(), "")
    if pronoun != "":
        return pronoun or "anonymous"
    if _person_names(text):
        return "person"
    if OUTLET.search(text):
        return "media"
    if _PERSON_NOUN.search(text.strip()) or _PERSON_NOUN_FIRST.match(text.strip()):
        # An unnamed person, even one of a named body ("a Russian Air Defense Division officer").
        return "anonymous"
    if ORGANISATION.search(text) or _POSSESSIVE_BODY.search(text) or _name_words(text):
        return "organisation"
    # No name, no body, no outlet: an unnamed source ("those familiar with the matter").
    return "anonymous"


@functools.lru_cache(maxsize=32)
def _names_in(text: str) -> tuple[tuple[str, ...], ...]:
    """Every capitalised name run of an article, as name words: ``full_name`` asks once per source,
    and rescanning a long article for each was a tenth of the scoring time."""
    runs = ([w.rstrip(".,") for w in _name_words(match.group())] for match in _NAME.finditer(text))
    return tuple(tuple(words) for words in runs if words)


def full_name(article: Article, mention: str) -> str | None:
    """The fullest form of a person's name in the article, with the role written beside its first
    mention: "Dashkin" → "Yury Dashkin, commander of an air defense division in Kursk". ``None`` when
    the mention holds no person's name."""
    names = _person_names(mention)
    if not names:
        return None
    # "commander of an air defense division in Kursk, Yury Dashkin": the longest name is the person.
    best = max(reversed(names), key=len)
    surname = best[-1].rstrip(".,'’")
    for words in _names_in(article.text):
        if words[-1] == surname and len(words) > len(best):
            best = list(words)
    name = " ".join(best)
    first = re.search(r"\b" + re.escape(name) + r"\b", article.text)
    if first is None:
        return name
    text = article.text
    after = re.match(rf",\s+(?:the\s+|a\s+|an\s+)?({_ROLE})[,.;]", text[first.end() :])
    before = re.search(rf"(?:^|[,.;:\n]\s*)(?:the\s+|a\s+|an\s+)?({_ROLE}),\s+$", text[max(0, first.start() - 100) : first.start()])
    for found in (after, before):
        role = found.group(1).strip() if found else ""
        if role and len(role.split()) <= 12 and not re.search(r"\b(?:said|says|told|tells|according|and|but)\b", role):
            return f"{name}, {role}"
    return name


REPORTING_CUE = re.compile(
    r"\b(?:says?|said|saying|tells?|told|claim\w*|warn\w*|urg(?:e|es|ed|ing)|accus\w*|den(?:y|ies|ied|ying)|insist\w*"
    r"|argu\w*|vow\w*|pledg\w*|promis\w*|admit\w*|believ\w*|fear\w*|predict\w*|calls?|called|calling|demand\w*"
    r"|threaten\w*|blast\w*|slam\w*|decr(?:y|ies|ied)|question\w*|doubt\w*|suggest\w*|hint\w*|expect\w*|think\w*"
    r"|thought|according to|assert\w*|contend\w*|alleg\w*|charg(?:e|es|ed|ing)|report\w*|announc\w*|mock\w*|rebut\w*"
    r"|rebuk\w*|critici[sz]\w*|condemn\w*|prais\w*|defend\w*|apologi[sz]\w*|conced\w*|reveal\w*|respond\w*"
    r"|repl(?:y|ies|ied)|explain\w*|describ\w*|dismiss\w*|blam\w*|lash\w* out|hits? out|fir(?:es|ed|ing) back"
    r"|(?:concerned|worried|hopes?|hopeful|confident) that|acknowledg\w*|testif\w*|tweet\w*|writes|wrote)\b",
    re.IGNORECASE,
)
"""Verbs of saying and believing: what makes a headline's subject the source of its words."""

_QUOTED_HEADLINE = re.compile(
    r"""^\s*["“‘'].+["”’']\s*[:—–-]"""  # 'We will not back down': Mayor Lopez
    r"""|^[^:]{2,60}:\s*["“‘']"""  # Lopez: 'We will not back down'
    r"""|^(?!(?:Watch|Update|Breaking|Exclusive|Opinion|Analysis|Live|Video|Photos|Explainer|Factbox)\b)(?:[A-Z][a-z][\w.'’-]*\s?){1,4}:\s"""  # Lopez: We will not back down
)
_SENTENCE_END = re.compile(r"""[.!?]["”’')\]]*\s*$""")


def is_headline(article: Article) -> bool:
    """Whether the article's first sentence reads as a headline: the title given with the article, or a
    first line without a full stop."""
    if not article.sentences:
        return False
    first = article.sentences[0]
    text = article.text[first.start : first.end].strip()
    title = article.meta.get("title")
    return (isinstance(title, str) and " ".join(title.split()) == " ".join(text.split())) or not _SENTENCE_END.search(text)


def headline_without_speech(article: Article, sentence: Sentence) -> bool:
    """A headline labelled attributed claim that attributes nothing: no verb of saying or believing, no
    "'quote': Name" or "Name: quote" form. Headlines drop their "said", so the model reads any
    "Council approves budget" as "X verbs Y"; guidelines v2 label a headline by what it states."""
    text = article.text[sentence.start : sentence.end]
    return not (REPORTING_CUE.search(text) or _QUOTED_HEADLINE.search(text))


def attach(article: Article, guesses: list[list[SpanGuess]]) -> Article:
    """Give every attributed claim (and every editorial sentence that attributes) its source and cue,
    resolved and typed, from the tagger's guesses; a hedge becomes the cue of a claim that has none.
    A headline that the model called an attributed claim but that has no verb of saying or believing
    (``headline_without_speech``) takes its next most likely label and no source."""
    if article.sentences and article.sentences[0].label == "attributed_claim" and is_headline(article):
        first = article.sentences[0]
        if headline_without_speech(article, first) and first.probs:
            first.label = max((label for label in first.probs if label != "attributed_claim"), key=lambda label: first.probs[label])  # type: ignore[index]
    last_person: str | None = None
    last_any: str | None = None
    for sentence, found in zip(article.sentences, guesses or [[] for _ in article.sentences]):
        if sentence.label not in ("attributed_claim", "editorial_framing"):
            continue
        cue = _best(found, "cue", None)
        source = _best(found, "source", cue)
        if sentence.label == "editorial_framing" and cue is None:
            continue
        sentence.cue = (_span(article, cue) if cue else None) or _hedge(article, sentence)
        if sentence.cue is not None:
            sentence.cue.loaded = bool(LOADED_CUE.search(sentence.cue.text))
        span = _span(article, source, is_source=True) if source is not None else None
        if span is None or span.start < sentence.start:
            sentence.source = None
            continue
        pronoun = span.text.strip().lower()
        if pronoun in PRONOUNS:
            referent = last_person if PRONOUNS[pronoun] == "person" else last_any
            span.resolved = referent
            span.kind = source_kind(referent) if referent else source_kind(span.text)
        else:
            span.kind = source_kind(span.text)
            if span.kind == "person":
                span.resolved = full_name(article, span.text)
            if span.resolved is None or span.kind != "person":
                span.resolved = _tidy(span.text)
        if span.kind == "person" and span.resolved:
            last_person = span.resolved
        if span.resolved:
            last_any = span.resolved
        sentence.source = span
    return article


def _best(found: list[SpanGuess], role: str, near: SpanGuess | None) -> SpanGuess | None:
    candidates = [g for g in found if g.role == role]
    if not candidates:
        return None
    if near is None:
        return max(candidates, key=lambda g: g.score)
    # The source that goes with the cue is the nearest one, before or after it ("X said" / "said X").
    return min(candidates, key=lambda g: (min(abs(g.end - near.start), abs(g.start - near.end)), -g.score))


_STRAY_LEAD = re.compile(r"(?:(?:even|let|but|and|so|also|now|then|still|just|only|yet|while|as)\s+)+", re.IGNORECASE)
_POSSESSIVE_TAIL = re.compile(r"['’]s\b")
_NAME_BEFORE = re.compile(r"[A-Z][\w.\-’']*(?:\s+[A-Z][\w.\-’']*)*$")


def _span(article: Article, guess: SpanGuess, is_source: bool = False) -> Span | None:
    """The guess as a span of the text, tidied; None when nothing is left of it (a lone quote mark)."""
    text = article.text
    start, end = guess.start, guess.end
    # Tokenizer offsets never include surrounding space; trailing punctuation is not part of a name.
    while end > start and text[end - 1] in ",.;:'\"’”":
        end -= 1
    if is_source:
        # A source reads as a name: never "Even John McCain" or "Let Harvard Law Professor ...", and never
        # the possessive tail "'s military" without the name it belongs to ("Russia's military").
        lead = _STRAY_LEAD.match(text, start, end)
        if lead and lead.end() < end:
            start = lead.end()
        if _POSSESSIVE_TAIL.match(text, start, end):
            name = _NAME_BEFORE.search(text, max(0, start - 60), start)
            if name is None:
                return None
            start = name.start()
    while start < end and text[start].isspace():
        start += 1
    if end <= start:
        return None
    return Span(start, end, text[start:end], score=guess.score)


def _hedge(article: Article, sentence: Sentence) -> Span | None:
    match = HEDGE.search(article.text, sentence.start, sentence.end)
    if match is None:
        return None
    return Span(match.start(), match.end(), match.group(), kind=None)


def _tidy(text: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", " ".join(text.split()), flags=re.IGNORECASE) if text[:1].islower() else " ".join(text.split())
