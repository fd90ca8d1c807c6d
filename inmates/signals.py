"""Keep a user's group in step with their role, whichever way the user is saved."""

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
