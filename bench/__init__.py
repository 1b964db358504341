"""`make bench`: the routing path measured against bare Asterisk and against process AGI.

Run with ``python -m bench`` (full) or ``python -m bench --smoke`` (a few seconds each, no goals
checked). Every measurement is a function ``(BenchEnv, Params) -> Result``; see ``runner.py``.
"""
