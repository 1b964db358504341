"""Meetings and multi-party calls on Asterisk ConfBridge (issue 10)."""
