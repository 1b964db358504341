"""Directory, phonebooks, marks (favorite, VIP, blocked), imports, caller names and presence.

Pure (no I/O): text (search folding, display-safe names), numbers (normalization), drafts (the one
contact check), vcard and csv_import (file parsers). With SQL (tables of pbx_control/sql/005_directory.sql):
contacts (phonebook rows), marks (marks, raw caller list, the projection into caller_lists of
pbx_control/sql/002), search, imports, caller_names (the lookup on every call's path) and presence.
"""
