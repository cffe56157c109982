"""The bridge's own database: tables, migrations, and one repository per kind of record."""
