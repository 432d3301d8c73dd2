"""Load the ICD-10-CM code set (chapters, blocks, categories, codes) that diagnosis analytics group by.

From simple-icd-10-cm (the CDC/CMS ICD-10-CM tabular list it ships): ~98,500 items, loaded with COPY in about
2 s. Codes are stored without the dot, as claims carry them (HI segments).
"""

import warnings

from django.db import migrations


def load(apps, schema_editor):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd

    rows = []
    for code in icd.get_all_codes(False):
        if icd.is_chapter(code) or icd.is_block(code):
            continue
        ancestors = icd.get_ancestors(code)  # [..., top-level block, chapter]
        chapter, block = ancestors[-1], ancestors[-2]
        rows.append(
            (
                code,
                icd.get_description(code)[:400],
                chapter,
                icd.get_description(chapter)[:300],
                block,
                icd.get_description(block)[:300],
                icd.is_leaf(code),
            )
        )
    raw = schema_editor.connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY analytics_icd10code (code, description, chapter, chapter_title, block, block_title, billable) "
            "FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)


def unload(apps, schema_editor):
    schema_editor.execute("DELETE FROM analytics_icd10code")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
