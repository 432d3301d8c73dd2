"""The two groups of claims staff, with the least permissions their work needs (README "Examiner work").

* "claims examiners": view claims, their lines and status history, and the work queue; ``claims.examine_claim``
  (assign, approve, deny, pend, re-adjudicate from the queue). No add/change/delete on any claim table: every
  decision goes through the services (claims.services.examiner), never an edit form.
* "claims supervisors": the same, plus ``claims.override_decision`` (approved <-> denied with a reason).

Member PII (``members.view_memberpii``) is in neither group: it is granted to a person, not to a role.
Written by hand (a data migration). Permissions are made by a post_migrate signal, after all migrations: on a
fresh database they do not exist yet here, so they are created first, the way Django's own post_migrate does.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EXAMINERS = "claims examiners"
SUPERVISORS = "claims supervisors"
# (app label, model name, codename)
EXAMINER_PERMISSIONS = [
    ("claims", "claim", "view_claim"),
    ("claims", "claimline", "view_claimline"),
    ("claims", "claimstatushistory", "view_claimstatushistory"),
    ("claims", "workqueueclaim", "view_workqueueclaim"),
    ("claims", "workqueueclaim", "examine_claim"),
]
SUPERVISOR_PERMISSIONS = [*EXAMINER_PERMISSIONS, ("claims", "workqueueclaim", "override_decision")]


def _permissions(apps, wanted):
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    found = []
    for app_label, model, codename in wanted:
        content_type = ContentType.objects.get(app_label=app_label, model=model)
        found.append(Permission.objects.get(content_type=content_type, codename=codename))
    return found


def create_groups(apps, schema_editor):
    """Create (or reset) both groups; idempotent, so tests can run it again after a flush empties auth_group."""
    claims_config = apps.get_app_config("claims")
    # create_permissions skips an app without models_module, which a historical app config (a stub) lacks.
    models_module = getattr(claims_config, "models_module", None)
    claims_config.models_module = models_module or True
    try:
        create_permissions(claims_config, apps=apps, verbosity=0)
    finally:
        claims_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name, wanted in ((EXAMINERS, EXAMINER_PERMISSIONS), (SUPERVISORS, SUPERVISOR_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(apps, wanted))


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[EXAMINERS, SUPERVISORS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0012_work_queue"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
