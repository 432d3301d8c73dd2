"""pgstattuple (contrib) gives pgstatindex(), the index bloat measure reindex_bloated uses (ops.bloat)."""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ops", "0003_maintenance")]
    operations = [CreateExtension("pgstattuple")]
