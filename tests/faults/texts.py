"""Article texts for the fault site: distinct wire-style paragraphs in French and Arabic, made
from seeded choices so every page is different and every run the same."""

from __future__ import annotations

import random

_FR = {
    "who": ["Le gouverneur de la région", "Un porte-parole de l'armée", "La mission des Nations unies",
            "Le ministre de la Santé", "Une organisation humanitaire", "Le maire de la commune",
            "Un responsable local", "La coordination des éleveurs", "Le syndicat des enseignants"],
    "did": ["a annoncé", "a confirmé", "a démenti", "a dénoncé", "a salué", "a précisé", "a rappelé"],
    "what": ["la réouverture des écoles", "l'arrivée de vivres", "la fermeture de la frontière",
             "le report du scrutin", "une campagne de vaccination", "la libération d'otages",
             "la reprise du trafic routier", "des pluies exceptionnelles", "la hausse du prix du mil"],
    "where": ["à Gao", "à Mopti", "à Tombouctou", "près de Kidal", "à Niamey", "à Agadez",
              "dans la région de Ménaka", "à Ouagadougou", "autour de Djibo", "à Tillabéri"],
    "when": ["lundi", "mardi soir", "mercredi matin", "jeudi", "vendredi", "samedi", "dimanche"],
    "why": ["selon des sources concordantes", "d'après un communiqué officiel", "selon des habitants",
            "d'après des témoins joints par téléphone", "selon un bilan provisoire"],
}  # fmt: skip
_AR = {
    "who": ["أعلن حاكم المنطقة", "قال متحدث باسم الجيش", "أكدت بعثة الأمم المتحدة", "أوضح وزير الصحة",
            "ذكرت منظمة إنسانية", "صرح رئيس البلدية", "أفاد مسؤول محلي"],
    "what": ["إعادة فتح المدارس", "وصول قافلة مساعدات غذائية", "إغلاق الحدود", "تأجيل الانتخابات",
             "إطلاق حملة تطعيم", "الإفراج عن رهائن", "استئناف حركة النقل", "ارتفاع أسعار الدخن"],
    "where": ["في غاو", "في موبتي", "في تمبكتو", "قرب كيدال", "في نيامي", "في أغاديس", "في واغادوغو"],
    "when": ["يوم الاثنين", "مساء الثلاثاء", "صباح الأربعاء", "يوم الخميس", "يوم الجمعة", "يوم السبت"],
    "why": ["بحسب مصادر متطابقة", "وفق بيان رسمي", "بحسب سكان محليين", "وفق حصيلة أولية"],
}  # fmt: skip


def french_paragraphs(seed: int, count: int = 6) -> list[str]:
    """`count` French sentences, different for every seed."""
    rnd = random.Random(seed)
    return [
        f"{rnd.choice(_FR['who'])} {rnd.choice(_FR['did'])} {rnd.choice(_FR['when'])} {rnd.choice(_FR['what'])} "
        f"{rnd.choice(_FR['where'])}, {rnd.choice(_FR['why'])}, et {rnd.choice(_FR['what'])} "
        f"{rnd.choice(_FR['where'])} reste attendue {rnd.choice(_FR['when'])}."
        for _ in range(count)
    ]


def arabic_paragraphs(seed: int, count: int = 6) -> list[str]:
    """`count` Arabic sentences, different for every seed."""
    rnd = random.Random(seed)
    return [
        f"{rnd.choice(_AR['who'])} {rnd.choice(_AR['when'])} {rnd.choice(_AR['what'])} {rnd.choice(_AR['where'])}، "
        f"{rnd.choice(_AR['why'])}، فيما يُنتظر {rnd.choice(_AR['what'])} {rnd.choice(_AR['where'])}."
        for _ in range(count)
    ]
