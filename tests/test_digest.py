"""The daily digest built from a hand-made database: story grouping, counts and trends, day
boundaries, safe and right-to-left HTML, Markdown, the JSON schema, the empty day, the CLI."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cmarkgfm
import jsonschema
import lxml.html
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sahel_crawler.commands.digest import digest as digest_command
from sahel_crawler.digest import SCHEMA_PATH, Digest, build_digest, concept_labels, day_period, digest_json, render
from sahel_crawler.digest.lead import lead_text
from sahel_crawler.digest.period import range_period
from sahel_crawler.digest.render import md_escape
from sahel_crawler.digest.safety import clean_text, safe_url
from sahel_crawler.lexicon import load_lexicon
from storage.db import open_database, session_factory
from storage.digests import claim_email
from storage.models import CrawlError, CrawlRun
from storage.repository import ArticleRecord, ensure_outlets, save_article
from tests.conftest import REPO, run_sahel

DAY = date(2026, 11, 19)
TZ = "Africa/Bamako"  # UTC+0 all year: local times below are also UTC
F24 = "https://www.france24.com"
MEO = "https://middle-east-online.com"
SCRIPT_TITLE = "<script>alert('x')</script> Kidal : \u202enoitnetta\u202c les FAMa reprennent la route"
LABELS = {"kidal": ("Kidal", "place"), "mali": ("Mali", "country")}  # jnim left out: labelled by its id

ORIGINAL = f"{F24}/ar/20261119-هجوم-قرب-كيدال"
COPY = f"{MEO}/هجوم-قرب-كيدال"
SCRIPT_URL = f"{F24}/fr/afrique/20261119-kidal-route"
JS_URL = "javascript:alert(document.cookie)"
MIDNIGHT_URL = f"{F24}/fr/afrique/20261119-jnim-minuit"


def when(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A time on DAY + day_offset (UTC, which is also Bamako time)."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC) + timedelta(days=day_offset)


def hit(concept: str, snippet: str) -> dict[str, Any]:
    return {"concept": concept, "form": concept, "count": 1, "first_offset": 0, "snippet": snippet}


def article(
    url: str, outlet: str, lang: str, title: str, published: datetime, *concepts: str, **extra: Any
) -> ArticleRecord:
    return ArticleRecord(
        url=url,
        outlet=outlet,
        language=lang,
        title=title,
        text=extra.pop("text", f"{title}. Corps de l'article {url}."),
        published_at=published,
        fetched_at=published + timedelta(minutes=5),
        keyword_hits=[hit(c, extra.pop(f"snippet_{c}", f"… {c} …")) for c in concepts],
        **extra,
    )


def sample_records() -> list[ArticleRecord]:
    """The digest day and the 13 days before it.

    On DAY: kidal in 3 stories / 4 articles (an Arabic original and its syndicated copy on meo,
    a French title with <script> and a bidi override, an English story); mali in 2 stories (the
    Arabic original, and a story whose URL is javascript:); jnim in 1 story at exactly 00:00.
    Previous 7 days: kidal in 2 stories (one with a syndicated copy), mali in one story a day.
    Outside: a kidal story at 00:30 the next day, a mali story 8 days before.
    """
    records = [
        article(
            ORIGINAL,
            "france24",
            "ar",
            "هجوم قرب كيدال",
            when(0, 9),
            "kidal",
            "mali",
            snippet_kidal="هاجم مسلحون قافلة قرب كيدال صباح الثلاثاء",
        ),
        article(COPY, "meo", "ar", "هجوم على قافلة قرب كيدال", when(0, 11), "kidal", duplicate_of_url=ORIGINAL),
        article(
            SCRIPT_URL,
            "france24",
            "fr",
            SCRIPT_TITLE,
            when(0, 13),
            "kidal",
            snippet_kidal="la route de \u202eKidal\u202c <b>rouverte</b>",
            text=f"{SCRIPT_TITLE} La route de \u202eKidal\u202c <b>rouverte</b> mardi. Les camions passent.",
        ),
        article(
            f"{F24}/en/africa/20261119-kidal-convoy", "france24", "en", "Convoy reaches Kidal", when(0, 20), "kidal"
        ),
        article(JS_URL, "meo", "fr", "Mali : un lien piégé", when(0, 15), "mali"),
        article(MIDNIGHT_URL, "france24", "fr", "Le JNIM revendique", when(0, 0), "jnim"),
        article(
            f"{F24}/fr/afrique/20261120-kidal-lendemain",
            "france24",
            "fr",
            "Kidal le lendemain",
            when(1, 0, 30),
            "kidal",
        ),
        article(
            f"{F24}/fr/afrique/20261118-kidal-veille", "france24", "fr", "Kidal la veille", when(-1, 23, 59), "kidal"
        ),
        article(
            f"{MEO}/kidal-veille-copie",
            "meo",
            "fr",
            "Kidal la veille (copie)",
            when(-1, 22),
            "kidal",
            duplicate_of_url=f"{F24}/fr/afrique/20261118-kidal-veille",
        ),
        article(f"{F24}/fr/afrique/20261116-kidal", "france24", "fr", "Kidal trois jours avant", when(-3, 10), "kidal"),
        article(f"{F24}/fr/afrique/20261111-mali", "france24", "fr", "Mali, huit jours avant", when(-8, 10), "mali"),
    ]
    records += [
        article(f"{F24}/fr/afrique/mali-{k}", "france24", "fr", f"Mali, {k} jours avant", when(-k, 12), "mali")
        for k in range(1, 8)
    ]
    # an unflagged article, so meo produced something; quiet produced nothing at all
    records.append(
        ArticleRecord(
            url=f"{MEO}/sport",
            outlet="meo",
            text="Football.",
            fetched_at=when(0, 8),
            published_at=when(0, 8),
            language="fr",
            title="Football",
        )
    )
    return records


def fill_database(db_url: str) -> None:
    """Store the sample records (originals first, as a crawl does) and one crawl error for meo."""
    engine = open_database(db_url)
    with session_factory(engine).begin() as session:
        ensure_outlets(session, {"france24": "France 24", "meo": "Middle East Online", "quiet": "Quiet Outlet"})
        records = sample_records()
        for record in sorted(records, key=lambda r: r.duplicate_of_url is not None):
            save_article(session, record)
        run = CrawlRun(started_at=when(0, 6), outlets="france24,meo")
        session.add(run)
        session.flush()
        session.add(
            CrawlError(
                run_id=run.id, outlet_id="meo", url=f"{MEO}/broken", kind="http", reason="HTTP 500", at=when(0, 6, 5)
            )
        )
    engine.dispose()


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('digest') / 'sahel.db'}"
    fill_database(url)
    return url


def make_digest(db_url: str, day: date = DAY, **filters: Any) -> Digest:
    engine = open_database(db_url)
    with session_factory(engine)() as session:
        built = build_digest(session, day_period(day, TZ), labels=LABELS, now=when(1, 6), **filters)
    engine.dispose()
    return built


@pytest.fixture(scope="module")
def sample(db_url: str) -> Digest:
    return make_digest(db_url)


def section(built: Digest, concept: str) -> Any:
    return next(c for c in built.concepts if c.id == concept)


# -- content --------------------------------------------------------------------------------


def test_syndicated_copy_is_one_story_listing_both_outlets(sample: Digest) -> None:
    kidal = section(sample, "kidal")
    urls = [s.url for s in kidal.stories]
    assert ORIGINAL in urls and COPY not in urls
    story = next(s for s in kidal.stories if s.url == ORIGINAL)
    assert story.outlet == "france24"
    assert [(c.url, c.outlet) for c in story.also] == [(COPY, "meo")]
    assert story.snippet == "هاجم مسلحون قافلة قرب كيدال صباح الثلاثاء"


def test_counts_and_trends_match_hand_computed_values(sample: Digest) -> None:
    got = {c.id: (c.count, c.articles, c.previous_average, c.change, c.spike) for c in sample.concepts}
    assert got == {
        # 3 stories of 4 articles; previous 7 days: 1 story on DAY-1 (with its copy) + 1 on DAY-3 = 2/7
        "kidal": (3, 4, 0.29, 2.71, True),
        # 2 stories; one story on each of the 7 previous days = 7/7; DAY-8 is outside the window
        "mali": (2, 2, 1.0, 1.0, False),
        "jnim": (1, 1, 0.0, 1.0, False),
    }
    assert [c.id for c in sample.concepts] == ["kidal", "mali", "jnim"]  # most active first
    assert section(sample, "kidal").outlets == {"france24": 3, "meo": 1}
    assert section(sample, "kidal").languages == {"ar": 2, "en": 1, "fr": 1}
    assert sample.languages == {"ar": 2, "en": 1, "fr": 3}
    assert {o.id: (o.articles, o.flagged, o.errors, o.status) for o in sample.outlets} == {
        "france24": (4, 4, 0, "ok"),
        "meo": (3, 2, 1, "errors"),
        "quiet": (0, 0, 0, "silent"),
    }
    assert sample.story_count == 5


def test_labels_come_from_the_lexicon_with_the_id_as_fallback(sample: Digest) -> None:
    assert section(sample, "kidal").label == "Kidal"
    assert section(sample, "jnim").label == "jnim"


def test_fourteen_day_history_counts_stories_per_local_day(sample: Digest) -> None:
    history = sample.history
    assert history.days[0] == DAY - timedelta(days=13) and history.days[-1] == DAY
    kidal = dict(zip(history.days, history.series["kidal"], strict=True))
    assert kidal[DAY] == 3 and kidal[DAY - timedelta(days=1)] == 1 and kidal[DAY - timedelta(days=3)] == 1
    assert sum(history.series["kidal"]) == 5
    mali = dict(zip(history.days, history.series["mali"], strict=True))
    assert mali[DAY - timedelta(days=8)] == 1 and sum(history.series["mali"]) == 10


def test_day_boundaries_are_local_midnights(sample: Digest) -> None:
    assert any(s.url == MIDNIGHT_URL for s in section(sample, "jnim").stories)  # 00:00 belongs to the day
    kidal_urls = {s.url for s in section(sample, "kidal").stories}
    assert f"{F24}/fr/afrique/20261120-kidal-lendemain" not in kidal_urls  # 00:30 the next day does not


def test_period_converts_local_days_to_utc_across_daylight_saving() -> None:
    spring = day_period(date(2026, 3, 8), "America/New_York")  # clocks go forward: a 23-hour day
    assert spring.start == datetime(2026, 3, 8, 5, tzinfo=UTC)
    assert spring.end == datetime(2026, 3, 9, 4, tzinfo=UTC)
    assert spring.days == 1.0  # one calendar day, so the trend compares it with a daily average
    tokyo = day_period(DAY, "Asia/Tokyo")
    assert tokyo.start == datetime(2026, 11, 18, 15, tzinfo=UTC)
    custom = range_period("2026-11-18", "2026-11-19", TZ)
    assert (custom.start, custom.end, custom.days) == (when(-1, 0), when(1, 0), 2.0)
    hours = range_period("2026-11-19T06:00", "2026-11-19T18:00", TZ)
    assert (hours.start, hours.end, hours.days) == (when(0, 6), when(0, 18), 0.5)


def test_language_and_concept_filters(db_url: str) -> None:
    arabic = make_digest(db_url, languages=("ar",))
    assert {c.id: c.count for c in arabic.concepts} == {"kidal": 1, "mali": 1}
    only_mali = make_digest(db_url, concepts=("mali",))
    assert [c.id for c in only_mali.concepts] == ["mali"]


# -- safety ---------------------------------------------------------------------------------


def test_clean_text_strips_bidi_controls_and_safe_url_only_allows_web_links() -> None:
    assert clean_text("a\u202eb\u2066c\u2069\u202a d\x00") == "abc d"
    assert safe_url("https://x.test/a") == "https://x.test/a"
    for bad in (JS_URL, "data:text/html,x", "//x.test/a", "http:///nohost", "https://x.test/a b", "vbscript:x"):
        assert safe_url(bad) is None, bad


def test_html_escapes_crawled_text_and_links_only_http(sample: Digest) -> None:
    html = render(sample, "html")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(" in html
    assert "<b>rouverte</b>" not in html and "&lt;b&gt;rouverte&lt;/b&gt;" in html
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert char not in html
    page = lxml.html.fromstring(html)
    hrefs = [a.get("href") for a in page.iter("a")]
    assert hrefs and all(h.startswith(("https://", "http://", "#")) for h in hrefs)
    assert JS_URL in page.text_content()  # shown, not linked
    assert page.xpath("//svg") or page.xpath("//*[local-name()='svg']"), "the 14-day chart is inline SVG"
    assert not page.xpath("//img[not(starts-with(@src, 'data:'))]|//link|//script"), "must be self-contained"


def test_html_items_carry_their_text_direction(sample: Digest) -> None:
    page = lxml.html.fromstring(render(sample, "html"))
    stories = page.xpath("//li[contains(@class, 'story')]")
    directions = {(li.get("lang"), li.get("dir")) for li in stories}
    assert directions == {("ar", "rtl"), ("fr", "ltr"), ("en", "ltr")}
    arabic = next(li for li in stories if li.get("lang") == "ar")
    assert "كيدال" in arabic.text_content()
    assert page.xpath("//meta[@name='viewport']"), "readable on a phone"


def test_markdown_is_plain_text_with_escaped_markup(sample: Digest) -> None:
    text = render(sample, "markdown")
    assert "<script>" not in text and r"\<script\>" in text
    assert f"]({ORIGINAL})" in text
    assert f"]({JS_URL})" not in text and "javascript:alert" in text
    assert "[Middle East Online](" + COPY + ")" in text  # the copy's outlet and URL
    assert "| Kidal **SPIKE** | 3 | 4 | +2.71 | 1, 2, 4 |" in text
    assert "Quiet Outlet: produced nothing" in text and "Middle East Online: 1 crawl error" in text


def test_json_validates_against_its_schema_and_keeps_the_documented_keys(sample: Digest) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    document = json.loads(render(sample, "json"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)
    assert document["date"] == "2026-11-19" and document["timezone"] == TZ
    kidal = document["concepts"][0]
    assert {"id", "label", "count", "change", "stories"} <= set(kidal)
    original = next(s for s in kidal["stories"] if s["url"] == ORIGINAL)
    assert set(original) == {"url", "title", "outlet", "language", "published_at", "snippet", "also"}
    assert original["also"] == [{"url": COPY, "outlet": "meo"}]
    assert original["published_at"] == "2026-11-19T09:00:00+00:00"


def test_schema_rejects_a_digest_missing_a_documented_key(sample: Digest) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    document = digest_json(sample)
    del document["concepts"][0]["stories"][0]["also"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_an_empty_day_says_there_are_no_flagged_stories(db_url: str) -> None:
    empty = make_digest(db_url, day=DAY + timedelta(days=10))
    assert empty.is_empty
    assert "No flagged stories in this period." in render(empty, "markdown")
    page = lxml.html.fromstring(render(empty, "html"))
    assert page.get_element_by_id("no-stories").text_content() == "No flagged stories in this period."
    document = json.loads(render(empty, "json"))
    assert document["concepts"] == [] and document["languages"] == {}
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


# -- command --------------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    return CliRunner().invoke(digest_command, list(args), catch_exceptions=False)


def test_command_writes_the_requested_format(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "digest.json"
    result = invoke("--db", db_url, "--date", "2026-11-19", "--tz", TZ, "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [c["id"] for c in document["concepts"]] == ["kidal", "mali", "jnim"]
    stdout = invoke("--db", db_url, "--date", "2026-11-19", "--tz", TZ, "--lang", "ar")
    assert stdout.exit_code == 0
    assert stdout.stdout.startswith("# Sahel news digest 2026-11-19")


def test_concept_ids_and_language_codes_are_taken_in_any_case(db_url: str) -> None:
    upper = invoke(
        "--db", db_url, "--date", "2026-11-19", "--tz", TZ, "--format", "json", "--concept", "KIDAL", "--lang", "AR"
    )
    assert upper.exit_code == 0, upper.output
    document = json.loads(upper.stdout)
    assert document["filters"] == {"concepts": ["kidal"], "languages": ["ar"]}
    assert [c["id"] for c in document["concepts"]] == ["kidal"]


def test_a_read_only_database_gives_the_digest_without_recording_the_run(db_url: str, tmp_path: Path) -> None:
    # It used to fail with "attempt to write a readonly database" after building the digest,
    # and a URI file name made a "file:" folder in the working directory.
    read_only = f"sqlite:///file:{make_url(db_url).database}?mode=ro&uri=true"
    args = ("digest", "--db", read_only, "--date", "2026-11-19", "--tz", TZ)
    result = run_sahel(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Sahel news digest 2026-11-19") and "Kidal" in result.stdout
    assert "sahel: warning: the digest run was not recorded in the database" in result.stderr
    out = tmp_path / "digest.md"
    assert run_sahel(*args, "--out", str(out), cwd=tmp_path).returncode == 0
    # the same digest, but for the minute it was generated in (the two runs may straddle one)
    assert _without_generated_line(out.read_text(encoding="utf-8")) == _without_generated_line(result.stdout)
    assert not (tmp_path / "file:").exists()
    # Sending needs the claim that makes it sent once: one line, exit status 1, nothing sent.
    env = {"SAHEL_SMTP_URL": "smtp://127.0.0.1:1", "SAHEL_DIGEST_FROM": "digest@example.org"}
    emailed = run_sahel(*args, "--email", "desk@example.org", env=env, cwd=tmp_path)
    assert emailed.returncode == 1
    assert emailed.stderr.strip().splitlines() == [
        "sahel: error: cannot record the emailed digest, so it was not sent: attempt to write a readonly database"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--until", "2026-11-22"), "Error: --until needs --since"),
        (("--send",), "Error: --send needs SAHEL_DIGEST_TO (or give --email ADDR)"),
    ],
)
def test_options_that_do_not_go_together_are_clicks_usage_errors_as_documented(
    db_url: str, args: tuple[str, ...], message: str
) -> None:
    result = run_sahel("digest", "--db", db_url, *args, env={"SAHEL_DIGEST_TO": ""})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == message
    docs = " ".join((REPO / "docs" / "digest.md").read_text(encoding="utf-8").split())
    assert "are click's usage errors, exit status 2" in docs and "`--until` without `--since`" in docs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tz", "Mars/Olympus"), "unknown time zone"),
        (("--date", "2026-13-40"), "--date"),
        (("--date", "2026-11-19", "--since", "2026-11-01"), "cannot be combined"),
        (("--since", "2026-11-19", "--until", "2026-11-01"), "must be after"),
        (("--email", "not an address"), "not an email address"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    db_url: str, args: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sahel_crawler import settings

    monkeypatch.setattr(settings, "SAHEL_SMTP_URL", "smtp://127.0.0.1:1", raising=False)
    monkeypatch.setattr(settings, "SAHEL_DIGEST_FROM", "digest@example.org", raising=False)
    result = CliRunner().invoke(digest_command, ["--db", db_url, *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_every_option_setting_and_json_key_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "digest.md").read_text(encoding="utf-8")
    for param in digest_command.params:
        for opt in param.opts:
            assert f"`{opt}" in docs, f"{opt} is not documented in docs/digest.md"
    for setting in ("SAHEL_SMTP_URL", "SAHEL_DIGEST_FROM", "SAHEL_DIGEST_TO", "SAHEL_DIGEST_TZ"):
        assert f"`{setting}`" in docs, setting
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    defs = ("concept", "story", "top_story")
    keys = [*schema["properties"], *(key for name in defs for key in schema["$defs"][name]["properties"])]
    keys += schema["properties"]["pairs"]["items"]["properties"]
    for key in keys:
        assert f"`{key}`" in docs or f".{key}`" in docs or f"`{key}[]" in docs or f".{key}[]`" in docs, key


@pytest.fixture
def postgres_digest_db(postgres_url: str) -> Iterator[str]:
    """A throw-away PostgreSQL database holding the sample records."""
    server = make_url(postgres_url)
    name = f"sahel_digest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        fill_database(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_same_digest_and_one_claim_on_postgresql(postgres_digest_db: str) -> None:
    built = make_digest(postgres_digest_db)
    assert {c.id: (c.count, c.articles, c.change) for c in built.concepts} == {
        "kidal": (3, 4, 2.71),
        "mali": (2, 2, 1.0),
        "jnim": (1, 1, 1.0),
    }
    engine = open_database(postgres_digest_db)
    period = day_period(DAY, TZ)
    claim = {
        "period_start": period.start,
        "period_end": period.end,
        "label": period.label,
        "timezone": TZ,
        "fmt": "multipart",
        "recipients": ["desk@example.org"],
    }
    with session_factory(engine).begin() as session:
        assert claim_email(session, "key", **claim) is not None
    with session_factory(engine).begin() as session:
        assert claim_email(session, "key", **claim) is None
        assert claim_email(session, "key", **claim, force=True) is not None
    engine.dispose()


# -- Markdown under a GFM renderer: crawled text never becomes a link ------------------------------

AUTOLINK_BAIT = (
    "Lire https://evil.example/a?b=1, HTTP://EVIL.example, www.evil.example ou écrire à contact@evil.example"
)


def _gfm_links(markdown: str) -> list[str]:
    """The link targets GitHub's Markdown (cmark-gfm with its autolink extension) renders."""
    page = lxml.html.fromstring(f"<div>{cmarkgfm.github_flavored_markdown_to_html(markdown)}</div>")
    return page.xpath("//a/@href")


