"""The HTML report, rendered from scored records and checked in headless chromium (Debian's package,
installed by install.sh) through Playwright."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import framing
from framing.annotations import import_file
from framing.attribution import attach
from framing.cli import app
from framing.model import SpanGuess
from framing.profile import article_profile
from framing.record import LABELS, Article, Sentence
from framing.report import write_report
from tests.conftest import SEED_TEXT, download_export, open_page

EVIL = 'The mayor said <script>window.pwned = 1</script> nothing. <img src=x onerror="window.pwned = 2"> Officials "disagreed".'


def _scored(seed: Article, outlet: str | None = "zerohedge") -> Article:
    """The seed article as a scorer would leave it: gold labels as predictions, typed spans, a profile."""
    article = copy.deepcopy(seed)
    guesses = []
    for s in article.sentences:
        guesses.append([SpanGuess(r, x.start, x.end, 0.9) for r, x in (("source", s.source), ("cue", s.cue)) if x])
        s.source = s.cue = None
        s.probs = {label: (0.7 if label == s.label else 0.1) for label in LABELS}
    attach(article, guesses)
    if outlet:
        article.meta["outlet"] = outlet
    article.profile = article_profile(article)
    return article


def _evil() -> Article:
    a = Article(id="evil<script>", text=EVIL, meta={"outlet": "<b>bad outlet</b>", "title": "<script>alert(1)</script>"})
    a.sentences = [Sentence(0, 57, "attributed_claim"), Sentence(58, len(EVIL), "editorial_framing")]
    for s in a.sentences:
        s.probs = {label: 0.25 for label in LABELS}
    return a


@pytest.fixture(scope="module")
def report_dir(seed: Article, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    other = _scored(seed, outlet="other-outlet")
    other.id = "second"
    other.sentences = [s for s in other.sentences if s.label != "editorial_framing"]
    other.profile = article_profile(other)
    unscored = Article(id="unscored", text="Plain text.", sentences=[Sentence(0, 11)])
    result = write_report([_scored(seed), other, _evil(), unscored], out)
    assert len(result.pages) == 3
    assert result.failures and "unscored" in result.failures[0]
    return out


def test_pages_escape_article_text(report_dir: Path) -> None:
    page = next(p for p in report_dir.glob("evil*.html"))
    html = page.read_text(encoding="utf-8")
    assert "<script>window.pwned" not in html and "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in html
    assert "<img src=x onerror" not in html
    assert "<b>bad outlet</b>" not in html
    assert "network" not in html and "http://" not in html and "https://" not in html  # self-contained


def test_cli_report_writes_pages_and_reports_bad_lines(seed: Article, tmp_path: Path) -> None:
    scored = tmp_path / "scored.jsonl"
    scored.write_text(_scored(seed).to_json() + "\n{not json\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(scored), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "line 2" in result.output
    assert (tmp_path / "out" / "index.html").exists()
    assert len(list((tmp_path / "out").glob("*.html"))) == 2


@pytest.mark.browser
def test_article_page_in_chromium(browser, report_dir: Path, seed: Article) -> None:  # noqa: ANN001
    path = next(p for p in report_dir.glob("seed-*.html"))
    page, errors = open_page(browser, path)
    highlights = page.locator(".s")
    assert highlights.count() == len(seed.sentences)
    editorial = sum(s.label == "editorial_framing" for s in seed.sentences)
    assert page.locator(".s.editorial_framing").count() == editorial
    # Hover/focus shows the label, probabilities and resolved source.
    he = page.locator('.s[data-source-text="He"]').first
    he.focus()
    tip = page.locator("#tip")
    assert tip.is_visible()
    assert "attributed claim 70%" in tip.inner_text() and "Yury Dashkin" in tip.inner_text()
    # Keyboard: j moves focus to the next sentence.
    index = int(he.get_attribute("id")[1:])
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.id") == f"s{index + 1}"
    # Filter: only editorial framing.
    for label in LABELS:
        if label != "editorial_framing":
            page.locator(f".label-filter[value={label}]").uncheck()
    assert page.locator(".s:visible").count() == editorial
    assert all(s.get_attribute("data-label") == "editorial_framing" for s in page.locator(".s:visible").all())
    assert f"Showing {editorial} of {len(seed.sentences)}" in page.locator("#showing").inner_text()
    # Filter: one source (with every label back on).
    for label in LABELS:
        page.locator(f".label-filter[value={label}]").check()
    page.select_option("#source-filter", label=page.locator("#source-filter option").nth(1).inner_text())
    wanted = page.locator("#source-filter").input_value()
    visible = page.locator(".s:visible").all()
    assert 0 < len(visible) < len(seed.sentences)
    assert all(s.get_attribute("data-source") == wanted for s in visible)
    page.screenshot(path=str(report_dir / "seed.png"), full_page=False)
    assert (report_dir / "seed.png").stat().st_size > 10_000
    assert errors == []


@pytest.mark.browser
def test_hostile_article_renders_as_text(browser, report_dir: Path) -> None:  # noqa: ANN001
    page, errors = open_page(browser, next(p for p in report_dir.glob("evil*.html")))
    assert page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned = 1</script>" in page.locator("#text").inner_text()
    assert page.locator("#text img").count() == 0
    assert errors == []


@pytest.mark.browser
def test_index_sorts_and_lists_outlets(browser, report_dir: Path) -> None:  # noqa: ANN001
    page, errors = open_page(browser, report_dir / "index.html")
    rows = page.locator("#articles tbody tr")
    assert rows.count() == 3
    shares = [float(v) for v in page.locator("#articles tbody td:nth-child(4)").evaluate_all("els => els.map(e => e.dataset.value)")]
    assert shares == sorted(shares, reverse=True) and shares[0] > shares[-1]
    page.locator("#articles th:nth-child(4) button").click()
    again = [float(v) for v in page.locator("#articles tbody td:nth-child(4)").evaluate_all("els => els.map(e => e.dataset.value)")]
    assert again == sorted(shares)
    outlets = page.locator("#outlets tbody tr")
    assert outlets.count() == 3
    assert "zerohedge" in page.locator("#outlets").inner_text()
    assert "unscored" in page.locator("ul.failures").inner_text()
    # Every article link opens its page.
    href = rows.first.locator("a").get_attribute("href")
    assert (report_dir / href).exists()
    assert errors == []


@pytest.mark.browser
def test_review_relabel_export_import_and_reload(browser, seed: Article, tmp_path: Path) -> None:  # noqa: ANN001

    article = _scored(seed)
    article.meta["model"] = "tiny-test"
    out = tmp_path / "review"
    write_report([article], out, review=True)
    path = next(out.glob("seed-*.html"))
    plain = tmp_path / "plain"
    write_report([article], plain)
    assert 'id="export"' not in next(plain.glob("seed-*.html")).read_text(encoding="utf-8")  # off by default

    context = browser.new_context(accept_downloads=True)
    page, errors = open_page(context, path)
    page.fill("#reviewer", "Ana Reviewer")
    page.locator("#reviewer").dispatch_event("change")
    first, second = 2, 5  # attributed_claim, editorial_framing in the seed
    assert seed.sentences[first].label == "attributed_claim" and seed.sentences[second].label != "reported_fact"
    page.locator(f"#s{first}").focus()
    page.keyboard.press("2")  # keyboard: editorial framing
    page.keyboard.press("s")  # its source span is wrong
    assert page.locator(f"#s{first} mark.src.wrong").count() == 1
    page.locator(f"#s{second}").click()
    page.locator(".set-label[data-label=reported_fact]").click()  # mouse: the menu
    page.locator("#s7").focus()
    page.keyboard.press("1")
    page.keyboard.press("u")  # undo the third change
    assert page.locator(".s.changed").count() == 2
    assert page.locator(f"#s{first}").get_attribute("data-label") == "editorial_framing"
    assert "2 changed" in page.locator("#review-count").inner_text()

    page.reload()
    assert page.locator(".s.changed").count() == 2, "corrections must survive a reload"
    assert page.locator(f"#s{second}").get_attribute("data-label") == "reported_fact"
    exported = download_export(page, tmp_path / "corrections.jsonl")
    assert errors == []
    context.close()

    [record] = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert record["meta"]["reviewed_by"] == "Ana Reviewer" and record["meta"]["model"] == "tiny-test" and record["meta"]["reviewed_at"]
    before = [s.label for s in article.sentences]
    after = [s["label"] for s in record["sentences"]]
    assert [i for i, (a, b) in enumerate(zip(before, after)) if a != b] == [first, second]
    assert after[first] == "editorial_framing" and after[second] == "reported_fact"
    assert record["sentences"][first]["model_label"] == "attributed_claim"
    assert "source" not in record["sentences"][first] and record["sentences"][first]["rejected_source"]["text"]
    unchanged = article.sentences[second].source
    assert record["sentences"][second].get("source") == (unchanged.to_dict() if unchanged else None)
    assert "rejected_source" not in record["sentences"][second]
    # Imported as is: only the reviewed sentences count as human labels.
    [imported] = import_file(exported, "jsonl").articles
    labelled = {i: s.label for i, s in enumerate(imported.sentences) if s.label}
    assert labelled == {first: "editorial_framing", second: "reported_fact"}


TEXT = "The minister said the talks would resume on Monday in the capital city."


def test_report_renders_records_with_malformed_extras(tmp_path: Path) -> None:
    """A stored technique list or profile that is not one (edited by hand, another version's) is kept
    as it was in the record, never trusted: the page recomputes the profile and marks no technique."""
    article = Article(
        "m",
        TEXT,
        {},
        [
            Sentence(
                0,
                len(TEXT),
                "attributed_claim",
                probs={"attributed_claim": 0.9, "editorial_framing": 0.05, "reported_fact": 0.03, "other": 0.02},
            )
        ],
    )
    raw = {
        **article.to_dict(),
        "techniques": [{"technique": "Doubt"}, {"start": 4, "end": 12, "technique": "Loaded_Language", "prob": 0.8}],
        "profile": {"summary": "stale"},
    }
    read = Article.from_dict(raw)
    assert read.techniques is None and read.profile is None and read.to_dict() == raw
    result = write_report([read], tmp_path)
    assert len(result.pages) == 1 and not result.failures
    html = result.pages[0].read_text(encoding="utf-8")
    assert "data-tech-ids=" not in html and "stale" not in html and "report what someone said" in html


@pytest.mark.browser
def test_report_marks_and_filters_techniques(browser, technique_model_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    from framing.report import write_report

    article = framing.score_text(SEED_TEXT.read_text(encoding="utf-8"), framing.load_model(technique_model_dir))
    write_report([article], tmp_path)
    page_path = next(p for p in tmp_path.glob("*.html") if p.name != "index.html")
    page, errors = open_page(browser, page_path)
    assert page.locator("#text .tech").count() > 0
    with_technique = page.locator('.s[data-techniques*="Loaded_Language"]').count()
    assert 0 < with_technique
    page.select_option("#technique-filter", "Loaded_Language")
    assert page.locator(".s:visible").count() == with_technique
    page.locator('.s[data-techniques*="Loaded_Language"]').first.focus()
    assert "technique: Loaded Language" in page.locator("#tip").inner_text()
    assert "Loaded Language" in page.locator("#techniques").inner_text()
    assert errors == []
    page.close()


@pytest.mark.browser
def test_review_removes_a_technique_span(browser, technique_model_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    from framing.report import write_report

    article = framing.score_text(SEED_TEXT.read_text(encoding="utf-8"), framing.load_model(technique_model_dir))
    before = [t.to_dict() for t in article.techniques or []]
    write_report([article], tmp_path, review=True)
    page_path = next(p for p in tmp_path.glob("*.html") if p.name != "index.html")
    context = browser.new_context(accept_downloads=True)
    page, errors = open_page(context, page_path)
    first = page.locator("#text .tech").first
    ids = [int(n) for n in first.get_attribute("data-tech-ids").split(";")]
    first.click()
    assert "removed" in (first.get_attribute("class") or "")
    page.reload()
    assert "removed" in (page.locator("#text .tech").first.get_attribute("class") or ""), "removal must survive a reload"
    exported = download_export(page, tmp_path / "c.jsonl")
    assert errors == []
    context.close()
    record = json.loads(exported.read_text(encoding="utf-8"))
    assert record["rejected_techniques"] == [before[n] for n in ids]
    assert record["techniques"] == [t for n, t in enumerate(before) if n not in ids]


def test_a_scored_article_renders_itself_in_a_notebook(seed: Article) -> None:
    """``Article._repr_html_`` and ``framing.render`` give the report's marks, self-contained."""
    import framing

    article = _scored(seed)
    html = framing.render(article)
    assert html == article._repr_html_()
    assert html.count('class="s ') >= len(article.sentences) and "<mark class=\"src\">" in html and "<style>" in html
    assert "http" not in html and "<script" not in html and "src=" not in html
    assert "Dashkin" in html


def _newsroom_batch(seed: Article, tmp_path: Path) -> Path:
    """Two scored articles, one with title, outlet and date, one named only by its first line."""
    titled = _scored(seed)
    titled.meta.update({"title": "Kremlin claims attack on Putin's helicopter", "date": "2025-05-25"})
    plain = _scored(seed, outlet=None)
    plain.id = "plain"
    plain.meta["model"] = "another-model"  # the same text scored by another model: its own corrections
    out = tmp_path / "report"
    write_report([titled, plain], out, review=True)
    return out


@pytest.mark.browser
def test_index_names_articles_by_headline_with_totals_and_search(browser, seed: Article, tmp_path: Path) -> None:  # noqa: ANN001
    out = _newsroom_batch(seed, tmp_path)
    page, errors = open_page(browser, out / "index.html")
    rows = page.locator("#articles tbody tr")
    assert rows.count() == 2
    text = page.locator("#articles").inner_text()
    assert "Kremlin claims attack on Putin's helicopter" in text and "zerohedge · 2025-05-25" in text
    assert "date 2025-05-25 The Kremlin" in text  # no title: the first line names the article
    totals = page.locator("#totals").inner_text()
    assert "2\narticles" in totals and f"{2 * len(seed.sentences)}\nsentences" in totals
    share = sum(s.label == "reported_fact" for s in seed.sentences) / len(seed.sentences)
    assert f"{share * 100:.0f}%\nreported fact" in totals
    page.locator("#search").fill("dashkin")  # a source of both articles
    assert page.locator("#articles tbody tr:visible").count() == 2
    page.locator("#search").fill("helicopter kremlin")
    assert page.locator("#articles tbody tr:visible").count() == 1 and "1 of 2" in page.locator("#shown").inner_text()
    assert errors == []
    page.close()


@pytest.mark.browser
def test_counts_follow_a_correction_and_the_index_exports_all_of_them(browser, seed: Article, tmp_path: Path) -> None:  # noqa: ANN001
    out = _newsroom_batch(seed, tmp_path)
    context = browser.new_context(accept_downloads=True)
    pages = sorted(p for p in out.glob("*.html") if p.name != "index.html")
    page, errors = open_page(context, pages[0])
    before = int(page.locator('.filters [data-count="other"]').inner_text())
    first = page.locator("#text .s").first
    assert first.get_attribute("data-label") == "other"
    first.click()
    page.locator('.set-label[data-label="reported_fact"]').click()
    assert int(page.locator('.filters [data-count="other"]').inner_text()) == before - 1
    assert int(page.locator('td[data-count="other"]').inner_text()) == before - 1
    facts = sum(s.label == "reported_fact" for s in seed.sentences) + 1
    assert page.locator('td[data-share="reported_fact"]').inner_text() == f"{facts / len(seed.sentences) * 100:.0f}%"
    other, more_errors = open_page(context, pages[1])
    other.locator("#text .s").nth(2).click()
    other.locator("#confirm").click()
    index, index_errors = open_page(context, out / "index.html")
    with index.expect_download() as info:
        index.locator("#export-all").click()
    path = tmp_path / "all.jsonl"
    info.value.save_as(path)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 2 and "2 reviewed articles exported" in index.locator("#export-all-status").inner_text()
    relabelled = next(r for r in records if r["sentences"][0].get("model_label"))
    assert relabelled["sentences"][0]["label"] == "reported_fact" and relabelled["sentences"][0]["reviewed"]
    confirmed = next(r for r in records if r is not relabelled)
    assert [n for n, s in enumerate(confirmed["sentences"]) if s.get("reviewed")] == [2]
    imported = import_file(path, "jsonl")
    assert len(imported.articles) == 2
    assert errors == more_errors == index_errors == []
    context.close()


@pytest.mark.browser
def test_the_tooltip_never_covers_the_sentence_under_the_pointer(browser, seed: Article, tmp_path: Path) -> None:  # noqa: ANN001
    out = _newsroom_batch(seed, tmp_path)
    page_path = sorted(p for p in out.glob("*.html") if p.name != "index.html")[0]
    for height in (900, 420):  # room below the sentence, and a window so short that the tip goes above
        page, errors = open_page(browser, page_path)
        page.set_viewport_size({"width": 1000, "height": height})
        longest = max(range(len(seed.sentences)), key=lambda i: seed.sentences[i].end - seed.sentences[i].start)
        sentence = page.locator(f"#s{longest}")
        sentence.scroll_into_view_if_needed()
        sentence.hover()
        tip = page.locator("#tip")
        assert tip.is_visible()
        overlap = page.evaluate(
            """([id]) => {
                const t = document.getElementById("tip").getBoundingClientRect();
                return Array.from(document.getElementById(id).getClientRects()).some(r =>
                    r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom);
            }""",
            [f"s{longest}"],
        )
        assert not overlap
        assert errors == []
        page.close()
