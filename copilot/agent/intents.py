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
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from copilot.text import fold


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
    folded = fold(text)
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
    for line in fold(text).splitlines():
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
        "cmd commande commandes colis achat achats paquet paquets envoi article produit produits "
        "bestellung pedido ordered bought achete achetee"
    ),
    "refund": _words(
        "refund refunds refunded refunding reimbursement reimbursements reimburse reimbursed "
        "restitution rebate rebates compensation remboursement remboursements rembourse "
        "rembourser avoir money"
    ),
    "status": _words(
        "status statut state etat progress processing update updates news nouvelles latest"
    ),
    "track": _words("track tracking tracked locate locating located suivi suivre localiser"),
    "eta": _words("eta estimated"),
    "arrive": _words(
        "arrive arrives arrived arriving arrival deliver delivered receive received "
        "recu recue recus recois recevoir recevrai livre livree livres arrivee arriver arrivera "
        "coming came land landed parvenu parvenue"
    ),
    "ship": _words(
        "ship shipped shipping sent dispatched dispatch posted expedie expediee expedies "
        "courier carrier dpd ups dhl fedex usps gls evri hermes colissimo chronopost livreur "
        "envoye envoyee expedition partie parti partira"
    ),
    "duration": _words("long soon period periods timeframe delai delais duree"),
    "when": _words("when quand date dates"),
    "where": _words("where"),
    "wait": _words("waiting wait awaiting expect expecting expected attends attendre attente"),
    "negation": _words(
        "not never haven hasn didn don doesn isn wasn hasnt havent didnt doesnt nothing "
        "pas jamais aucune aucun rien"
    ),
    # it should have happened by now
    "pending": _words("still yet toujours encore tjr tjrs tjs"),
    "processed": _words(
        "processed process issued credited paid done traite traitee vire effectue effectuee"
    ),
    # something went wrong on the way
    "trouble": _words(
        "stuck lost missing delayed late problem moved bloque perdu perdue retard probleme "
        "manquant echec"
    ),
    "returning": _words("return returns retour retours retourner"),
    # general questions: what is possible, what it costs, how it usually works
    "general": _words(
        "options option methods method policy policies fee fees charge charges penalty "
        "penalties cost costs price prices usually normally generally typically "
        "countries modes mode politique conditions frais tarif tarifs hiring job jobs career "
        "careers vacancy vacancies recrutement emploi candidature free gratuit gratuite "
        "offert offerte difference guarantee general stock restock restocked restocking "
        "wholesale minimum quantities trade catalogue catalog retailers reseller revendeur "
        "partnership partenariat cutoff deadline limite collect pickup retrait retirer review "
        "reviews feedback"
    ),
    # things a customer may not receive that are not a shipment
    "account": _words(
        "email mail code reset activation password invoice invoices receipt confirmation newsletter "
        "account verification bill facture address adresse profile details sms texts "
        "notifications settings"
    ),
}
_WORD_FAMILY: dict[str, str] = {
    word: family for family, words in _FAMILIES.items() for word in words
}
# Real words one typo away from a family word; they must not be read as that word.
_NOT_TYPOS = frozenset(
    _words(
        "good live lives loved there here older border truck trick stats states statue along belong lounge sound "
        "soft shop ships shipper tracks whole words world cost writing staff"
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
_NOT = r"(?:\bnot|n'?t|\bnever|\bhavent|\bhasnt|\bdidnt|\bpas)"
# Phrases that say in several words what one family word says; rewritten to that word first.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(?:got|came|made it)\s+(?:here|to me|to us)\b"
            r"|\b(?:showed|shown|turned)\s+up\b|\breached\s+(?:me|us)\b"
        ),
        " arrived ",
    ),
    (
        re.compile(
            r"\b(?:get|gets|getting|come|comes|make it)\s+(?:here|to me|to us)\b"
            r"|\b(?:show|shows|turn|turns)\s+up\b|\breach(?:es)?\s+(?:me|us)\b"
        ),
        " arrive ",
    ),
    (
        re.compile(r"\b(?:supposed|meant|due|expected)\s+to\s+(?:come|arrive|land|be\s+delivered)"),
        " expected arrive ",
    ),
    (re.compile(r"\bno\s+sign\s+of\b"), " not arrived "),
    (re.compile(rf"{_NOT}\s+come\b"), " not arrive "),
    (re.compile(r"\bstill\s+no\b"), " still not "),
    (
        re.compile(
            r"\b(?:go|goes|went|gone)\s+out\b|\b(?:has|have|did)\s+(?:it|they)\s+left\b"
            r"|\bleft\s+the\s+warehouse\b"
        ),
        " shipped ",
    ),
    (re.compile(r"\b(?:will|gonna|going\s+to)\s+come\b"), " arrive "),
    (re.compile(r"\bthan\s+(?:i\s+|we\s+)?expected\b"), " "),
    (
        re.compile(r"\bout\s+for\s+delivery\b|\bfailed\s+delivery\b|\bdelivery\s+failed\b"),
        " status ",
    ),
    # What the shop sells or offers, whoever asks: "do you still sell it", "is it tracked?"
    (
        re.compile(
            r"\b(?:do|does)\s+(?:you|u)\s+still\s+(?:sell|do|have|make|stock|carry)\b"
            r"|\bvous\s+(?:l'|les\s+)?(?:avez|vendez|faites)\s+encore\b"
            r"|\bis\s+(?:it|delivery|shipping)\s+tracked\b|\blast\s+(?:order|posting|shipping)\s+dates?\b"
        ),
        " stock ",
    ),
    (re.compile(r"\bnot\s+here\b"), " not arrive "),  # "my shoes r not here yet"
    (re.compile(rf"{_NOT}\s+(?:got|gotten|get)\b"), " not arrive "),
    (
        re.compile(
            r"\bwhat(?:'?s|\s+is)\s+(?:happening|going\s+on)\b|\bany\s+(?:news|updates?|word)\b"
            r"|\bou\s+(?:il|elle|ils|elles|ca)\s+en\s+est\b"
        ),
        " status ",
    ),
)
_SENTENCE_BREAK = re.compile(r"(?<=[.?!;])\s+|\n+")
_WHERE_IS = re.compile(
    r"\bwhere(?:'?s|\s+(?:is|are|has|have|did)|\s+(?:the|my|our|this|that|it)\b[^.?!]{0,30}\b(?:is|are)\b)"
    r"|\bou\s+(?:est|sont|en\s+est)\b"
)