def test_urls_in_crawled_titles_and_snippets_are_not_autolinked(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'sahel.db'}"
    url = f"{F24}/fr/afrique/20261119-kidal-liens"
    engine = open_database(db)
    with session_factory(engine).begin() as session:
        ensure_outlets(session, {"france24": "France 24"})
        save_article(
            session,
            article(url, "france24", "fr", AUTOLINK_BAIT, when(0, 9), "kidal", text=f"Kidal. {AUTOLINK_BAIT}"),
        )
    engine.dispose()

    markdown = render(make_digest(db), "markdown")
    rendered = lxml.html.fromstring(cmarkgfm.github_flavored_markdown_to_html(markdown)).text_content()

    assert _gfm_links(markdown) == [url]  # the story's own link, nothing from its text
    assert rendered.count(AUTOLINK_BAIT) == 2  # title and lead read, and copy, as crawled


_URLISH = st.text(alphabet="abcw.:/@-_ hHtTpPsSxXwW1?=#()[]<>*", max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(_URLISH, st.sampled_from(["https://", "http://", "www.", "@", ".org", "mailto:", "xmpp:", "ftp://"])),
        max_size=8,
    )
)
def test_no_crawled_text_renders_as_a_link_under_gfm(parts: list[str]) -> None:
    assert _gfm_links(md_escape("".join(parts))) == []


