"""The per-brand waffle flag (`WAFFLE_FLAG_MODEL`)."""

from __future__ import annotations

from django.db import models
from waffle.models import CACHE_EMPTY, AbstractUserFlag
from waffle.utils import get_cache, keyfmt

from copilot.models import Brand

FLAG_BRANDS_CACHE_KEY = "waffle:flag_brands:%s"


class BrandFlag(AbstractUserFlag):
    """A waffle flag that can also be switched on brand by brand."""

    brands = models.ManyToManyField(
        Brand,
        blank=True,
        related_name="flags",
        help_text="Activate this flag for these brands.",
    )

    class Meta(AbstractUserFlag.Meta):
        verbose_name = "Brand flag"
        verbose_name_plural = "Brand flags"

    def get_flush_keys(self, flush_keys: list[str] | None = None) -> list[str]:
        flush_keys = super().get_flush_keys(flush_keys)
        flush_keys.append(keyfmt(FLAG_BRANDS_CACHE_KEY, self.name))
        return flush_keys

    def _brand_ids(self) -> set[int]:
        cache = get_cache()
        key = keyfmt(FLAG_BRANDS_CACHE_KEY, self.name)
        cached = cache.get(key)
        if cached == CACHE_EMPTY:
            return set()
        if cached:
            return cached
        ids = set(self.brands.values_list("pk", flat=True)) if self.pk else set()
        cache.add(key, ids or CACHE_EMPTY)
        return ids

    def is_active_for_brand(self, brand: Brand) -> bool:
        """On for everyone, off for everyone, or on for the listed brands."""
        if self.everyone is not None:
            return self.everyone
        return brand.pk in self._brand_ids()
