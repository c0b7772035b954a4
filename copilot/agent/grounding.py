"""Checks the order facts a draft states against what the run actually saw.

The facts that matter in a support reply about an order are order numbers, tracking
numbers and other references, carriers, dates, amounts and statuses. Each one found in
the draft is looked up in the sources: the tool results of the run, the ticket, and the
brand's own text (knowledge snippets, signature) the model was allowed to quote. The
draft is then labelled:

- `grounded`: it states at least one fact that a tool result backs, and none unbacked;
- `generative`: it states no order fact a tool returned (a general answer, or a question);
- `unverified`: it states at least one order fact no source backs. The offsets of those
  facts are reported so the editor can highlight them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from orders.schema import ORDER_NUMBER, normalize_order_number

GROUNDED = "grounded"
GENERATIVE = "generative"
UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Fact:
    start: int
    end: int
    text: str
    kind: str  # order_number | tracking_number | reference | carrier | date | amount | status


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
_TRACKING = re.compile(
    r"(?:tracking|suivi|colis)\s*(?:number|no\.?|code|id|num(?:e|é)ro|n°)?\s*(?:is|est|:)?\s*"
    r"(?P<value>[A-Z0-9][A-Z0-9-]{4,39})\b",
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
_DATE = re.compile(
    r"\b(?P<iso>(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2}))"
    r"|\b(?P<dmy>(?P<d2>\d{1,2})[/.](?P<m2>\d{1,2})(?:[/.](?P<y2>\d{2,4}))?)\b"
    rf"|\b(?P<md>(?P<mn3>{_MONTH})\.?\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y3>\d{{4}}))?)\b"
    rf"|\b(?P<dm>(?P<d4>\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?P<mn4>{_MONTH})\.?(?:\s+(?P<y4>\d{{4}}))?)\b",
    re.IGNORECASE,
)
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


def extract_facts(text: str) -> list[Fact]:
    """The order facts stated in `text`, with their offsets, longest-first without overlaps."""
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
            candidates.append(Fact(match.start(), match.end(), match.group(), "date"))
    for match in _AMOUNT.finditer(text):
        candidates.append(Fact(match.start(), match.end(), match.group(), "amount"))
    for match in _STATUS.finditer(text):
        candidates.append(Fact(match.start(), match.end(), match.group(), "status"))
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


class _Sources:
    """Everything a fact may be backed by, indexed by kind."""

    def __init__(self, texts: Iterable[str]) -> None:
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

    def backs(self, fact: Fact) -> bool:
        if fact.kind in {"order_number", "tracking_number", "reference"}:
            return normalize_order_number(fact.text) in self.codes
        if fact.kind == "carrier":
            return re.sub(r"\s+", " ", fact.text.lower()) in self.folded
        if fact.kind == "amount":
            match = _AMOUNT.fullmatch(fact.text)
            value = _amount((match["a"] or match["b"]) if match else fact.text)
            return value is not None and value in self.amounts
        if fact.kind == "date":
            match = _DATE.fullmatch(fact.text)
            parts = _date_parts(match) if match else None
            if not parts:
                return False
            year, month, day = parts
            return any(
                (y == year or year is None) and m == month and d == day for y, m, d in self.dates
            )
        if fact.kind == "status":
            status = _PHRASE_STATUS.get(re.sub(r"\s+", " ", fact.text.lower()), "")
            return bool(_STATUS_BACKED_BY.get(status, frozenset()) & self.statuses) or (
                re.sub(r"\s+", " ", fact.text.lower()) in self.folded
            )
        return False


def _flatten(value: Any) -> Iterator[str]:
    text = json.dumps(value, ensure_ascii=False, default=str)
    yield text
    # Timestamps also count as the date they fall on.
    for match in re.finditer(r"(\d{4}-\d{2}-\d{2})T", text):
        yield match.group(1)


def check(
    draft: str, *, tool_results: Iterable[Any], ticket_text: str, brand_texts: Iterable[str] = ()
) -> GroundingReport:
    """Label `draft` grounded / generative / unverified against the run's sources.

    `tool_results` are the data the tools returned to the model; `ticket_text` is what the
    customer wrote; `brand_texts` are the brand's own snippets the model may quote.
    """
    fetched = _Sources(text for result in tool_results for text in _flatten(result))
    given = _Sources([ticket_text, *brand_texts])
    verified: list[Fact] = []
    unverified: list[Fact] = []
    from_tools = False
    for fact in extract_facts(draft):
        if fetched.backs(fact):
            verified.append(fact)
            from_tools = True
        elif given.backs(fact):
            verified.append(fact)
        else:
            unverified.append(fact)
    if unverified:
        label = UNVERIFIED
    elif from_tools:
        label = GROUNDED
    else:
        label = GENERATIVE
    return GroundingReport(label=label, unverified=tuple(unverified), verified=tuple(verified))