# -- story first, who with whom -------------------------------------------------------------


def test_each_story_is_shown_once_ranked_by_coverage(sample: Digest) -> None:
    ranked = [(s.rank, s.url, s.outlets, len(s.copies)) for s in sample.stories]
    # the syndicated story (two outlets) first, then the newest of the single-outlet stories
    assert ranked[0] == (1, ORIGINAL, ("France 24", "Middle East Online"), 1)
    assert [r[1] for r in ranked[1:]] == [
        f"{F24}/en/africa/20261119-kidal-convoy",
        JS_URL,
        SCRIPT_URL,
        MIDNIGHT_URL,
    ]
    assert sample.stories[0].concepts == (("kidal", "Kidal"), ("mali", "Mali"))
    page = lxml.html.fromstring(render(sample, "html"))
    titles = [h.text_content() for h in page.xpath("//li[contains(@class, 'story')]/h3")]
    assert len(titles) == len(set(titles)) == 5
    assert page.xpath("//tr[@id='concept-kidal']//a/@href") == ["#story-1", "#story-2", "#story-4"]
    markdown = render(sample, "markdown")
    assert markdown.count("هجوم قرب كيدال") == 1
    assert markdown.count("Convoy reaches Kidal") == 1


def test_the_lead_drops_the_headline_and_ends_at_a_sentence(sample: Digest) -> None:
    script_story = next(s for s in sample.stories if s.url == SCRIPT_URL)
    assert script_story.lead == "La route de Kidal <b>rouverte</b> mardi. Les camions passent."
    long_text = "Premier point du jour. " * 30
    assert lead_text("Titre", "Titre " + long_text) == ("Premier point du jour. " * 12).strip() + " …"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab .?!؟\n»", max_size=600), st.integers(min_value=20, max_value=300))
