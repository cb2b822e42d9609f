"""What the tool labels, in one place: sentence labels, kinds of source and propaganda techniques, with
the names and colours people see. The record, the model, the report and the annotation tools all read
these, so a label or technique is added here once.
"""

from __future__ import annotations

LABELS: tuple[str, ...] = ("attributed_claim", "editorial_framing", "reported_fact", "other")
"""Sentence labels, in the fixed order used for probability vectors and model outputs."""

MAIN_LABELS: tuple[str, ...] = LABELS[:3]
"""The three labels macro-F1 is reported over (``other`` is not a proposition)."""

LABEL_NAMES: dict[str, str] = {
    "attributed_claim": "attributed claim",
    "editorial_framing": "editorial framing",
    "reported_fact": "reported fact",
    "other": "other",
}

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies) as light backgrounds,
# and a second channel that does not depend on colour: an icon and an underline style per label.
LABEL_STYLE: dict[str, dict[str, str]] = {
    "attributed_claim": {"colour": "#0072B2", "background": "#d6e9f5", "icon": "❝", "underline": "solid"},
    "editorial_framing": {"colour": "#D55E00", "background": "#fbe0cf", "icon": "✎", "underline": "wavy"},
    "reported_fact": {"colour": "#009E73", "background": "#d3efe6", "icon": "■", "underline": "dotted"},
    "other": {"colour": "#6b6b6b", "background": "#ececec", "icon": "·", "underline": "none"},
}

SOURCE_KINDS: tuple[str, ...] = ("person", "organisation", "media", "anonymous", "unattributed")
"""Who a claim comes from: a named person, an organisation or official body, a media outlet, an unnamed
source ("officials said"), or nobody at all (a hedge: "is said to", "reportedly")."""

NAMED_KINDS: tuple[str, ...] = ("person", "organisation", "media")
"""Kinds of source that name who speaks."""

CLAIM_KINDS: tuple[str, ...] = (*SOURCE_KINDS, "not_found")
"""How a claim is counted in a profile: by the kind of its source, or ``not_found`` when it has a cue
("she said") whose source the model did not find."""

KIND_NAMES: dict[str, str] = {
    "person": "named person",
    "organisation": "organisation",
    "media": "media outlet",
    "anonymous": "anonymous",
    "unattributed": "unattributed (hedge)",
    "not_found": "source not found",
}

TECHNIQUES: tuple[str, ...] = (
    "Appeal_to_Authority",
    "Appeal_to_fear-prejudice",
    "Bandwagon,Reductio_ad_hitlerum",
    "Black-and-White_Fallacy",
    "Causal_Oversimplification",
    "Doubt",
    "Exaggeration,Minimisation",
    "Flag-Waving",
    "Loaded_Language",
    "Name_Calling,Labeling",
    "Repetition",
    "Slogans",
    "Thought-terminating_Cliches",
    "Whataboutism,Straw_Men,Red_Herring",
)
"""The 14 techniques of the Propaganda Techniques Corpus (SemEval-2020 Task 11), named exactly as in
its label files."""

TECHNIQUE_DEFINITIONS: dict[str, str] = {
    "Appeal_to_Authority": "Treats a claim as true because someone with status or expertise said it, not because of evidence.",
    "Appeal_to_fear-prejudice": "Pushes a view by stirring fear of a threat or by playing on prejudice against a group.",
    "Bandwagon,Reductio_ad_hitlerum": "Says many people already agree, or discredits an idea by tying it to a despised person or group.",
    "Black-and-White_Fallacy": "Offers two options as the only ones when more exist.",
    "Causal_Oversimplification": "Gives one cause for an outcome that has several.",
    "Doubt": "Questions the credibility of a person or institution without showing why.",
    "Exaggeration,Minimisation": "Makes something look larger, better or worse than it is, or plays it down.",
    "Flag-Waving": "Appeals to patriotism or group identity to support a position.",
    "Loaded_Language": "Uses words chosen for their emotional charge rather than their meaning.",
    "Name_Calling,Labeling": "Attaches a label meant to make the audience dislike (or love) its target.",
    "Repetition": "Repeats a message so that it sticks, not because it adds information.",
    "Slogans": "A short, catchy phrase that stands in for an argument.",
    "Thought-terminating_Cliches": "A stock phrase that discourages further thought on the subject.",
    "Whataboutism,Straw_Men,Red_Herring": "Deflects to another issue, or attacks a distorted version of the opposing view.",
}
"""A one-line definition of each technique, in our own words, for the report and the notebook view."""

UNCERTAIN_MARGIN = 0.15
"""A sentence whose two most likely labels are closer than this is flagged "uncertain" for review."""
