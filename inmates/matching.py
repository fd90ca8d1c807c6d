"""Duplicate detection ("data ganda") over plain person records: blocking and scoring.

A person may be registered only once (UU 7/2017 art. 198(2)); an inmate
already on the DPT of their home TPS is the classic duplicate. This module
finds such pairs inside one list and between two lists (inmates against a DPT
of millions) without comparing all pairs. Pure: no ORM, no database.

Blocking scheme
---------------
Two records are compared only if they share a key. Every key is selective,
so blocks stay small and the cost grows with the number of records, not its
square. ``dob`` is the birth date (taken from the NIK when the record has
none). :func:`blocking_keys` shows them as strings; inside, each key is a
tuple hashed to an int, which keeps an index over 300,000 records small.

``N|nik``
    Exact NIK, whatever the name or birth date say.
``A|dob|nik[:8]``, ``B|dob|nik[8:]``
    NIK halves: a one-digit substitution leaves one half intact. A half alone
    is weak (``nik[:8]`` is region and birth day), but a NIK typo only counts
    when the birth dates agree, so the birth date is part of the key.
``S|dob|nik without its 8th and 9th digits``
    An adjacent transposition inside a half leaves the other half intact;
    this catches the one across the halves. (A digit-sorted key would too,
    but costs more and is less selective.)
``K|nkk|dob``
    Same family card and birth date: twins, or one person entered twice.
``T|dob|skeleton`` per informative name token, ``I|dob|initials``
    Same birth date and a token with the same consonant skeleton (see
    :func:`inmates.names.token_skeleton`), or the same sorted initials of the
    informative tokens. Survive missing or swapped tokens, titles, initials,
    spelling variants (T) and a typo in every token (I). A name without
    informative tokens (``Muhammad``, ``Siti Nur``) gets ``F|dob|skeleton``.
``D|year|month|name skeleton``, ``E|year|day|…``, ``M|month|day|…``, ``W|year|low|high|…``
    Whole-name skeleton with two of the three date parts, or with day and
    month in either order (for days up to 12): one typo in the birth date,
    or day and month swapped, keeps one of them. Two parts, not one, because
    a common name and a birth year alone make blocks of hundreds.

Junk NIKs/NKKs (one digit repeated, runs of zeros) get no keys. A block
larger than ``max_block_size`` is skipped. Between two lists the smaller is
indexed (:class:`MatchIndex`) and the larger streamed through it.

Scoring
-------
Cheap on purpose: names are parsed once per distinct string, the fields
only scoring needs are computed only for records that have candidates, and a
pair costs one token alignment plus a few comparisons.

* Same NIK: strong (``nik_exact``). The only match that may be merged
  without a human (``auto_merge_ok``), and only if name, birth date and sex
  do not contradict it.
* NIK one digit or one adjacent swap apart: counts only with agreeing names
  and identical birth dates; a human picks the right NIK, so never automatic.
* Two valid, different NIKs: two people, as a rule (``nik_differs`` in the
  review band when all else agrees). With the same NKK and birth date they
  are usually twins: ``possible_twins``, never merged, below the match
  threshold unless the names agree too (then a match to review).
* No usable NIK on one side: name and birth date carry it; sex, birth place,
  domicile, NKK and patronym support or contradict. Never automatic.

Thresholds: :func:`score_pair` returns nothing below ``REVIEW_THRESHOLD``;
:func:`find_matches` returns pairs at or above ``MATCH_THRESHOLD`` (pass
``threshold=REVIEW_THRESHOLD`` for the review queue: twins, conflicting
NIKs, weak evidence). Tuned on seeded synthetic populations with planted
variants (see ``tests/test_matching.py``): precision ≥ 0.99 and recall
≥ 0.96 at ``MATCH_THRESHOLD`` over 30 seeds.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from inmates.names import (
    informative_tokens,
    normalize_place,
    parse_name,
    places_agree,
    token_set_similarity,
    token_skeleton,
    variant_form,
)

REVIEW_THRESHOLD = 0.60
MATCH_THRESHOLD = 0.80
AUTO_MERGE_THRESHOLD = 0.95

NAME_AGREES = 0.90  # names this similar are the same name written differently
NAME_CLOSE = 0.80  # the least similarity at which name and birth date can carry a match

NikKind = Literal["exact", "one_digit", "transposition"]


def gettext_noop(message: str) -> str:
    """Mark a string for translation without translating (keeps this module Django-free)."""
    return message


REASON_LABELS: dict[str, str] = {
    "nik_exact": gettext_noop("Same NIK"),
    "nik_one_digit": gettext_noop("NIK differs in one digit"),
    "nik_transposition": gettext_noop("NIK has two neighbouring digits swapped"),
    "nik_differs": gettext_noop("Different NIKs"),
    "nik_missing": gettext_noop("NIK missing on one side"),
    "name_exact": gettext_noop("Same name"),
    "name_similar": gettext_noop("Similar name"),
    "name_differs": gettext_noop("Different name"),
    "birth_date_exact": gettext_noop("Same birth date"),
    "birth_date_near": gettext_noop("Birth date differs by a likely typo"),
    "birth_date_differs": gettext_noop("Different birth date"),
    "birth_date_from_nik": gettext_noop("Birth date taken from the NIK (missing in the record)"),
    "sex_agrees": gettext_noop("Same sex"),
    "sex_differs": gettext_noop("Different sex"),
    "birth_place_similar": gettext_noop("Same birth place"),
    "domicile_same": gettext_noop("Same village"),
    "domicile_same_district": gettext_noop("Same district (kecamatan)"),
    "nkk_same": gettext_noop("Same family card (NKK)"),
    "patronym_same": gettext_noop("Same father's name (bin/binti)"),
    "patronym_differs": gettext_noop("Different father's name (bin/binti)"),
    "possible_twins": gettext_noop("Possibly twins: same family card and birth date"),
}


@dataclass(frozen=True)
class PersonRecord:
    """One person as either list knows them; ``ref`` says where the record lives."""

    ref: Hashable
    nik: str | None
    nkk: str | None
    name: str
    birth_date: datetime.date | None
    sex: str | None = None  # "L" or "P"
    birth_place: str | None = None
    domicile_code: str | None = None  # Kemendagri code, e.g. "33.16.01.2001"
    facility: str | None = None


@dataclass(frozen=True)
class Match:
    """The verdict on one pair: a score in [0, 1] and the machine codes behind it."""

    score: float
    reasons: list[str] = field(default_factory=list)
    auto_merge_ok: bool = False

    @property
    def needs_review(self) -> bool:
        return not self.auto_merge_ok


# ---------------------------------------------------------------------------
# Field normalisation

_NON_DIGITS = re.compile(r"\D")


def clean_id_number(raw: str | None) -> str | None:
    """A usable 16-digit NIK/NKK, or ``None`` for missing, malformed or junk values.

    Junk (all one digit, a run of zeros, a 0000 serial) is treated as missing
    so that filler shared by many records never looks like evidence. Kept in
    step with ``inmates.nik.is_junk`` but free of Django, so workers can import it.
    """
    if not raw:
        return None
    value = raw if len(raw) == 16 and raw.isascii() and raw.isdigit() else _NON_DIGITS.sub("", str(raw))
    if len(value) != 16 or value.count(value[0]) == 16 or value.endswith("0000") or "000000" in value[6:]:
        return None
    return value


def nik_distance_kind(a: str | None, b: str | None) -> NikKind | None:
    """How two NIKs differ: ``"exact"``, ``"one_digit"``, ``"transposition"`` or ``None``.

    ``None`` covers anything further apart, and values that are not 16 digits.
    """
    if not a or not b or len(a) != 16 or len(b) != 16:
        return None
    if a == b:
        return "exact"
    # Most pairs differ in both halves: settle those without a digit loop.
    first_half_same, second_half_same = a[:8] == b[:8], a[8:] == b[8:]
    if not (first_half_same or second_half_same):
        crossed = a[:7] == b[:7] and a[9:] == b[9:] and a[7] == b[8] and a[8] == b[7]
        return "transposition" if crossed else None
    start = 8 if first_half_same else 0
    diff = [i for i in range(start, start + 8) if a[i] != b[i]]
    if len(diff) == 1:
        return "one_digit"
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return "transposition"
    return None


# Laki-laki / Perempuan, and the M/F or W (wanita) of some spreadsheets.
_SEX = {"L": "L", "M": "L", "P": "P", "F": "P", "W": "P"}


@lru_cache(maxsize=1 << 17)
def _region(raw: str | None) -> tuple[str | None, str | None]:
    """(village code, district code) as digits, from a dotted or plain Kemendagri code."""
    digits = _NON_DIGITS.sub("", raw or "")
    return (digits if len(digits) == 10 else None), (digits[:6] if len(digits) >= 6 else None)


def _dob_kind(a: datetime.date | None, b: datetime.date | None) -> str:
    """``exact``, ``near`` (one typo-like difference, or day and month swapped), ``differs``, ``missing``."""
    if a is None or b is None:
        return "missing"
    if a == b:
        return "exact"
    same_day, same_month, same_year = a.day == b.day, a.month == b.month, a.year == b.year
    if same_year and a.day == b.month and a.month == b.day:
        return "near"
    if same_day and same_month:
        ya, yb = f"{a.year:04d}", f"{b.year:04d}"
        one_digit = sum(x != y for x, y in zip(ya, yb, strict=True)) == 1
        return "near" if one_digit or abs(a.year - b.year) == 1 else "differs"
    if same_year and (same_day or same_month):
        return "near"
    return "differs"


def _nik_birth_date(nik: str) -> datetime.date | None:
    """The birth date a NIK encodes (day + 40 for women), ``None`` if not a real date.

    A NIK carries a 2-digit year: the century is the one that does not put the
    birth in the future (the same rule as ``inmates.nik``).
    """
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    century = 2000 if year2 <= datetime.date.today().year % 100 else 1900
    try:
        return datetime.date(century + year2, month, day - 40 if day > 40 else day)
    except ValueError:
        return None


class _Prepared:
    """Everything a record contributes to matching, computed once per record.

    Built in two steps: what blocking needs (NIK, NKK, birth date, name), then,
    only for records that have candidates, the rest. Most records streamed
    from a DPT of millions meet nobody, so they never pay for the second step.

    A missing birth date is taken from the NIK, which encodes it: the NIK may
    predate a corrected birth date, but for a record that has none it is the
    best estimate (and the reason ``birth_date_from_nik`` says so). Sex is not
    taken from the NIK: a typo in the day digit would flip it.
    """

    __slots__ = (  # grouped by the step that fills them
        *("rec", "nik", "nkk", "tokens", "patronym", "dob", "dob_from_nik", "keys", "complete"),
        *("sex", "place", "village", "district"),
    )

    def __init__(self, rec: PersonRecord, *, complete: bool = True) -> None:
        self.rec = rec
        self.nik = clean_id_number(rec.nik)
        self.nkk = clean_id_number(rec.nkk)
        parsed = parse_name(rec.name)
        self.tokens = parsed.tokens
        self.patronym = parsed.patronym
        self.dob = rec.birth_date
        self.dob_from_nik = False
        if self.nik and self.dob is None:
            self.dob = _nik_birth_date(self.nik)
            self.dob_from_nik = self.dob is not None
        # Hashes of the key tuples: a fraction of the memory of the keys in an
        # index over hundreds of thousands of records. A collision only adds
        # a candidate that scoring rejects. Python salts string hashes per
        # process, so keys never leave it (forked workers share the salt).
        self.keys = tuple(map(hash, _key_tuples(self.nik, self.nkk, self.dob, self.tokens)))
        self.complete = False
        if complete:
            self.finish()

    def finish(self) -> None:
        """Compute the fields only scoring needs."""
        if self.complete:
            return
        rec = self.rec
        self.sex = _SEX.get(rec.sex.strip()[:1].upper()) if rec.sex else None
        self.place = normalize_place(rec.birth_place)
        self.village, self.district = _region(rec.domicile_code)
        self.complete = True


@lru_cache(maxsize=1 << 17)
def _name_block_parts(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], str, str]:
    """(skeletons of the informative tokens, their sorted initials, skeleton of the whole name)."""
    informative = informative_tokens(tokens)
    skeletons = tuple(dict.fromkeys(token_skeleton(t) for t in informative))
    initials = "".join(sorted(variant_form(t)[0] for t in informative))
    whole = " ".join(sorted(token_skeleton(t) for t in tokens))
    return skeletons, initials, whole


_KeyTuple = tuple[object, ...]


def _key_tuples(
    nik: str | None, nkk: str | None, dob: datetime.date | None, tokens: tuple[str, ...]
) -> list[_KeyTuple]:
    """The blocking keys as tuples (cheaper to build and hash than formatted strings)."""
    keys: list[_KeyTuple] = []
    if nik:
        keys.append(("N", nik))
        if dob:
            keys.append(("A", dob, nik[:8]))
            keys.append(("B", dob, nik[8:]))
            keys.append(("S", dob, nik[:7] + nik[9:]))
    if dob:
        if nkk:
            keys.append(("K", nkk, dob))
        if tokens:
            skeletons, initials, whole = _name_block_parts(tokens)
            if skeletons:
                keys.extend(("T", dob, s) for s in skeletons)
                keys.append(("I", dob, initials))
            else:
                keys.append(("F", dob, whole))
            # One typo in the birth date keeps one of these: the day (D), the
            # month (E), the year (M), or day and month swapped (W).
            keys.append(("D", dob.year, dob.month, whole))
            keys.append(("E", dob.year, dob.day, whole))
            keys.append(("M", dob.month, dob.day, whole))
            if dob.day <= 12 and dob.day != dob.month:
                keys.append(("W", dob.year, min(dob.day, dob.month), max(dob.day, dob.month), whole))
    return keys


def _render_key(key: _KeyTuple) -> str:
    """``("A", date(1990, 5, 12), "33160112")`` → ``"A|1990-05-12|33160112"``."""
    if key[0] in ("M", "W"):
        return f"{key[0]}|" + "|".join(str(part) for part in key[1:])
    return "|".join(part.isoformat() if isinstance(part, datetime.date) else str(part) for part in key)


def blocking_keys(rec: PersonRecord) -> set[str]:
    """The blocking keys of one record, readable (see the module docstring for the scheme)."""
    p = _Prepared(rec, complete=False)
    return {_render_key(k) for k in _key_tuples(p.nik, p.nkk, p.dob, p.tokens)}


# ---------------------------------------------------------------------------
# Scoring

_TWINS_SCORE = 0.70  # review band: shown to a human, never counted as a duplicate
_TWINS_CAP = 0.85  # twins with agreeing names: a match to review, never automatic
_NIK_DIFFERS_SCORE = 0.65
_NO_NIK_CAP = 0.94  # without a NIK a match is never certain enough to merge unseen


def _same_origin(a: _Prepared, b: _Prepared) -> bool:
    """Sex does not differ and birth place or village agree (all that ``nik_differs`` needs)."""
    a.finish()
    b.finish()
    if a.sex is not None and b.sex is not None and a.sex != b.sex:
        return False
    same_place = a.place is not None and b.place is not None and places_agree(a.place, b.place)
    return same_place or (a.village is not None and a.village == b.village)


def _informative(a: _Prepared, b: _Prepared) -> int:
    """Informative tokens of the poorer name: one-word and common names prove less."""
    return min(len(informative_tokens(a.tokens)), len(informative_tokens(b.tokens)))


def _name_reason(similarity: float) -> str | None:
    if similarity >= 0.999:
        return "name_exact"
    if similarity >= NAME_CLOSE:
        return "name_similar"
    if similarity < 0.6:
        return "name_differs"
    return None


def _score(a: _Prepared, b: _Prepared) -> Match | None:
    """Score a prepared pair; ``None`` when below ``REVIEW_THRESHOLD``."""
    # Cheap exits first: most candidates are strangers who share a birth date.
    dob = _dob_kind(a.dob, b.dob)
    both_nik = a.nik is not None and b.nik is not None
    kind = nik_distance_kind(a.nik, b.nik) if both_nik else None
    nkk_same = a.nkk is not None and a.nkk == b.nkk
    # Two valid NIKs are two people, unless twins or everything else agrees;
    # the name, dearest to compare, is looked at last.
    if both_nik and kind is None and not (dob == "exact" and nkk_same):
        if dob != "exact" or not _same_origin(a, b):
            return None
        if token_set_similarity(a.tokens, b.tokens) < NAME_AGREES:
            return None
    name = token_set_similarity(a.tokens, b.tokens)
    if (
        not both_nik
        and (name < NAME_CLOSE or dob not in ("exact", "near"))
        and not (dob == "exact" and nkk_same)
    ):
        return None  # twins without NIK are the one exception worth a closer look

    a.finish()
    b.finish()
    sex = None if a.sex is None or b.sex is None else a.sex == b.sex
    place = None if a.place is None or b.place is None else places_agree(a.place, b.place)
    if a.village and a.village == b.village:
        domicile = "village"
    elif a.district and a.district == b.district:
        domicile = "district"
    else:
        domicile = None
    # Both name their father: the same father supports, another contradicts.
    father = None
    if a.patronym and b.patronym:
        father = token_set_similarity(a.patronym, b.patronym) >= NAME_AGREES

    dob_codes = {"exact": "birth_date_exact", "near": "birth_date_near", "differs": "birth_date_differs"}
    support = [
        _name_reason(name),
        dob_codes.get(dob),
        "birth_date_from_nik" if dob != "missing" and (a.dob_from_nik or b.dob_from_nik) else None,
        None if sex is None else "sex_agrees" if sex else "sex_differs",
        "birth_place_similar" if place else None,
        {"village": "domicile_same", "district": "domicile_same_district"}.get(domicile or ""),
        "nkk_same" if nkk_same else None,
        None if father is None else "patronym_same" if father else "patronym_differs",
    ]
    support = [code for code in support if code]

    if kind == "exact":
        score = 0.90
        score += 0.05 if name >= NAME_AGREES else 0.02 if name >= NAME_CLOSE else -0.10 if name < 0.6 else 0.0
        score += {"exact": 0.03, "near": 0.0, "differs": -0.08, "missing": 0.0}[dob]
        score += -0.05 if sex is False else 0.0
        score += 0.01 * (bool(place) + (domicile is not None) + nkk_same)
        score = min(score, 1.0)
        auto = score >= AUTO_MERGE_THRESHOLD and name >= NAME_CLOSE and dob != "differs" and sex is not False
        return Match(round(score, 4), ["nik_exact", *support], auto)

    twins = both_nik and nkk_same and dob == "exact"
    if kind is not None and name >= NAME_AGREES and dob == "exact":
        score = 0.86 + 0.4 * (name - NAME_AGREES)
        if (a.nik or "")[6:12] == (b.nik or "")[6:12] and _informative(a, b) <= 1:
            # The NIKs differ outside the date part. Two people born the same
            # day get exactly that (serial 0001 in neighbouring districts, or
            # 0001/0002 in one); with a one-word name ("Slamet") it is as
            # likely as a typo, so birth place or domicile must back it up. A
            # difference in the date part is a typo for sure: the dates agree.
            score -= 0.14
        score += 0.02 * (bool(sex) + bool(place) + (domicile is not None))
        score -= 0.2 if sex is False else 0.0
        score -= 0.1 if father is False else 0.0
        reasons = [f"nik_{kind}", *support]
        if twins:
            # Twins get consecutive serials: one digit apart, same date, same
            # card. Twins rarely share a name, so with agreeing names this is
            # more likely a typo; a human decides either way.
            reasons.insert(1, "possible_twins")
            score = min(score, _TWINS_CAP)
        return Match(round(min(score, _NO_NIK_CAP), 4), reasons, False)

    if both_nik:
        # Two valid NIKs that are not one typo apart: two people, as a rule.
        if twins:
            return Match(_TWINS_SCORE, ["nik_differs", "possible_twins", *support], False)
        if name >= NAME_AGREES and dob == "exact" and _same_origin(a, b):
            return Match(_NIK_DIFFERS_SCORE, ["nik_differs", *support], False)
        return None

    # No usable NIK on at least one side: name and birth date carry it.
    reasons = ["nik_missing", *support]
    twins = nkk_same and dob == "exact" and name < NAME_AGREES
    if twins:
        reasons.insert(1, "possible_twins")
    elif name < NAME_CLOSE or dob not in ("exact", "near"):
        return None
    # A one-word or very common name shared on the same day is a coincidence
    # in a list of millions (thousands of Slamets): it needs more support.
    informative, words = _informative(a, b), min(len(a.tokens), len(b.tokens))
    score = 0.78 if name >= 0.97 else 0.77 if name >= NAME_AGREES else 0.68 if name >= NAME_CLOSE else 0.0
    score -= 0.0 if informative >= 2 else 0.12 if informative == 0 else 0.03 if words >= 2 else 0.06
    score -= 0.10 if dob == "near" else 0.0
    score += 0.03 if sex else -0.25 if sex is False else 0.0
    score += 0.05 if place else -0.04 if place is False else 0.0
    score += 0.06 if domicile == "village" else 0.03 if domicile == "district" else 0.0
    if nkk_same:
        score += 0.08
    elif a.nkk and b.nkk:
        score -= 0.02
    score += 0.04 if father else -0.10 if father is False else 0.0
    score = min(score, _NO_NIK_CAP)
    if twins:
        score = min(max(score, _TWINS_SCORE), _TWINS_CAP)
    if score < REVIEW_THRESHOLD:
        return None
    return Match(round(score, 4), reasons, False)


def score_pair(a: PersonRecord, b: PersonRecord) -> Match | None:
    """Compare two records; ``None`` if they are not worth a human's look (below ``REVIEW_THRESHOLD``)."""
    return _score(_Prepared(a), _Prepared(b))