def test_a_lead_is_a_prefix_of_the_text_cut_at_a_boundary(text: str, limit: int) -> None:
    body = clean_text(text)
    lead = lead_text(None, text, limit)
    if lead.endswith(" …"):
        kept = lead.removesuffix(" …")
        assert body.startswith(kept) and len(kept) <= limit
        rest = body[len(kept) :]
        assert rest[:1] in (" ", ",", ";", ":") or kept[-1:] in ".!?؟…»"
    else:
        assert lead == body and len(body) <= limit


def _actors_db(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'actors.db'}"
    alliance = f"{F24}/ar/20261119-تحالف-جبهة-أزواد"
    records = [
        article(
            alliance, "france24", "ar", "تحالف بين جبهة أزواد والجماعة", when(0, 8), "fla", "jnim", "kidal", "azawad"
        ),
        article(f"{MEO}/تحالف", "meo", "ar", "تحالف في الشمال", when(0, 10), "jnim", "fla", duplicate_of_url=alliance),
        article(
            f"{F24}/fr/afrique/jnim-africa-corps",
            "france24",
            "fr",
            "Le JNIM et Africa Corps",
            when(0, 12),
            "jnim",
            "wagner",
        ),
        article(
            f"{F24}/fr/afrique/jnim-wagner-avant", "france24", "fr", "JNIM et Wagner", when(-3, 12), "jnim", "wagner"
        ),
        article(f"{F24}/fr/afrique/fla-jnim-mois", "france24", "fr", "FLA et JNIM", when(-9, 12), "fla", "jnim"),
    ]
    engine = open_database(db)
    with session_factory(engine).begin() as session:
        ensure_outlets(session, {"france24": "France 24", "meo": "Middle East Online"})
        for record in records:
            save_article(session, record)
    engine.dispose()
    return db


