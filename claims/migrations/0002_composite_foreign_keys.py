"""Composite foreign keys into the partitioned claim table.

A partitioned table's unique keys must include the partition key, so claim is unique on (id,
service_date_from), not id. Django's FKs to it are declared with db_constraint=False and the real
constraints are added here (STACK.md bug 1).
"""

from django.db import migrations

FKS = [
    (
        "claims_claimline",
        "claimline_claim_fk",
        "(claim_id, service_date_from)",
    ),
    (
        "claims_claimstatushistory",
        "statushistory_claim_fk",
        "(claim_id, claim_service_date_from)",
    ),
    (
        "claims_claim",
        "claim_related_claim_fk",
        "(related_claim_id, related_service_date_from)",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY {cols} '
                'REFERENCES "claims_claim" (id, service_date_from) DEFERRABLE INITIALLY DEFERRED'
            ),
            reverse_sql=f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"',
        )
        for table, name, cols in FKS
    ]
