"""Synthetic register and DPT with planted duplicates, written to the database fast.

    from bench.dedup_generator import generate
    truth = generate(inmates=300_000, facilities=500, dpt=2_000_000, seed=7)

Used by the dedup benchmark (``bench/dedup.py``) and meant for the scale data
(``seed_scale``). What it plants, with the ground truth kept by reference
(``(facility code, registration number)`` for inmates, ``(DPT file, line)``
for DPT rows, the same references as ``find_duplicates --json``):

* **inmate duplicates** (``duplicate_rate`` of the inmate records): a second
  record of a person already registered, at the same facility (re-admission)
  or at another one (a transfer never recorded), written with the variants
  clerks produce: Muhammad/Moch./M., Abdul/Abd., Nur/Nurul, old spelling
  (oe, dj, tj, sj, nj), titles and degrees (H., Hj., Drs., S.Pd., S.H.),
  ``bin``/``binti`` + father, upper case, a dropped middle name, swapped
  tokens, a joined name (Nur Hayati/Nurhayati), a one-letter typo; and NIK
  trouble: one digit wrong, two neighbouring digits swapped, missing;
  sometimes a birth-date typo or another way of writing the birth place;
* **twins** (``twin_rate``): a sibling with the same family card (NKK) and
  birth date and the next NIK serial, who is *not* a duplicate; some twins
  are inmates, some are at home on the DPT next to their brother in prison;
* **the DPT**: one file per regency (``<prefix>_DPT_<code>.csv``), residents
  of the regency plus ``dpt_inmate_rate`` of the people in prison, listed at
  their home TPS (upper case as KPU writes, sometimes another spelling).

Everything is streamed: people are generated, written to a temporary file
and loaded with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite); only the
people on the DPT and the truth are kept in memory (about 100 MB at 300,000
inmates and 2,000,000 DPT rows). Inmates get their admission event; no
audit history is written for generated rows.
"""

from __future__ import annotations

import datetime
import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, models, transaction
from django.utils import timezone