# --- sentences that ask something general, whatever else the message asks ---------------

# "How do I ...?" asks how something is done, unless it is how to follow an order.
_FOLLOW_ORDER = r"(?!track|trace|check|see|know|find|follow|locate|do\s+(?:it|that|so))"
_HOW_TO = re.compile(
    rf"\bhow\s+(?:do|can|could|should|would)\s+(?:i|we|you)\s+{_FOLLOW_ORDER}\w+"
    rf"|\bhow\s+to\s+{_FOLLOW_ORDER}\w+"
    r"|\bwhere\s+(?:can|could|do|to)\s+i?\s*(?:buy|order|purchase|acquire|shop|earn|enter|set|add"
    r"|leave|write|post|change|edit|update|sign|register|log)"
)
# What the shop does for everyone: "do you ship to Germany", "vous livrez en Belgique".
_SHOP_CAPABILITY = re.compile(
    r"\b(?:which|what|quels?|quelles?)\s+(?:carriers?|couriers?|transporteurs?)\b|"
    r"\b(?:do|does)\s*(?:you|u|ya)\s+(?:guys\s+)?(?:ship|deliv|send|post|use)"
    r"|\bvous\s+(?:passez\s+par|utilisez)\b"
    r"|\b(?:vous\s+)?(?:livrez|expediez|envoyez)\b"
)
# What the app or website lets anyone do: "can I track orders in the app?".
_FEATURE = re.compile(
    r"\b(?:can\s+(?:i|we|you)|is\s+(?:it|there)|est-(?:il|ce)|peut-on|puis-je)\b"
    r".{0,60}\b(?:app|application|website|site|online|en ligne)\b"
)
# Questions about an order not placed yet: "if I order today", "si je commande avant midi".
_HYPOTHETICAL = re.compile(
    r"\bif\s+(?:i|we|u)\s+(?:order|buy|purchase|place|send)|\bsi\s+(?:je|j'|on)\s*(?:commande|passe|achete)"
    r"|\bin\s+(?:the\s+)?future\b|\bnext\s+time\b|\bprochaine\s+fois\b"
    r"|\bonce\s+(?:it|they|an?|the)\b[^.?!]{0,30}\b(?:arrives?|is\s+delivered)\b|\bbefore\s+(?:i\s+)?(?:order|buy|purchas)"
)
_NOT_YET_ORDERED = re.compile(
    rf"{_NOT}\s+(?:yet\s+|encore\s+)?(?:ordered|bought|purchased|commande|achete"
    r"|(?:placed|passe)\s+(?:the|my|an|la|ma)\s+(?:order|commande))\b"
)

