"""PostgreSQL access: one asyncpg pool per process, migrations from pbx_control/sql/."""
