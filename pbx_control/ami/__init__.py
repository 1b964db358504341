"""The AMI side: one long-lived AMI login (AmiClient), the live channel model (CallModel) and the
in-process publisher its changes go out through (EventPublisher)."""

from pbx_control.ami.actions import PendingAction, prepare_action
from pbx_control.ami.calls import CallModel, Channel, endpoint_of
from pbx_control.ami.client import AmiClient
from pbx_control.ami.errors import AmiError, AmiLoginFailed, AmiTimeout, AmiUnavailable
from pbx_control.ami.events import EventPublisher, Subscription
from pbx_control.ami.parts import backoff_delay

__all__ = [
    "AmiClient",
    "AmiError",
    "AmiLoginFailed",
    "AmiTimeout",
    "AmiUnavailable",
    "CallModel",
    "Channel",
    "EventPublisher",
    "PendingAction",
    "Subscription",
    "backoff_delay",
    "endpoint_of",
    "prepare_action",
]
