"""The features of the control service, in one list: `pbx_control.service` composes it.

Each entry is the `FEATURE` of a feature folder's `feature.py`; that file names what the feature
brings (HTTP routes, FastAGI handlers, call targets, AMI hooks, its dialplan include, workers).
"""

from __future__ import annotations

from pbx_control.callcontrol.feature import FEATURE as CALLCONTROL
from pbx_control.directory.feature import FEATURE as DIRECTORY
from pbx_control.events.feature import FEATURE as EVENTS
from pbx_control.feature import Feature
from pbx_control.groups.feature import FEATURE as GROUPS
from pbx_control.history.feature import FEATURE as HISTORY
from pbx_control.mail.feature import FEATURE as MAIL
from pbx_control.meetings.feature import FEATURE as MEETINGS
from pbx_control.policy.feature import FEATURE as POLICY
from pbx_control.reachability.feature import FEATURE as REACHABILITY
from pbx_control.routing.feature import FEATURE as ROUTING
from pbx_control.sipguard.feature import FEATURE as SIPGUARD
from pbx_control.tenancy.feature import FEATURE as TENANCY
from pbx_control.voicemail.feature import FEATURE as VOICEMAIL
from pbx_control.webphone.feature import FEATURE as WEBPHONE

FEATURES: tuple[Feature, ...] = (
    TENANCY,
    ROUTING,
    REACHABILITY,
    DIRECTORY,
    GROUPS,
    CALLCONTROL,
    HISTORY,
    MEETINGS,
    EVENTS,
    MAIL,
    WEBPHONE,
    POLICY,
    VOICEMAIL,
    SIPGUARD,
)
