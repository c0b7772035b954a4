"""Reading a customer message without a model: does it need this customer's order data,
which order numbers does it name, which language is it in.

Used by the offline `rules` provider (the fixed workflow) and by the context gate.

The order-status decision works on *concept families* rather than phrases: each word of
the message is mapped (exactly, or within one typo for longer words) to a family such as
"a thing that was ordered", "a refund", "where / status / tracking", "not received",
"how long / when", "general information". A message needs the customer's own order data
when it asks about the progress of *their* order, shipment or refund; questions about
policies, options, fees or how to do something stay general. Quoted replies and
signatures are removed first, so a long email is judged on what the customer wrote now.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache


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
    r"\b(bonjour|bonsoir|salut|merci|commande|colis|je|j|mon|ma|mes|est|sont|pas|recu|livraison|"
    r"ou en est|quand|quel|quels|quelle|quelles|pourquoi|comment|cordialement|s'il vous plait|"
    r"svp|votre|vos|vous|avez|les|des|une|du|aux|pour|avec|dans|mais|toujours|encore)\b"
)
_ENGLISH_MARKERS = re.compile(
    r"\b(hello|hi|hey|thanks|thank|please|the|my|is|are|where|what|when|why|how|you|your|i|"
    r"have|has|order|with|for|and|not|yet|still|can|could|would)\b"
)


def language_of(text: str, default: str = "en") -> str:
    """'fr' or 'en', whichever has more of its common words; `default` when neither shows."""
    folded = _fold(text)
    french = len(_FRENCH_MARKERS.findall(folded))
    english = len(_ENGLISH_MARKERS.findall(folded))
    if french == english:
        return default if default in {"fr", "en"} else "en"
    return "fr" if french > english else "en"


# --- what the customer wrote now ----------------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^\s*(?:on\b.{0,200}\bwrote\s*:|le\b.{0,200}\ba\s+ecrit\s*:|-{2,}\s*original message"
    r"|-{2,}\s*message d'origine|from:\s|de\s*:\s|sent from my|envoye de mon)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:--\s*$|best(?:\s+regards)?[,!.]?\s*$|kind regards|regards[,!.]?\s*$|cheers[,!.]?\s*$"
    r"|thanks?(?:\s+you)?(?:\s+in\s+advance)?[,!.]?\s*$|many thanks[,!.]?\s*$"
    r"|sincerely|cordialement|bien cordialement|bien a vous|merci d'avance[,!.]?\s*$"
    r"|merci[,!.]?\s*$|bonne journee[,!.]?\s*$)",
    re.IGNORECASE,
)


def customer_words(text: str) -> str:
    """`text` folded, without quoted earlier messages and without the sign-off and signature."""
    kept: list[str] = []
    for line in _fold(text).splitlines():
        if line.lstrip().startswith(">") or _QUOTE_HEADER.match(line):
            break
        if kept and _SIGN_OFF.match(line):
            break
        kept.append(line)
    return "\n".join(kept)


# --- concept families ---------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FAMILIES: dict[str, tuple[str, ...]] = {
    # something the customer ordered
    "thing": _words(
        "order orders purchase purchases package packages parcel parcels shipment shipments "
        "delivery deliveries item items article articles product products stuff goods "
        "commande commandes colis achat achats paquet paquets envoi article produit produits "
        "bestellung pedido ordered bought achete achetee"
    ),
    "refund": _words(
        "refund refunds refunded refunding reimbursement reimbursements reimburse reimbursed "
        "restitution rebate rebates compensation remboursement remboursements rembourse "
        "rembourser avoir"
    ),
    "status": _words("status statut state etat progress update updates news nouvelles"),
    "track": _words(
        "track tracking tracked trace locate locating located suivi suivre tracer localiser"
    ),
    "eta": _words("eta estimated"),
    "arrive": _words(
        "arrive arrives arrived arriving arrival deliver delivered receive received "
        "recu recue recus recois recevoir recevrai livre livree livres arrivee arriver arrivera "
        "coming came"
    ),
    "ship": _words(
        "ship shipped shipping sent dispatched dispatch posted expedie expediee expedies "
        "envoye envoyee expedition partie parti"
    ),
    "duration": _words("long soon period periods timeframe delai delais duree"),
    "when": _words("when quand"),
    "where": _words("where"),
    "wait": _words("waiting wait awaiting expect expecting expected attends attendre attente"),
    "negation": _words(
        "not never haven hasn didn don doesn isn wasn hasnt havent didnt doesnt "
        "pas jamais aucune aucun"
    ),
    # it should have happened by now
    "pending": _words("still yet toujours encore"),
    "processed": _words("processed process issued credited paid traite traitee vire"),
    # something went wrong on the way
    "trouble": _words(
        "stuck lost missing delayed late problem moved bloque perdu perdue retard probleme manquant"
    ),
    "returning": _words("return returns retour retours retourner"),
    # general questions: what is possible, what it costs, how it usually works
    "general": _words(
        "options option methods method policy policies fee fees charge charges penalty "
        "penalties cost costs price prices usually normally generally typically "
        "countries modes mode politique conditions frais tarif tarifs"
    ),
    # things a customer may not receive that are not a shipment
    "account": _words(
        "email mail code link password invoice invoices receipt confirmation newsletter "
        "account verification bill facture address adresse profile details"
    ),
}
_WORD_FAMILY: dict[str, str] = {
    word: family for family, words in _FAMILIES.items() for word in words
}
# Real words one typo away from a family word; they must not be read as that word.
_NOT_TYPOS = frozenset(
    _words(
        "there here older border truck trick stats states statue along belong lounge sound "
        "soft shop ships shipper tracks whole words world cost writing"
    )
)
_FUZZY_MIN_LENGTH = 5


def _within_one_edit(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours turns `a` into `b`."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


@lru_cache(maxsize=20_000)
def _family_of(word: str) -> str | None:
    """The family of `word`, allowing one typo in words of five letters or more (and one
    dropped letter from the words for an order: 'ordr', 'oder')."""
    family = _WORD_FAMILY.get(word)
    if family or len(word) < _FUZZY_MIN_LENGTH - 1 or word in _NOT_TYPOS:
        return family
    for known, known_family in _WORD_FAMILY.items():
        if len(known) < _FUZZY_MIN_LENGTH or len(word) < len(known) - 1:
            continue
        if len(word) < _FUZZY_MIN_LENGTH and (
            known_family != "thing" or len(known) != len(word) + 1
        ):
            continue
        if _within_one_edit(word, known):
            return known_family
    return None


_WORD = re.compile(r"[a-z0-9$€£]+")
_WHERE_IS = re.compile(
    r"\bwhere(?:'?s|\s+(?:is|are|has|have|did))\b|\bou\s+(?:est|sont|en\s+est)\b"
)
_HOW_TO = re.compile(
    r"\b(?:how\s+(?:do|can|could|to)\s+i\s+(?:return|order|buy|place|change|cancel|pay)"
    r"|where\s+(?:can|could|do|to)\s+i?\s*(?:buy|order|purchase|acquire|shop|earn|enter|set|add"
    r"|leave|write|post|change|edit|update|sign|register|log))"
)
_AMOUNT = re.compile(r"[$€£]\s?\d|\d\s?(?:[$€£]|dollars?|euros?|eur|usd)\b")
_MY_THING = re.compile(r"\b(?:my|our|ma|mon|mes|notre|nos)\s+(\w+)(?:\s+(\w+))?")
_POSSESSIVE = re.compile(r"\b(?:my|our|mine|ma|mon|mes|notre|nos)\b")


def _families(text: str) -> set[str]:
    return {family for word in _WORD.findall(text) if (family := _family_of(word))}


def needs_order_data(text: str) -> bool:
    """Whether a good answer depends on this customer's own order, shipment or refund."""
    words = customer_words(text)
    found = _families(words)
    general = "general" in found
    mine = bool(_POSSESSIVE.search(words))
    my_thing = any(_family_of(match.group(1)) == "thing" for match in _MY_THING.finditer(words))
    shipment = found & {"thing", "ship", "arrive"}
    about_order = bool(shipment) or bool(order_numbers_in(words))
    if _HOW_TO.search(words) and not found & {"status", "track", "eta", "wait"}:
        return False
    if "refund" in found and not general:
        # A refund the customer is owed: whether it came, when, where it stands.
        progress = {"wait", "status", "track", "processed", "arrive", "negation", "trouble"}
        progress.add("pending")
        specific = mine or bool(_AMOUNT.search(words)) or bool(order_numbers_in(words))
        if found & progress or (specific and found & {"when", "duration"}):
            return True
        if _WHERE_IS.search(words) or re.search(r"\b(?:anything|something)\s+new\b", words):
            return True
    if general:
        return False
    if found & {"track", "eta"}:
        return True
    if "status" in found and (
        about_order or "refund" in found or (mine and "account" not in found)
    ):
        return True
    if "where" in found and (about_order and (mine or _WHERE_IS.search(words))):
        return True
    if _WHERE_IS.search(words) and mine:
        return True
    if my_thing and "account" not in found:
        # "my order", "ma commande": a question about their own order, not a general one.
        return True
    if "pending" in found and shipment:
        return True
    if "trouble" in found and shipment and "account" not in found:
        return True
    if "negation" in found and "arrive" in found and "account" not in found:
        return True
    if "arrive" in found and "thing" in found and "account" not in found:
        return True
    if "duration" in found and shipment and not ("returning" in found and not mine):
        return True
    if "when" in found and (found & {"arrive", "ship"} or (mine and "thing" in found)):
        return True
    if "wait" in found and (shipment or mine):
        return True
    return "ship" in found and "negation" in found and "thing" in found


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
    if needs_order_data(text):
        return Topic.ORDER_STATUS
    folded = customer_words(text)
    for topic, pattern in _TOPICS:
        if pattern.search(folded):
            return topic
    return Topic.OTHER