# ---------------------------------------------------------------------------
# Name pools: Javanese, Sundanese, Malay/Islamic, Batak and Bugis names.


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MALE = _words(
    "Agus Budi Slamet Joko Eko Bambang Hadi Sutrisno Wahyu Teguh Rizki Dedi Andi Yusuf Fajar Imam Sugeng "
    "Heru Arif Rudi Sigit Wawan Supriyadi Suparman Anton Bayu Gilang Rahmat Saiful Taufik Yoga Zainal "
    "Darmaji Sutarno Sumarno Suyanto Parno Tukiman Darsono Giyanto Harjono Jumadi Kasiman Lasiyo Margono "
    "Narto Paijo Rohmat Sarwono Tarmuji Wagiman Yatno Zaenuri Hendra Irfan Januar Krisna Lukman Mulyono "
    "Nanang Pandu Qomar Ridwan Samsul Tono Umar Wisnu Yanto Zulkifli Adi Bagus Candra Dimas Edi Feri "
    "Galih Hari Indra Jaka Kholil Lutfi Miftah Puji Rian Sandi Toni Wahid Yudi Zaki Faisal Hasan Husein "
    "Ilham Khoirul Mahmud Nasrul Rosyid Syamsul Fauzi Hamzah Idris Junaidi Kamal Mansur Rizal Sholeh "
    "Syaiful Bonar Tigor Halomoan Parlin Daeng Andika Reza Satria Yogi Aditya Ilyas Robby Septian Kukuh "
    "Wiji Sukiman Poniman Karyono Sodikin Tarjo Ngadiman Suwarno Legiman Sukardi Wakidi Rusdi Ponidi "
    "Tumijo Jarwo Darto Kirno Sastro Harto Marno "
)
FEMALE = _words(
    "Siti Sri Dewi Endang Wati Yuni Rina Lestari Ani Fitri Indah Ratna Suci Wulan Ayu Eni Murni Sumiati "
    "Suparti Sulastri Tuminah Paini Ngatini Kasmini Warsini Rubiyem Sukinah Marsini Jumiati Karsih Darmi "
    "Winarti Yuliana Anisa Nurul Hayati Fatimah Aminah Khadijah Maryam Rohani Salmah Zubaidah Mega Putri "
    "Rahma Lina Novi Desi Eka Tika Yanti Erna Heni Ika Lia Mira Nia Ririn Sinta Tuti Umi Vina "
)
SURNAME = _words(
    "Santoso Susanto Prasetyo Wibowo Hidayat Setiawan Saputra Purnomo Kurniawan Nugroho Rahayu Pratama "
    "Firmansyah Hakim Rohman Mulyadi Suryadi Haryanto Sulistyo Utomo Maulana Ramadhan Ningsih Anggraini "
    "Safitri Yulianti Kusuma Wijaya Gunawan Permana Hermawan Susilo Riyadi Prabowo Wahyudi Sugiarto "
    "Budiman Suharto Darmawan Irawan Nugraha Ardiansyah Syahputra Siregar Nasution Lubis Harahap "
    "Simanjuntak Sitompul Tanjung Sukmana Suhendar Rukmana Hidayatullah Sembiring Ginting Tarigan Pardede "
    "Manurung Sinaga Panjaitan Hutagalung Pohan Daulay Rangkuti Batubara Matondang Wirawan Kartika "
    "Handoko Laksono Widodo Cahyono Raharjo Sasongko Prayitno Suwarso Mardiyanto Sutopo Subagyo Wiyono "
    "Budiarto Purwanto Triyono Supardi Sukamto Sumarsono Hartono Kuncoro Nurcahyo Setyawan Suprapto "
    "Widjaja Sudrajat Kartono Sumantri Adiwijaya Hadiwijaya Cahyadi Saragih Purba Damanik Situmorang "
    "Marpaung Simbolon Pasaribu Hasibuan Ritonga Rambe Dalimunthe Effendi Syahrial Anwar Bahri Hamid "
    "Latif Rasyid Zakaria Ismail Yunus Bakri Sanusi Karim Sofyan Jamil Mahendra Saputri Wulandari "
    "Lestiani Puspitasari Kurniasih Rahmawati Handayani Susanti Hartati Rosita Fadillah Pertiwi Oktaviani "
    "Agustina Septiani Novitasari Apriliani Maharani Cahyani Permatasari "
)
ISLAMIC_PREFIX = ("Muhammad", "Ahmad", "Abdul", "Nur")
FATHERS = (
    "Sukardi",
    "Karto",
    "Wiryo",
    "Sastro",
    "Darmo",
    "Slamet",
    "Abdullah",
    "Hasan",
    "Umar",
    "Parto",
    "Marto",
)
BIRTH_PLACE_FORMS = ("Kab. {}", "KABUPATEN {}", "Kota {}", "{}")
MUHAMMAD_FORMS = ("Moh.", "Moch.", "Mochammad", "Muhamad", "M.", "Mhd.", "Mohammad", "Muh.")
TITLES_BEFORE = ("H.", "Hj.", "Drs.", "Ir.")
DEGREES_AFTER = (", S.Pd.", ", S.H.", ", S.E.", " S.Kom", ", A.Md.")

Ref = tuple[str, str]
_DAYS = tuple(datetime.date(1958, 1, 1) + datetime.timedelta(days=n) for n in range(17_501))
_PLACES = ("Blora", "Pati", "Rembang", "Kudus", "Grobogan", "Semarang", "Surabaya", "Medan", "Bandung")


@dataclass
class Person:
    nik: str | None
    nkk: str
    name: str
    sex: str
    birth_date: datetime.date
    birth_place: str
    village: str
    regency: str


