"""Keep a user's group in step with their role, whichever way the user is saved."""

from axes.signals import user_locked_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from inmates.models import User
from inmates.roles import GROUP_NAMES, group_for_role


@receiver(post_save, sender=User)
def sync_role_group(sender, instance: User, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    wanted = group_for_role(instance.role)
    role_groups = instance.groups.filter(name__in=GROUP_NAMES.values()).exclude(pk=wanted.pk)
    if role_groups.exists():
        instance.groups.remove(*role_groups)
    instance.groups.add(wanted)


@receiver(user_locked_out)
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    from inmates.audit import access_log_record

    user = User.objects.filter(username=username).first() if username else None
    access_log_record(
        user=None,
        action="login_locked",
        target=str(username or "")[:255],
        details={"ip_address": ip_address, "known_user": user is not None},
        request=request,
    )
