"""Stable bucketing: the same customer of the same brand always lands in the same arm."""

from __future__ import annotations

import hashlib

BUCKETS = 10_000


def bucket_for(*, flag: str, brand_id: int, subject: str) -> int:
    """A bucket in [0, BUCKETS) from a hash of (flag, brand, customer); no randomness."""
    digest = hashlib.sha256(f"{flag}:{brand_id}:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS
