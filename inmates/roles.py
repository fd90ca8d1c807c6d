"""Roles as Django groups: which model permissions each role carries.

The scope (which facility or regency) is on the user; the permissions (what
they may do) come from the group of their role. Groups are brought up to date
after every ``migrate`` so a new model's permissions reach the roles without a
manual step. Other apps add their rows to ``ROLE_PERMISSIONS``.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

GROUP_NAMES = {
    "admin": "Admin",
    "kpu": "Petugas KPU",
    "rutan": "Petugas Rutan/Lapas",
}

# "app_label.codename" per role; admins are superusers or get every permission.
_READ_REFERENCE = {
    "inmates.view_region",
    "inmates.view_facility",
    "tps.view_election",
    "tps.view_dapil",
}
ROLE_PERMISSIONS: dict[str, set[str]] = {
    "rutan": _READ_REFERENCE
    | {
        "inmates.view_inmate",
        "inmates.add_inmate",
        "inmates.change_inmate",
        "inmates.view_historicalinmate",
        "inmates.view_custodyevent",
        "inmates.add_custodyevent",
        "inmates.view_importjob",
        "inmates.add_importjob",
        "inmates.view_duplicatecandidate",
        "inmates.change_duplicatecandidate",
        "tps.view_voterlist",
        "tps.add_voterlist",
        "tps.change_voterlist",
        "tps.view_voterlistentry",
        "tps.change_voterlistentry",
        "tps.view_voterlistevent",
        "tps.view_tps",
        "tps.view_tpsassignment",
        "tps.view_ballotallocation",
    },
    "kpu": _READ_REFERENCE
    | {
        "inmates.view_inmate",
        "inmates.view_historicalinmate",
        "inmates.view_custodyevent",
        "inmates.view_importjob",
        "inmates.add_importjob",
        "inmates.view_dptfile",
        "inmates.add_dptfile",
        "inmates.view_dptrecord",
        "inmates.view_duplicatecandidate",
        "inmates.change_duplicatecandidate",
        "tps.view_voterlist",
        "tps.change_voterlist",
        "tps.view_voterlistentry",
        "tps.view_voterlistevent",
        "tps.view_tps",
        "tps.view_tpsassignment",
        "tps.view_ballotallocation",
    },
}


def ensure_groups(**_kwargs) -> None:
    """Create the role groups and set exactly the permissions listed above."""
    for role, name in GROUP_NAMES.items():
        group, _created = Group.objects.get_or_create(name=name)
        if role == "admin":
            wanted = Permission.objects.all()
        else:
            codes = ROLE_PERMISSIONS.get(role, set())
            query = Permission.objects.none()
            for code in codes:
                app_label, codename = code.split(".", 1)
                query = query | Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                )
            wanted = query
        group.permissions.set(wanted)


def group_for_role(role: str) -> Group:
    return Group.objects.get_or_create(name=GROUP_NAMES[role])[0]
