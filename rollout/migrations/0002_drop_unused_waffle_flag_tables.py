"""BrandFlag replaces waffle's Flag (WAFFLE_FLAG_MODEL), but waffle's own first migration
creates the Flag tables anyway. Left in place, nothing writes them, and PostgreSQL refuses to
truncate auth_user while they reference it. They are dropped here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rollout", "0001_initial"),
        ("waffle", "0004_update_everyone_nullbooleanfield"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                "DROP TABLE IF EXISTS waffle_flag_users",
                "DROP TABLE IF EXISTS waffle_flag_groups",
                "DROP TABLE IF EXISTS waffle_flag",
            ],
            reverse_sql=migrations.RunSQL.noop,
        )
    ]
