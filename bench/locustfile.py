"""Load test of voterreg at national scale: officers browsing and editing through the admin.

Run by ``bench/scale.py`` (``make bench-scale``) against gunicorn on 127.0.0.1,
on the database ``seed_scale`` filled; by hand:

    SCALE_PASSWORD=... .venv/bin/locust -f bench/locustfile.py --headless -u 50 -r 10 -t 2m \\
        --host http://127.0.0.1:8765

Who does what (each user signs in once, then waits 1-5 s between actions, as
a person reading a page does):

* Rutan/Lapas officers (five ninths of the others; accounts ``scale_rutan``,
  ``scale_rutan_N``): their register, searches by name and NIK, an inmate's
  page, and an edit of the record (the admin form, saved through the
  service with the duplicate check at entry);
* KPU officers (four ninths; ``scale_kpu``, ``scale_kpu_N``): the dashboard,
  the duplicate review queue and a pair's comparison page, the DPT records of
  the regency with a NIK search, the regency's inmates;
* two admins (``scale_admin``): the national lists and searches, the review
  queue and the DPT.

The admin's national dashboard (every facility of the country) is measured on
its own in the page table of ``bench/scale.py``, not in this mix: it judges
the whole register (300,000 people) on every view, tens of seconds of one
core, so two admins opening it would measure that page and nothing else.
KPU officers open their regency's dashboard here.

The server runs with production settings (``DEBUG=0``) as behind a TLS proxy:
requests carry ``X-Forwarded-Proto: https``, so the session and CSRF cookies
are ``Secure``; the client here sends them over the plain connection to
127.0.0.1 as the proxy would. Traffic goes to 127.0.0.1 only.

Every officer signs in once (``POST login``, a deliberately slow password
hash); the pages and edits after it are what the targets are about, and
``bench/scale.py`` reports them with and without the sign-ins.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from locust import HttpUser, between, task

PASSWORD = os.environ.get("SCALE_PASSWORD", "scale-bench-2024")
PREFIX = os.environ.get("SCALE_PREFIX", "scale")
OFFICERS = int(os.environ.get("SCALE_OFFICERS", "10"))
NAME_WORDS = ("santoso", "budi", "siti", "slamet", "wibowo", "hidayat", "agus", "dewi", "nugroho", "rahayu")
CELL_BLOCKS = ("A", "B", "C", "D", "E", "F")

INMATE_LINK = re.compile(r"/admin/inmates/inmate/(\d+)/change/")
PAIR_LINK = re.compile(r"/register/duplicates/(\d+)/")
NIK = re.compile(r"\b(\d{16})\b")


class FormFields(HTMLParser):
    """The fields of one form (by id) as a browser would submit them."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.fields.append((name, attributes.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attributes:
                self._select_value = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._first_option
            self.fields.append((self._select, value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "form":
            self.inside = False


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


class Officer(HttpUser):
    abstract = True
    wait_time = between(1, 5)
    role = ""
    _numbers = itertools.count()

    def on_start(self) -> None:
        host = urlsplit(self.host)
        self.origin = f"https://{host.netloc}"
        self.client.headers.update({"X-Forwarded-Proto": "https", "Origin": self.origin})
        # The session and CSRF cookies are Secure (the app believes it is
        # behind TLS): send them over the plain connection to 127.0.0.1 as the
        # proxy would. requests copies the jar for every request, so the flag
        # is cleared on the jar's cookies just before each one.
        send = self.client.request

        def request(method, url, *args, **kwargs):
            for cookie in self.client.cookies:
                cookie.secure = False
            return send(method, url, *args, **kwargs)

        self.client.request = request
        number = next(self._numbers) % (OFFICERS + 1)
        self.username = f"{PREFIX}_{self.role}" + (f"_{number}" if number and self.role != "admin" else "")
        self.inmate_ids: list[str] = []
        self.niks: list[str] = []
        self.login()

    def get(self, path: str, name: str, **kwargs):
        return self.client.get(path, name=name, headers={"Referer": self.origin + "/admin/"}, **kwargs)

    def login(self) -> None:
        self.client.get("/admin/login/", name="login form")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/admin/login/?next=/admin/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
            },
            headers={"Referer": self.origin + "/admin/login/"},
            name="login",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code != 302 or "login" in response.headers.get("Location", "login"):
                response.failure(f"login as {self.username} failed (status {response.status_code})")

    def remember(self, html: str) -> None:
        ids = INMATE_LINK.findall(html)
        if ids:
            self.inmate_ids = ids
        niks = NIK.findall(html)
        if niks:
            self.niks = niks

    def register(self, name: str = "inmates: list", query: str = "") -> None:
        response = self.get("/admin/inmates/inmate/" + query, name=name)
        self.remember(response.text)

    def search_name(self, path: str = "/admin/inmates/inmate/", name: str = "inmates: search name") -> None:
        self.get(f"{path}?q={random.choice(NAME_WORDS)}", name=name)

    def search_nik(self, path: str = "/admin/inmates/inmate/", name: str = "inmates: search NIK") -> None:
        if self.niks:
            self.get(f"{path}?q={random.choice(self.niks)}", name=name)


class RutanOfficer(Officer):
    weight = 5
    role = "rutan"

    @task(4)
    def browse(self) -> None:
        self.register()

    @task(1)
    def browse_next_page(self) -> None:
        self.register("inmates: list page 2", "?p=2")

    @task(2)
    def search(self) -> None:
        self.search_name()
        self.search_nik()

    @task(2)
    def open_inmate(self) -> None:
        if self.inmate_ids:
            self.get(f"/admin/inmates/inmate/{random.choice(self.inmate_ids)}/change/", name="inmates: open")

    @task(1)
    def edit_inmate(self) -> None:
        if not self.inmate_ids:
            return
        path = f"/admin/inmates/inmate/{random.choice(self.inmate_ids)}/change/"
        page = self.get(path, name="inmates: open")
        fields = [(key, value) for key, value in form_fields(page.text, "inmate_form") if key != "_saveasnew"]
        if not fields:
            return
        block = random.choice(CELL_BLOCKS)
        fields = [(key, block if key == "cell_block" else value) for key, value in fields]
        fields.append(("_save", "Save"))
        with self.client.post(
            path,
            data=fields,
            headers={"Referer": self.origin + path},
            name="inmates: save",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code != 302:
                response.failure(f"edit not saved (status {response.status_code})")


class KpuOfficer(Officer):
    weight = 4
    role = "kpu"

    @task(3)
    def dashboard(self) -> None:
        self.get("/elections/dashboard/", name="dashboard")

    @task(3)
    def duplicates(self) -> None:
        response = self.get("/admin/inmates/duplicatecandidate/?status__exact=open", name="duplicates: list")
        pairs = PAIR_LINK.findall(response.text)
        if pairs:
            self.get(f"/register/duplicates/{random.choice(pairs)}/", name="duplicates: compare")

    @task(2)
    def dpt(self) -> None:
        response = self.get("/admin/inmates/dptrecord/", name="dpt: list")
        self.remember(response.text)
        self.search_nik("/admin/inmates/dptrecord/", name="dpt: search NIK")

    @task(2)
    def register_of_regency(self) -> None:
        self.register()
        self.search_name()


class Admin(Officer):
    fixed_count = 2
    role = "admin"

    @task(3)
    def register_national(self) -> None:
        self.register()
        self.register(
            "inmates: list filtered", "?custody_status__exact=in_custody&custody_type__exact=tahanan"
        )

    @task(2)
    def search(self) -> None:
        self.search_name()
        self.search_nik()
        self.search_name("/admin/inmates/dptrecord/", name="dpt: search name")

    @task(2)
    def review_queue(self) -> None:
        self.get("/admin/inmates/duplicatecandidate/", name="duplicates: list")
        self.get("/admin/inmates/dptrecord/", name="dpt: list")
