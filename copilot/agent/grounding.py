"""Checks the order facts a draft states against what the run actually saw.

The facts that matter in a support reply about an order are order numbers, tracking
numbers and other references, carriers, dates (absolute, weekdays, relative), amounts,
statuses and the items ordered. Each one found in the draft is looked up in the sources:
the tool results of the run, the ticket, and the brand's own text (knowledge snippets,
signature) the model was allowed to quote. The draft is then labelled:

- `grounded`: it states at least one fact that a tool result backs, and none unbacked;
- `generative`: it states no order fact a tool returned (a general answer, or a question);
- `unverified`: it states at least one order fact no source backs. The offsets of those
  facts are reported so the editor can highlight them.

Items. A word of the draft is an item claim only when it names a kind of product: a word
of the small English and French vocabulary `_PRODUCT_VOCABULARY` (jacket, sweater, shoes,
lamp, mug, rug..., veste, pullover, chaussures, lampe, tasse, tapis...), or the noun the
customer used for what they bought ("I ordered a blue kimono", "j'ai commandé une
veste"). Every other word is ordinary text and never checked, so "item", "parcel" or
"patience" are never flagged. Words compare case- and accent-folded, singular and plural
alike. When the fetched orders list their items, an item claim is backed only by the item
titles of those orders (any of them): the same word, a synonym or translation of it (the
vocabulary groups "veste", "coat" and "jacket"), or a generic word of the same family
("shoes" for "Leather boots", "clothes" for any garment). The ticket does not back it
then: a customer asking about a jacket whose order holds a sweater gets "your jacket has
shipped" flagged on "jacket". When no fetched order lists its items, the ticket or the
brand's text backs an item the same way.

Dates. An absolute date (2026-11-28, 28/11, November 28, 28 novembre) must be a date of
a source; a weekday written with it ("Friday, November 28") must also be that date's.
Weekdays and relative expressions, in English and French, are resolved against the
run's date `today` into the days they can mean:

- today / tonight / aujourd'hui: today; tomorrow / demain: today + 1; yesterday / hier:
  today - 1; the day after tomorrow / après-demain: today + 2; and so on;
- in N days / dans N jours: today + N (N working days also spans the weekends between);
  within N days / d'ici N jours / sous N jours: today to today + N; N days ago / il y a N
  jours: today - N; weeks likewise, give or take three days; in a few days / dans
  quelques jours: the coming week;
- this / next / last week, cette semaine / la semaine prochaine / dernière: that
  calendar week, Monday to Sunday; this weekend / ce week-end: its Saturday and Sunday;
  the end of the week: today to Sunday;
- a weekday alone ("on Friday", "vendredi"): the last or the next one, within a week;
  next Friday / vendredi prochain: either of the next two; last Friday / vendredi
  dernier: either of the previous two; by Friday / d'ici vendredi: any day until then.

A bare weekday or "this week" takes its direction from its sentence: future wording
(will, should, expected, devrait, prévue...) keeps today and later only, past wording
(was, has been, a été...) today and earlier only. Such a fact is backed by a dated field
of the tool results that falls on one of its days: an order's `estimated_delivery`, a
carrier's `expected_delivery`, a tracking event's `time`, an order's `created_at` or
`cancelled_at` (other timestamps, such as when the carrier was asked, date nothing);
"today" is also backed by an `out_for_delivery` status. The ticket backs it when the
customer wrote the same expression or weekday, or a date among its days; the brand's
text only when the draft quotes it ("within 30 days", "Monday to Friday"). A date in a
sentence about the team's own replies ("we will get back to you tomorrow", "notre équipe
répond du lundi au vendredi") is no order fact, and neither is "Black Friday", "Cyber
Monday" or "Good Friday".

Statuses. A status word is backed by the statuses the tools returned; a negated one ("not
delivered yet", "pas encore livré") by any status that does not wholly mean it. A
delivery status the shop's data backs is still unverified when the carrier's own report
for that order contradicts it (`carrier_contradictions`), unless the draft also says
what the carrier reports. When the brand hides shipments, the order's `status_conflict`
finding (`orders.quality`) stands for the carrier's report.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from typing import Any

from django.utils import timezone

from copilot.text import fold
from orders.quality import STATUS_CONFLICT
from orders.schema import ORDER_NUMBER, normalize_order_number

GROUNDED = "grounded"
GENERATIVE = "generative"
UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Fact:
    start: int
    end: int
    text: str
    # order_number | tracking_number | reference | carrier | date | weekday | relative_date
    # | amount | status | item
    kind: str


@dataclass(frozen=True)
class GroundingReport:
    label: str
    unverified: tuple[Fact, ...] = ()
    verified: tuple[Fact, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The shape stored on the `grounding_check` span."""
        return {"label": self.label, "unverified": [asdict(fact) for fact in self.unverified]}


