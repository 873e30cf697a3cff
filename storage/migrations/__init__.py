"""The Alembic environment of the schema, bundled with the package (see storage/schema.py)."""
