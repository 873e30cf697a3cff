"""The weight of a real outlet page around a generated article: mega-menu, rails, ad slots,
footer columns and inline scripts.

The bundled replay's France 24 template carries the chrome the extractor must see past, but little
of its bulk: about 130 elements and 16 KB a page, where the real pages of ../shared/corpus hold
740 to 940 elements and 128 to 148 KB (France 24, 2015 and 2017) and the extraction benchmark's
181 news pages a median of 785 elements and 115 KB. Extraction cost follows the element count
(about 9 ms a page at 130 elements, 25 ms on the real France 24 pages), so a benchmark on light
pages weighs every other stage against too little extraction. `PageWeight` adds what real pages
carry, in the places they carry it, to reach the real pages' element count and size.

Everything here is chrome: none of it may end up in an extracted article.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from sahel_crawler.replay import render

# Sub-sections of each mega-menu entry, as the outlets list countries and programmes.
SUBSECTIONS = {
    "fr": (
        "Mali", "Niger", "Burkina Faso", "Tchad", "Sénégal", "Côte d'Ivoire", "Guinée", "Mauritanie",
        "Algérie", "Maroc", "Tunisie", "Libye", "Soudan", "Nigeria", "Cameroun", "RD Congo",
    ),
    "ar": (
        "مالي", "النيجر", "بوركينا فاسو", "تشاد", "السنغال", "ساحل العاج", "غينيا", "موريتانيا",
        "الجزائر", "المغرب", "تونس", "ليبيا", "السودان", "نيجيريا", "الكاميرون", "الكونغو الديمقراطية",
    ),
}  # fmt: skip
RAIL_HEADINGS = {
    "fr": ("En continu", "Les plus lus", "Reportages"),
    "ar": ("آخر الأخبار", "الأكثر قراءة", "تقارير"),
}
FOOTER_HEADINGS = {
    "fr": ("France 24", "Nos chaînes", "Applications", "Services", "Légal"),
    "ar": ("فرانس 24", "قنواتنا", "التطبيقات", "خدمات", "قانوني"),
}
SUBMENU_ITEMS = 6
TEASERS_PER_MENU = 2
RAIL_ITEMS = 8
LATEST_IN_STATE = 150
FOOTER_ITEMS = 10
AD_SLOTS = ("top", "pave-1", "pave-2", "native-1", "native-2", "footer")
SOCIAL = ("facebook", "x", "instagram", "youtube", "tiktok", "whatsapp", "telegram", "linkedin")
# One icon outline, as the outlets inline their SVG sprites.
_ICON_PATH = "M12 2C6.48 2 2 6.48 2 12c0 5.02 3.66 9.18 8.44 9.94v-7.03H7.9V12h2.54V9.8c0-2.51 1.49-3.9 3.78-3.9 " * 3


class PageWeight:
    """One outlet's heavy chrome: blocks built once per site, and per-page rails of other articles.

    `teasers` are (title, url) of the site's articles, newest first: menus and rails show them.
    """

    def __init__(self, lang: str, base: str, nav: Sequence[Sequence[str]], teasers: Sequence[tuple[str, str]]) -> None:
        self.lang = lang
        self.base = base
        self.teasers = list(teasers) or [("France 24", base + "/")]
        self.head = self._head(nav)
        self.menu = self._menu(nav)
        self.footer = self._footer()
        self.ads = {slot: self._ad(slot) for slot in AD_SLOTS}
        # Rails are per page but made of the same teasers: render each once (the replay server
        # shares the crawl's two cores).
        self.rail_items = [
            f'<li class="m-rail__item">{self._teaser(k, "m-item-list-article")}'
            f'<span class="m-rail__time">{k % 24}h</span></li>'
            for k in range(len(self.teasers))
        ]

    def _teaser(self, k: int, css: str) -> str:
        title, url = self.teasers[k % len(self.teasers)]
        return (
            f'<div class="{css}"><a class="{css}__link" href="{escape(url)}" data-index="{k}">'
            f'<figure class="{css}__media"><img src="{self.base}/media/thumbs/{k}.jpg" alt="" loading="lazy" '
            f'width="320" height="180"></figure><p class="{css}__title">{escape(title)}</p></a></div>'
        )

    def _state_entry(self, k: int) -> dict[str, object]:
        title, url = self.teasers[k % len(self.teasers)]  # a small site repeats its few articles
        return {"id": k, "title": title, "url": url, "image": f"{self.base}/media/thumbs/{k}.jpg"}

    def _head(self, nav: Sequence[Sequence[str]]) -> str:
        # Real pages ship their navigation, ad configuration and tag manager state inline.
        state = {
            "language": self.lang,
            "navigation": [{"label": label, "url": self.base + render.encode_path(path)} for label, path in nav],
            "latest": [self._state_entry(k) for k in range(LATEST_IN_STATE)],
            "ads": {slot: {"sizes": [[300, 250], [300, 600], [728, 90]], "targeting": {"lang": self.lang}}
                    for slot in AD_SLOTS},
        }  # fmt: skip
        blob = json.dumps(state, ensure_ascii=False).replace("</", "<\\/")
        return (
            f"<script>window.__APP_STATE__ = {blob};</script>\n"
            "<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
            "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?"
            "'&l='+l:'';j.async=true;j.src='/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);})"
            "(window,document,'script','dataLayer','GTM-F24');</script>\n"
            "<style>"
            + ".o-mega-menu__panel{display:none}.o-mega-menu__item:hover .o-mega-menu__panel{display:grid}" * 40
            + "</style>\n"
        )

    def _menu(self, nav: Sequence[Sequence[str]]) -> str:
        subs = SUBSECTIONS[self.lang]
        panels = []
        for i, (label, path) in enumerate(nav):
            section = self.base + render.encode_path(path)
            names = [subs[(i + k) % len(subs)] for k in range(SUBMENU_ITEMS)]
            links = "".join(
                f'<li class="o-mega-menu__sub"><a href="{section}{render.encode_path(name)}/">{escape(name)}</a></li>'
                for name in names
            )
            teasers = "".join(self._teaser(i * TEASERS_PER_MENU + k, "m-menu-teaser") for k in range(TEASERS_PER_MENU))
            panels.append(
                f'<li class="o-mega-menu__item"><a class="o-mega-menu__title" href="{section}">'
                f'{escape(label)}</a><div class="o-mega-menu__panel"><ul class="o-mega-menu__subs">{links}</ul>'
                f'<div class="o-mega-menu__teasers">{teasers}</div></div></li>'
            )
        menu = "".join(panels)
        return f'<nav class="o-mega-menu" aria-label="menu"><ul class="o-mega-menu__list">{menu}</ul></nav>\n'

    def _ad(self, slot: str) -> str:
        return (
            f'<div class="m-ad m-ad--{slot}" data-slot="{slot}"><div class="m-ad__label">Publicité</div>'
            f'<div id="ad-{slot}" class="m-ad__container"></div>'
            f"<script>window.adQueue=window.adQueue||[];adQueue.push({{slot:'{slot}'}});</script></div>"
        )

    def _footer(self) -> str:
        columns = []
        for c, heading in enumerate(FOOTER_HEADINGS[self.lang]):
            items = "".join(
                f'<li><a href="{self.base}/{self.lang}/info/{c}-{k}">{escape(heading)} {k + 1}</a></li>'
                for k in range(FOOTER_ITEMS)
            )
            columns.append(f'<div class="o-footer__column"><h3>{escape(heading)}</h3><ul>{items}</ul></div>')
        icons = "".join(
            f'<a class="o-footer__social o-footer__social--{name}" href="https://{name}.example/france24" '
            f'title="{name}"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="{_ICON_PATH}"></path></svg></a>'
            for name in SOCIAL
        )
        return f'<div class="o-footer__columns">{"".join(columns)}</div><div class="o-footer__socials">{icons}</div>\n'

    def rails(self, n: int) -> str:
        """The rails beside article `n`: latest news, most read, reports."""
        blocks = []
        for h, heading in enumerate(RAIL_HEADINGS[self.lang]):
            start = n + 1 + h * RAIL_ITEMS
            items = "".join(self.rail_items[(start + k) % len(self.rail_items)] for k in range(RAIL_ITEMS))
            blocks.append(f'<aside class="m-rail m-rail--{h}"><h2 class="m-rail__title">{escape(heading)}</h2>'
                          f"<ul>{items}</ul>{self.ads[AD_SLOTS[1 + h]]}</aside>")  # fmt: skip
        return "\n".join(blocks) + "\n"

    def weigh(self, page: str, n: int) -> str:
        """`page` (the replay template's article page) with the weight of a real one around article `n`."""
        page = page.replace("</head>", self.head + "</head>", 1)
        page = page.replace("</header>", self.ads["top"] + self.menu + "</header>", 1)
        page = page.replace("</main>", self.rails(n) + "</main>", 1)
        return page.replace("</footer>", self.footer + self.ads["footer"] + "</footer>", 1)