def test_who_is_mentioned_with_whom_counts_actor_pairs_per_story(tmp_path: Path) -> None:
    db = _actors_db(tmp_path)
    engine = open_database(db)
    with session_factory(engine)() as session:
        labels = concept_labels(load_lexicon())
        built = build_digest(session, day_period(DAY, TZ), labels=labels, now=when(1, 6))
    engine.dispose()
    got = [(p.a, p.b, p.stories, p.previous, p.new) for p in built.pairs]
    # the alliance story and its copy are one story; kidal and azawad are no actors; the FLA-JNIM
    # story nine days before is outside the previous 7 days
    assert got == [("fla", "jnim", 1, 0, True), ("jnim", "wagner", 1, 1, False)]
    page = lxml.html.fromstring(render(built, "html"))
    cells = "//section[@id='pairs']//tbody/tr"
    rows = [[td.text_content().strip() for td in tr.xpath("td")] for tr in page.xpath(cells)]
    assert rows == [
        ["Azawad Liberation Front (FLA) – Jama'at Nusrat al-Islam wal-Muslimin (JNIM)", "1", "0", "new"],
        ["Jama'at Nusrat al-Islam wal-Muslimin (JNIM) – Wagner Group / Africa Corps", "1", "1", ""],
    ]
    markdown = render(built, "markdown")
    assert (
        "| Azawad Liberation Front (FLA) – Jama'at Nusrat al-Islam wal-Muslimin (JNIM) | 1 | 0 | **new** |" in markdown
    )
    document = json.loads(render(built, "json"))
    assert document["pairs"][0] == {
        "concepts": ["fla", "jnim"],
        "labels": ["Azawad Liberation Front (FLA)", "Jama'at Nusrat al-Islam wal-Muslimin (JNIM)"],
        "stories": 1,
        "previous": 0,
        "new": True,
    }
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _without_generated_line(digest: str) -> str:
    return "\n".join(line for line in digest.splitlines() if not line.startswith("Generated "))
