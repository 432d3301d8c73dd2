"""Claim lines reference claims month by month, not through the partitioned parent.

PostgreSQL 15 checks a foreign key that references a partitioned table with a generic plan that locks and prunes
every partition for every row: at 29 months it was 11.7 s of a 44.5 s, 100,000-claim ingest, and it grows with the
months kept. A key from each claim-line month partition to the claim partition of the same month checks the same
thing (a line shares its claim's ``service_date_from``) at plain-table cost: one index probe.

* ``platform_partition_foreign_key``: the owner's function the app role calls when it creates a month
  (``ops.platform.partitioning.partition_foreign_keys_add``). It accepts partitions only, by name pattern.
* Every existing pair of month partitions (and the two DEFAULT partitions) gets its key, then the parent key
  ``claimline_claim_fk`` goes.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION platform_partition_foreign_key(
    part regclass, constraint_name text, cols text[], referenced regclass, referenced_cols text[]
) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF (SELECT relname FROM pg_class WHERE oid = part) !~ '^[a-z0-9_]+_(p[0-9]{4}_[0-9]{2}|default)$'
       OR (SELECT relname FROM pg_class WHERE oid = referenced) !~ '^[a-z0-9_]+_(p[0-9]{4}_[0-9]{2}|default)$'
    THEN
        RAISE EXCEPTION 'month foreign keys join month partitions only' USING ERRCODE = 'invalid_name';
    END IF;
    IF constraint_name NOT LIKE (SELECT relname FROM pg_class WHERE oid = part) || '\_%' THEN
        RAISE EXCEPTION 'constraint name must start with the partition name' USING ERRCODE = 'invalid_name';
    END IF;
    EXECUTE format(
        'ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s) DEFERRABLE INITIALLY DEFERRED',
        part, constraint_name,
        (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) AS c),
        referenced,
        (SELECT string_agg(quote_ident(c), ', ') FROM unnest(referenced_cols) AS c));
END $$;
REVOKE ALL ON FUNCTION platform_partition_foreign_key(regclass, text, text[], regclass, text[]) FROM PUBLIC;
"""

EXISTING = r"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.relname AS part, substr(c.relname, length('claims_claimline') + 1) AS suffix
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'claims_claimline'::regclass
    LOOP
        EXECUTE format(
            'ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (claim_id, service_date_from) '
            'REFERENCES %I (id, service_date_from) DEFERRABLE INITIALLY DEFERRED',
            r.part, r.part || '_claim_fk', 'claims_claim' || r.suffix);
    END LOOP;
END $$;
ALTER TABLE claims_claimline DROP CONSTRAINT claimline_claim_fk;
"""

REVERSE = r"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.conrelid::regclass AS part, c.conname FROM pg_constraint c
        JOIN pg_inherits i ON i.inhrelid = c.conrelid
        WHERE i.inhparent = 'claims_claimline'::regclass AND c.contype = 'f' AND c.conname LIKE '%\_claim\_fk'
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.part, r.conname);
    END LOOP;
END $$;
ALTER TABLE claims_claimline ADD CONSTRAINT claimline_claim_fk FOREIGN KEY (claim_id, service_date_from)
    REFERENCES claims_claim (id, service_date_from) DEFERRABLE INITIALLY DEFERRED;
DROP FUNCTION platform_partition_foreign_key(regclass, text, text[], regclass, text[]);
"""


class Migration(migrations.Migration):
    dependencies = [("ops", "0009_ddl_functions"), ("claims", "0015_remittance_forward_balance")]

    operations = [migrations.RunSQL(sql=FUNCTION + EXISTING, reverse_sql=REVERSE)]
