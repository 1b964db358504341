"""Reachability: activities with spoken redirect, custom settings (closed phone, forwards, temporary
outgoing caller id). The routing decision that uses them is pbx_control.routing.

activities.py and sentences.py are pure (durations, end times, what the caller hears); prompts.py
makes the audio (espeak-ng + sox) and worker.py runs it in the background, never on a call's path;
service.py (activities) and settings.py own the SQL, checks.py the input checks they share.
"""
