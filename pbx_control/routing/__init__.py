"""Where a call goes: pure decisions (decision.py) fed by indexed reads (repository.py), put
together per call, with forwards resolved and the caller named, by calls.py."""
