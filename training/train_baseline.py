"""Train the TF-IDF + logistic regression baseline and write its model directory and model card.

    python -m training.train_baseline configs/baseline.yaml

Held out, never trained on: the test split of our annotated articles (by article), CheckThat! dev and
PolNeAR dev. The seed article and the other splits train it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from framing.model.baseline import BaselineModel, article_features, make_vectorizer
from framing.model.heads import HEADS, sentence_targets
from framing.record import Article
from training import data, model_card
from training.config import BaselineConfig
from framing.evaluate import evaluate_model


def fit(train: list[Article], config: BaselineConfig) -> BaselineModel:
    features = [f for a in train for f in article_features(a)]
    targets = [sentence_targets(s) for a in train for s in a.sentences]
    vectorizer = make_vectorizer(min_df=config.min_df, max_features=config.max_features)
    x = vectorizer.fit_transform(features)
    coef = np.zeros((len(HEADS), x.shape[1]), dtype=np.float32)
    intercept = np.zeros(len(HEADS), dtype=np.float32)
    counts: dict[str, dict[str, int]] = {}
    for h, head in enumerate(HEADS):
        rows = [i for i, t in enumerate(targets) if head in t]
        y = np.array([targets[i][head] for i in rows])
        counts[head] = {"sentences": len(rows), "positive": int(y.sum())}
        if len(set(y.tolist())) < 2:
            raise ValueError(f"head {head!r}: training data has only one class ({counts[head]})")
        clf = LogisticRegression(C=config.C, class_weight="balanced", max_iter=2000, random_state=config.seed)
        clf.fit(x[rows], y)
        coef[h], intercept[h] = clf.coef_[0], clf.intercept_[0]
    info = {"name": config.name, "config": config.to_dict(), "training_counts": counts}
    return BaselineModel(vectorizer, coef, intercept, info)


def train_baseline(config: BaselineConfig) -> BaselineModel:
    started = time.perf_counter()
    train, held_out = data.training_sets(config.sources)
    model = fit(train, config)
    model.info["metrics"] = evaluate_model(model, held_out)
    model.info["train_articles"] = len(train)
    model.info["train_seconds"] = round(time.perf_counter() - started, 1)
    model.save(config.output_dir)
    card = model_card.render(
        model.info,
        "TF-IDF + logistic regression baseline: one logistic head per decision of the guidelines "
        "(other? editorial? attributed?), combined into the four labels (framing/heads.py).",
    )
    (Path(config.output_dir) / "README.md").write_text(card, encoding="utf-8")
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path)
    args = parser.parse_args(argv)
    model = train_baseline(BaselineConfig.from_yaml(args.config))
    print(json.dumps(model.info["metrics"], indent=2))
    print(f"saved {model.info['config']['output_dir']} ({model.info['train_seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
