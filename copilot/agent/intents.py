"""Reading a customer message without a model: does it need this customer's order data,
which order numbers does it name, which language is it in.

Used by the offline `rules` provider (the fixed workflow) and by the context gate.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Topic(StrEnum):
    ORDER_STATUS = "order_status"  # where is my order, when will it arrive, refund status
    HOURS = "hours"
    RETURNS = "returns"
    SHIPPING = "shipping"
    PASSWORD = "password"
    OTHER = "other"


ORDER_NUMBER = re.compile(
    r"""
    (?:
        \#\s?(?P<hash>[A-Z0-9][A-Z0-9-]{2,})                       # #1042, #DEMO-1042
      | \b(?:order|commande|purchase|achat|bestellung|pedido)
        \s*(?:number|no\.?|nr\.?|num(?:e|é)ro|n°|n[o°]\.?|id)?\s*[:#]?\s*
        (?P<word>[A-Z]{0,6}-?\d{3,}[A-Z0-9-]*)                     # order 1042, commande n° 1042
      | \b(?P<prefixed>[A-Z]{2,6}-\d{3,})\b                        # DEMO-1042
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)


def order_numbers_in(text: str) -> tuple[str, ...]:
    """Order references in `text`, upper-cased, in order of appearance, without repeats."""
    found: list[str] = []
    for match in ORDER_NUMBER.finditer(text):
        value = (match.group("hash") or match.group("word") or match.group("prefixed")).upper()
        value = value.rstrip("-")
        if value not in found:
            found.append(value)
    return tuple(found)


def _fold(text: str) -> str:
    """Lower-case without accents, so 'où' and 'ou', 'reçu' and 'recu' match alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_FRENCH_MARKERS = re.compile(
    r"\b(bonjour|merci|commande|colis|je|mon|ma|mes|est|pas|recu|livraison|ou en est|"
    r"quand|cordialement|s'il vous plait|votre|vous)\b"
)


def language_of(text: str) -> str:
    """'fr' or 'en': enough for the reply templates."""
    hits = len(_FRENCH_MARKERS.findall(_fold(text)))
    return "fr" if hits >= 2 else "en"


_ORDER_STATUS = re.compile(
    r"""
    \bwhere(?:'?s|\s+is|\s+are)?\b.{0,30}\b(order|package|parcel|item|items|delivery|purchase|stuff|shipment|article|product)
  | \b(track|tracking|trace)\b
  | \b(eta|arrive|arrival|arriving|deliver(?:ed|y)?\s+(?:date|time|yet)|shipped\s+yet|ship(?:ped)?\s+yet)\b
  | \bhow\s+(?:soon|long)\b.{0,40}\b(order|package|parcel|item|delivery|purchase|product|article|arrive|get|receive|expect)
  | \b(?:not|never|still\s+not|haven'?t|didn'?t|did\s+not)\s+(?:yet\s+)?(?:received|arrived|got|get|gotten)\b
  | \b(status|state)\s+of\s+(?:my|the|an?)\b.{0,20}\b(order|purchase|package|parcel|delivery|refund|reimbursement|shipment)
  | \b(order|purchase|package|parcel|shipment|refund)\s+status\b
  | \b(waiting|wait)\s+(?:for|on)\b.{0,40}\b(order|package|parcel|delivery|refund|reimbursement|rebate|compensation|restitution|money)
  | \bexpect(?:ing)?\b.{0,30}\b(refund|reimbursement|rebate|compensation|restitution|money\s+back|order|package|parcel|item|product|article|delivery)
  | \b(?:when|has)\b.{0,40}\b(?:refund|reimbursement|rebate)\b.{0,30}\b(?:arrive|processed|come|go\s+through|be\s+paid|be\s+credited)
  | \b(?:ou\s+en\s+est|suivi|suivre|pas\s+(?:encore\s+)?recu|jamais\s+recu|toujours\s+pas|quand\s+(?:vais|va|est-ce|arrivera|sera)|ou\s+est\s+(?:ma|mon))\b
  | \b(?:colis|livraison)\b.{0,40}\b(?:retard|arrive|bloque|perdu)
    """,
    re.VERBOSE,
)

_TOPICS: tuple[tuple[Topic, re.Pattern[str]], ...] = (
    (
        Topic.HOURS,
        re.compile(
            r"\b(opening hours|open(?:ing)? times?|business hours|horaires?|are you open)\b"
        ),
    ),
    (
        Topic.RETURNS,
        re.compile(r"\b(return policy|returns? policy|retours?|how (?:do|can) i return)\b"),
    ),
    (Topic.PASSWORD, re.compile(r"\b(password|mot de passe|log ?in|sign ?in|connexion)\b")),
    (
        Topic.SHIPPING,
        re.compile(
            r"\b(shipping (?:options|methods|costs?)|delivery options|frais de port|modes? de livraison)\b"
        ),
    ),
)


def topic_of(text: str) -> Topic:
    """The question a message asks, as far as a fixed workflow can tell."""
    folded = _fold(text)
    if _ORDER_STATUS.search(folded):
        return Topic.ORDER_STATUS
    for topic, pattern in _TOPICS:
        if pattern.search(folded):
            return topic
    return Topic.OTHER


def needs_order_data(text: str) -> bool:
    """Whether a good answer depends on this customer's own order."""
    return topic_of(text) is Topic.ORDER_STATUS