CARRIERS = (
    "DHL",
    "UPS",
    "FedEx",
    "USPS",
    "La Poste",
    "Colissimo",
    "Chronopost",
    "DPD",
    "GLS",
    "Royal Mail",
    "Hermes",
    "Evri",
    "Mondial Relay",
    "PostNL",
    "bpost",
    "TNT",
    "Canada Post",
    "Australia Post",
    "Amazon Logistics",
    "Poste Italiane",
    "Correos",
)
_CARRIER = re.compile(
    r"\b(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in CARRIERS) + r")\b",
    re.IGNORECASE,
)
# The value holds a digit: "tracking update", "suivi depuis" are words, not numbers.
_TRACKING = re.compile(
    r"(?:tracking|suivi|colis)\s*(?:number|no\.?|code|id|num(?:e|é)ro|n°)?\s*(?:is|est|:)?\s*"
    r"(?P<value>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,39})\b",
    re.IGNORECASE,
)
# A bare code: mixes letters and digits, or a long run of digits (most tracking numbers).
_CODE = re.compile(r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{5,}\b|\b\d{8,}\b")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "janvier", "janv"),
            ("february", "feb", "fevrier", "février", "fevr", "févr"),
            ("march", "mar", "mars"),
            ("april", "apr", "avril", "avr"),
            ("may", "mai"),
            ("june", "jun", "juin"),
            ("july", "jul", "juillet", "juil"),
            ("august", "aug", "aout", "août"),
            ("september", "sep", "sept", "septembre"),
            ("october", "oct", "octobre"),
            ("november", "nov", "novembre"),
            ("december", "dec", "decembre", "décembre", "déc"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_ACCENTED = {"a": "[aàâä]", "c": "[cç]", "e": "[eéèêë]", "i": "[iîï]", "o": "[oôö]", "u": "[uùûü]"}
_NOT_IN_KEY = re.compile(r"[\s\-'\u2019]+")


def _loose(phrase: str) -> str:
    """A pattern for `phrase` (written folded) that accepts its accents, any spacing, a
    missing or spaced hyphen and either apostrophe."""
    parts = []
    for char in phrase:
        if char == " ":
            parts.append(r"\s+")
        elif char == "-":
            parts.append(r"[-\s]?")
        elif char == "'":
            parts.append("['\u2019]")
        else:
            parts.append(_ACCENTED.get(char, re.escape(char)))
    return "".join(parts)


def _trie(phrases: Iterable[str]) -> str:
    """A pattern for any of `phrases` (as `_loose` reads them), factored by their common
    beginnings: at each position the regex engine then tries a letter or two, not every
    phrase, which keeps these long lists cheap on every draft."""
    root: dict[str, Any] = {}
    for phrase in phrases:
        node = root
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [_loose(char) + pattern(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # Where a phrase ends, the longer ones that go on are optional (and tried first).
        return f"(?:{body})?" if "" in node else body

    return pattern(root)


_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "lundi"),
            ("tuesday", "mardi"),
            ("wednesday", "mercredi"),
            ("thursday", "jeudi"),
            ("friday", "vendredi"),
            ("saturday", "samedi"),
            ("sunday", "dimanche"),
        )
    )
    for name in names
}
_WEEKDAY = _trie(_WEEKDAYS)
_DATE = re.compile(
    r"\b(?P<iso>(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2}))"
    r"|\b(?P<dmy>(?P<d2>\d{1,2})[/.](?P<m2>\d{1,2})(?:[/.](?P<y2>\d{2,4}))?)\b"
    rf"|\b(?P<md>(?P<mn3>{_MONTH})\.?\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y3>\d{{4}}))?)\b"
    rf"|\b(?P<dm>(?P<d4>\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?P<mn4>{_MONTH})\.?(?:\s+(?P<y4>\d{{4}}))?)\b",
    re.IGNORECASE,
)
# A weekday written before a date is part of it: "Friday, November 28", "vendredi 28 novembre".
_NAMED_DAY = rf"\b(?P<wd>{_WEEKDAY}),?\s+(?:the\s+|le\s+)?"
_WEEKDAY_BEFORE = re.compile(_NAMED_DAY + "$", re.IGNORECASE)
_WEEKDAY_PREFIX = re.compile(_NAMED_DAY, re.IGNORECASE)
_AMOUNT = re.compile(
    r"(?:[$€£]\s?(?P<a>\d[\d,. ]*\d|\d)|(?P<b>\d[\d,. ]*\d|\d)\s?(?:[$€£]|EUR|USD|GBP|CHF|CAD|euros?|dollars?)\b)",
    re.IGNORECASE,
)
_STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "delivered": ("delivered", "livrée", "livré", "livree", "livre"),
    "in_transit": ("in transit", "on its way", "on the way", "en route", "en transit", "en chemin"),
    "out_for_delivery": ("out for delivery", "en cours de livraison"),
    "shipped": ("shipped", "dispatched", "expédiée", "expédié", "expediee", "expedie"),
    "cancelled": ("cancelled", "canceled", "annulée", "annulé", "annulee", "annule"),
    "refunded": ("refunded", "remboursée", "remboursé", "remboursee", "rembourse"),
    "returned": ("returned", "retournée", "retourné"),
    "delivery_exception": ("delivery problem", "incident de livraison", "held up", "retenue"),
}
# Which stored order statuses back a status phrase in the draft.
_STATUS_BACKED_BY: dict[str, frozenset[str]] = {
    "delivered": frozenset({"delivered"}),
    "in_transit": frozenset({"in_transit", "out_for_delivery", "partially_shipped"}),
    "out_for_delivery": frozenset({"out_for_delivery"}),
    "shipped": frozenset(
        {"in_transit", "out_for_delivery", "delivered", "partially_shipped", "delivery_exception"}
    ),
    "cancelled": frozenset({"cancelled"}),
    "refunded": frozenset({"refunded", "partially_refunded"}),
    "returned": frozenset({"returned"}),
    "delivery_exception": frozenset({"delivery_exception"}),
}
_STATUS = re.compile(
    r"\b(?:"
    + "|".join(
        sorted(
            (re.escape(w).replace(r"\ ", r"\s+") for ws in _STATUS_WORDS.values() for w in ws),
            key=len,
            reverse=True,
        )
    )
    + r")(?!\w)",
    re.IGNORECASE,
)
_PHRASE_STATUS = {
    re.sub(r"\s+", " ", w.lower()): status for status, ws in _STATUS_WORDS.items() for w in ws
}


# --- weekdays and relative dates ------------------------------------------------------------


def _key(text: str) -> str:
    """An expression as compared: folded, without spaces, hyphens or apostrophes."""
    return _NOT_IN_KEY.sub("", fold(text))


_Days = tuple[dt.date, dt.date]  # the first and the last day an expression can mean


def _days(first: int, last: int) -> Callable[[dt.date], _Days]:
    return lambda today: (today + dt.timedelta(first), today + dt.timedelta(last))


def _week(offset: int, first: int = 0, last: int = 6) -> Callable[[dt.date], _Days]:
    def days(today: dt.date) -> _Days:
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)
        return monday + dt.timedelta(first), monday + dt.timedelta(last)

    return days


def _rest_of_week(today: dt.date) -> _Days:
    return today, today + dt.timedelta(days=6 - today.weekday())