@dataclass
class Truth:
    """What was planted, by reference; also written to JSON by :meth:`save`."""

    params: dict = field(default_factory=dict)
    inmate_pairs: set[tuple[Ref, Ref]] = field(default_factory=set)
    dpt_pairs: set[tuple[Ref, Ref]] = field(default_factory=set)  # (inmate ref, (file, str(line)))
    counts: dict = field(default_factory=dict)

    def save(self, path: Path) -> None:
        document = {
            "params": self.params,
            "counts": self.counts,
            "inmate_pairs": sorted([*a, *b] for a, b in self.inmate_pairs),
            "dpt_pairs": sorted([*a, *b] for a, b in self.dpt_pairs),
        }
        path.write_text(json.dumps(document), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Truth:
        document = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            params=document["params"],
            counts=document["counts"],
            inmate_pairs={((p[0], p[1]), (p[2], p[3])) for p in document["inmate_pairs"]},
            dpt_pairs={((p[0], p[1]), (p[2], p[3])) for p in document["dpt_pairs"]},
        )


# ---------------------------------------------------------------------------
# People


class People:
    """Draws people from the villages of the loaded regions."""

    def __init__(self, rnd: random.Random, villages: dict[str, list[str]]) -> None:
        self.rnd = rnd
        self.villages = villages
        self.regencies = sorted(villages)

    def name(self, sex: str) -> str:
        rnd = self.rnd
        if sex == "P":
            tokens = [rnd.choice(FEMALE)]
        else:
            tokens = [rnd.choice(MALE)]
            if rnd.random() < 0.18:
                tokens.insert(0, rnd.choice(ISLAMIC_PREFIX))
        roll = rnd.random()
        if roll < 0.08:
            return tokens[0] if len(tokens) == 1 else " ".join(tokens)  # a one-word name (common in Java)
        tokens.append(rnd.choice(SURNAME))
        if roll > 0.7:
            tokens.append(rnd.choice(SURNAME))
        return " ".join(tokens)

    def person(self, regency: str | None = None) -> Person:
        rnd = self.rnd
        random_ = rnd.random
        regency = regency or self.regencies[int(random_() * len(self.regencies))]
        villages = self.villages[regency]
        village = villages[int(random_() * len(villages))]
        sex = "P" if random_() < 0.12 else "L"
        birth_date = _DAYS[int(random_() * len(_DAYS))]
        district = village[:8].replace(".", "")
        day = birth_date.day + (40 if sex == "P" else 0)
        nik = f"{district}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{int(random_() * 9999) + 1:04d}"
        issued = min(
            birth_date + datetime.timedelta(days=6000 + int(random_() * 3000)), datetime.date(2023, 12, 31)
        )
        nkk = f"{district}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{int(random_() * 9999) + 1:04d}"
        place = _PLACES[int(random_() * len(_PLACES))]
        return Person(nik, nkk, self.name(sex), sex, birth_date, place, village, regency)

    def twin_of(self, person: Person) -> Person:
        """A sibling born the same day, on the same family card, with the next NIK serial."""
        serial = int(person.nik[12:]) % 9999 + 1 if person.nik else 1
        nik = f"{person.nik[:12]}{serial:04d}" if person.nik else None
        tokens = person.name.split()
        first = self.rnd.choice(FEMALE if person.sex == "P" else MALE)
        while first == tokens[0]:
            first = self.rnd.choice(FEMALE if person.sex == "P" else MALE)
        name = " ".join([first, *tokens[1:]])
        return Person(
            nik,
            person.nkk,
            name,
            person.sex,
            person.birth_date,
            person.birth_place,
            person.village,
            person.regency,
        )


# ---------------------------------------------------------------------------
# Variants, as clerks write them


def _old_spelling(name: str) -> str:
    return (
        name.replace("u", "oe").replace("j", "dj").replace("c", "tj").replace("sy", "sj").replace("ny", "nj")
    )