# --- the order question -------------------------------------------------------------------

# Asks whether something happened: "has it shipped", "est-ce que ... expédiées", "...?".
_ASKS_WHETHER = re.compile(
    r"\?|\b(?:has|have|did|is|was|were|will|are|r)\s+(?:it|they|he|she|this|that|these|those|my|our"
    r"|the|u)\b|\best-?ce\s+que?\b|-t-(?:il|elle)\b|\b(?:ont|sont|est)-(?:ils|elles|il|elle)\b"
)
_THANKS = re.compile(
    r"\b(?:thanks?|thank you|thx|cheers|appreciated?|merci|remercie\w*|perfect|parfait|lovely)\b|👍"
)
_AMOUNT = re.compile(r"[$€£]\s?\d|\d\s?(?:[$€£]|dollars?|euros?|eur|usd)\b")
_MY_THING = re.compile(r"\b(?:my|our|ma|mon|mes|notre|nos)\s+(\w+)(?:\s+(\w+))?")
_POSSESSIVE = re.compile(r"\b(?:my|our|mine|ma|mon|mes|notre|nos)\b")


class _Context(NamedTuple):
    """What a message as a whole says, which each of its sentences may lean on."""

    my_thing: bool  # "my order", "ma commande" somewhere
    ordered: bool  # something they ordered, or an order number, is mentioned
    about_order: bool  # ... or a shipment or delivery is
    numbers: bool  # an order number is named
    refund_specific: bool  # an order number or an amount


def _families(text: str) -> set[str]:
    return {family for word in _WORD.findall(text) if (family := _family_of(word))}


def _with_phrases(text: str) -> str:
    for pattern, word in _PHRASES:
        text = pattern.sub(word, text)
    return text


def _has_my_thing(text: str) -> bool:
    """'my order', 'ma commande', but not 'my order confirmation'."""
    return any(
        _family_of(match.group(1)) == "thing"
        and (match.group(2) is None or _family_of(match.group(2)) != "account")
        for match in _MY_THING.finditer(text)
    )


_ASKS_OR_MISSES = frozenset(
    {"negation", "pending", "wait", "when", "where", "track", "eta", "status", "trouble"}
)


_DELIVERED = re.compile(
    r"\b(?:arrived|delivered|received|came|landed|recu|recue|recus|livre|livree|livres|parvenu"
    r"|parvenue)\b|\b(?:est|sont)\s+(?:\w+\s+)?arrivee?s?\b"
)


def _reports_a_delivery(sentence: str, found: set[str]) -> bool:
    """'The parcel turned up this morning': something came; nothing is asked or amiss."""
    return (
        bool(_DELIVERED.search(sentence))
        and not found & _ASKS_OR_MISSES
        and "duration" not in found
        and "?" not in sentence
    )


def _thanks_for_a_delivery(text: str, found: set[str]) -> bool:
    """'Thanks, it came the next day': a message that only reports a delivery, with thanks."""
    asks = _ASKS_OR_MISSES - {"trouble"}
    return (
        bool(_DELIVERED.search(text))
        and not found & asks
        and "?" not in text
        and bool(_THANKS.search(text))
    )


