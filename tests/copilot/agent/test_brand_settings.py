"""Per-brand settings: what the model is told, what the offline provider answers with, and
what every trace records."""

from __future__ import annotations

import pytest

from tests.copilot.agent.runs import run
from tests.fakes import openai_server as fake

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(world):
    brand = world.brand
    brand.tone = "formal and precise"
    brand.signature = "Nora, Northwind support"
    brand.reply_language = "fr"
    brand.knowledge = {"hours": "We answer Monday to Friday, 9:00 to 17:00 CET."}
    brand.ai_model = "gpt-brand"
    brand.save()
    return world


def test_model_is_told_the_brand_settings_and_its_capabilities(configured, openai_server):
    openai_server.script(fake.text("Bonjour, nous répondons du lundi au vendredi."))

    result = run(configured.ticket("Quels sont vos horaires ?"))

    system = openai_server.requests[0]["messages"][0]["content"]
    assert "Tone: formal and precise." in system
    assert "End the reply with this signature: Nora, Northwind support" in system
    assert "- hours: We answer Monday to Friday, 9:00 to 17:00 CET." in system
    assert "brand's default is 'fr'" in system
    assert "fetch_orders: read this customer's orders" in system
    assert "You cannot look up orders" not in system
    assert result.trace.config == {
        "reply_language": "fr",
        "tone": "formal and precise",
        "signature": "Nora, Northwind support",
        "ai_model": "gpt-brand",
        "prompt_version": "v1",
        "knowledge_topics": ["hours"],
        "daily_token_budget": 0,
    }
    assert result.trace.prompt_version == "v1"


def test_rules_provider_answers_ordinary_questions_from_brand_knowledge(configured):
    result = run(configured.ticket("Bonjour, quels sont vos horaires d'ouverture ?"), "rules")

    assert result.ok
    assert "We answer Monday to Friday, 9:00 to 17:00 CET." in result.text
    assert result.text.startswith("Bonjour,") and result.text.endswith("Nora, Northwind support")
    assert result.trace.tool_calls_count == 0
    assert result.trace.grounding == "generative"


def test_rules_provider_replies_in_french_from_the_fetched_order(world):
    result = run(world.ticket("Bonjour, où est ma commande NW-2001 ? Merci"), "rules")

    assert result.text.startswith("Bonjour,")
    assert "Votre commande NW-2001 est en route avec DHL : numéro de suivi JD0042." in result.text
    assert result.trace.grounding == "grounded"


@pytest.mark.parametrize("subject", ["", "Fwd: Your order has shipped"])
def test_rules_provider_reads_the_question_below_a_forwarded_notice(world, subject):
    body = (
        "---------- Forwarded message ---------\nFrom: Orders <no-reply@northwind.example>\n"
        "Subject: Your order NW-2001 has shipped\n\nGood news! It is on its way.\n\n---\n\n"
        "It's now the 19th and nothing at my door. What's going on?"
    )

    result = run(world.ticket(body, subject=subject), "rules")

    assert result.trace.tool_calls_count == 1
    assert "NW-2001" in result.text