# ---------------------------------------------------------------------------
# Candidate generation


def _add(index: dict[int, int | list[int]], key: int, i: int) -> None:
    # Most blocks hold one record: store a bare int until a second one arrives,
    # which roughly halves the memory of an index over hundreds of thousands.
    found = index.get(key)
    if found is None:
        index[key] = i
    elif isinstance(found, int):
        index[key] = [found, i]
    else:
        found.append(i)


def _pairs_within(prepared: list[_Prepared], max_block_size: int) -> Iterator[tuple[int, int]]:
    """Index pairs sharing a usable block, each pair once."""
    index: dict[int, int | list[int]] = {}
    for i, p in enumerate(prepared):
        for key in p.keys:
            _add(index, key, i)
    # Blocks in order of first appearance, so the output order depends on the
    # input order only (not on the per-process salt of the hashes).
    rank = {
        k: r for r, (k, v) in enumerate(index.items()) if isinstance(v, list) and len(v) <= max_block_size
    }
    key_sets: dict[int, frozenset[int]] = {}
    for key, key_rank in rank.items():
        members = index[key]
        assert isinstance(members, list)
        for x, i in enumerate(members):
            keys_i = key_sets.get(i) or key_sets.setdefault(i, frozenset(prepared[i].keys))
            for j in members[x + 1 :]:
                keys_j = key_sets.get(j) or key_sets.setdefault(j, frozenset(prepared[j].keys))
                shared = keys_i & keys_j
                # A pair sharing several blocks is emitted from the first of them only.
                if len(shared) > 1 and min(rank.get(k, key_rank) for k in shared) != key_rank:
                    continue
                yield i, j


