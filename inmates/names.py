"""Indonesian personal names: normalisation, keys and similarity for duplicate detection.

The same inmate is written many ways across a prison register, a court
document and the KPU voter list: ``H. MOCH. DJOKO SOEPRAPTO, S.H.``,
``Muhammad Joko Suprapto bin Slamet``, ``M Djoko Suprapto``. This module turns
each into a stable comparison form so that matching compares people, not
spelling habits. What it does, in order:

1. Unicode folding (accents dropped), case folding, punctuation and digits
   removed; dots are read first because they separate abbreviations
   (``M.Rizki`` is two tokens, ``S.Pd.`` is one degree).
2. Titles and honorifics are dropped (``H.``, ``Hj.``, ``Drs.``, ``Prof.``,
   degrees such as ``S.H.``, ``M.Pd.``, ``A.Md.``). A dotless degree that could
   be part of a name is only dropped where degrees are written: after a comma
   or in the trailing run of the name.
3. ``bin``/``binti``/``bt`` start the patronym and ``alias``/``als`` start an
   alias (court and prison documents write ``X alias Y bin Z``); both are kept
   apart from the comparison name, because the same person is registered with
   and without them.
4. Pre-1972 spellings are modernised per token (``oe``→u, ``dj``→j, ``tj``→c,
   ``sj``→sy, ``nj``→ny and, inside such an old-spelled token, a bare ``j``→y,
   so ``Tjahjo`` becomes ``cahyo``).
5. Common abbreviations are canonicalised: every Muhammad variant to
   ``muhammad``, ``Abd.`` to ``abdul``, ``Nurul``/``Noor`` to ``nur``.

The result is deterministic and idempotent. Parsing is cached per string and
the per-token work per token, because a voter list of millions repeats the
same names and, far more, the same tokens.

Also here: the blocking keys of a name (:func:`token_skeleton`,
:func:`name_phonetic_key`), :func:`name_similarity` (rapidfuzz Jaro-Winkler
and Indel per token, aligned order-free), and birth-place folding.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA, Indel, JaroWinkler

# fmt: off
# Honorifics and titles that never form part of a name: dropped wherever they are.
HONORIFICS = frozenset(
    {
        "h", "hj", "haji", "hajjah", "hajah", "hadji", "kh", "kyai", "kiai", "drs", "dra", "dr", "ir",
        "prof", "alm", "almh", "almarhum", "almarhumah", "ny", "nyonya", "tn", "tuan", "sdr",
        "sdri", "sdra", "bpk", "bapak", "ust", "ustadz", "ustad",
    }
)
# Academic degrees (written after the name). Compared without their dots.
DEGREES = frozenset(
    {
        "sh", "shi", "mh", "mhum", "se", "sei", "ak", "skom", "mkom", "st", "mt", "msi", "ssi",
        "mm", "mpd", "mpdi", "spd", "spdi", "amd", "amdkep", "amdkeb", "amdkom", "sag", "mag",
        "ssos", "msos", "sip", "lc", "ma", "mkes", "skm", "skep", "ners", "ns", "sked", "sfarm",
        "apt", "sp", "spsi", "mpsi", "stp", "msc", "phd", "bsc", "ba", "mba", "shum", "sth",
        "sthi", "ssy", "spt", "ssn", "sikom", "mkn", "mikom", "sgz",
    }
)
# Degrees that are also plausible name tokens: dropped only when written with
# dots or after a comma, never when they merely end the name.
AMBIGUOUS_DEGREES = frozenset({"ma", "ba", "ak", "sp", "apt", "ners", "ns", "lc", "mag"})

PATRONYM_MARKERS = frozenset({"bin", "binti", "bt", "bte", "binte", "bint"})
ALIAS_MARKERS = frozenset({"alias", "als", "aka"})

MUHAMMAD_VARIANTS = frozenset(
    {
        "muhammad", "muhamad", "muhammed", "muhamed", "muhamat", "muhammat", "mohammad", "mohamad",
        "mohammed", "mohamed", "mohamat", "mochammad", "mochamad", "mochamat", "mochammat",
        "mokhammad", "mokhamad", "muchammad", "muchamad", "mukhammad", "mukhamad", "mohd", "moh",
        "moch", "mochd", "muh", "muhd", "mhd", "md", "m", "mhmd", "mmd",
    }
)
CANONICAL_TOKENS: dict[str, str] = {
    **{variant: "muhammad" for variant in MUHAMMAD_VARIANTS},
    "abd": "abdul", "abdoel": "abdul",
    "nurul": "nur", "noor": "nur", "nour": "nur", "noer": "nur",
}

# Tokens so frequent that sharing them says little about identity (Islamic
# given names, Javanese birth-order names, Balinese and Bugis/Butonese
# prefixes). They weigh less in similarity and never form a blocking key alone.
COMMON_TOKENS = frozenset(
    {
        "muhammad", "ahmad", "abdul", "nur", "siti", "sri", "dwi", "tri", "eka", "putu", "made",
        "kadek", "komang", "nyoman", "ketut", "wayan", "gede", "ni", "luh", "ida", "ayu", "bagus",
        "la", "wa", "andi", "teuku", "cut", "raden", "tengku",
    }
)

# fmt: on

_VOWELS = frozenset("aeiou")
_SPLIT = re.compile(r"[\s\-_/\\()\[\]{}\"“”:;+&|]+")
_APOSTROPHES = re.compile(r"['`’‘ʼ]")
_NOT_LETTER_OR_DOT = re.compile(r"[^a-z.]")
_PLAIN = re.compile(r" *[a-z]+(?: +[a-z]+)* *")
_PLAIN_WORD = re.compile(r"[a-z.]*")
_TITLES = DEGREES | HONORIFICS


@dataclass(frozen=True)
class ParsedName:
    """A name split into what identifies the person and what only qualifies them.

    ``tokens`` is the comparison name; ``patronym`` is what followed
    ``bin``/``binti``; ``aliases`` holds each alias (itself a token tuple).
    """

    tokens: tuple[str, ...]
    patronym: tuple[str, ...] = ()
    aliases: tuple[tuple[str, ...], ...] = ()


def fold_text(raw: str) -> str:
    """Lower-case ASCII letters, dots and separators; accents folded, not lost."""
    if raw.isascii():
        # The common case (voter lists are upper-case ASCII): skip Unicode work.
        return raw.lower().replace("'", "").replace("`", "")
    text = unicodedata.normalize("NFKD", raw)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return _APOSTROPHES.sub("", text)


def modernise_spelling(token: str) -> str:
    """Apply the 1972 spelling reform to one token (``Soedjono`` → ``sujono``).

    ``nj`` and a bare ``j`` are only rewritten inside a token that has an
    unambiguous old-spelling marker, because modern names use them too
    (``Panji``, ``Joko``). Applied until stable, so the result is idempotent.
    """
    for _ in range(4):
        old = "oe" in token or "dj" in token or "tj" in token or "sj" in token or token.startswith("nj")
        if not old:
            return token
        new = token.replace("oe", "u")
        # Upper-case placeholders keep the j of "dj" from being read as a bare j.
        new = new.replace("dj", "J").replace("tj", "C").replace("sj", "SY").replace("nj", "NY")
        new = new.replace("j", "y").lower()
        if new == token:
            return token
        token = new
    return token


def _raw_tokens(folded: str) -> list[tuple[str, bool, bool]]:
    """Split into (token, had_dot, after_comma) triples; dots split abbreviations."""
    if _PLAIN.fullmatch(folded):
        # Letters and single spaces only: nothing to split but the spaces.
        return [(word, False, False) for word in folded.split()]
    result: list[tuple[str, bool, bool]] = []
    for part_index, part in enumerate(folded.split(",")):
        for chunk in _SPLIT.split(part):
            if not _PLAIN_WORD.fullmatch(chunk):
                chunk = _NOT_LETTER_OR_DOT.sub("", chunk)
            compact = chunk.replace(".", "")
            if not compact:
                continue
            if "." in chunk and compact in _TITLES:
                # "S.Pd." / "M.M." / "Hj." are one abbreviation, not initials.
                result.append((compact, True, part_index > 0))
                continue
            pieces = [p for p in chunk.split(".") if p]
            for piece in pieces:
                result.append((piece, "." in chunk, part_index > 0))
    return result


def _strip_titles(raw_tokens: list[tuple[str, bool, bool]]) -> list[str]:
    """Drop honorifics anywhere, and degrees where degrees are written."""
    kept: list[tuple[str, bool, bool]] = []
    for token, had_dot, after_comma in raw_tokens:
        if token in HONORIFICS:
            continue
        if token in DEGREES and (after_comma or had_dot):
            continue
        kept.append((token, had_dot, after_comma))
    # A trailing run of bare degrees ("BUDI SANTOSO SH SE"), never the whole name.
    while (
        len(kept) > 1
        and kept[-1][0] in DEGREES
        and kept[-1][0] not in AMBIGUOUS_DEGREES
        and any(token not in DEGREES for token, _, _ in kept[:-1])
    ):
        kept.pop()
    if not kept and raw_tokens:
        # Only titles ("Haji"): better a title than an empty name.
        return [token for token, _, _ in raw_tokens]
    return [token for token, _, _ in kept]


@lru_cache(maxsize=1 << 16)
def _canonical(token: str) -> str:
    token = modernise_spelling(token)
    return CANONICAL_TOKENS.get(token, token)


_EMPTY = ParsedName(())


@lru_cache(maxsize=1 << 18)
def parse_name(raw: str | None) -> ParsedName:
    """Parse a raw name into comparison tokens, patronym and aliases (cached)."""
    if not raw:
        return _EMPTY
    words = [_canonical(t) for t in _strip_titles(_raw_tokens(fold_text(raw)))]
    # Honorifics written in old spelling ("Hadji") are only visible now.
    words = [w for w in words if w not in HONORIFICS] or words
    main: list[str] = []
    patronym: list[str] = []
    aliases: list[list[str]] = []
    target = main
    for word in words:
        if word in PATRONYM_MARKERS and main:
            target = patronym
            continue
        if word in ALIAS_MARKERS and main:
            aliases.append([])
            target = aliases[-1]
            continue
        target.append(word)
    if not main:
        main = words
    return ParsedName(tuple(main), tuple(patronym), tuple(tuple(a) for a in aliases if a))


def normalize_name(raw: str | None) -> str:
    """The comparison form of a name: lower-case tokens, titles, patronym and alias removed."""
    return " ".join(parse_name(raw).tokens)


def name_tokens(raw: str | None) -> list[str]:
    """The comparison tokens of a name, in written order."""
    return list(parse_name(raw).tokens)


def patronym(raw: str | None) -> str:
    """What followed ``bin``/``binti`` (the father's name), normalised; ``""`` if none."""
    return " ".join(parse_name(raw).patronym)


def name_key(raw: str | None) -> str:
    """Order-free exact key: the sorted comparison tokens (``Rizki Pratama`` = ``Pratama Rizki``)."""
    return " ".join(sorted(parse_name(raw).tokens))


@lru_cache(maxsize=1 << 16)
def variant_form(token: str) -> str:
    """Fold spelling variants that Indonesian clerks use interchangeably.

    kh/ch/h (Khairul, Chairul, Hairul), q/k, f/p/v (Fitri, Pitri), z/j
    (Zainal, Jainal), sy/s, th/t, dh/d, y/i (Rizky, Rizki) and doubled letters
    (Hassan, Hasan). Vowels are kept, so Rina and Rini stay different.
    """
    t = token
    for old, new in _VARIANT_DIGRAPHS:
        t = t.replace(old, new)
    t = t.translate(_VARIANT_TABLE)
    collapsed = []
    for ch in t:
        if not collapsed or collapsed[-1] != ch:
            collapsed.append(ch)
    return "".join(collapsed)


_VARIANT_DIGRAPHS = (
    ("kh", "h"),
    ("ch", "h"),
    ("sy", "s"),
    ("ts", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
)
_VARIANT_TABLE = str.maketrans({"q": "k", "x": "k", "v": "f", "p": "f", "z": "j", "y": "i"})


@lru_cache(maxsize=1 << 16)
def token_skeleton(token: str) -> str:
    """A coarse phonetic key for blocking: first letter plus the consonants.

    Built on :func:`variant_form`, then drops the vowels that Javanese and
    Malay spellings swap (Slamet/Selamet, Suhendra/Suhendro, Rahmat/Rohmat).
    Coarse on purpose: it only proposes candidates, scoring decides.
    """
    v = variant_form(token)
    if not v:
        return ""
    rest = [ch for ch in v[1:] if ch not in _VOWELS]
    out = [v[0]]
    for ch in rest:
        if out[-1] != ch:
            out.append(ch)
    return "".join(out)


def name_phonetic_key(raw: str | None) -> str:
    """Order-free phonetic key of the whole comparison name (sorted token skeletons)."""
    return " ".join(sorted(token_skeleton(t) for t in parse_name(raw).tokens))


def informative_tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Tokens that identify: not initials, not the very common given names."""
    return tuple(t for t in tokens if len(t) > 1 and t not in COMMON_TOKENS)


# ---------------------------------------------------------------------------
# Similarity

TOKEN_MATCH_MIN = 0.85  # two tokens below this are different words
_MISSING_TOKEN_PENALTY = 0.05
_SINGLE_INFORMATIVE_CAP = 0.85  # "Budi" vs "Budi Santoso": close, not the same
_NO_INFORMATIVE_CAP = 0.6  # "Siti" vs "Siti Aminah": says almost nothing


def _weight(token: str) -> float:
    if len(token) == 1:
        return 1.0
    if token in COMMON_TOKENS:
        return 1.5
    return float(min(max(len(token), 3), 8))


@lru_cache(maxsize=1 << 18)
def token_similarity(x: str, y: str) -> float:
    """Similarity of two normalised tokens in [0, 1].

    An initial matches any token with its letter (0.9). Spelling variants
    score 0.95. Otherwise the mean of Jaro-Winkler (kind to typos at the end)
    and Indel (strict about short different names such as Ali/Adi), raised to
    0.9 for a single typo (one edit or swap) in a word of five letters or
    more, and to 0.86 for two in a word of eight or more; shorter words are
    often different names one letter apart (Rina/Rini).
    """
    if x == y:
        return 1.0
    if len(x) == 1 or len(y) == 1:
        return 0.9 if x[0] == y[0] else 0.0
    if variant_form(x) == variant_form(y):
        return 0.95
    score = (JaroWinkler.normalized_similarity(x, y) + Indel.normalized_similarity(x, y)) / 2
    shortest = min(len(x), len(y))
    if shortest >= 5:
        edits = OSA.distance(x, y, score_cutoff=2)
        if edits <= 1:
            score = max(score, 0.9)
        elif edits == 2 and shortest >= 8:
            score = max(score, 0.86)
    return score


def _aligned_similarity(ta: tuple[str, ...], tb: tuple[str, ...]) -> float:
    """Greedy one-to-one token alignment, scored on the shorter name's coverage.

    Order-free (swapped tokens), tolerant of a missing token (a small penalty
    per unmatched token of the longer name) and of initials; capped when the
    shorter name is a single word or has no informative token, since "Budi"
    inside "Budi Santoso" or "Siti" inside "Siti Aminah" is weak evidence.
    """
    if len(ta) > len(tb):
        ta, tb = tb, ta
    scored = []
    for i, x in enumerate(ta):
        for j, y in enumerate(tb):
            s = token_similarity(x, y)
            if s >= TOKEN_MATCH_MIN:
                scored.append((s, i, j))
    scored.sort(reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    matched = 0.0
    for s, i, j in scored:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        matched += s * _weight(ta[i])
    coverage = matched / sum(_weight(t) for t in ta)
    unmatched_b = [tb[j] for j in range(len(tb)) if j not in used_b]
    score = coverage - _MISSING_TOKEN_PENALTY * len(unmatched_b)
    if unmatched_b:
        if not informative_tokens(ta) and informative_tokens(tuple(unmatched_b)):
            score = min(score, _NO_INFORMATIVE_CAP)
        elif len(ta) == 1:
            score = min(score, _SINGLE_INFORMATIVE_CAP)
    return max(score, 0.0)


@lru_cache(maxsize=1 << 17)
def token_set_similarity(ta: tuple[str, ...], tb: tuple[str, ...]) -> float:
    """Similarity of two normalised token tuples (the engine of :func:`name_similarity`)."""
    if not ta or not tb:
        return 0.0
    if ta > tb:
        # Symmetric by construction: the greedy alignment breaks ties by position.
        ta, tb = tb, ta
    if ta == tb or sorted(ta) == sorted(tb):
        return 1.0
    score = _aligned_similarity(ta, tb)
    if len(ta) != len(tb) and score < 0.97:
        # A name written with or without a space: "Nur Hayati"/"Nurhayati",
        # "Abdul Rahman"/"Abdurrahman". Only when the token counts differ,
        # otherwise a shared long token inflates it (Muhammad Ali/Adi).
        joined = Indel.normalized_similarity(
            "".join(variant_form(t) for t in ta), "".join(variant_form(t) for t in tb)
        )
        if joined >= 0.9:
            score = max(score, min(joined, 0.97))
    return round(score, 4)


def name_similarity(a: str | None, b: str | None) -> float:
    """Similarity of two raw names in [0, 1], after normalisation.

    1.0 for the same tokens in any order; about 0.9 for a missing middle name
    or an initial; low for names that only share a common token (Siti Aminah
    vs Siti Rahayu). Patronyms and aliases are ignored: one list may have
    them and the other not.
    """
    return token_set_similarity(parse_name(a).tokens, parse_name(b).tokens)


# ---------------------------------------------------------------------------
# Place names (birth places): the same folding, minus the region words.

_PLACE_NOISE = re.compile(r"\b(kabupaten|kab|kota|kotamadya|kec|kecamatan|desa|kel|kelurahan)\b|[^a-z ]")


@lru_cache(maxsize=1 << 16)
def normalize_place(raw: str | None) -> str | None:
    """``"KAB. BLORA, JAWA TENGAH"`` → ``"blora"``: the first part, without region words."""
    if not raw:
        return None
    first = fold_text(raw).split(",")[0]
    words = _PLACE_NOISE.sub(" ", first.replace(".", " ")).split()
    return " ".join(variant_form(w) for w in words) or None


@lru_cache(maxsize=1 << 16)
def places_agree(a: str, b: str) -> bool:
    """Two normalised place names that are the same place, give or take a typo."""
    return a == b or Indel.normalized_similarity(a, b) >= 0.85