# Relative expressions written as phrases (folded; `_loose` accepts their accents).
_RELATIVE_PHRASES: dict[str, Callable[[dt.date], _Days]] = {
    phrase: days
    for phrases, days in (
        (
            (
                "today",
                "tonight",
                "this morning",
                "this afternoon",
                "this evening",
                "later today",
                "aujourd'hui",
                "ce soir",
                "ce matin",
                "cet apres-midi",
                "dans la journee",
                "dans la soiree",
            ),
            _days(0, 0),
        ),
        (("tomorrow", "demain"), _days(1, 1)),
        (("the day after tomorrow", "apres-demain"), _days(2, 2)),
        (("yesterday", "hier"), _days(-1, -1)),
        (("the day before yesterday", "avant-hier"), _days(-2, -2)),
        (("in a couple of days", "within a couple of days"), _days(1, 3)),
        (
            (
                "in a few days",
                "within a few days",
                "in the next few days",
                "over the next few days",
                "in the coming days",
                "dans quelques jours",
                "d'ici quelques jours",
                "sous quelques jours",
                "dans les prochains jours",
                "dans les jours qui viennent",
            ),
            _days(1, 7),
        ),
        (("a few days ago", "a couple of days ago", "il y a quelques jours"), _days(-7, -1)),
        (("this week", "cette semaine"), _week(0)),
        (
            (
                "later this week",
                "end of the week",
                "end of this week",
                "fin de semaine",
                "fin de la semaine",
                "d'ici la fin de la semaine",
            ),
            _rest_of_week,
        ),
        (
            (
                "next week",
                "early next week",
                "la semaine prochaine",
                "semaine prochaine",
                "debut de semaine prochaine",
                "en debut de semaine prochaine",
            ),
            _week(1),
        ),
        (("last week", "la semaine derniere", "la semaine passee"), _week(-1)),
        (("this weekend", "the weekend", "ce week-end"), _week(0, 5, 6)),
        (("next weekend", "le week-end prochain"), _week(1, 5, 6)),
    )
    for phrase in phrases
}
_RELATIVE_DAYS = {_key(phrase): days for phrase, days in _RELATIVE_PHRASES.items()}
# Expressions that say no direction: their sentence gives it (see `_direction`).
_UNDIRECTED = frozenset(
    _key(phrase) for phrase in ("this week", "cette semaine", "this weekend", "the weekend")
)
_UNTIL_WORDS = ("by", "before", "until", "no later than", "d'ici", "avant", "jusqu'a")
_BY = rf"(?:(?P<by>{_trie(_UNTIL_WORDS)})\s+)?"
_UNTIL = frozenset(_key(word) for word in _UNTIL_WORDS)
# The patterns of weekdays and relative dates read lower-cased text (see `_lowered`):
# without IGNORECASE they cost half as much, and they run on every draft.
_RELATIVE = re.compile(rf"\b{_BY}(?P<phrase>{_trie(_RELATIVE_PHRASES)})(?!\w)")
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
}
_N = rf"(?:\d{{1,2}}|{_trie(_NUMBERS)})"
_PREPOSITIONS = _trie(("in", "within", "under", "dans", "d'ici", "sous", "en"))
_MODIFIERS = _trie(("this coming", "coming", "next", "this", "last", "ce", *_UNTIL_WORDS))
_TO = r"\s*(?:-|\u2013|to|or|à|ou)\s*"
# "in 2 days", "within 3-5 working days", "dans 2 jours ouvrés", "2 days ago", "il y a 3 jours".
_PERIOD = re.compile(
    rf"\b(?:(?P<prep>{_PREPOSITIONS})\s+"
    r"(?:the\s+next\s+|les\s+)?"
    rf"(?P<n1>{_N})(?:{_TO}(?P<n2>{_N}))?\s+(?P<working>(?:working|business)\s+)?"
    rf"(?P<unit>days?|weeks?|jours?|semaines?)(?P<ouvres>\s+ouvr(?:[ée]s?|ables?))?"
    rf"(?:\s+(?:or|ou)\s+(?P<n3>{_N}))?(?!\w)"
    rf"|(?P<n4>{_N})(?:{_TO}(?P<n5>{_N}))?\s+(?P<unit_ago>days?|weeks?)\s+ago\b"
    rf"|il\s+y\s+a\s+(?P<n6>{_N})(?:{_TO}(?P<n7>{_N}))?\s+(?P<unit_fr>jours?|semaines?)(?!\w))"
)
_WITHIN = frozenset({"within", "under", "dici", "sous", "en"})
_WEEKDAY_FACT = re.compile(
    r"(?<!black )(?<!cyber )(?<!good )"  # sales and holidays, not days
    rf"\b(?:(?P<mod>{_MODIFIERS})\s+)?"
    rf"(?P<day>{_WEEKDAY})(?:\s+(?P<post>prochain|dernier))?(?!\w)"
)
# Which occurrences of a weekday an expression can mean, in days from the run's date.
_WEEKDAY_WINDOWS = {
    "thiscoming": (1, 7),
    "coming": (1, 7),
    "next": (1, 13),
    "prochain": (1, 13),
    "last": (-13, -1),
    "dernier": (-13, -1),
    "this": (-6, 6),
    "ce": (-6, 6),
    "": (-7, 7),
}
_FUTURE_WORDING = re.compile(
    r"\b(?:will|shall|should|expected|expect|expecting|estimated|scheduled|due(?!\s+to\b)"
    r"|planned|going\s+to|on\s+track|devrai[st]?|devraient|devra|sera|seront|arrivera"
    r"|arriveront|livrera|recevrez|recevra|pourra|pourrait|pr[ée]vue?s?|estim[ée]e?s?"
    r"|attendue?s?)\b|['\u2019]ll\b",
    re.IGNORECASE,
)
_PAST_WORDING = re.compile(
    r"\b(?:was|were|had|did|has\s+been|have\s+been|ago|a\s+[ée]t[ée]|ont\s+[ée]t[ée]"
    r"|[ée]tait|[ée]taient|avons|est\s+parti|est\s+arriv[ée]e?)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")
# Where a tool result dates something a draft may speak of (other timestamps, such as
# when the carrier was asked, date nothing the customer waits for).
_DATED_FIELDS = frozenset(
    {"estimated_delivery", "expected_delivery", "time", "created_at", "cancelled_at"}
)


