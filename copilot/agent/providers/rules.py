"""The offline provider: a fixed workflow (intent router + templates), no key, no network.

It is the embedded default, the fallback when the model is down and the baseline arm of
experiments. It speaks the same protocol as a model, so it runs through the same engine,
tools and safeguards: it asks for `fetch_orders` as a tool call and writes its reply from
the tool result it is handed back.
"""

from __future__ import annotations

import json
from typing import Any

from copilot.agent.intents import Topic, language_of, topic_of
from copilot.agent.prompts.v1 import customer_message, ticket_subject
from copilot.agent.providers.base import ModelTurn, ToolCall, Usage
from copilot.models import Brand
from orders import quality
from orders.schema import order_numbers_in

MODEL = "rules-v1"

_GREETING = {"en": "Hello,", "fr": "Bonjour,"}
_THANKS = {
    "en": "Thank you for your message.",
    "fr": "Merci pour votre message.",
}
_STATUS_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "in_transit": "Your order {number} is on its way with {carrier}: tracking number {tracking}.",
        "out_for_delivery": "Your order {number} is out for delivery today with {carrier} (tracking number {tracking}).",
        "delivered": "Our records show that your order {number} was delivered by {carrier} (tracking number {tracking}).",
        "delivery_exception": "Your order {number} is held up by a delivery problem at {carrier} (tracking number {tracking}). We are looking into it with the carrier.",
        "partially_shipped": "Part of your order {number} has shipped with {carrier}: tracking number {tracking}. The rest of the order has not shipped yet.",
        "other": "Your order {number} is {label}.",
    },
    "fr": {
        "in_transit": "Votre commande {number} est en route avec {carrier} : numéro de suivi {tracking}.",
        "out_for_delivery": "Votre commande {number} est en cours de livraison aujourd'hui avec {carrier} (numéro de suivi {tracking}).",
        "delivered": "D'après nos informations, votre commande {number} a été livrée par {carrier} (numéro de suivi {tracking}).",
        "delivery_exception": "Votre commande {number} est retenue par un incident de livraison chez {carrier} (numéro de suivi {tracking}). Nous suivons cela avec le transporteur.",
        "partially_shipped": "Une partie de votre commande {number} a été expédiée avec {carrier} : numéro de suivi {tracking}. Le reste de la commande n'est pas encore expédié.",
        "other": "Votre commande {number} est au statut : {label}.",
    },
}
_ESTIMATE = {
    "en": "Expected delivery: {date}.",
    "fr": "Livraison prévue : {date}.",
}
# When an order's data has findings (`orders.quality`): what is known, what is being
# checked and who follows up; never "on its way", "will arrive", nor a date no source gave.
_KNOWN = {
    "en": {
        "tracked": "Your order {number} was shipped with {parcels}.",
        "parcel": "{carrier} (tracking number {tracking})",
        "and": " and ",
        "other": "We have found your order {number}.",
    },
    "fr": {
        "tracked": "Votre commande {number} a été expédiée avec {parcels}.",
        "parcel": "{carrier} (numéro de suivi {tracking})",
        "and": " et ",
        "other": "Nous avons bien retrouvé votre commande {number}.",
    },
}
_THE_CARRIER = {"en": "the carrier", "fr": "le transporteur"}
_CHECKING: dict[str, dict[str, str]] = {
    "en": {
        quality.STATUS_CONFLICT: "Our records and the tracking from {carrier} do not agree on where your parcel is, so we are checking this with {carrier}.",
        quality.NO_MOVEMENT: "There has been no tracking update from {carrier} for several days, so we are checking with them.",
        quality.ETA_PASSED: "The expected delivery date, {date}, has passed, so we are checking what happened.",
        quality.MISSING_TRACKING: "Your order is marked as shipped, but we do not have a tracking number for it yet, so we are checking with our warehouse.",
        quality.NO_CARRIER_SCAN: "A shipping label has been created, but {carrier} has not scanned your parcel yet, so we are checking with them.",
        quality.REFUNDED_BUT_FULFILLED: "Our records show both a refund and a shipment for this order, so we are checking it.",
        quality.CANCELLED_BUT_FULFILLED: "Our records show this order as cancelled but also show a shipment, so we are checking it.",
        quality.PARTIAL_RESPONSE: "We could not read all the details of your order just now, so we are checking them.",
        quality.STALE_DATA: "The details we have may not be fully up to date, so we are checking them again.",
        "handover": "A member of our team will get back to you as soon as we know more.",
    },
    "fr": {
        quality.STATUS_CONFLICT: "Nos informations et le suivi de {carrier} ne concordent pas sur l'endroit où se trouve votre colis : nous vérifions auprès de {carrier}.",
        quality.NO_MOVEMENT: "Le suivi de {carrier} n'indique aucun mouvement depuis plusieurs jours : nous vérifions auprès du transporteur.",
        quality.ETA_PASSED: "La date de livraison prévue, {date}, est dépassée : nous vérifions ce qui s'est passé.",
        quality.MISSING_TRACKING: "Votre commande est indiquée comme expédiée, mais nous n'avons pas encore de numéro de suivi : nous vérifions auprès de notre entrepôt.",
        quality.NO_CARRIER_SCAN: "Une étiquette d'expédition a été créée, mais {carrier} n'a pas encore pris en charge votre colis : nous vérifions auprès du transporteur.",
        quality.REFUNDED_BUT_FULFILLED: "Nos informations indiquent à la fois un remboursement et un envoi pour cette commande : nous vérifions.",
        quality.CANCELLED_BUT_FULFILLED: "Nos informations indiquent cette commande comme annulée, mais aussi un envoi : nous vérifions.",
        quality.PARTIAL_RESPONSE: "Nous n'avons pas pu lire tous les détails de votre commande pour le moment : nous vérifions.",
        quality.STALE_DATA: "Les informations dont nous disposons ne sont peut-être pas à jour : nous les vérifions à nouveau.",
        "handover": "Un membre de notre équipe revient vers vous dès que nous en savons plus.",
    },
}
# `eta_passed` when the date that passed is hidden from this run's data.
_UNDATED_ETA = {
    "en": "The expected delivery date has passed, so we are checking what happened.",
    "fr": "La date de livraison prévue est dépassée : nous vérifions ce qui s'est passé.",
}
_ASK_FOR_ORDER = {
    "en": "So that we can check your order, could you send us your order number, or write from the email address you ordered with?",
    "fr": "Pour que nous puissions vérifier votre commande, pourriez-vous nous indiquer votre numéro de commande, ou nous écrire depuis l'adresse e-mail utilisée pour la commande ?",
}
_NOT_FOUND = {
    "en": "We could not find an order {number} under your account. Could you check the number, or tell us the email address you ordered with?",
    "fr": "Nous ne trouvons pas de commande {number} à votre nom. Pourriez-vous vérifier le numéro, ou nous indiquer l'adresse e-mail utilisée pour la commande ?",
}
_NO_ORDERS = {
    "en": "We could not find any order under your account. Could you send us your order number?",
    "fr": "Nous ne trouvons aucune commande à votre nom. Pourriez-vous nous indiquer votre numéro de commande ?",
}
_LOOKUP_FAILED = {
    "en": "We could not read the status of your order right now. We will check it and get back to you shortly.",
    "fr": "Nous ne pouvons pas consulter le statut de votre commande pour le moment. Nous vérifions et revenons vers vous rapidement.",
}
_NO_LOOKUP = {
    "en": "A member of our team will look into your order and get back to you shortly.",
    "fr": "Un membre de notre équipe va examiner votre commande et revenir vers vous rapidement.",
}
_FALLBACK = {
    "en": "A member of our team will get back to you shortly.",
    "fr": "Un membre de notre équipe revient vers vous rapidement.",
}


