"""Article-level splits: an article lands in one split only, decided by a hash of its id, so that a
split never changes when articles are added and no article is ever in two splits."""

from __future__ import annotations

import hashlib

from framing.record import Article


def split_of(article_id: str, dev: float = 0.15, test: float = 0.15) -> str:
    bucket = int(hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if bucket < test:
        return "test"
    if bucket < test + dev:
        return "dev"
    return "train"


def split_articles(articles: list[Article]) -> dict[str, list[Article]]:
    out: dict[str, list[Article]] = {"train": [], "dev": [], "test": []}
    for article in articles:
        out[split_of(article.id)].append(article)
    return out
