"""Persistence: SQLAlchemy 2 async tables, repositories and Alembic migrations.

Nothing above this package touches the ORM; services call repository functions.
"""
