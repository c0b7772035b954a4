"""On PostgreSQL, refuse UPDATE and DELETE of trace and span rows, whoever sends them.

The retention purge runs `SET LOCAL audit.allow_purge = 'on'` in its transaction; the
trigger lets DELETE through only then. UPDATE is never allowed. TRUNCATE (an operator's
statement, also used by test database flushes) is not a row change and is not covered.
"""

from django.db import migrations

TABLES = ("audit_trace", "audit_span")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('audit.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows in % are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege', HINT = 'trace_immutable';
END;
$$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the ORM guard in audit.models is the protection
    schema_editor.execute(CREATE_FUNCTION, params=None)  # its % are plpgsql format marks
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_reviews_policy_rollup")]

    operations = [migrations.RunPython(install, uninstall)]