def _muhammad(name: str, rnd: random.Random) -> str:
    tokens = name.split()
    if tokens[0] == "Muhammad":
        tokens[0] = rnd.choice(MUHAMMAD_FORMS)
    elif tokens[0] == "Abdul":
        tokens[0] = "Abd."
    elif tokens[0] == "Nur" and len(tokens) > 1:
        tokens[0] = "Nurul"
    else:
        tokens.insert(0, rnd.choice(("M.", "Moh.", "Muhammad")))
    return " ".join(tokens)


def _typo(name: str, rnd: random.Random) -> str:
    tokens = name.split()
    long = [i for i, t in enumerate(tokens) if len(t) >= 6]
    if not long:
        return name
    i = rnd.choice(long)
    token = tokens[i]
    j = rnd.randint(1, len(token) - 2)
    letter = rnd.choice("aeiouknrst")
    tokens[i] = token[:j] + letter + token[j + 1 :]
    return " ".join(tokens)


def _drop_middle(name: str, rnd: random.Random) -> str:
    tokens = name.split()
    if len(tokens) >= 3:
        del tokens[1]
    return " ".join(tokens)


def _swap(name: str, rnd: random.Random) -> str:
    tokens = name.split()
    if len(tokens) >= 2:
        tokens[0], tokens[-1] = tokens[-1], tokens[0]
    return " ".join(tokens)


def _join(name: str, rnd: random.Random) -> str:
    tokens = name.split()
    if len(tokens) >= 2 and len(tokens[0]) <= 4:
        return " ".join([tokens[0] + tokens[1].lower(), *tokens[2:]])
    return name


NAME_VARIANTS: tuple[Callable[[str, random.Random], str], ...] = (
    lambda n, r: _muhammad(n, r),
    lambda n, r: _old_spelling(n),
    lambda n, r: f"{r.choice(TITLES_BEFORE)} {n}",
    lambda n, r: f"{n}{r.choice(DEGREES_AFTER)}",
    lambda n, r: f"{n} {'binti' if r.random() < 0.1 else 'bin'} {r.choice(FATHERS)}",
    lambda n, r: n.upper(),
    _drop_middle,
    _swap,
    _join,
    _typo,
    lambda n, r: "  ".join(n.split()).lower(),
)


def name_variant(name: str, rnd: random.Random, count: int = 1) -> str:
    for _step in range(count):
        name = rnd.choice(NAME_VARIANTS)(name, rnd)
    return name


def _nik_one_digit(nik: str, rnd: random.Random) -> str:
    # Not in the date part's day (it would change the sex) nor the region.
    i = rnd.choice((9, 11, 12, 13, 14, 15))
    digit = rnd.choice([d for d in "0123456789" if d != nik[i]])
    return nik[:i] + digit + nik[i + 1 :]


def _nik_transposition(nik: str, rnd: random.Random) -> str:
    candidates = [i for i in range(6, 15) if nik[i] != nik[i + 1]]
    if not candidates:
        return _nik_one_digit(nik, rnd)
    i = rnd.choice(candidates)
    return nik[:i] + nik[i + 1] + nik[i] + nik[i + 2 :]


def _dob_typo(day: datetime.date, rnd: random.Random) -> datetime.date:
    if day.day <= 12 and day.month != day.day and rnd.random() < 0.5:
        return day.replace(day=day.month, month=day.day)  # day and month swapped
    for _attempt in range(5):
        try:
            return day.replace(day=day.day + rnd.choice((-1, 1)))
        except ValueError:
            continue
    return day


# ---------------------------------------------------------------------------
# Writing rows fast