def _set_aside(sentence: str) -> bool:
    """A sentence about policies, options, prices, the app, an order not placed yet, or
    one that says a delivery came: none asks about the progress of their order."""
    found = _families(sentence)
    return (
        "general" in found
        or _reports_a_delivery(sentence, found)
        or bool(_HYPOTHETICAL.search(sentence) or _FEATURE.search(sentence))
        or bool(_HOW_TO.search(sentence) and not found & {"track", "eta", "wait", "where"})
        or bool(_SHOP_CAPABILITY.search(sentence) and not _has_my_thing(sentence))
    )


def needs_order_data(text: str) -> bool:
    """Whether a good answer depends on this customer's own order, shipment or refund.

    Sentences that ask something general or say a delivery came are set aside; what is left is judged as a whole
    and sentence by sentence, so that an unrelated word elsewhere ("your app", "Mr Price",
    "my account") neither makes nor silences the order question."""
    words = _with_phrases(customer_words(text))
    found = _families(words)
    if _NOT_YET_ORDERED.search(words) or _thanks_for_a_delivery(words, found):
        return False
    numbers = bool(order_numbers_in(words))
    context = _Context(
        my_thing=_has_my_thing(words),
        ordered="thing" in found or numbers,
        about_order=bool(found & {"thing", "ship", "arrive"}) or numbers,
        numbers=numbers,
        refund_specific=numbers or bool(_AMOUNT.search(words)),
    )
    specific = [part for part in _SENTENCE_BREAK.split(words) if not _set_aside(part)]
    return _asks_about_their_order(" ".join(specific), context, sentence=False) or any(
        _asks_about_their_order(part, context, sentence=True) for part in specific
    )


def _asks_about_their_order(words: str, context: _Context, *, sentence: bool) -> bool:
    """Whether `words` (no general question among them; one `sentence` or several) ask
    about the progress of their order, shipment or refund."""
    found = _families(words)
    if not found:
        return False
    own = bool(_POSSESSIVE.search(words))
    mine = own or context.my_thing
    shipment = found & {"thing", "ship", "arrive"}
    # Not receiving an email, a code or a link is not a shipping question (unless an order
    # number says which order it is about).
    other_thing = "account" in found and not context.numbers
    if "refund" in found:
        # A refund the customer is owed: whether it came, when, where it stands.
        progress = {"wait", "status", "track", "processed", "arrive", "negation", "trouble"}
        progress |= {"pending", "ship"}
        if found & progress or "when" in found:
            return True
        if (own or context.refund_specific) and "duration" in found:
            return True
        if _WHERE_IS.search(words) or re.search(r"\b(?:anything|something)\s+new\b", words):
            return True
    if found & {"track", "eta"}:
        return True
    if "status" in found and (
        context.about_order or "refund" in found or (mine and "account" not in found)
    ):
        return True
    if "where" in found and (context.about_order and (mine or _WHERE_IS.search(words))):
        return True
    if _WHERE_IS.search(words) and mine:
        return True
    if _has_my_thing(words):
        # "my order", "ma commande": a question about their own order, not a general one.
        return True
    if other_thing:
        return False
    if "trouble" in found and shipment:
        return True
    if "pending" in found and shipment and found & {"negation", "ship", "arrive"}:
        return True
    if "arrive" in found and found & {"negation", "thing"}:
        return True
    if (
        sentence
        and found & {"ship", "arrive"}
        and (mine or context.ordered)
        and _ASKS_WHETHER.search(words)
    ):
        return True
    if "duration" in found and shipment and not ("returning" in found and not mine):
        return True
    if "when" in found and (
        found & {"arrive", "ship"}
        or (context.my_thing and "thing" in found)
        or (context.numbers and context.about_order)
    ):
        return True
    if "wait" in found and (shipment or mine or context.about_order):
        return True
    return "ship" in found and "negation" in found and context.about_order


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
