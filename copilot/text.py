"""Text helpers shared by the apps that read what customers write."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Case-folded without accents, so 'Où' and 'ou', 'reçu' and 'recu' compare alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