def _db_value(model_field: models.Field, value, vendor: str):
    if value is None:
        return None
    if isinstance(model_field, models.JSONField):
        return json.dumps(value)
    if isinstance(value, bool):
        return ("t" if value else "f") if vendor == "postgresql" else int(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


class TableWriter:
    """Streams rows of one model to a temporary file, then loads them in one go.

    Columns are every concrete field of the model: values not given take the
    field's default, so a field added later does not break the generator.
    """

    _ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

    def __init__(self, model: type[models.Model], *, with_id: bool) -> None:
        self.model = model
        self.vendor = connection.vendor
        now = timezone.now()
        self.fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        # Per column: (attname, converter, cell of the default value).
        self.plan = []
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                default = now
            else:
                # The default, or "" for text and None for nullable fields.
                default = f.get_default()
            convert = self._converter(f)
            self.plan.append((f.attname, convert, convert(default)))
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed by load()
        self.rows = 0

    def _converter(self, model_field: models.Field) -> Callable[[object], str]:
        escapes = self._ESCAPES
        vendor = self.vendor

        def convert(value: object) -> str:
            value = _db_value(model_field, value, vendor)
            if value is None:
                return "\\N"
            text = value if type(value) is str else str(value)
            return (
                text.translate(escapes)
                if ("\\" in text or "\t" in text or "\n" in text or "\r" in text)
                else text
            )

        return convert

    def add(self, values: dict) -> None:
        get = values.get
        cells = [convert(get(name)) if name in values else default for name, convert, default in self.plan]
        self.spool.write("\t".join(cells) + "\n")
        self.rows += 1

    def load(self) -> int:
        self.spool.seek(0)
        table = self.model._meta.db_table
        columns = [f.column for f in self.fields]
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)"
                cursor.cursor.copy_expert(sql, self.spool, size=1 << 20)
            else:
                sql = (
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
                )
                batch = []
                for line in self.spool:
                    batch.append(
                        [None if c == "\\N" else _unescape(c) for c in line.rstrip("\n").split("\t")]
                    )
                    if len(batch) >= 20_000:
                        cursor.executemany(sql, batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
        self.spool.close()
        return self.rows


def _unescape(cell: str) -> str:
    if "\\" not in cell:
        return cell
    return (
        cell.replace("\\\\", "\x00")
        .replace("\\t", "\t")
        .replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\x00", "\\")
    )


def _reset_sequence(model: type[models.Model]) -> None:
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
        )


# ---------------------------------------------------------------------------
# The generator


