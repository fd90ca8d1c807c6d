"""Hardening: login throttling, headers, CSP, production settings."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from inmates.models import AccessLog

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}
    )


def test_five_wrong_passwords_lock_the_account_and_are_logged(client, rutan_blora_officer):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "rutan_blora", "salah-sandi")
    response = _login(client, "rutan_blora", "pemilu2024")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.filter(action="login_locked", target="rutan_blora").exists()


def _login_from(client, address, password, *, proxy="127.0.0.1"):
    return client.post(
        reverse("admin:login"),
        {"username": "rutan_blora", "password": password, "next": "/admin/"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=address,
    )


def test_behind_the_proxy_a_lockout_holds_only_the_computer_that_failed(
    client, rutan_blora_officer, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login_from(client, "192.168.10.5", "salah-sandi")
    assert _login_from(client, "192.168.10.5", "pemilu2024").status_code == 429
    assert _login_from(client, "192.168.10.6", "pemilu2024").status_code == 302


def test_without_a_trusted_proxy_a_forged_header_does_not_lift_the_lockout(client, rutan_blora_officer):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login_from(client, f"10.9.9.{attempt}", "salah-sandi", proxy="192.168.10.5")
    assert _login_from(client, "10.9.9.99", "pemilu2024", proxy="192.168.10.5").status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "127.0.0.1"),  # no proxy trusted: the header is the client's word
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the forged left part is ignored
        (2, "203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "127.0.0.1"),  # fewer hops than configured: only the connection is known
        (1, "not-an-address", "127.0.0.1"),
    ],
)
def test_the_client_address_counts_trusted_proxies_from_the_right(settings, proxies, forwarded, expected):
    from django.test import RequestFactory

    from voterreg.client_ip import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_access_log_records_the_address_behind_the_proxy(client, rutan_blora_officer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login_from(client, "192.168.10.5", "salah-sandi")
    entry = AccessLog.objects.get(action="login_locked", target="rutan_blora")
    assert entry.ip_address == "192.168.10.5"


def test_a_correct_password_signs_in_before_the_limit(client, rutan_blora_officer):
    _login(client, "rutan_blora", "salah-sandi")
    response = _login(client, "rutan_blora", "pemilu2024")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(rutan_blora_officer.pk)


def test_pages_carry_security_headers_and_a_strict_csp(client, rutan_blora_officer):
    client.force_login(rutan_blora_officer)
    response = client.get(reverse("admin:index"))
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_sessions_suit_shared_computers():
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE <= 60 * 60


@pytest.mark.parametrize("weak", ["12345678901", "pemilu", "password123"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def _manage(*args, env):
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a
    # production start never has it.
    base = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-secret-key-for-the-check-only-" + "x" * 40,
    "ALLOWED_HOSTS": "pemilih.example.go.id",
}


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    env = {**PRODUCTION, missing: ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_static_files_are_served_by_whitenoise():
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
