"""Where a call goes: pure decisions (decision.py) fed by indexed reads (repository.py)."""