def _number(value: str) -> int:
    return int(value) if value.isdigit() else _NUMBERS[fold(value)]


def _sentence(text: str, fact: Fact) -> tuple[int, int]:
    """Where the sentence of `text` that holds `fact` starts and ends."""
    left = 0
    for match in _SENTENCE_END.finditer(text, 0, fact.start):
        left = match.end()
    right = _SENTENCE_END.search(text, fact.end)
    return left, right.start() if right else len(text)


def _direction(text: str, fact: Fact) -> int:
    """1 when the sentence of `fact` speaks of the future only, -1 of the past only, else 0."""
    start, end = _sentence(text, fact)
    sentence = text[start:end]
    future = bool(_FUTURE_WORDING.search(sentence))
    past = bool(_PAST_WORDING.search(sentence))
    return int(future) - int(past)


def _period_days(match: re.Match[str], today: dt.date) -> _Days:
    if match["unit"]:
        first = _number(match["n1"])
        last = _number(match["n2"] or match["n3"] or match["n1"])
        unit, sign = match["unit"], 1
    else:
        low = match["n4"] or match["n6"]
        first = _number(low)
        last = _number(match["n5"] or match["n7"] or low)
        unit, sign = match["unit_ago"] or match["unit_fr"], -1
    first, last = min(first, last), max(first, last)
    if fold(unit).startswith(("week", "semaine")):
        first, last = 7 * first - 3, 7 * last + 3
    elif match["working"] or match["ouvres"]:
        last += 2 * ((last + 4) // 5)  # the weekends those working days span
    if match["prep"] and _key(match["prep"]) in _WITHIN:
        first = 0
    if sign < 0:
        first, last = -last, -first
    return today + dt.timedelta(first), today + dt.timedelta(last)


def _lowered(text: str) -> str:
    """`text` in lower case, each character where it was (the one character whose lower
    case is two, the Turkish dotted I, becomes a plain i)."""
    return text.replace("\u0130", "i").lower()


def _weekday_of(fact: Fact) -> int | None:
    match = _WEEKDAY_FACT.fullmatch(_lowered(fact.text))
    return _WEEKDAYS[match["day"]] if match else None


def _when(fact: Fact, text: str, today: dt.date, *, directed: bool = True) -> tuple[_Days, ...]:
    """The days a weekday or relative-date fact of `text` can mean, as (first, last) pairs.

    An expression that gives no direction itself ("on Friday", "this week") takes it from
    its sentence when `directed`: today and later for future wording, today and earlier
    for past wording.
    """
    undirected = False
    spans: list[_Days]
    written = _lowered(fact.text)
    if fact.kind == "weekday":
        match = _WEEKDAY_FACT.fullmatch(written)
        if match is None:
            return ()
        day = _WEEKDAYS[match["day"]]
        modifier = _key(match["mod"] or match["post"] or "")
        if modifier in _UNTIL:
            ahead = (day - today.weekday()) % 7
            return ((today, today + dt.timedelta(days=ahead)),)
        first, last = _WEEKDAY_WINDOWS.get(modifier, _WEEKDAY_WINDOWS[""])
        undirected = modifier in {"", "this", "ce"}
        spans = [
            (date, date)
            for offset in range(first, last + 1)
            if (date := today + dt.timedelta(days=offset)).weekday() == day
        ]
    elif match := _RELATIVE.fullmatch(written):
        key = _key(match["phrase"])
        first_day, last_day = _RELATIVE_DAYS[key](today)
        if match["by"]:
            first_day = min(first_day, today)
        undirected = key in _UNDIRECTED
        spans = [(first_day, last_day)]
    elif match := _PERIOD.fullmatch(written):
        spans = [_period_days(match, today)]
    else:
        return ()
    direction = _direction(text, fact) if directed and undirected else 0
    if direction > 0:
        spans = [(max(first, today), last) for first, last in spans if last >= today]
    elif direction < 0:
        spans = [(first, min(last, today)) for first, last in spans if first <= today]
    return tuple(spans)


# A sentence about the team's own contact with the customer: its dates are no order fact
# ("we will get back to you tomorrow", "our team answers Monday to Friday").
_CONTACT = re.compile(
    r"\b(?:contact\w*|reach(?:ing)?\s+out|get(?:ting)?\s+back\s+to\s+you|reply|replies"
    r"|respond\w*|answer\w*|hear\s+from|update\s+you|write\s+to\s+you|call\s+you"
    r"|recontact\w*|reviendr\w*\s+vers\s+vous|revenons\s+vers\s+vous|revenir\s+vers\s+vous"
    r"|r[ée]pond\w*|vous\s+tenir\s+inform\w*)\b",
    re.IGNORECASE,
)


def _time_facts(text: str) -> Iterator[Fact]:
    """The weekdays and relative dates `text` states about orders (overlaps left to
    `extract_facts`)."""
    lowered = _lowered(text)
    found = [
        Fact(match.start(), match.end(), text[match.start() : match.end()], kind)
        for kind, regexes in (
            ("weekday", (_WEEKDAY_FACT,)),
            ("relative_date", (_RELATIVE, _PERIOD)),
        )
        for regex in regexes
        for match in regex.finditer(lowered)
    ]
    for fact in found:
        start, end = _sentence(text, fact)
        if not _CONTACT.search(text, start, end):
            yield fact


# --- items ------------------------------------------------------------------------------------

# Kinds of product, grouped in families; within a kind, synonyms and translations. The ""
# kind holds a family's generic words, which name any product of the family. Words that
# are also ordinary words in one of the languages or a common name ("pull", "watch",
# "top", "case", "bag" (the parcel's), "shelf" (life), "clock" (around the), "couches"
# (nappies), "jean", "short", "montre", "livre", "bonnet") are left out: they would flag
# ordinary text. A customer who bought one names it, which makes it a product word then.
_PRODUCT_VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    "clothing": {
        "": ("clothes", "clothing", "garment", "outfit", "vetement", "vetements"),
        "jacket": (
            "jacket",
            "coat",
            "parka",
            "anorak",
            "raincoat",
            "blazer",
            "veste",
            "blouson",
            "manteau",
            "doudoune",
        ),
        "sweater": ("sweater", "jumper", "pullover", "cardigan", "gilet", "tricot"),
        "hoodie": ("hoodie", "hoodies", "sweatshirt"),
        "shirt": (
            "shirt",
            "t-shirt",
            "tshirt",
            "tee-shirt",
            "blouse",
            "polo",
            "chemise",
            "chemisier",
        ),
        "dress": ("dress", "robe"),
        "skirt": ("skirt", "jupe"),
        "trousers": ("trousers", "pants", "leggings", "chinos", "pantalon"),
        "socks": ("sock", "chaussette"),
        "scarf": ("scarf", "scarves", "echarpe", "foulard"),
        "gloves": ("glove", "mitten", "gant", "moufle"),
        "hat": ("hat", "beanie", "chapeau", "casquette"),
        "belt": ("belt", "ceinture"),
        "pyjamas": ("pyjamas", "pajamas", "pyjama"),
        "swimsuit": ("swimsuit", "maillot"),
    },
    "footwear": {
        "": ("shoe", "footwear", "chaussure"),
        "boots": ("boot", "botte", "bottine"),
        "sneakers": ("sneaker",),
        "sandals": ("sandal", "sandale"),
        "slippers": ("slipper", "chausson", "pantoufle"),
    },
    "bags": {
        "backpack": ("backpack", "rucksack"),
        "wallet": ("wallet", "purse", "portefeuille", "porte-monnaie"),
        "suitcase": ("suitcase", "valise"),
    },
    "home": {
        "lamp": ("lamp", "lampshade", "lampe"),
        "mug": ("mug", "tasse"),
        "rug": ("rug", "carpet", "tapis"),
        "cushion": ("cushion", "pillow", "coussin", "oreiller"),
        "blanket": ("blanket", "plaid"),
        "duvet": ("duvet", "quilt", "couette"),
        "curtain": ("curtain", "rideau"),
        "towel": ("towel", "serviette"),
        "vase": ("vase",),
        "candle": ("candle", "bougie"),
        "plate": ("plate", "assiette"),
        "bowl": ("bowl", "bol"),
        "teapot": ("teapot", "theiere"),
        "kettle": ("kettle", "bouilloire"),
        "mirror": ("mirror", "miroir"),
        "clock": ("horloge", "pendule"),
        "chair": ("chair", "armchair", "stool", "chaise", "fauteuil", "tabouret"),
        "sofa": ("sofa", "canape"),
        "table": ("table",),
        "shelf": ("bookcase", "etagere"),
    },
}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    """A word as product words compare: folded and singular ("Boxes" and "box",
    "chapeaux" and "chapeau"; both sides go through the same rule)."""
    word = fold(word)
    if len(word) > 3:
        for suffix, singular in (
            ("sses", "ss"),
            ("shes", "sh"),
            ("ches", "ch"),
            ("xes", "x"),
            ("eaux", "eau"),
            ("ies", "y"),
        ):
            if word.endswith(suffix):
                return word[: -len(suffix)] + singular
        if word.endswith("s") and not word.endswith("ss"):
            return word[:-1]
    return word


