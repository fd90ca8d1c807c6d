"""The address of the computer a request came from, for login throttling and the access log.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies (nginx in docs/operations.md),
``REMOTE_ADDR`` is the proxy's own address, so every officer would share one
address: one person's wrong passwords would lock everybody's account name.
Each proxy appends the address it saw to ``X-Forwarded-For``; the entry
``TRUSTED_PROXY_COUNT`` from the right is the one the outermost trusted proxy
saw. Entries further left are written by the client and never trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in chain if part]
    if len(chain) < count:
        return remote  # not through the expected proxies: only the connection is known
    candidate = chain[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
