"""Reading a customer message without a model: does it need this customer's order data,
which order numbers does it name, which language is it in.

Used by the offline `rules` provider (the fixed workflow) and by the context gate.

The order-status decision works on *concept families* rather than phrases: each word of
the message is mapped (exactly, or within one typo for longer words) to a family such as
"a thing that was ordered", "a refund", "where / status / tracking", "not received",
"how long / when", "general information". A message needs the customer's own order data
when it asks about the progress of *their* order, shipment or refund; questions about
policies, options, fees or how to do something stay general, and so does a message from
someone who has not ordered yet. Quoted replies, forwarded messages and signatures are
removed first (whether the customer wrote above, below or between them), so a long email is
judged on what the customer wrote now, unless it only chases the quoted message ("just
chasing the below", "it's been 12 days, what happened to it?"), which is then judged with
it. An order reference beside any word of progress ("still zilch #FM20931") is enough.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from copilot.text import fold
from orders.schema import order_numbers_in


class Topic(StrEnum):
    ORDER_STATUS = "order_status"  # where is my order, when will it arrive, refund status
    HOURS = "hours"
    RETURNS = "returns"
    SHIPPING = "shipping"
    PASSWORD = "password"
    OTHER = "other"


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
    r"|-{2,}\s*message d'origine|-{2,}\s*message original|-{2,}\s*forwarded message"
    r"|begin forwarded message|_{8,}\s*$|from:\s|de\s*:\s|sent from my|envoye de mon"
    r"|get outlook for"
    r"|(?:this|the)\s+(?:e-?mail|message)\b.{0,80}\bconfidential|ce\s+(?:message|courriel)\b.{0,80}"
    r"\bconfidentiel)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:--\s*$|best(?:\s+regards)?[,!.]?\s*$|kind regards|regards[,!.]?\s*$|cheers[,!.]?\s*$"
    r"|thanks?(?:\s+you)?(?:\s+in\s+advance)?[,!.]?\s*$|many thanks[,!.]?\s*$"
    r"|sincerely|cordialement|bien cordialement|bien a vous|merci d'avance[,!.]?\s*$"
    r"|merci[,!.]?\s*$|bonne journee[,!.]?\s*$|best wishes[,!.]?\s*$|warm(?:est)? regards"
    r"|all the best[,!.]?\s*$|(?:meilleures\s+)?salutations[,!.]?\s*$|bises[,!.]?\s*$"
    r"|yours\s+(?:sincerely|faithfully|truly)|respectfully[,!.]?\s*$|take care[,!.]?\s*$"
    r"|thx[,!.]?\s*$"
    r"|merci (?:beaucoup|a l'avance)[,!.]?\s*$|(?:bonne|belle) (?:soiree|journee)[,!.]?\s*$"
    r"|veuillez agreer)",
    re.IGNORECASE,
)


# The line that closes a forwarded message pasted above the customer's own words.
_SEPARATOR = re.compile(r"^\s*(?:-{3,}|_{5,}|={5,})\s*$")
# A greeting or a pasted subject line: not yet the customer's reply.
_PREAMBLE = re.compile(
    r"^\W*(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|bonjour|bonsoir|salut|coucou"
    r"|madame|monsieur|allo)\b[^.?!]{0,40}$"
    r"|^\s*(?:re|fwd?|tr|objet|subject)\s*:"  # a subject line pasted above the reply
)


def customer_words(text: str) -> str:
    """`text` folded, without quoted earlier messages and without the sign-off and signature.

    A reply written above a quoted or forwarded message ends where it begins; one written
    below it (nothing of the customer's above it but a greeting) starts after it; lines quoted
    with "> " are skipped wherever they are, so an answer written between them is kept.
    """
    kept: list[str] = []
    quote: str | None = None  # inside a quote above the reply: ">" lines, or "" until a rule
    for line in fold(text).replace("\u2019", "'").splitlines():
        quoted = line.lstrip().startswith(">")
        if quote is not None:
            if quoted:
                quote = ">"
                continue
            if _SEPARATOR.match(line):
                quote = None
                continue
            if not (quote == ">" and line.strip()):
                continue
            quote = None  # the first line of the reply below a "> " quote
        elif quoted:
            quote = ">"
            continue
        elif _QUOTE_HEADER.match(line):
            if any(part.strip() and not _PREAMBLE.match(part) for part in kept):
                break
            quote = ""
            continue
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
        "bestellung pedido ordered bought achete achetee consignment"
    ),
    "refund": _words(
        "refund refunds refunded refunding reimbursement reimbursements reimburse reimbursed "
        "restitution rebate rebates compensation remboursement remboursements rembourse "
        "rembourser money argent rma cash"
    ),
    "status": _words(
        "status statut state etat progress processing update updates news nouvelles latest movement"
    ),
    "track": _words("track tracking tracked locate locating located suivi suivre localiser"),
    "eta": _words("eta estimated estime estimee estimes estimees"),
    "arrive": _words(
        "arrive arrives arrived arriving arrival deliver delivered receive received "
        "recu recue recus recois recevoir recevrai livre livree livres arrivee arriver arrivera "
        "arriveront arriverait arriveraient "
        "coming came land lands landing landed parvenu parvenue aurai"
    ),
    "ship": _words(
        "ship shipped shipping sent dispatched dispatch posted expedie expediee expedies "
        "courier carrier dpd ups dhl fedex usps gls evri hermes colissimo chronopost livreur "
        "envoye envoyee expedition partie parti partira transporteur transporteurs driver"
    ),
    "duration": _words("long soon period periods timeframe delai delais duree"),
    "when": _words("when quand qd date dates"),
    "where": _words("where"),
    "wait": _words(
        "waiting wait awaiting expect expecting expected attends attendre attente prevu prevue"
    ),
    "negation": _words(
        "not never haven hasn didn don doesn isn wasn hasnt havent didnt doesnt isnt wasnt arent "
        "werent nothing "
        "pas jamais aucune aucun rien ni"
    ),
    # it should have happened by now
    "pending": _words("still yet toujours encore tjr tjrs tjs pending"),
    "processed": _words(
        "processed process issued credited paid done traite traitee vire effectue effectuee "
        "lance lancee confirmed confirme confirmee validated valide validee approved approuve"
    ),
    # something went wrong on the way
    "trouble": _words(
        "stuck lost missing delayed late problem moved bloque perdu perdue retard probleme holdup "
        "manquant echec postponed rescheduled reporte reportee decale decalee repousse repoussee"
    ),
    "returning": _words("return returns retour retours retourner"),
    # general questions: what is possible, what it costs, how it usually works
    "general": _words(
        "options option methods method policy policies fee fees charge charges penalty "
        "penalties cost costs price prices usually normally generally typically habituel "
        "habituels habituelle habituelles habituellement "
        "countries modes mode politique conditions frais tarif tarifs hiring job jobs career "
        "careers vacancy vacancies recrutement emploi candidature free gratuit gratuite "
        "offert offerte difference guarantee general stock restock restocked restocking "
        "wholesale minimum quantities trade catalogue catalog retailers reseller revendeur "
        "partnership partenariat cutoff deadline limite collect pickup retrait retirer review "
        "reviews feedback avis commentaire commentaires entitled eligible tend tends cooling warranty warranties garantie coute coutent cout couts prix"
    ),
    # things a customer may not receive that are not a shipment
    "account": _words(
        "email mail courriel code reset reinitialisation activation password invoice invoices "
        "receipt confirmation newsletter "
        "account compte comptes verification bill facture address adresse profile details sms texts "
        "notifications settings history historique login connexion identifiants username reply "
        "replies response answer reponse communication communications marketing click clicking "
        "clique cliquer bouton button bug"
    ),
}
_WORD_FAMILY: dict[str, str] = {
    word: family for family, words in _FAMILIES.items() for word in words
}
# Real words one typo away from a family word; they must not be read as that word.
_NOT_TYPOS = frozenset(
    _words(
        "good live lives loved there here older border truck trick stats states statue along belong lounge sound "
        "soft shop ships shipper tracks whole words world cost writing staff avoid relais relay "
        "reviens revient agent agents shopping drivers nouvelle nouveau nouveaux vacances charger chargers"
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
        # A typo seldom hits the first letter, but may swap it with the second ('rtack').
        if (word[0] == known[0] or word[1::-1] == known[:2]) and _within_one_edit(word, known):
            return known_family
    return None


# "My last order": one before this, told as past experience.
_PAST_ONE = frozenset(
    _words(
        "last previous earlier first old older past other derniere dernieres derniers precedente "
        "precedentes precedents ancienne anciennes anciens ancien premiere premieres"
    )
)


_WORD = re.compile(r"[a-z0-9$€£]+")
# "Don't", "dont", "n'ai pas" ... but not the end of "payment" or "remboursement".
_NOT = (
    r"(?:\bnot|n't|\bjamais|\brien|\b(?:do|does|did|is|was|are|were|have|has|had|ca|wo|could|would|should)nt"
    r"|\bnever|\bpas)"
)
# Phrases that say in several words what one family word says; rewritten to that word first.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(?:got|came|made it)\s+(?:here|to me|to us)\b"
            r"|\b(?:showed|shown|turned)\s+up\b(?!\s+in\b)|\breached\s+(?:me|us)\b|\bcame\s+through\b"
        ),
        " arrived ",
    ),
    (
        re.compile(
            r"\b(?:get|gets|getting|come|comes|make it|be)\s+(?:here|to me|to us)\b"
            r"|\b(?:show|shows|turn|turns)\s+up\b(?!\s+in\b)|\breach(?:es)?\s+(?:me|us)\b"
        ),
        " arrive ",
    ),
    (
        re.compile(
            r"\b(?:supposed|meant|due|expected)\s+to\s+(?:come|arrive|land|be\s+delivered)"
            r"|\b(?:was|were)\s+(?:supposed|meant|due)\s+to\s+(?:get|receive)\b"
            r"(?![^.?!]*\b(?:codes?|discount|e-?mails?|links?|vouchers?|refunds?|reply|call)\b)"
            r"|\bdue\s+(?:on\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
            r"|today|yesterday)\b"
            r"|\b(?:devai(?:t|ent)|cense(?:e|s|es)?)\s+(?:arriver|rentrer|passer|etre\s+livree?s?)\b"
            r"|\b(?:promised|due)\s+(?:for|on|by)\b|\b(?:promis|annonce)e?s?\s+(?:pour|le|sous)\b"
        ),
        " expected arrive ",
    ),
    (
        re.compile(
            r"\bno\s+sign\s+of\b|\b(?:is|are)\s+(?:still\s+)?not\s+here\b"
            r"|\b(?:isn'?t|aren'?t)\s+(?:still\s+|yet\s+)?here\b"
            r"|\bpas\s+(?:encore\s+)?la\b(?=\s*(?:[.?!,;\u2026]|$))"
        ),
        " not arrived ",
    ),
    # "Will the rug be here before Saturday?": when theirs comes, against a date.
    (
        re.compile(
            r"\bwill\s+(?:it|they|(?:the|my|our|his|her)\s+[^.?!]{0,30}?)\s*"
            r"(?:be\s+here|arrive|get\s+(?:here|there|to\s+\w+))\s+(?:before|by|in\s+time)\b"
            r"|\b(?:the|my|our)\s+[^.?!]{0,30}?\s+will\s+(?:be\s+here|arrive|get\s+(?:here|there))"
            r"\s+(?:before|by|in\s+time)\b"
            r"|\b(?:sera|seront)\s+(?:la|arrivee?s?|livree?s?)\s+(?:avant|pour|d'ici)\b"
        ),
        " when arrive ",
    ),
    (re.compile(r"\best\.\s*(?=delivery|arrival|ship|date)"), " estimated "),
    # Time gone by, or days counted, while nothing comes: "it's been two weeks", "ca fait une
    # semaine", "Day 9.", "we're on day 12", "depuis 10 jours".
    (
        re.compile(
            r"\b(?:it'?s|it\s+has)\s+(?:now\s+)?been\s+(?:over\s+|nearly\s+|almost\s+)?"
            r"(?:\d+|a|an|one|two|three"
            r"|four|five|six|ten|several|a\s+few)\s+(?:days?|weeks?|months?)\b"
            r"|\b(?:ca|cela)\s+fait\s+(?:plus\s+d'|presque\s+)?(?:\d+|une|un|deux|trois|quinze|dix)"
            r"\s*(?:jours?|semaines?|mois)\b|\b(?:it'?s|it\s+has)\s+been\s+(?:over\s+)?\d+\b"
            r"|\b(?:it'?s|we'?re\s+on|now\s+on)\s+(?:now\s+)?(?:working\s+|business\s+)?day\s+\d+\b"
            r"|^\W*day\s+\d+\b|\b\d+\s+(?:days|weeks)\s+now\b"
            r"|\bon\s+(?:en\s+)?est\s+a\s+(?:\d+|j\+?\d+)\b"
            r"|\bdepuis\s+(?:\d+|deux|trois|dix|quinze)\s+(?:jours|semaines)\b"
        ),
        " still waiting ",
    ),
    (re.compile(r"\ben\s+cours\b"), " status "),
    # "Left with a neighbour": where exactly is the question.
    (
        re.compile(
            r"\b(?:left|delivered)\s+(?:with|to)\s+(?:a|the|my|your)?\s*neighbou?rs?\b"
            r"|\bchez\s+(?:un|le|mon|ma|la)\s+voisin"
        ),
        " status ",
    ),
    (re.compile(r"\bwhat\s+time\b|\ba\s+quelle\s+heure\b"), " when "),
    (
        re.compile(r"\bwhen\s+(?:should|can|will|do)\s+(?:i|we)\s+expect\b"),
        " when expected arrive ",
    ),
    (re.compile(r"\b(?:holding|held)\s+(?:it|them|things)?\s*up\b"), " holdup "),
    # Money owed said without the word: "no £ yet", "mon avoir", "the money back".
    (re.compile(r"[$£€](?!\s?\d)|\b(?:mon|un|l'|cet|votre|d'un)\s*avoir\b"), " refund "),
    # "How many days till my box shows up": how long for theirs (not for a delivery service).
    (re.compile(r"\bhow\s+many\s+more\s+days\b"), " how long still "),
    (re.compile(r"\bhow\s+many\s+days\b(?=[^.?!]*\b(?:my|our)\b)"), " how long "),
    # How long a delivery or a refund takes in general, how refunds work, order cut-offs.
    (
        re.compile(
            r"\bhow\s+long\s+(?:does|do|will|would)\s+(?:a|an|standard|express|international"
            r"|next[- ]day|delivery|shipping|parcels?|orders?|refunds?|returns?)\b[^.?!]{0,40}\btake\b"
            r"|\bhow\s+long\s+do\s+(?:refunds|returns|deliveries|orders)\b"
            r"|\bhow\s+do(?:es)?\s+(?:refunds?|returns?|deliver(?:y|ies)|shipping|exchanges?)\s+work\b"
            r"|\borders?\s+need\s+to\s+be\s+in\b|\bneed\s+to\s+order\s+by\b"
        ),
        " usually ",
    ),
    (
        re.compile(
            r"\b(?:loved?|loving|enjoyed)\s+(?:my|our|the)\s+(?:order|parcel|purchase|package)\b"
        ),
        " thanks ",
    ),
    # "Christmas period": a season, not how long something takes.
    (
        re.compile(
            r"\b(?:christmas|holiday|holidays|festive|summer|easter|sale|sales|busy)\s+period\b"
            r"|\bperiode\s+des\s+fetes\b"
        ),
        " season ",
    ),
    # "J'ai toujours commandé": always, not still.
    (re.compile(r"\btoujours\s+(?=(?:commande|achete|recu|eu|ete|paye)\b)"), " "),
    (
        re.compile(
            r"\b(?:dispatch|shipping|shipment|tracking|delivery)\s+"
            r"(?:e-?mail|notification|confirmation)s?\b"
            r"|\b(?:e-?)?mails?\s+de\s+(?:suivi|livraison|expedition)\b"
            r"|\b(?:notification|confirmation)s?\s+d'expedition\b"
            r"|\bnotifications?\s+de\s+suivi\b"
        ),
        " ship notice ",
    ),
    (re.compile(r"\bupdate(?=\s+(?:it|them|my|the|our|this)\b)"), " change"),
    # Idioms with a tracking word that follow no parcel: "keep track of", "la marche a suivre".
    (re.compile(r"\bkeep\s+track\s+of\b|\b(?:marche|demarche|procedure)\s+a\s+suivre\b"), " note "),
    (re.compile(r"\bgood\s+news\b|\blatest(?=\s+(?:order|purchase|parcel|delivery)\b)"), " "),
    # "je n'arrive pas a trouver": cannot manage to, nothing about a delivery.
    (re.compile(r"\barrive\s+(?:pas|plus|jamais)\s+a\b"), " cannot "),
    (re.compile(r"\bpoint\s+d'interrogation\b|\bquestion\s+mark\b"), " ? "),
    (re.compile(r"\b(?:log|sign)\s*(?:in|on)\b|\bse\s+connecter\b"), " login "),
    # "Delivery date for my sofa", "le jour de livraison": when it comes.
    (
        re.compile(
            r"\b(?:delivery|arrival|dispatch|shipping)\s+(?:date|slot|day|window)\b"
            r"|\b(?:date|jour)\s+(?:de\s+|d')(?:livraison|arrivee|expedition)\b"
        ),
        " when delivery ",
    ),
    # All well: "no problems", "nothing to worry about", "nothing is on the way".
    (
        re.compile(
            r"\bnothing\s+(?:to\s+worry\s+about|outstanding)\b|\ball\s+(?:sorted|resolved)\b"
            r"|\b(?:probleme|souci)\s+(?:est\s+)?regle\b|\b(?:problem|issue)\s+(?:is\s+)?(?:solved|sorted|resolved|fixed)\b"
            r"|\b(?:no|without)\s+(?:any\s+|a\s+)?(?:problems?|issues?|hitch)\b"
            r"|\bsans\s+(?:probleme|souci)s?\b|\bnothing\s+(?:is\s+)?on\s+(?:the|its)\s+way\b"
        ),
        " fine ",
    ),
    (re.compile(r"\bbouge\s+(?:plus|pas)\b"), " stuck "),
    (re.compile(r"\b(?:which|what)\s+day\b|\bquel\s+jour\b"), " when "),
    (re.compile(rf"{_NOT}\s+come\b"), " not arrive "),
    (
        re.compile(
            r"\b(?:did|have|has)\s+(?:you|u|ya)\s+(?:guys\s+)?(?:send|sent|post|posted|ship)\b"
        ),
        " shipped ",
    ),
    (re.compile(r"\bs'en\s+vien(?:t|nent)\b"), " arrive "),
    (re.compile(r"\b(?:went|gone|go)\s+(?:through|thru)\b"), " processed "),
    (re.compile(r"\bnothing\s+back\b|\bno\s+money\s+back\b"), " refund not "),
    (
        re.compile(
            rf"\b(?:will|would|does|do|did)\s+(?:my|our)\s+(?!(?:{'|'.join(sorted(_PAST_ONE))})\b)"
            r"(?:\w+\s+){0,2}?(?:come|turn\s+up|show\s+up)\b(?!\s+in\b)"
        ),
        " my order arrive ",
    ),
    (re.compile(r"\b(?:be|is|are)\s+with\s+(?:me|us)\b"), " arrive "),
    # "C'est pour quand ?", "this week or next?", "days or weeks?": when it comes.
    (
        re.compile(
            r"\bc'est\s+pour\s+(?:quand|cette\s+semaine|quel\s+jour)\b"
            r"|\b(?:days|this\s+week)\s+or\s+(?:weeks|next(?:\s+week)?|nah|not)\b"
            r"|\bcette\s+semaine\s+ou\s+la\s+(?:suivante|prochaine)\b"
        ),
        " when arrive ",
    ),
    (
        re.compile(
            r"\bwill\s+(?:i|we|she|he|they|you)\s+(?:have|get)\s+(?:it|them)\b"
            r"|\b(?:il|elle|ils|elles|ca|ce)\s+sera(?:it|ient|nt)?\s+(?:la|livree?s?|arrivee?s?)\b"
        ),
        " arrive ",
    ),
    (
        re.compile(
            r"\b(?:nada|zilch)\b|\brien\s+du\s+tout\b|\bnothing\s+since\b|\brien\s+depuis\b"
            r"|\bsince\s+then,?\s+silence\b|\bsilence\s+since\b"
        ),
        " still nothing ",
    ),
    # "I've moved": house, not parcel.
    (
        re.compile(
            r"\b(?:i'?ve|i\s+have|we'?ve|we\s+have|i|we)\s+(?:just\s+|now\s+|recently\s+)?moved\b"
        ),
        " relocated ",
    ),
    # "I sent the question below": a message, not a parcel.
    (
        re.compile(
            r"\bsent\s+(?:you\s+)?(?:the|a|my|an)\s+(?:question|message|e-?mail|mail|request|query)\b"
        ),
        " wrote ",
    ),
    (re.compile(r"\bprise\s+en\s+charge\b"), " processing "),
    # "Refunded to your original payment method": theirs, not a question about methods.
    (
        re.compile(
            r"\b(?:original|same|initial)\s+(?:payment\s+method|method\s+of\s+payment|card)\b"
            r"|\b(?:votre|mon|le)\s+moyen\s+de\s+paiement(?:\s+initial)?\b"
        ),
        " card ",
    ),
    (re.compile(r"\bmoyens\s+de\s+paiement\b|\bpayment\s+(?:methods|options)\b"), " methods "),
    (re.compile(r"\b(?:aucune|pas\s+de|sans)\s+nouvelles?\b"), " status not "),
    # "I'm never home", "je ne suis jamais la": about the customer, not the parcel.
    (
        re.compile(
            r"\b(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:never|not|rarely)\s+(?:home|in|there)\b"
            r"|\bje\s+ne\s+suis\s+(?:jamais|pas)\s+(?:la|chez\s+moi)\b"
        ),
        " away ",
    ),
    (re.compile(r"\bstill\s+no\b"), " still not "),
    (
        re.compile(
            r"\b(?:go|goes|went|gone)\s+out\b|\b(?:has|have|did)\s+(?:it|they)\s+left\b"
            r"|\bleft(?=\s+yet\b)"
            r"|\bleft\s+(?:the|your|their)\s+(?:warehouse|depot|building|premises|facility)\b"
            r"|\b(?:has|have)\s+(?:it|they)\s+(?:\w+\s+)?been\s+picked\s+up\b"
            r"|\bon\s+(?:its|their|the|his|her)\s+way\b|\bon\s+the\s+(?:van|truck|lorry)\b"
            r"|\ben\s+(?:route|chemin)\b"
        ),
        " shipped ",
    ),
    (
        re.compile(
            r"\b(?:will|would|gonna|going\s+to)\s+come\b"
            r"|\b(?:(?:do|does|did|should|can|could)\s+)?(?:it|they|these|those|this|that)\s+comes?\b"
            r"(?=\s*(?:[?.!,;]|$)|\s+(?:yet|soon|today|tomorrow|this|next|on|by|before|already)\b)"
        ),
        " arrive ",
    ),
    (
        re.compile(r"\bwhen\s+(?:do|can|shall|would)\s+(?:i|we)\s+(?:get|receive)\b"),
        " when arrive ",
    ),
    (
        re.compile(
            r"\b(?:(?:will|would)\s+(?:it|they)|(?:is\s+it\s+|it'?s\s+)?(?:gonna|going\s+to))\s+make\s+it\b"
        ),
        " will it arrive ",
    ),
    (
        re.compile(
            r"\b(?:am|are|will)\s+(?:i|we)\s+(?:\w+\s+)?(?:getting|get|receive|receiving)\b"
        ),
        " arrive ",
    ),
    (re.compile(r"\bthan\s+(?:i\s+|we\s+)?expected\b"), " "),
    # "Can you check on my refund?", "how's my order looking?"
    (
        re.compile(
            r"\bcheck(?:ing)?\s+(?:up\s+)?on\b|\bverify\s+(?:if|whether)\b|\bverifier\s+si\b"
            r"|\bhow(?:'?s|\s+is|\s+are)(?=\s+(?:my|our|the)\s+[^.?!]{0,30}\b(?:looking|going|coming\s+along)\b)"
        ),
        " status ",
    ),
    (
        re.compile(r"\bout\s+for\s+delivery\b|\bfailed\s+delivery\b|\bdelivery\s+failed\b"),
        " status delivery ",
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
    (re.compile(rf"{_NOT}\s+(?:got|gotten|get)\b(?!\s+(?:to|on|along|through)\b)"), " not arrive "),
    (re.compile(r"\bgot\s+(?=(?:my|our|the|it|them)\b)"), " received "),
    # A delivery that took its time and is over: "it took 5 days to arrive".
    (
        re.compile(
            r"\btook\s+[^.?!]{0,25}?\bto\s+(?:arrive|be\s+delivered)\b"
            r"|\b(?:a|ont|avait|avaient)\s+mis\s+[^.?!]{0,25}?\ba\s+(?:arriver|etre\s+livree?s?)\b"
        ),
        " arrived ",
    ),
    # How long anyone may try or return something is a policy, not a delivery time.
    (
        re.compile(
            r"\b(?:trial|return|returns|refund|cooling[- ]off|retractation)\s+(?:period|window)\b"
            r"|\bperiode\s+d'essai\b|\bdelai\s+de\s+(?:retractation|retour)\b"
        ),
        " policy ",
    ),
    (
        re.compile(
            r"\bwhat(?:'?s|\s+is)\s+(?:happening|going\s+on|up\s+with)\b"
            r"|\bany\s+(?:news|updates?|word|joy|luck)\b"
            r"|\bou\s+(?:il|elle|ils|elles|ca)\s+en\s+est\b|\ben\s+est\s+ou\b"
            r"|\bwhat(?:\s+has|'?s)?\s+happened\s+(?:to|with)\b"
            r"|\bqu'est-ce\s+qui\s+se\s+passe\b|\bque\s+se\s+passe-t-il\b|\bsilence\s+radio\b"
            r"|\b(?:is\s+)?anything\s+happening\b|\b(?:just\s+)?wondering\s+about\b"
        ),
        " status ",
    ),
)
_SENTENCE_BREAK = re.compile(r"(?<=[.?!;])\s+|\n+")
_WHERE_IS = re.compile(
    r"\bwhere(?:'?s|\s+(?:is|are|has|have|did)"
    r"|\s+(?:the|my|our|this|that|it|order|\#)\b[^.?!]{0,30}\b(?:is|are|has|have)\b)"
    r"|\bou\s+(?:est(?![- ]ce\b)|sont|en\s+est|se\s+trouvent?)\b"
)

# --- sentences that ask something general, whatever else the message asks ---------------

# "How do I ...?" asks how something is done, unless it is how to follow an order.
_FOLLOW_ORDER = r"(?!track|trace|check|see|know|find|follow|locate|do\s+(?:it|that|so))"
_HOW_TO = re.compile(
    rf"\bhow\s+(?:do|can|could|should|would)\s+(?:i|we|you)\s+{_FOLLOW_ORDER}\w+"
    rf"|\bhow\s+to\s+{_FOLLOW_ORDER}\w+"
    r"|\bwhere\b(?:\s+in\s+[^.?!]{0,30})?\s+(?:can|could|do|to|should)\s+i?\s*(?:buy|order|purchase"
    r"|acquire|shop|earn|enter|set|add|leave|write|post|change|edit|update|sign|register|log"
    r"|submit|put|save|provide"
    r"|do\s+(?:that|this|it)\b)"
    r"|\bou\s+(?:est[- ]ce\s+que?\s+)?(?:je\s+peux|puis-je|peut-on|on\s+peut)\b"
    r"(?!\s+(?:recuperer|retirer|suivre)\b)"
    r"|\bcomment\s+(?:je\s+(?:fais|peux)|faire|on\s+(?:fait|peut)|puis-je|est-ce\s+qu)"
    r"|\bwhere\s+(?:i|we)\s+(?:can|could|should)\s+(?:change|edit|update|add|set|find|save|enter)\b"
    r"|\bwhere(?:'?s|\s+is)\s+the\s+(?:\w+\s+)?(?:place|page|link|button|form|section)\b"
)
# What the shop does for everyone: "do you ship to Germany", "vous livrez en Belgique".
_SHOP_CAPABILITY = re.compile(
    r"\b(?:which|what|quels?|quelles?)\s+(?:carriers?|couriers?|transporteurs?)\b"
    r"(?!\s+(?:\w+ly\s+)?(?:has|have|is\s+\w+ing|are\s+\w+ing)\s+(?:it|them|my))|"
    r"\b(?:do|does)\s*(?:you|u|ya)\s+(?:guys\s+)?(?:ship|deliv|send|post|use|offer|refund|accept|take)"
    r"|\bvous\s+(?:passez\s+par|utilisez)\b"
    r"|\b(?:vous\s+|vs\s+)?(?:livrez|expediez|envoyez|proposez|offrez|acceptez)\b"
    r"|\b(?:vous|vs)\s+remboursez\b(?!-moi)"
)
# What the app or website lets anyone do: "can I track orders in the app?".
_FEATURE = re.compile(
    r"\b(?:can\s+(?:i|we|you)|is\s+(?:it|there)|est-(?:il|ce)|peut-on|puis-je)\b"
    r".{0,60}\b(?:app|application|website|site|online|en ligne)\b"
)
# An order not placed yet: "if I order today", "si je commande avant midi".
_ORDER_NOT_PLACED = (
    r"\bif\s+(?:i|we|u)\s+(?:order|buy|purchase|place)|\bsi\s+(?:je|j'|on)\s*(?:commande|passe|achete)"
    r"|\bbefore\s+(?:i\s+|we\s+)?(?:order|buy|purchas)|\bavant\s+de\s+(?:commander|passer|acheter)"
)
# Questions about what would happen, or about another time than this order.
_HYPOTHETICAL = re.compile(
    rf"{_ORDER_NOT_PLACED}|\bif\s+(?:i|we|u)\s+(?:send|pay)"
    r"|\bin\s+(?:the\s+)?future\b|\bfuture\s+orders?\b|\bfutur(?:e|es|s)\b"
    r"|\bnext\s+(?:time|orders?)\b|\bprochaine?s?\s+(?:fois|commandes?|achats?)\b"
    r"|\bpour\s+(?:la|les)\s+prochaines?\b|\bfor\s+(?:the\s+)?next\s+one\b"
    r"|\bif\s+(?:it'?s|it\s+is|they'?re|they\s+are)\s+not\b"
    r"|\b(?:if|si)\s+[^.?!]{0,40}\b(?:(?:doesn'?t|does\s+not|don'?t|not\s+to|ne)\s+(?:\w+\s+)?"
    r"(?:fit|suit|work|like|want|convient|va|plait)|(?:convient|va|plait)\s+pas)\b"
    r"|\bonce\s+(?:it|they|an?|the)\b[^.?!]{0,30}\b(?:arrives?|is\s+delivered)\b"
    r"|\bonce\s+(?:it|they)\s+ships?\b|\bune\s+fois\s+(?:la\s+)?commande\s+(?:passee|validee)\b"
    r"|\bif\s+(?:i|we|u)\s+(?:return|send\s+(?:it|them|\w+)?\s*back|exchange)"
    r"|\bsi\s+(?:je|j'|on)\s*(?:retourne|renvoie|rends|echange)"
    r"|\bif\s+(?:my|the|an?|your)\s+(?:order|basket|cart)\s+(?:is|costs?|comes\s+to|totals?)\b"
    r"|\bsi\s+(?:une|un)\s+(?:commande|colis|panier|article)\b[^.?!,]{0,40}?\b(?:est|fait|coute|depasse)\b"
    r"|\blast\s+time\b|\bla\s+derniere\s+fois\b|\blast\s+year\b|\byears?\s+ago\b"
    r"|\bl'an(?:nee)?\s+derniere?\b"
    r"|\b(?:quand|lorsque|when(?:ever)?)\s+(?:je|j'|on|i|we)\s*(?:commande|order|achete|buy)\b"
)
# Gratitude for something done: "thanks for sorting out the late delivery".
_THANKS_FOR = re.compile(
    r"\b(?:thanks?|thank\s+you|merci)\s+(?:again\s+|beaucoup\s+|so\s+much\s+)?(?:for|pour)\b"
)
# "Does tracking come by text or email?": how notices reach anyone, not where theirs is.
_CHANNEL_CHOICE = re.compile(
    r"\b(?:by|via)\s+(?:text|sms|e-?mail)\s+or\b|\bor\s+(?:by\s+)?(?:text|sms|e-?mail)\s*\?"
    r"|\bpar\s+(?:texto|sms|courriel|e-?mail|mail)\s+ou\b"
    r"|\bou\s+par\s+(?:texto|sms|courriel|e-?mail|mail)\b"
)
# What anyone may do: "est-ce qu'on peut être remboursé ?", "peut-on choisir le point relais ?"
_ANYONE_MAY = re.compile(
    r"\best-ce\s+qu'?on\s+peut\b|\bpeut-on\b|^\W*on\s+peut\b|\bcan\s+one\b|\b(?:quand|qd)\s+on\b"
)
# The customer has not ordered yet: "thinking of ordering", "je voudrais commander".
_PLANS_TO_ORDER = re.compile(
    rf"{_ORDER_NOT_PLACED}"
    r"|\b(?:thinking\s+(?:of|about)|planning\s+(?:to|on)|looking\s+to|about\s+to|want\s+to|wanna"
    r"|would\s+like\s+to|i'?d\s+like\s+to|hoping\s+to)\s+(?:order|buy|purchase|place\s+an?\s+order)"
    r"|\b(?:looking\s+at|considering|thinking\s+of)\s+(?:buying|ordering|getting)\b"
    r"|\b(?:i'?m|i\s+am|we'?re|we\s+are)\s+interested\s+in\b|\bbefore\s+(?:i|we)\s+commit\b"
    r"|\b(?:would|'d)\s+love\s+to\s+(?:order|buy|try)\b"
    r"|\b(?:can|could|may)\s+(?:i|we)\s+(?:place\s+an?\s+order|order|buy|purchase)\b"
    r"|\bpossible\s+(?:to|de)\s+(?:order|buy|purchase|commander|acheter)\b"
    r"|\btried\s+to\s+(?:order|buy|purchase|check\s*out)\b"
    r"|\b(?:puis-je|je\s+peux|peut-on|on\s+peut)\s+(?:commander|passer\s+(?:une\s+)?commande|acheter)"
    r"|\b(?:je|j'|on)\s*(?:voudrais|veux|souhaite|souhaiterais|aimerais|compte|vais|pense)\s+"
    r"(?:commander|acheter|passer\s+(?:une\s+)?commande)"
)
# "Chasing the below": the question is in the quoted or forwarded message.
_FOLLOW_UP = re.compile(
    r"\b(?:just|i'?m|am|still|again)\s+(?:chasing|following\s+up)\b|^\W*following\s+up\b"
    r"|\b(?:voir|cf\.?)\s+(?:plus\s+bas|ci-dessous)\b|\b(?:told|said|wrote|promised)\s+(?:me\s+|us\s+)?below\b"
    r"|\bcolleague'?s\s+reply\s+(?:is\s+)?below\b"
    r"|\b(?:chasing|following\s+up\s+on)\s+(?:this|the\s+below|my|our)\b"
    r"|\b(?:my|the|ma|mon)\s+(?:e-?mail|message|mail|demande|request|question)s?\s+(?:below|ci-dessous)\b"
    r"|\b(?:heard|had)\s+(?:nothing\s+)?back\b|\bno\s+(?:reply|response|answer)\b"
    r"|\b(?:aucune|pas\s+(?:eu\s+)?de)\s+reponse\b"
    r"|\b(?:never|not)\s+(?:got|received|had)\s+(?:an?|any)\s+(?:reply|answer|response)\b"
    r"|\bany\s+(?:news|updates?)\s+on\s+(?:this|that|the\s+below)\b|\bstill\s+(?:nothing|waiting)\b"
    r"|\btoujours\s+(?:rien|pas\s+de\s+nouvelles?)\b"
    r"|\bsee\s+(?:below|my\s+(?:e-?mail|message))\b|\b(?:message|mail|e-?mail|courriel|demande)\s+ci-dessous\b|\b(?:second|third)\s+time\s+asking\b"
    r"|\basking\s+again\b|\bsans\s+(?:suite|reponse)\b"
    r"|\brelance\w*"
)
_NOT_YET_ORDERED = re.compile(
    rf"{_NOT}\s+(?:even\s+|yet\s+|encore\s+)?(?:ordered|bought|purchased|commande|achete"
    r"|(?:placed|passe)\s+(?:the|my|an|la|ma)\s+(?:order|commande))\b"
)

# --- the order question -------------------------------------------------------------------

# "I'd like to know whether...", "pouvez-vous me dire si...", "just wondering if...".
_INDIRECT_QUESTION = (
    r"\bwhether\b|\bwonder(?:ing)?\s+if\b|\bme\s+demande(?:ais)?\s+si\b"
    r"|\b(?:know|tell\s+me|confirm|check|checking|see|verify|savoir|dire|verifier)"
    r"\s+(?:if|si|when|quand)\b"
)
# Asks whether something happened: "has it shipped", "est-ce que ... expédiées", "...?".
_ASKS_WHETHER = re.compile(
    rf"\?|{_INDIRECT_QUESTION}"
    r"|\b(?:has|have|did|is|was|were|will|are|r)\s+(?:it|they|he|she|this|that|these|those|my|our"
    r"|the|u)\b|\best-?ce\s+que?\b|-t-(?:il|elle)\b|\b(?:ont|sont|est)-(?:ils|elles|il|elle)\b"
)
_THANKS = re.compile(
    r"\b(?:thanks?|thank you|thx|cheers|appreciated?|merci|remercie\w*|perfect|parfait|lovely)\b|👍"
)
_RETURNED = re.compile(
    r"(?<!\bbe\s)\b(?:returned|went\s+back|sent\s+(?:\w+\s+){0,3}back|posted\s+(?:it|them)\s+back"
    r"|(?:ai|avons|a)\s+(?:renvoye|retourne|rendu)e?s?)\b"
)
_AMOUNT = re.compile(
    r"(?:[$€£]|\b(?:gbp|eur|usd|cad|chf|aud)\s?)\d|\d\s?(?:[$€£]|dollars?|euros?|eur|usd)\b"
)
_MY_THING = re.compile(r"\b(?:my|our|ma|mon|mes|notre|nos)\s+(\w+)(?:\s+(\w+))?(?:\s+(\w+))?")
_POSSESSIVE = re.compile(r"\b(?:my|our|mine|ma|mon|mes|notre|nos)\b")


class _Context(NamedTuple):
    """What a message as a whole says, which each of its sentences may lean on."""

    my_thing: bool  # "my order", "ma commande" somewhere
    ordered: bool  # something they ordered, or an order number, is mentioned
    about_order: bool  # ... or a shipment or delivery is
    about_refund: bool  # a refund is mentioned somewhere
    numbers: bool  # an order number is named
    refund_specific: bool  # an order number or an amount


def _families(text: str) -> set[str]:
    return {family for word in _WORD.findall(text) if (family := _family_of(word))}


def _with_phrases(text: str) -> str:
    for pattern, word in _PHRASES:
        text = pattern.sub(word, text)
    return text


# "I ordered a lamp", "j'ai commandé", "my husband placed this order": theirs, said another way.
_THEY_ORDERED = re.compile(
    r"(?<!if\s)\b(?:i|we|i've|we've|i\s+have|we\s+have)\s+(?:just\s+|recently\s+)?"
    r"(?:pre-?)?(?:ordered|bought|purchased|placed\s+an?\s+order)\b"
    r"|\bplaced\s+(?:this|the|my|our)\s+order\b"
    r"|\b(?:j'?ai|on\s+a|g|ayant)\s+(?:\w+\s+)?(?:commande|achete|passe\s+(?:une\s+)?commande)\b"
    r"|\bque\s+(?:j'?ai|j'avais|on\s+a)\s+pris\b"
    r"|^\W*(?:\w+\W+)?(?:ordered|bought|purchased)\b"  # "hiya, ordered a controller on monday"
)


# "When is my sofa coming", not "when I go back to the page".
_WHEN_ASKED = re.compile(r"\bwhen\s+(?!(?:i|we|you|u)\b)|\bquand\b")


# "Ma livraison" is theirs; "la livraison" alone is as often a general question.
_DELIVERY = frozenset(_words("livraison livraisons"))


# A number alone in a short message, most often an order reference: "any joy on 99120 yet".
# Not part of a phone number, a date or a price, and not in a message about an address,
# where it is a postcode.
_BARE_NUMBER = re.compile(r"(?<![\w+./:,-])(?<!\d\s)\d{5,10}(?![\w./:,-]|\s\d)")
_POSTCODE_CONTEXT = re.compile(r"\b(?:post\s?code|zip|code\s+postal|npa|address|adresse)\b")
_SHORT_MESSAGE_WORDS = 40


def _has_bare_reference(text: str) -> bool:
    return (
        bool(_BARE_NUMBER.search(text))
        and len(_WORD.findall(text)) <= _SHORT_MESSAGE_WORDS
        and not _POSTCODE_CONTEXT.search(text)
    )


def _has_my_thing(text: str) -> bool:
    """'my order', 'my dog bed order', 'ma commande', but not 'my order confirmation' nor
    'my last order'."""
    for match in _MY_THING.finditer(text):
        words = [word for word in match.groups() if word]
        for index, word in enumerate(words):
            if word in _PAST_ONE:
                break
            if _family_of(word) == "thing" or word in _DELIVERY:
                following = words[index + 1] if index + 1 < len(words) else None
                if following is None or _family_of(following) != "account":
                    return True
                break
    return False


_ASKS_OR_MISSES = frozenset(
    {"negation", "pending", "wait", "when", "where", "track", "eta", "status", "trouble"}
)
_PROGRESS = _ASKS_OR_MISSES | {"arrive", "ship", "duration"}


_DELIVERED = re.compile(
    r"\b(?:arrived|delivered|received|came|landed|recu|recue|recus|livre|livree|livres|parvenu"
    r"|parvenue)\b|\b(?:est|sont)\s+(?:\w+\s+)?arrivee?s?\b"
)


# Not settled yet: "whether it will be delivered", "let me know if it arrived".
_UNSETTLED = re.compile(
    rf"\bwill\b|{_INDIRECT_QUESTION}|\best-ce\s+que?\b|\bidea\s+when\b|\bget\s+delivered\b"
    r"|\bwhen\s+(?:will|would|do|does|is|are|can|should|might)\b"
    r"|\b(?:sera|seront|serait|seraient|arrivera|arriveront|va\s+etre|vont\s+etre)\b"
)


def _reports_a_delivery(sentence: str, found: set[str]) -> bool:
    """'The parcel turned up this morning': something came; nothing is asked or amiss."""
    return (
        bool(_DELIVERED.search(sentence))
        and not found & (_ASKS_OR_MISSES - {"when"})  # "it came when you said it would"
        and "duration" not in found
        and "?" not in sentence
        and not _UNSETTLED.search(sentence)
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


def _explicit_order_question(sentence: str, found: set[str]) -> bool:
    """'When will my washing machine be delivered, now it is back in stock?': their own
    order asked after outright, whatever general word comes with it."""
    return (
        bool(_POSSESSIVE.search(sentence))
        and bool(found & {"when", "where", "eta", "track", "status", "wait"})
        and bool(found & {"thing", "arrive", "ship"})
    )


def _thanks_for_something_done(sentence: str, found: set[str]) -> bool:
    """'Thanks for sorting out the late delivery': gratitude, nothing asked or still amiss."""
    return (
        bool(_THANKS_FOR.search(sentence))
        and "?" not in sentence
        and not found & {"pending", "negation", "wait"}
    )


def _set_aside(sentence: str) -> bool:
    """A sentence about policies, options, prices, the app, an order not placed yet, or
    one that says a delivery came: none asks about the progress of their order."""
    found = _families(sentence)
    return (
        ("general" in found and not _explicit_order_question(sentence, found))
        or _reports_a_delivery(sentence, found)
        or _thanks_for_something_done(sentence, found)
        or bool(_HYPOTHETICAL.search(sentence) or _FEATURE.search(sentence))
        or bool(_CHANNEL_CHOICE.search(sentence))
        or bool(_ANYONE_MAY.search(sentence) and not _has_my_thing(sentence))
        or bool(_HOW_TO.search(sentence) and not found & {"track", "eta", "wait"})
        or bool(
            _SHOP_CAPABILITY.search(sentence)
            and not (_has_my_thing(sentence) or _THEY_ORDERED.search(sentence))
        )
    )


def needs_order_data(text: str) -> bool:
    """Whether a good answer depends on this customer's own order, shipment or refund.

    Sentences that ask something general or say a delivery came are set aside; what is
    left is judged as a whole and sentence by sentence, so that an unrelated word elsewhere
    ("your app", "Mr Price", "my account") neither makes nor silences the order question."""
    words = customer_words(text)
    if _asks_in(words):
        return True
    # A follow-up ("any news on the below?") asks again what the earlier message asked.
    return _follows_up(words) and _asks_in(_whole_thread(text))


def _follows_up(words: str) -> bool:
    """Whether the customer's own `words` only chase an earlier message: they say so
    ("chasing the below"), or they ask after progress without naming what ("it's been 12
    days, what happened to it?"), and ask nothing general of their own beside it."""
    found = _families(_with_phrases(words))
    if "general" in found:
        return False
    if _FOLLOW_UP.search(words):
        return True
    return bool(found & {"pending", "status", "wait", "trouble"}) and not found & {
        "thing",
        "refund",
        "account",
    }


def _whole_thread(text: str) -> str:
    """`text` folded with its quoted and forwarded messages, without the quote marks."""
    lines = fold(text).replace("\u2019", "'").splitlines()
    return "\n".join(re.sub(r"^\s*(?:>\s?)+", "", line) for line in lines)


def _asks_in(words: str) -> bool:
    """Whether the folded `words` ask about their order, shipment or refund."""
    words = _with_phrases(words)
    found = _families(words)
    my_thing = _has_my_thing(words) or bool(_THEY_ORDERED.search(words))
    numbers = bool(order_numbers_in(words)) or _has_bare_reference(words)
    if (
        _NOT_YET_ORDERED.search(words)
        or _thanks_for_a_delivery(words, found)
        or (_PLANS_TO_ORDER.search(words) and not (my_thing or numbers))
    ):
        return False
    context = _Context(
        my_thing=my_thing,
        ordered="thing" in found or numbers,
        about_order=bool(found & {"thing", "ship", "arrive"}) or numbers,
        about_refund="refund" in found,
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
    if context.numbers and "?" in words and len(_WORD.findall(words)) <= 4:
        return True  # "Commande AV-79455 ???", "#UK-55810 ?"
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
        if context.numbers and "?" in words:  # "Refund?? Order 71193"
            return True
        if _RETURNED.search(words):  # "returned it on the 3rd. money?"
            return True
        if _WHERE_IS.search(words) or re.search(r"\b(?:anything|something)\s+new\b", words):
            return True
    if found & {"track", "eta"}:
        return True
    if found & {"wait", "pending"} and _AMOUNT.search(words):  # "still waiting on the £45"
        return True
    if {"status", "pending", "negation"} <= found:  # "Any news? Still nothing here."
        return True
    if {"wait", "pending", "negation"} <= found:  # "Day 9. Still nothing."
        return True
    if {"when", "thing"} <= found and found & {"pending", "wait"}:
        return True  # "It's been four weeks. Could you give me an actual delivery date?"
    if (
        context.numbers
        and found & {"pending", "wait", "duration", "status", "trouble"}
        and "account" not in found
    ):
        return True  # "still zilch #FM20931"
    if _RETURNED.search(words) and (found & {"pending", "wait"} or _AMOUNT.search(words)):
        return True  # "The hedge trimmer went back on the 2nd. The £89 hasn't."
    if "status" in found and (
        context.about_order or context.about_refund or (mine and "account" not in found)
    ):
        return True
    if "where" in found and (context.about_order and (mine or _WHERE_IS.search(words))):
        return True
    if _WHERE_IS.search(words) and (mine or context.numbers):
        return True
    if _has_my_thing(words) and not (other_thing and not found & _PROGRESS):
        # "my order", "ma commande": a question about their own order, not a general one
        # (unless it is only what a login or an email is for: "can't log in to see my orders").
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
        or (own and "thing" in found and _WHEN_ASKED.search(words))
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
