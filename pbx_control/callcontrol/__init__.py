"""Call control for client apps: list one's calls, hang up, blind transfer, park and pick up; hold,
resume and swap, the keypad, click-to-call and retrieving a parked call (hold.py, dial.py, http_calls.py).

views.py is pure (which live channels are whose calls, from the CallModel); actions.py sends the
AMI actions and waits for what they cause (the ParkedCall event); the dialplan side is in
pbx_control/asterisk-config/extensions_callcontrol.conf and res_parking.conf (one dynamic parking lot per
organization, created by Park() from a template, so no per-organization parking configuration).
"""