class RulesProvider:
    name = "rules"
    model = MODEL
    metered = False

    def __init__(self, brand: Brand) -> None:
        self.brand = brand

    def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        timeout: float | None = None,
    ) -> ModelTurn:
        """The fixed workflow's next step; `timeout` is moot, it answers at once."""
        prompt = next((m["content"] for m in messages if m["role"] == "user"), "")
        # The subject marked as a subject line, so that a message opening with a forwarded or
        # quoted one is still read from the customer's own words below it.
        subject = ticket_subject(prompt)
        text = customer_message(prompt)
        if subject:
            text = f"Subject: {subject}\n{text}"
        language = language_of(text, default=self.brand.reply_language)
        tool_messages = [m for m in messages if m["role"] == "tool"]
        if tool_messages:
            return self._reply(
                self._from_tool_result(tool_messages[-1]["content"], text, language), language
            )

        offered = {tool["function"]["name"] for tool in tools}
        topic = topic_of(text)
        if topic is Topic.ORDER_STATUS:
            if "fetch_orders" in offered:
                numbers = order_numbers_in(text)
                arguments = {"order_number": numbers[0]} if numbers else {}
                call = ToolCall(
                    id="call_rules_1",
                    name="fetch_orders",
                    arguments=arguments,
                    raw_arguments=json.dumps(arguments),
                )
                return ModelTurn(text=None, tool_calls=(call,), usage=Usage(), model=MODEL)
            return self._reply(_NO_LOOKUP[language], language)
        answer = self.brand.knowledge.get(str(topic)) if topic is not Topic.OTHER else None
        return self._reply(answer or _FALLBACK[language], language)

    def _from_tool_result(self, content: str, text: str, language: str) -> str:
        try:
            result = json.loads(content)
        except json.JSONDecodeError:
            return _LOOKUP_FAILED[language]
        error = result.get("error")
        if error:
            if error.get("code") == "missing_customer_context":
                return _ASK_FOR_ORDER[language]
            return _LOOKUP_FAILED[language]
        orders = result.get("orders") or []
        if not orders:
            numbers = order_numbers_in(text)
            if numbers:
                return _NOT_FOUND[language].format(number=numbers[0])
            return _NO_ORDERS[language]
        return " ".join(_describe(order, language) for order in orders[:1])

    def _reply(self, body: str, language: str) -> ModelTurn:
        parts = [_GREETING[language], "", _THANKS[language] + " " + body]
        if self.brand.signature:
            parts += ["", self.brand.signature]
        return ModelTurn(text="\n".join(parts), usage=Usage(), model=MODEL)