# stem -> (family, kind)
_PRODUCTS: dict[str, tuple[str, str]] = {
    _stem(form): (family, kind)
    for family, kinds in _PRODUCT_VOCABULARY.items()
    for kind, forms in kinds.items()
    for form in forms
}
# What the customer bought, in their words: "I ordered a blue kimono", "j'ai commandé une
# veste bleue". The head noun is the last word before a stop word in English, the first
# in French.
_PURCHASE = re.compile(
    r"\b(?:ordered|bought|purchased|(?:j['\u2019]ai|ai|avons|avez|a)\s+(?P<fr>command|achet)[ée]e?s?)"
    r"\s+(?:(?:a|an|the|my|some|this|these|those|two|three|four|\d+|un|une|des|le|la|les|mon"
    r"|ma|mes|ce|cet|cette|ces|deux|trois|quatre)\s+|l['\u2019])?"
    r"(?P<phrase>[^\W\d_]+(?:-[^\W\d_]+)*(?:\s+[^\W\d_]+(?:-[^\W\d_]+)*){0,2})",
    re.IGNORECASE,
)


def _stems(words: str) -> frozenset[str]:
    return frozenset(_stem(word) for word in words.split())


_PHRASE_STOP = _stems(
    "a an the this that these those it them me you your my of to on in at from for with "
    "and or but which who via through before after since about around over again here "
    "there twice back online recently last yesterday today ago day week month year "
    "le la les un une de du des en sur pour avec et ou mais qui que il elle hier jour "
    "semaine mois dernier derniere depuis chez ici deja aussi par vous votre moi"
)
_NOT_PRODUCTS = _stems(
    "order item product thing stuff something anything everything gift present pair set "
    "pack size colour color parcel package delivery commande article produit chose truc "
    "cadeau paire lot taille couleur colis livraison"
)


def _purchased(ticket_text: str) -> frozenset[str]:
    """The stems of the nouns the customer used for what they bought, generic ones left out."""
    found = set()
    for match in _PURCHASE.finditer(ticket_text):
        words = []
        for word in match["phrase"].split():
            stem = _stem(word)
            if stem in _PHRASE_STOP:
                break
            words.append(stem)
        if not words:
            continue
        head = words[0] if match["fr"] else words[-1]
        if head not in _NOT_PRODUCTS and len(head) >= 3 and not head.endswith("ly"):
            found.add(head)
    return frozenset(found)


class _Items:
    """The product words a source holds, for matching the items a draft names."""

    def __init__(self) -> None:
        self.stems: set[str] = set()
        self.kinds: set[tuple[str, str]] = set()  # (family, kind); kind "" for generic words
        self.families: set[str] = set()

    def add(self, text: str) -> None:
        for match in _WORD.finditer(text):
            word = match.group()
            forms = [word]
            if "-" in word:  # "Pull-over" also as "pullover", "pull" and "over"
                forms += [word.replace("-", ""), *word.split("-")]
            for form in forms:
                stem = _stem(form)
                self.stems.add(stem)
                if product := _PRODUCTS.get(stem):
                    self.kinds.add(product)
                    self.families.add(product[0])

    def names(self, word: str) -> bool:
        """Whether the product word `word` (of a draft) names one of these items."""
        stem = _stem(word)
        if stem in self.stems:
            return True
        product = _PRODUCTS.get(stem)
        if product is None:
            return False
        family, kind = product
        if not kind:
            return family in self.families
        return product in self.kinds or (family, "") in self.kinds