def candidate_pairs(
    records: Iterable[PersonRecord], *, max_block_size: int = 200
) -> Iterator[tuple[PersonRecord, PersonRecord]]:
    """Pairs of records in one list that share a blocking key, each pair once.

    Blocks larger than ``max_block_size`` are skipped: they come from filler
    values or very common names and would cost more than they find.
    """
    prepared = [_Prepared(r, complete=False) for r in records]
    for i, j in _pairs_within(prepared, max_block_size):
        yield prepared[i].rec, prepared[j].rec


class MatchIndex:
    """Blocking index over one (the smaller) list, probed with records of the other.

    Build it once, then probe with a stream of any length; probing is
    read-only, so a large list can be split into chunks and probed from
    several worker processes that each build (or inherit by fork) the index.
    """

    def __init__(self, records: Iterable[PersonRecord], *, max_block_size: int = 200) -> None:
        self.prepared = [_Prepared(r, complete=False) for r in records]
        self.max_block_size = max_block_size
        index: dict[int, int | list[int] | None] = {}
        for i, p in enumerate(self.prepared):
            for key in p.keys:
                _add(index, key, i)  # type: ignore[arg-type]
            p.keys = ()  # the index holds them now; ~100 MB over 300,000 records
        for key, members in index.items():
            if isinstance(members, list) and len(members) > max_block_size:
                index[key] = None
        self._index = index

    def _candidates(self, probe: _Prepared) -> list[_Prepared]:
        hits = [members for members in map(self._index.get, probe.keys) if members is not None]
        if not hits:
            return []  # the fate of most records streamed from a DPT
        found: set[int] = set()
        for members in hits:
            if isinstance(members, int):
                found.add(members)
            else:
                found.update(members)
        return [self.prepared[i] for i in sorted(found)]

    def candidates(self, record: PersonRecord) -> list[PersonRecord]:
        """Indexed records sharing a usable block with ``record``."""
        return [p.rec for p in self._candidates(_Prepared(record, complete=False))]

    def matches(
        self, record: PersonRecord, *, threshold: float = MATCH_THRESHOLD
    ) -> Iterator[tuple[PersonRecord, Match]]:
        """(indexed record, match) for each indexed record matching ``record``.

        A record never matches itself (the very same object), so a list can be
        probed against its own index. Equal ``ref`` values are not skipped:
        two lists may number their records alike.
        """
        probe = _Prepared(record, complete=False)
        for other in self._candidates(probe):
            if other.rec is record:
                continue
            match = _score(other, probe)
            if match is not None and match.score >= threshold:
                yield other.rec, match