def _describe(order: dict[str, Any], language: str) -> str:
    if order.get("findings"):
        return _describe_with_findings(order, language)
    templates = _STATUS_TEMPLATES[language]
    status = order.get("status", "")
    shipments = order.get("shipments") or []
    shipment = shipments[0] if shipments else {}
    tracking = shipment.get("tracking_number")
    key = status if status in templates and tracking else "other"
    sentence = templates[key].format(
        number=order.get("number", ""),
        carrier=shipment.get("carrier", ""),
        tracking=tracking or "",
        label=order.get("status_label", status.replace("_", " ")),
    )
    estimate = order.get("estimated_delivery")
    if estimate and status not in {"delivered", "cancelled", "refunded", "returned"}:
        sentence += " " + _ESTIMATE[language].format(date=estimate)
    return sentence


def _describe_with_findings(order: dict[str, Any], language: str) -> str:
    """What the sources agree on, then what is being checked, then who follows up."""
    known, checking = _KNOWN[language], _CHECKING[language]
    the_carrier = _THE_CARRIER[language]
    tracked = [s for s in order.get("shipments") or [] if s.get("tracking_number")]
    if tracked:
        parcels = known["and"].join(
            known["parcel"].format(
                carrier=s.get("carrier") or the_carrier, tracking=s["tracking_number"]
            )
            for s in tracked
        )
        sentences = [known["tracked"].format(number=order.get("number", ""), parcels=parcels)]
    else:
        sentences = [known["other"].format(number=order.get("number", ""))]
    carriers = {s["tracking_number"]: s.get("carrier") or the_carrier for s in tracked}
    for finding in order["findings"]:
        code = str(finding.get("code", ""))
        if code == quality.ETA_PASSED:
            date = _passed_date(finding)
            sentences.append(checking[code].format(date=date) if date else _UNDATED_ETA[language])
        elif code in checking:
            # The carrier of the parcel the finding is about, when it names one.
            parcel = next(
                (e.get("parcel") for e in finding.get("evidence") or [] if e.get("parcel")), ""
            )
            sentences.append(checking[code].format(carrier=carriers.get(parcel, the_carrier)))
    sentences.append(checking["handover"])
    return " ".join(sentences)


def _passed_date(finding: dict[str, Any]) -> str:
    """The date that passed, as its source gave it: the carrier's latest estimate when it
    gave one, else the shop's (as `orders.quality` decides); "" when hidden or none."""
    evidence = finding.get("evidence") or []
    for field in ("expected_delivery", "estimated_delivery"):
        dates = [str(item.get("value")) for item in evidence if item.get("field") == field]
        if dates:
            return "" if quality.HIDDEN in dates else max(dates)
    return ""
