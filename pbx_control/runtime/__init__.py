"""Starting the real components on this machine: a private PostgreSQL cluster, Asterisk in its root.

Used by `make run` (pbx_control.cli stack) and by the test fixtures, so both start things the same way.
"""
