"""Tenancy: organizations and what belongs to them (users, devices, numbers), plus trunks.

Each module owns its SQL, takes an asyncpg connection or pool, and knows nothing of HTTP.
Everything that reads or changes a user, device or number is scoped by organization id and never
touches another organization's rows. Failures are the exceptions in `tenancy.errors`.
"""