# --- statuses -----------------------------------------------------------------------------

# A status phrase preceded by a negation within two words: "not delivered", "hasn't been
# delivered yet", "n'a pas encore été livré".
_NEGATED = re.compile(
    r"(?:\b(?:not|never|no\s+longer|pas|jamais|plus)\b|n['\u2019]t\b)\W*(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
_PARTIAL = frozenset({"partially_shipped", "partially_refunded"})
# Which statuses of the carrier's own report contradict a delivery status the draft states.
_CARRIER_CONTRADICTS: dict[str, frozenset[str]] = {
    "delivered": frozenset({"delivery_exception", "returned"}),
    "in_transit": frozenset({"delivered", "delivery_exception", "returned"}),
    "out_for_delivery": frozenset({"delivered", "delivery_exception", "returned"}),
}
_CONTRADICTING = frozenset().union(*_CARRIER_CONTRADICTS.values())
# Words by which a draft reports a carrier's exception without its status phrase.
_TROUBLE = re.compile(
    r"\b(?:exception|problem|issue|incident|probl[eè]me|anomalie|souci)s?\b", re.IGNORECASE
)


def _negated(text: str, start: int) -> bool:
    return bool(_NEGATED.search(text, max(0, start - 40), start))


def _amount(value: str) -> Decimal | None:
    cleaned = value.replace(" ", "")
    if "," in cleaned and "." not in cleaned and len(cleaned.rsplit(",", 1)[1]) == 2:
        cleaned = cleaned.replace(",", ".")  # 49,00 €
    cleaned = cleaned.replace(",", "")
    try:
        return Decimal(cleaned).normalize()
    except InvalidOperation:
        return None


def _date_parts(match: re.Match[str]) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a date in the draft, or None if it is not a date."""
    parts = _raw_date_parts(match)
    if parts is None or not (1 <= parts[1] <= 12 and 1 <= parts[2] <= 31):
        return None
    return parts


def _raw_date_parts(match: re.Match[str]) -> tuple[int | None, int, int] | None:
    try:
        if match.group("iso"):
            return int(match["y"]), int(match["m"]), int(match["d"])
        if match.group("dmy"):
            year = match["y2"]
            return (
                (int(year) if year and len(year) == 4 else None),
                int(match["m2"]),
                int(match["d2"]),
            )
        if match.group("md"):
            year = match["y3"]
            return (int(year) if year else None), _MONTHS[match["mn3"].lower()], int(match["d3"])
        year = match["y4"]
        return (int(year) if year else None), _MONTHS[match["mn4"].lower()], int(match["d4"])
    except (KeyError, ValueError):
        return None


def extract_facts(text: str, *, products: frozenset[str] = frozenset()) -> list[Fact]:
    """The order facts stated in `text`, with their offsets, longest-first without overlaps.

    Items are the words of the product vocabulary and the `products` (stems, see
    `_purchased`) the customer named.
    """
    candidates: list[Fact] = []
    for match in _TRACKING.finditer(text):
        candidates.append(
            Fact(match.start("value"), match.end("value"), match["value"], "tracking_number")
        )
    for match in ORDER_NUMBER.finditer(text):
        group = next(g for g in ("hash", "word", "prefixed") if match.group(g))
        candidates.append(Fact(match.start(group), match.end(group), match[group], "order_number"))
    for match in _CODE.finditer(text):
        candidates.append(Fact(match.start(), match.end(), match.group(), "reference"))
    for match in _CARRIER.finditer(text):
        candidates.append(Fact(match.start(), match.end(), match.group(), "carrier"))
    for match in _DATE.finditer(text):
        if _date_parts(match):
            start = match.start()
            if weekday := _WEEKDAY_BEFORE.search(text, max(0, start - 20), start):
                start = weekday.start()
            candidates.append(Fact(start, match.end(), text[start : match.end()], "date"))
    for match in _AMOUNT.finditer(text):
        candidates.append(Fact(match.start(), match.end(), match.group(), "amount"))
    for match in _STATUS.finditer(text):
        candidates.append(Fact(match.start(), match.end(), match.group(), "status"))
    candidates.extend(_time_facts(text))
    for match in _WORD.finditer(text):
        stem = _stem(match.group())
        if stem in _PRODUCTS or stem in products:
            candidates.append(Fact(match.start(), match.end(), match.group(), "item"))
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    # Specific kinds win over the generic "reference" on the same characters.
    priority = {"tracking_number": 0, "order_number": 1, "amount": 2, "date": 3}
    for fact in sorted(candidates, key=lambda f: (priority.get(f.kind, 9), f.start - f.end)):
        if any(fact.start < end and start < fact.end for start, end in taken):
            continue
        taken.append((fact.start, fact.end))
        facts.append(fact)
    return sorted(facts, key=lambda f: f.start)


_TIME_KINDS = frozenset({"weekday", "relative_date"})


def _iso_day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _spaced(text: str) -> str:
    """`text` folded, its words separated by single blanks and nothing else."""
    return " ".join(_NON_WORD.split(fold(text))).strip()


_NON_WORD = re.compile(r"\W+")


class _Sources:
    """Everything a fact may be backed by, indexed by kind: the tool results (`data`, also
    given as `texts`) for a run's `today`."""

    def __init__(self, texts: Iterable[str], *, today: dt.date, data: Iterable[Any] = ()) -> None:
        self.today = today
        self.text = "\n".join(texts)
        self.folded = re.sub(r"\s+", " ", self.text.lower())  # spaces collapsed, once
        self.codes = {
            normalize_order_number(m.group())
            for m in re.finditer(r"[A-Za-z0-9#][A-Za-z0-9-]{2,}", self.text)
        }
        self.amounts = {
            a for m in re.finditer(r"\d[\d,. ]*\d|\d", self.text) if (a := _amount(m.group()))
        }
        self.dates: set[tuple[int, int, int]] = set()
        for match in _DATE.finditer(self.text):
            parts = _date_parts(match)
            if parts and parts[0]:
                self.dates.add((parts[0], parts[1], parts[2]))
        self.statuses = {s for s in re.findall(r'"status":\s*"([a-z_]+)"', self.text)}
        self.days: set[dt.date] = set()  # what the data dates, see _DATED_FIELDS
        self.items = _Items()  # the titles of the items the orders list
        for value in data:
            self._scan(value)

    def _scan(self, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key in _DATED_FIELDS and isinstance(item, str):
                    if day := _iso_day(item):
                        self.days.add(day)
                elif key == "items" and isinstance(item, list):
                    for line in item:
                        if isinstance(line, Mapping) and isinstance(line.get("title"), str):
                            self.items.add(line["title"])
                elif isinstance(item, Mapping | list):
                    self._scan(item)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping | list):
                    self._scan(item)

    def backs(
        self, fact: Fact, *, when: Sequence[_Days] = (), negated: bool = False, draft: str = ""
    ) -> bool:
        """Whether these sources back `fact` of `draft`: `when` are the days a weekday or
        relative date can mean (`_when`), `negated` says a status is denied."""
        if fact.kind in {"order_number", "tracking_number", "reference"}:
            return normalize_order_number(fact.text) in self.codes
        if fact.kind == "carrier":
            return re.sub(r"\s+", " ", fact.text.lower()) in self.folded
        if fact.kind == "amount":
            match = _AMOUNT.fullmatch(fact.text)
            value = _amount((match["a"] or match["b"]) if match else fact.text)
            return value is not None and value in self.amounts
        if fact.kind == "date":
            named = _WEEKDAY_PREFIX.match(fact.text)
            match = _DATE.fullmatch(fact.text, named.end() if named else 0)
            parts = _date_parts(match) if match else None
            if not parts:
                return False
            year, month, day = parts
            weekday = _WEEKDAYS[named["wd"].lower()] if named else None
            return any(
                (y == year or year is None)
                and m == month
                and d == day
                and (weekday is None or _weekday(y, m, d) == weekday)
                for y, m, d in self.dates
            )
        if fact.kind == "status":
            phrase = re.sub(r"\s+", " ", fact.text.lower())
            backing = _STATUS_BACKED_BY.get(_PHRASE_STATUS.get(phrase, ""), frozenset())
            # "Not shipped yet" is backed by any status that does not wholly mean shipped
            # (a partly shipped order is both shipped and not).
            if negated:
                return bool(self.statuses - (backing - _PARTIAL))
            return bool(self.statuses & backing) or phrase in self.folded
        if fact.kind in _TIME_KINDS:
            return any(
                first <= day <= last for first, last in when for day in self.days
            ) or any(  # out for delivery: today
                first == last == self.today and "out_for_delivery" in self.statuses
                for first, last in when
            )
        if fact.kind == "item":
            return self.items.names(fact.text)
        return False


def _weekday(year: int, month: int, day: int) -> int | None:
    try:
        return dt.date(year, month, day).weekday()
    except ValueError:
        return None


class _Said:
    """The dates, weekdays and expressions of time a text (the ticket) states."""

    def __init__(self, text: str, today: dt.date) -> None:
        self.expressions: set[str] = set()
        self.weekdays: set[int | None] = set()
        self.spans: list[_Days] = []
        for match in _DATE.finditer(text):
            parts = _date_parts(match)
            if parts and parts[0] and _weekday(parts[0], parts[1], parts[2]) is not None:
                day = dt.date(parts[0], parts[1], parts[2])
                self.spans.append((day, day))
        for fact in _time_facts(text):
            self.expressions.add(_key(fact.text))
            if fact.kind == "weekday":
                self.weekdays.add(_weekday_of(fact))
            self.spans.extend(_when(fact, text, today, directed=False))

    def backs(self, fact: Fact, when: Sequence[_Days]) -> bool:
        if _key(fact.text) in self.expressions:
            return True
        if fact.kind == "weekday" and _weekday_of(fact) in self.weekdays:
            return True
        return any(a <= last and first <= b for a, b in self.spans for first, last in when)


class _Given(_Sources):
    """The ticket and the brand's text. The ticket backs a weekday or relative date the
    customer wrote (or one whose days hold a date they wrote); the brand's text backs one
    only as the draft quotes it: a relative date word for word, a weekday with the word
    before or after it ("Monday to Friday"), so that opening hours back no delivery day.
    Items are backed by the words of both (`check` asks only when no order lists items).
    """

    def __init__(self, ticket_text: str, brand_texts: Sequence[str], *, today: dt.date) -> None:
        super().__init__([ticket_text, *brand_texts], today=today)
        self.ticket_text = ticket_text
        self.brand_text = "\n".join(brand_texts)

    @cached_property
    def said(self) -> _Said:
        return _Said(self.ticket_text, self.today)

    @cached_property
    def quotable(self) -> str:
        return f" {_spaced(self.brand_text)} "

    @cached_property
    def words(self) -> _Items:
        words = _Items()
        words.add(self.text)
        return words

    def backs(
        self, fact: Fact, *, when: Sequence[_Days] = (), negated: bool = False, draft: str = ""
    ) -> bool:
        if fact.kind in _TIME_KINDS:
            return self.said.backs(fact, when) or self.quoted(fact, draft)
        if fact.kind == "item":
            return self.words.names(fact.text)
        if fact.kind == "status" and negated:  # the customer's "not delivered yet"
            return re.sub(r"\s+", " ", fact.text.lower()) in self.folded
        return super().backs(fact, when=when, negated=negated, draft=draft)

    def quoted(self, fact: Fact, draft: str) -> bool:
        phrase = _spaced(fact.text)
        if fact.kind != "weekday":
            return f" {phrase} " in self.quotable
        before = _spaced(draft[max(0, fact.start - 30) : fact.start]).rpartition(" ")[2]
        after = _spaced(draft[fact.end : fact.end + 30]).partition(" ")[0]
        return any(
            f" {quote} " in self.quotable
            for quote in (f"{before} {phrase}", f"{phrase} {after}")
            if not quote.startswith(" ") and not quote.endswith(" ")
        )


def _flatten(value: Any) -> Iterator[str]:
    text = json.dumps(value, ensure_ascii=False, default=str)
    yield text
    # Timestamps also count as the date they fall on.
    for match in re.finditer(r"(\d{4}-\d{2}-\d{2})T", text):
        yield match.group(1)


def check(
    draft: str,
    *,
    tool_results: Iterable[Any],
    ticket_text: str,
    brand_texts: Iterable[str] = (),
    today: dt.date | None = None,
) -> GroundingReport:
    """Label `draft` grounded / generative / unverified against the run's sources.

    `tool_results` are the data the tools returned to the model; `ticket_text` is what the
    customer wrote; `brand_texts` are the brand's own snippets the model may quote; `today`
    is the run's date, which weekdays and relative dates are read against (the current
    date in the site's time zone when not given).
    """
    today = today or timezone.localdate()
    results = list(tool_results)
    fetched = _Sources(
        (text for result in results for text in _flatten(result)), today=today, data=results
    )
    given = _Given(ticket_text, list(brand_texts), today=today)
    facts = extract_facts(draft, products=_purchased(ticket_text))
    verified: list[Fact] = []
    unverified: list[Fact] = []
    from_tools = False
    for fact in facts:
        when = _when(fact, draft, today) if fact.kind in _TIME_KINDS else ()
        negated = fact.kind == "status" and _negated(draft, fact.start)
        if fetched.backs(fact, when=when, negated=negated, draft=draft):
            verified.append(fact)
            from_tools = True
        # When the orders list their items, an item they do not hold is not backed by the
        # customer naming it: that is the mix-up to show.
        elif (fact.kind != "item" or not fetched.items.stems) and given.backs(
            fact, when=when, negated=negated, draft=draft
        ):
            verified.append(fact)
        else:
            unverified.append(fact)
    contradicted = carrier_contradictions(draft, facts, results)
    if contradicted:
        verified = [fact for fact in verified if fact not in contradicted]
        unverified = sorted({*unverified, *contradicted}, key=lambda fact: fact.start)
        from_tools = from_tools and bool(verified)
    if unverified:
        label = UNVERIFIED
    elif from_tools:
        label = GROUNDED
    else:
        label = GENERATIVE
    return GroundingReport(label=label, unverified=tuple(unverified), verified=tuple(verified))


def carrier_contradictions(
    draft: str, facts: Sequence[Fact], tool_results: Iterable[Any]
) -> tuple[Fact, ...]:
    """The delivery statuses `draft` states that the carrier's own report contradicts.

    A status fact ("delivered", "on its way", "out for delivery", "livré"...) is
    contradicted when the carrier's report for that order (`carrier_tracking.status` of one
    of its shipments) says otherwise: an exception, a return or still moving while the draft
    says delivered; delivered, an exception or a return while it says on its way or out for
    delivery. The order is the one the fact's sentence names; when it names none, every
    fetched order must contradict the fact. A negated status ("not delivered yet") claims
    nothing to contradict, and a draft that also reports what the carrier says (that
    status's words, the carrier's own status text, "a delivery problem") is honest about it.
    `facts` are the draft's facts, as `extract_facts` returns them.
    """
    orders = [
        order
        for result in tool_results
        if isinstance(result, Mapping)
        for order in result.get("orders") or ()
        if isinstance(order, Mapping)
    ]
    reported = {
        shipment["carrier_tracking"].get("status")
        for order in orders
        for shipment in order.get("shipments") or ()
        if isinstance(shipment, Mapping) and isinstance(shipment.get("carrier_tracking"), Mapping)
    }
    if not reported & _CONTRADICTING and not any(_disputed_by_finding(o) for o in orders):
        return ()  # nothing the carrier says can contradict a draft
    stated = {
        _PHRASE_STATUS.get(re.sub(r"\s+", " ", fact.text.lower()), "")
        for fact in facts
        if fact.kind == "status" and not _negated(draft, fact.start)
    }
    if _TROUBLE.search(draft):
        stated.add("delivery_exception")
    contradicted = []
    for fact in facts:
        if fact.kind != "status" or _negated(draft, fact.start):
            continue
        status = _PHRASE_STATUS.get(re.sub(r"\s+", " ", fact.text.lower()), "")
        contradicting = _CARRIER_CONTRADICTS.get(status, frozenset()) - stated
        if not contradicting:
            continue
        start, end = _sentence(draft, fact)
        named = {
            normalize_order_number(other.text)
            for other in facts
            if other.kind == "order_number" and start <= other.start < end
        }
        about = [
            order for order in orders if normalize_order_number(str(order.get("number"))) in named
        ]
        if all(
            _carrier_reports(order, contradicting, draft) or _disputed_by_finding(order)
            for order in about or orders
        ):
            contradicted.append(fact)
    return tuple(contradicted)


def _carrier_reports(order: Mapping[str, Any], statuses: frozenset[str], draft: str) -> bool:
    """Whether the carrier reports one of `statuses` for a shipment of `order`, in words
    `draft` does not repeat."""
    for shipment in order.get("shipments") or ():
        tracking = shipment.get("carrier_tracking") if isinstance(shipment, Mapping) else None
        if not isinstance(tracking, Mapping) or tracking.get("status") not in statuses:
            continue
        detail = fold(str(tracking.get("status_detail") or "")).strip()
        if len(detail) < 4 or detail not in fold(draft):
            return True
    return False


def _disputed_by_finding(order: Mapping[str, Any]) -> bool:
    """Whether the order's data-quality findings say its shop and carrier disagree on the
    status while the carrier's report itself is not in the data (a brand that hides
    shipments): the `status_conflict` finding is then the only word of the disagreement."""
    shipments = order.get("shipments")
    if isinstance(shipments, list) and any(
        isinstance(s, Mapping) and s.get("carrier_tracking") for s in shipments
    ):
        return False
    return any(
        isinstance(finding, Mapping) and finding.get("code") == STATUS_CONFLICT
        for finding in order.get("findings") or ()
    )
