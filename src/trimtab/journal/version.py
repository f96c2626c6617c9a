"""The journal schema's newest Alembic revision (``journal/migrations``), in a module of its own so
that a reader can check a database is current without importing SQLAlchemy or Alembic."""

HEAD = "0005"
