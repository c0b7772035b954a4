"""Intake over HTTP: authenticate the brand, validate the payload, hand it to `ticket_ingest`."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from copilot.exceptions import CopilotError, InvalidIntake
from copilot.models import Brand


class IntakeUnauthorized(CopilotError):
    code = "unauthorized"
    status = 401


class IntakeTooLarge(CopilotError):
    code = "payload_too_large"
    status = 413


def brand_for_token(request: HttpRequest) -> Brand:
    """The brand whose intake token is in the `Authorization: Bearer` header."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise IntakeUnauthorized(
            "Send the brand's intake token as 'Authorization: Bearer <token>'."
        )
    brand = Brand.objects.filter(api_token_digest=Brand.token_digest(token.strip())).first()
    if brand is None:
        raise IntakeUnauthorized("This intake token is not valid.")
    return brand


def _text(payload: dict[str, Any], key: str, *, max_length: int, required: bool = False) -> str:
    value = payload.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidIntake(f"'{key}' must be a string.", {key: "must be a string"})
    value = value.strip()
    if required and not value:
        raise InvalidIntake(f"'{key}' is required.", {key: "required"})
    if len(value) > max_length:
        raise InvalidIntake(
            f"'{key}' is longer than {max_length} characters.",
            {key: f"max {max_length} characters"},
        )
    return value


def parse_ticket_payload(request: HttpRequest) -> dict[str, Any]:
    """The keyword arguments of `ticket_ingest` from a JSON request, or a clear 4xx error."""
    if len(request.body) > settings.COPILOT_INTAKE_MAX_BYTES:
        raise IntakeTooLarge(f"The body is larger than {settings.COPILOT_INTAKE_MAX_BYTES} bytes.")
    if request.content_type != "application/json":
        raise InvalidIntake("Send the ticket as JSON with 'Content-Type: application/json'.")
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError) as error:
        # ValueError covers bad JSON and UTF-8, and integers past Python's digit limit;
        # RecursionError, nesting deeper than the parser's stack (found by fuzzing).
        raise InvalidIntake(f"The body is not valid JSON: {error}.") from error
    if not isinstance(payload, dict):
        raise InvalidIntake("The body must be a JSON object.")
    customer = payload.get("customer") or {}
    if not isinstance(customer, dict):
        raise InvalidIntake("'customer' must be an object.", {"customer": "must be an object"})
    verified = customer.get("email_verified", False)
    if not isinstance(verified, bool):
        raise InvalidIntake(
            "'customer.email_verified' must be true or false.",
            {"customer.email_verified": "must be a boolean"},
        )
    email = _text(customer, "email", max_length=254)
    if email and "@" not in email:
        raise InvalidIntake(
            "'customer.email' is not an email address.", {"customer.email": "invalid"}
        )
    return {
        "external_id": _text(payload, "external_id", max_length=120, required=True),
        "subject": _text(payload, "subject", max_length=300),
        "body": _text(payload, "body", max_length=100_000, required=True),
        "customer_external_id": _text(customer, "external_id", max_length=120),
        "customer_email": email,
        "customer_email_verified": verified,
        "customer_name": _text(customer, "name", max_length=200),
    }
