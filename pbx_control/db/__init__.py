"""PostgreSQL access: one asyncpg pool per process, migrations from sql/."""
