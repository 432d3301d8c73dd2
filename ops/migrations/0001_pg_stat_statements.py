"""pg_stat_statements must exist in every database that reads it, the test database included (STACK.md).

Creating the extension works without the preload; reading the view then raises, which the ops pages report.
"""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [CreateExtension("pg_stat_statements")]
