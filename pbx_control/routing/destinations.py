"""The class of a destination, for the call policy (issue 13 item 3): Swedish numbering.

- ``emergency``: routing/dialled.py EMERGENCY (112, 114 14, ...): never refused.
- ``internal``: an extension of the organization.
- ``mobile``: +46 7x (070, 072, 073, 076, 079, ...).
- ``premium``: +46 9x (premium rate: 0900, 0939, 0944, ...).
- ``national``: any other +46 number.
- ``international``: any number outside +46.

The numbers are E.164 as routing/dialled.py:classify gives them; this is pure and in memory, so it
can run on every call. The call policy (pbx_control/policy) decides which classes may be used.
"""

from __future__ import annotations

from typing import Literal

from pbx_control.routing.dialled import EMERGENCY, classify

DestinationClass = Literal[
    "emergency", "internal", "national", "mobile", "premium", "international", "invalid"
]
# What an organization allows of these is its call policy (pbx_control/policy/model.py): premium
# rate and abroad (toll fraud) are refused until an admin allows them.


def destination_class(dialled: str, country_code: str = "46") -> DestinationClass:
    if dialled in EMERGENCY:
        return "emergency"
    d = classify(dialled, country_code)
    if d.kind == "extension":
        return "internal"
    if d.kind != "external" or not d.value.startswith("+"):
        return "invalid"
    prefix = f"+{country_code}"
    if not d.value.startswith(prefix):
        return "international"
    rest = d.value[len(prefix) :]
    if rest.startswith("7"):
        return "mobile"
    if rest.startswith("9"):
        return "premium"
    return "national"