def _index_smaller(
    left: Iterable[PersonRecord], right: Iterable[PersonRecord], max_block_size: int
) -> tuple[MatchIndex, Iterable[PersonRecord], bool]:
    """(index, stream, swapped): index ``right`` instead only when both sizes are known and it is smaller."""
    try:
        swap = len(right) < len(left)  # type: ignore[arg-type]
    except TypeError:
        swap = False
    return MatchIndex(right if swap else left, max_block_size=max_block_size), left if swap else right, swap


def candidate_pairs_between(
    left: Iterable[PersonRecord], right: Iterable[PersonRecord], *, max_block_size: int = 200
) -> Iterator[tuple[PersonRecord, PersonRecord]]:
    """(left, right) pairs sharing a blocking key, each once.

    The smaller side is indexed when both sizes are known (lists); otherwise
    ``left`` is indexed and ``right`` streamed, so pass the inmates as
    ``left`` and a DPT generator as ``right``.
    """
    index, stream, swap = _index_smaller(left, right, max_block_size)
    for record in stream:
        for other in index.candidates(record):
            yield (record, other) if swap else (other, record)


def find_matches(
    records: Iterable[PersonRecord], threshold: float = MATCH_THRESHOLD, *, max_block_size: int = 200
) -> Iterator[tuple[PersonRecord, PersonRecord, Match]]:
    """Duplicates inside one list: (a, b, match) with ``a`` listed before ``b``."""
    prepared = [_Prepared(r, complete=False) for r in records]
    for i, j in _pairs_within(prepared, max_block_size):
        match = _score(prepared[i], prepared[j])
        if match is not None and match.score >= threshold:
            yield prepared[i].rec, prepared[j].rec, match


def find_matches_between(
    left: Iterable[PersonRecord],
    right: Iterable[PersonRecord],
    threshold: float = MATCH_THRESHOLD,
    *,
    max_block_size: int = 200,
) -> Iterator[tuple[PersonRecord, PersonRecord, Match]]:
    """Matches across two lists: (left record, right record, match).

    Indexes the smaller side (see :func:`candidate_pairs_between`) and scores
    each candidate once; memory is bounded by the indexed side.
    """
    index, stream, swap = _index_smaller(left, right, max_block_size)
    for record in stream:
        for other, match in index.matches(record, threshold=threshold):
            yield (record, other, match) if swap else (other, record, match)