def clear(prefix: str = "bench") -> None:
    """Remove what an earlier run with ``prefix`` wrote (facilities ``<prefix>-*``, DPT files ``<prefix>_DPT_*``)."""
    from inmates.models import CustodyEvent, DptFile, DptRecord, DuplicateCandidate, Facility, Inmate

    facilities = Facility.objects.filter(code__startswith=f"{prefix}-")
    files = DptFile.objects.filter(name__startswith=f"{prefix}_DPT_")
    inmate_sql, inmate_params = (
        Inmate.objects.filter(facility__in=facilities).values("pk").query.sql_with_params()
    )
    facility_sql, facility_params = facilities.values("pk").query.sql_with_params()
    file_sql, file_params = files.values("pk").query.sql_with_params()
    candidate = DuplicateCandidate._meta.db_table
    statements = [
        (
            f"DELETE FROM {candidate} WHERE inmate_a_id IN ({inmate_sql}) OR inmate_b_id IN ({inmate_sql})",
            inmate_params * 2,
        ),
        (
            f"DELETE FROM {candidate} WHERE dpt_record_id IN (SELECT id FROM {DptRecord._meta.db_table} WHERE dpt_file_id IN ({file_sql}))",
            file_params,
        ),
        (
            f"DELETE FROM {DuplicateCandidate.history.model._meta.db_table} WHERE inmate_a_id IN ({inmate_sql})",
            inmate_params,
        ),
        (f"DELETE FROM {CustodyEvent._meta.db_table} WHERE inmate_id IN ({inmate_sql})", inmate_params),
        (
            f"DELETE FROM {Inmate.history.model._meta.db_table} WHERE facility_id IN ({facility_sql})",
            facility_params,
        ),
        (
            f"UPDATE {Inmate._meta.db_table} SET duplicate_of_id = NULL WHERE facility_id IN ({facility_sql})",
            facility_params,
        ),
        (f"DELETE FROM {Inmate._meta.db_table} WHERE facility_id IN ({facility_sql})", facility_params),
        (f"DELETE FROM {DptRecord._meta.db_table} WHERE dpt_file_id IN ({file_sql})", file_params),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    files.delete()
    Facility.history.filter(code__startswith=f"{prefix}-").delete()
    facilities.delete()


def _villages() -> dict[str, list[str]]:
    from inmates.models import Region

    if not Region.objects.filter(level=Region.Level.VILLAGE).exists():
        from inmates.regions import load_regions

        load_regions()
    villages: dict[str, list[str]] = defaultdict(list)
    for code in (
        Region.objects.filter(level=Region.Level.VILLAGE)
        .values_list("code", flat=True)
        .iterator(chunk_size=20_000)
    ):
        villages[code[:5]].append(code)
    return dict(villages)


def generate(
    *,
    inmates: int,
    facilities: int,
    dpt: int,
    seed: int = 2024,
    duplicate_rate: float = 0.05,
    twin_rate: float = 0.004,
    dpt_inmate_rate: float = 0.3,
    missing_nik_rate: float = 0.1,
    prefix: str = "bench",
    log: Callable[[str], None] = print,
) -> Truth:
    """Write ``facilities`` facilities with ``inmates`` inmates and a DPT of ``dpt`` rows; return the truth.

    Removes an earlier run with the same ``prefix`` first. Deterministic for a seed.
    """
    from inmates.models import CustodyEvent, DptFile, DptRecord, Facility, Inmate

    started = time.monotonic()
    rnd = random.Random(seed)
    truth = Truth(
        params={
            "inmates": inmates,
            "facilities": facilities,
            "dpt": dpt,
            "seed": seed,
            "duplicate_rate": duplicate_rate,
            "twin_rate": twin_rate,
            "dpt_inmate_rate": dpt_inmate_rate,
            "missing_nik_rate": missing_nik_rate,
        }
    )
    clear(prefix)
    villages = _villages()
    people = People(rnd, villages)
    regencies = people.regencies
    log(f"regions ready ({len(regencies)} regencies) in {time.monotonic() - started:.1f} s")

    # Facilities, spread over the regencies.
    chosen = (
        rnd.sample(regencies, facilities)
        if facilities <= len(regencies)
        else [rnd.choice(regencies) for _ in range(facilities)]
    )
    facility_rows = Facility.objects.bulk_create(
        [
            Facility(
                code=f"{prefix}-{i:04d}",
                name=f"Rutan Bench {i:04d}",
                type=Facility.Type.RUTAN,
                regency_id=code,
            )
            for i, code in enumerate(chosen)
        ]
    )
    by_regency: dict[str, list[Facility]] = defaultdict(list)
    for facility in facility_rows:
        by_regency[facility.regency_id].append(facility)

    # Inmates: base people, their second records, twins.
    duplicates = round(inmates * duplicate_rate)
    twins = round(inmates * twin_rate)
    base_count = inmates - duplicates - twins
    first_id = (Inmate.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
    inmate_writer = TableWriter(Inmate, with_id=True)
    event_writer = TableWriter(CustodyEvent, with_id=False)
    serial_by_facility: dict[int, int] = defaultdict(int)
    records_of: dict[
        int, list[Ref]
    ] = {}  # person -> inmate refs, for people with several records or on the DPT
    persons: list[Person] = []
    person_ref: list[Ref] = []  # first record of each base person
    on_dpt: dict[str, list[int]] = defaultdict(list)  # regency -> people listed on its DPT

    def write_inmate(
        person: Person,
        facility: Facility,
        *,
        nik: str | None,
        name: str,
        birth_date: datetime.date,
        birth_place: str,
        village: str | None,
    ) -> Ref:
        serial_by_facility[facility.pk] += 1
        number = f"WBP.{serial_by_facility[facility.pk]:05d}"
        admitted = datetime.date(2022, 1, 1) + datetime.timedelta(days=rnd.randint(0, 700))
        inmate_id = first_id + inmate_writer.rows
        inmate_writer.add(
            {
                "id": inmate_id,
                "facility_id": facility.pk,
                "registration_number": number,
                "nik": nik,
                "nkk": person.nkk if nik else "",
                "full_name": name,
                "birth_place": birth_place,
                "birth_date": birth_date,
                "sex": person.sex,
                "marital_status": "kawin" if rnd.random() < 0.5 else "belum_kawin",
                "citizenship": "WNI",
                "address": "",
                "rt": "",
                "rw": "",
                "domicile_region_id": village,
                "custody_type": "tahanan",
                "admission_date": admitted,
                "ktp_el_status": "S" if nik else "B",
                "custody_status": "in_custody",
                "nik_warnings": [] if nik else ["nik_missing"],
            }
        )
        event_writer.add({"inmate_id": inmate_id, "kind": "admission", "date": admitted})
        return (facility.code, number)

    def home_facility(person: Person) -> Facility:
        local = by_regency.get(person.regency)
        if local and rnd.random() < 0.85:
            return rnd.choice(local)
        return rnd.choice(facility_rows)

    for index in range(base_count):
        person = people.person()
        persons.append(person)
        facility = home_facility(person)
        nik = None if rnd.random() < missing_nik_rate else person.nik
        ref = write_inmate(
            person,
            facility,
            nik=nik,
            name=person.name,
            birth_date=person.birth_date,
            birth_place=person.birth_place,
            village=person.village if rnd.random() > 0.05 else None,
        )
        person_ref.append(ref)
        if rnd.random() < dpt_inmate_rate:
            on_dpt[person.regency].append(index)
            records_of[index] = [ref]
    log(f"{base_count} inmates generated in {time.monotonic() - started:.1f} s")

    for _number in range(duplicates):
        index = rnd.randrange(base_count)
        person = persons[index]
        if rnd.random() < 0.4:
            facility = _facility_by_code(facility_rows, person_ref[index][0])
        else:
            facility = home_facility(person)
        roll = rnd.random()
        nik = person.nik
        if roll < 0.15:
            nik = _nik_one_digit(person.nik, rnd)
        elif roll < 0.25:
            nik = _nik_transposition(person.nik, rnd)
        elif roll < 0.45:
            nik = None
        birth_date = person.birth_date
        if nik == person.nik and rnd.random() < 0.08:
            birth_date = _dob_typo(birth_date, rnd)
        name = (
            name_variant(person.name, rnd, 1 if rnd.random() < 0.75 else 2)
            if rnd.random() < 0.85
            else person.name
        )
        place = (
            rnd.choice(BIRTH_PLACE_FORMS).format(person.birth_place)
            if rnd.random() < 0.15
            else person.birth_place
        )
        village = person.village if rnd.random() < 0.7 else None
        ref = write_inmate(
            person, facility, nik=nik, name=name, birth_date=birth_date, birth_place=place, village=village
        )
        records_of.setdefault(index, [person_ref[index]]).append(ref)

    for _number in range(twins):
        index = rnd.randrange(base_count)
        sibling = people.twin_of(persons[index])
        facility = home_facility(sibling)
        write_inmate(
            sibling,
            facility,
            nik=sibling.nik,
            name=sibling.name,
            birth_date=sibling.birth_date,
            birth_place=sibling.birth_place,
            village=sibling.village,
        )

    for refs in records_of.values():
        for i, a in enumerate(refs):
            for b in refs[i + 1 :]:
                truth.inmate_pairs.add((a, b) if a < b else (b, a))
    truth.counts["inmate_records"] = inmate_writer.rows
    truth.counts["inmate_duplicate_records"] = duplicates
    truth.counts["twins"] = twins
    log(f"{inmate_writer.rows} inmate rows ready in {time.monotonic() - started:.1f} s; loading")
    with transaction.atomic():
        inmate_writer.load()
        event_writer.load()
    _reset_sequence(Inmate)
    log(f"inmates loaded in {time.monotonic() - started:.1f} s")

    # The DPT: one file per regency with listed inmates or facilities.
    planted = sum(len(v) for v in on_dpt.values())
    dpt_twins = round(planted * 0.02)
    residents = max(dpt - planted - dpt_twins, 0)
    file_regencies = sorted(set(on_dpt) | set(by_regency))
    weights = [len(on_dpt.get(code, ())) + 1 for code in file_regencies]
    total_weight = sum(weights)
    resident_counts = [residents * w // total_weight for w in weights]
    resident_counts[0] += residents - sum(resident_counts)
    twin_left = dpt_twins
    record_writer = TableWriter(DptRecord, with_id=False)
    dpt_files = DptFile.objects.bulk_create(
        [DptFile(name=f"{prefix}_DPT_{code}.csv", regency_id=code, row_count=0) for code in file_regencies]
    )
    for dpt_file, code, resident_count in zip(dpt_files, file_regencies, resident_counts, strict=True):
        listed = list(on_dpt.get(code, ()))
        rnd.shuffle(listed)
        extra: list[Person] = []
        for index in listed[: min(len(listed), twin_left)]:
            if rnd.random() < 0.5:
                extra.append(people.twin_of(persons[index]))
        twin_left -= len(extra)
        rows_total = resident_count + len(listed) + len(extra)
        queue_listed, queue_extra = listed, extra
        for line in range(2, rows_total + 2):
            remaining = rows_total + 2 - line
            pick = rnd.random() * remaining
            if pick < len(queue_listed):
                index = queue_listed.pop()
                person = persons[index]
                name = person.name.upper() if rnd.random() < 0.8 else name_variant(person.name, rnd).upper()
                for ref in records_of[index]:
                    truth.dpt_pairs.add((ref, (dpt_file.name, str(line))))
            elif pick < len(queue_listed) + len(queue_extra):
                person = queue_extra.pop()
                name = person.name.upper()
            else:
                person = people.person(code)
                name = person.name.upper()
            record_writer.add(
                {
                    "dpt_file_id": dpt_file.pk,
                    "line": line,
                    "regency_code": code,
                    "nkk": person.nkk,
                    "nik": person.nik,
                    "name": name,
                    "birth_place": person.birth_place.upper(),
                    "birth_date": person.birth_date,
                    "sex": person.sex,
                    "marital_status": "S",
                    "address": "",
                    "rt": "",
                    "rw": "",
                    "region_code": person.village,
                    "tps": f"{rnd.randint(1, 60):03d}",
                }
            )
        dpt_file.row_count = rows_total
    DptFile.objects.bulk_update(dpt_files, ["row_count"])
    log(f"{record_writer.rows} DPT rows ready in {time.monotonic() - started:.1f} s; loading")
    with transaction.atomic():
        record_writer.load()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Inmate._meta.db_table}")
            cursor.execute(f"ANALYZE {DptRecord._meta.db_table}")
    truth.counts["dpt_rows"] = record_writer.rows
    truth.counts["dpt_inmates"] = planted
    truth.counts["dpt_twins"] = dpt_twins - twin_left
    truth.counts["inmate_pairs"] = len(truth.inmate_pairs)
    truth.counts["dpt_pairs"] = len(truth.dpt_pairs)
    truth.counts["seconds"] = round(time.monotonic() - started, 1)
    log(f"generated in {truth.counts['seconds']} s: {truth.counts}")
    return truth


def _facility_by_code(facilities: list, code: str):
    # Codes are "<prefix>-NNNN" in creation order.
    return facilities[int(code.rsplit("-", 1)[1])]


def iter_refs(truth: Truth) -> Iterator[tuple[Ref, Ref]]:
    yield from truth.inmate_pairs
    yield from truth.dpt_pairs
