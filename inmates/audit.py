"""Recording sensitive actions in the access log, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from inmates.models import AccessLog, Facility, User
from voterreg.client_ip import client_ip


def access_log_record(
    *,
    user: User | None,
    action: str,
    target: str = "",
    facility: Facility | None = None,
    details: dict[str, Any] | None = None,
    request=None,
) -> AccessLog:
    """Write one access-log row. Call inside the transaction of the action it records."""
    ip_address = client_ip(request) if request is not None else None
    return AccessLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        target=target[:255],
        facility=facility,
        details=details or {},
        ip_address=ip_address,
    )
