"""What an alert says, the same on every channel: rule, story articles, concepts, snippet."""

from __future__ import annotations

from html import escape
from typing import Any

from storage.models import Alert, Article


def _safe_link(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def alert_record(alert: Alert, articles: list[Article]) -> dict[str, Any]:
    """The alert as JSON-ready data (the webhook body, less its `text`)."""
    return {
        "rule": alert.rule_id,
        "alert_id": alert.id,
        "title": alert.title,
        "concepts": [c for c in alert.concepts.split(",") if c],
        "snippet": alert.snippet,
        "articles": [
            {
                "url": article.url,
                "outlet": article.outlet_id,
                "title": article.title,
                "language": article.language,
                "published_at": article.published_at.isoformat() if article.published_at else None,
            }
            for article in articles
        ],
    }


def alert_text(alert: Alert, articles: list[Article]) -> str:
    """Plain text (also the Slack/Mattermost `text` field): title, concepts, snippet, articles."""
    lines = [f"[{alert.rule_id}] {alert.title}"]
    if alert.concepts:
        lines.append("concepts: " + alert.concepts.replace(",", ", "))
    if alert.snippet:
        lines.append(alert.snippet)
    for article in articles:
        lines.append(
            f"- {article.outlet_id} ({article.language or '--'}): {article.title or '(no title)'} {article.url}"
        )
    return "\n".join(lines)


def alert_html(alert: Alert, articles: list[Article]) -> str:
    """The alert as escaped HTML (emails and feed entries); only http(s) links."""
    items = []
    for article in articles:
        title = escape(article.title or "(no title)")
        link = _safe_link(article.url)
        text = f'<a href="{escape(link)}">{title}</a>' if link else title
        items.append(f"<li>{text} ({escape(article.outlet_id)}, {escape(article.language or '--')})</li>")
    concepts = f"<p>concepts: {escape(alert.concepts.replace(',', ', '))}</p>" if alert.concepts else ""
    snippet = f"<p>{escape(alert.snippet)}</p>" if alert.snippet else ""
    return f"<p><strong>{escape(alert.title)}</strong></p>{concepts}{snippet}<ul>{''.join(items)}</ul>"
