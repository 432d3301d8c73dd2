"""Drop the composite FK from status history to claim: see ClaimStatusHistory's docstring for why."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0004_claim_status_received_idx")]

    operations = [
        migrations.RunSQL(
            sql='ALTER TABLE "claims_claimstatushistory" DROP CONSTRAINT "statushistory_claim_fk"',
            reverse_sql=(
                'ALTER TABLE "claims_claimstatushistory" ADD CONSTRAINT "statushistory_claim_fk" '
                "FOREIGN KEY (claim_id, claim_service_date_from) REFERENCES claims_claim (id, service_date_from) "
                "DEFERRABLE INITIALLY DEFERRED"
            ),
        )
    ]
