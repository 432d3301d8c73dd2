"""The "analysts" group: members may open the analytics pages (permission analytics.view_dashboards)."""

from django.db import migrations


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="analytics", model="refreshlog")
    permission, _ = Permission.objects.get_or_create(
        codename="view_dashboards", content_type=content_type, defaults={"name": "Can view analytics pages"}
    )
    group, _ = Group.objects.get_or_create(name="analysts")
    group.permissions.add(permission)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="analysts").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_load_icd10_code_set"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create, remove)]
