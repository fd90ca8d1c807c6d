"""Admin search that uses the indexes: NIK exact, names by substring (trigram indexes on PostgreSQL).

Django's admin search ORs every search field for every word: "a NIK equals
the word, or the name contains it, or the registration number contains it".
One ``OR`` with a substring match on a column without a suitable index makes
PostgreSQL read the whole table (300,000 inmates, millions of DPT rows) on
every search. Here each word is matched only where it can match:

* 16 digits: a NIK or NKK, compared exactly (B-tree indexes);
* other words with a digit: a registration number (substring) or the start of
  a NIK (prefix), e.g. ``WBP.00123`` or ``331601``;
* words without a digit: names, by substring, case-insensitive (``icontains``;
  the trigram GIN indexes of ``inmates/migrations/*_scale_indexes.py`` serve it
  on PostgreSQL, SQLite scans).

Words are combined with AND, as in Django: ``budi santoso`` finds names that
contain both. Quoted phrases stay one word (``"budi santoso"``).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from functools import reduce

from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

NIK_LENGTH = 16


def search_words(search_term: str) -> list[str]:
    """The words of a search box entry, quotes removed (as Django's admin splits them)."""
    words = []
    for bit in smart_split(search_term or ""):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1] and len(bit) > 1:
            bit = unescape_string_literal(bit)
        bit = bit.strip()
        if bit:
            words.append(bit)
    return words


def is_full_nik(word: str) -> bool:
    return len(word) == NIK_LENGTH and word.isdigit()


def _any(lookups: Iterable[tuple[str, str]]) -> Q:
    parts = [Q(**{lookup: value}) for lookup, value in lookups]
    return reduce(operator.or_, parts) if parts else Q(pk__in=[])


def word_filter(
    word: str,
    *,
    nik_fields: Sequence[str] = (),
    name_fields: Sequence[str] = (),
    number_fields: Sequence[str] = (),
) -> Q:
    """The filter for one word (see the module docstring)."""
    if is_full_nik(word):
        return _any((f"{field}__exact", word) for field in nik_fields)
    if any(char.isdigit() for char in word):
        lookups = [(f"{field}__icontains", word) for field in number_fields]
        if word.isdigit():
            lookups += [(f"{field}__startswith", word) for field in nik_fields]
        return _any(lookups)
    return _any((f"{field}__icontains", word) for field in name_fields)


def search_filter(
    search_term: str,
    *,
    nik_fields: Sequence[str] = (),
    name_fields: Sequence[str] = (),
    number_fields: Sequence[str] = (),
) -> Q | None:
    """All words ANDed; None for an empty search."""
    words = search_words(search_term)
    if not words:
        return None
    return reduce(
        operator.and_,
        (
            word_filter(word, nik_fields=nik_fields, name_fields=name_fields, number_fields=number_fields)
            for word in words
        ),
    )


class IndexedSearchMixin:
    """``get_search_results`` by word kind. Put it before the scoped admin base class.

    ``search_fields`` stays set (it shows the search box); these say how words match:
    ``search_nik_fields`` (exact for 16 digits, prefix for other digit-only words),
    ``search_name_fields`` (substring), ``search_number_fields`` (substring for words
    with a digit).
    """

    search_nik_fields: Sequence[str] = ()
    search_name_fields: Sequence[str] = ()
    search_number_fields: Sequence[str] = ()

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        condition = search_filter(
            search_term,
            nik_fields=self.search_nik_fields,
            name_fields=self.search_name_fields,
            number_fields=self.search_number_fields,
        )
        if condition is not None:
            queryset = queryset.filter(condition)
        # The rest of the chain (the scope rule) with nothing left to search.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, "")
        return queryset, may_have_duplicates
