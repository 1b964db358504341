"""How big and how long: the full run (`make bench`) and the smoke run (inside `make test`).

The seed's size is given in users (`--sizes`); `at_size` scales the rest in proportion: the first
organization keeps `first_org_users` (presence of a 1,000-user organization, the fan-out's
clients), the other users come in organizations of `org_users`; answer groups, caller-list rows and
contacts grow with the users (`*_per_user`, the 10,000-user layout of the earlier runs).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Params:
    smoke: bool
    # seed
    organizations: int
    users: int
    big_org_users: int  # the first organization is this big (at_size: first_org_users)
    groups: int
    caller_list_rows: int
    contacts: int
    # cps_ratio: offered rates tried in turn, seconds per step, call hold time
    cps_rates: tuple[int, ...]
    cps_step_s: float
    cps_resolution: int  # after the coarse steps, bisect down to this many calls per second
    call_hold_ms: int
    # agi_latency
    agi_concurrency: int
    agi_duration_s: float
    agi_open_rate: int  # sessions per second, open loop (the rate Asterisk would offer)
    # agi_burst
    burst_rate: int
    burst_duration_s: float
    # process_agi_ratio
    process_calls: int
    # api_latency
    api_clients: int
    api_pace_s: float  # each client acts once every this many seconds (bench/pace.py; 0: back to back)
    api_duration_s: float
    park_rounds: int  # api_latency: rounds of one park per client (the lot has 50 places)
    transfers: int  # api_latency: blind transfers in all
    hold_calls: int  # api_latency: calls held and resumed (one hold and one resume each)
    announced_transfers: int  # api_latency: announced transfers started and completed
    clicks: int  # api_latency: click-to-call requests
    history_rows: int  # api_latency: call history rows of one user (GET /users/me/history)
    # event_fanout
    fanout_clients: int
    fanout_processes: int
    fanout_calls: int
    fanout_call_rate: int
    # conference_mix: rooms of 5 added at most, seconds each room's audio is watched
    conference_rooms: int
    conference_window_s: float
    # Asterisk's RTP port range (two ports per call leg; SIPp's short calls leave many in use)
    rtp_ports: int
    # mixed_load: AGI at agi_open_rate for mixed_duration_s while, at once, presence GETs and
    # answer-group logins/logouts at these rates (open loop), the fan-out's clients listening and
    # SIPp placing calls at mixed_call_rate that stay up mixed_call_hold_ms
    mixed_duration_s: float = 15.0
    mixed_presence_rate: int = 200
    mixed_login_rate: int = 20
    mixed_call_rate: int = 3
    mixed_call_hold_ms: int = 2000
    # sizes (users) and repeats of every measurement at each size
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    repeats: int = 3
    repeated: tuple[str, ...] | None = None  # the measurements run `repeats` times (None: all)
    first_org_users: int = 1_000
    org_users: int = 100
    groups_per_user: float = 0.1
    caller_list_rows_per_user: int = 10
    contacts_per_user: int = 10

    def at_size(self, users: int) -> Params:
        """The seed of `users` users, everything else in proportion (module docstring)."""
        first = min(self.first_org_users, users)
        organizations = 1 + math.ceil((users - first) / self.org_users)
        return dataclasses.replace(
            self,
            users=users,
            organizations=organizations,
            big_org_users=first,
            groups=max(1, round(users * self.groups_per_user)),
            caller_list_rows=users * self.caller_list_rows_per_user,
            contacts=users * self.contacts_per_user,
            fanout_clients=min(self.fanout_clients, first),
        )


FULL = Params(
    smoke=False,
    organizations=100,
    users=10_000,
    big_org_users=1_000,
    groups=1_000,
    caller_list_rows=100_000,
    contacts=100_000,
    cps_rates=(40, 60, 80, 100, 120, 140, 160, 200, 250, 300, 350, 400),
    cps_step_s=8.0,
    cps_resolution=5,
    call_hold_ms=200,
    agi_concurrency=200,
    agi_duration_s=10.0,
    agi_open_rate=200,
    burst_rate=500,
    burst_duration_s=10.0,
    process_calls=100,
    api_clients=50,
    api_pace_s=1.0,
    api_duration_s=10.0,
    park_rounds=3,
    transfers=300,
    hold_calls=150,
    announced_transfers=100,
    clicks=200,
    history_rows=100_000,
    fanout_clients=1000,
    fanout_processes=2,
    fanout_calls=30,
    fanout_call_rate=3,
    conference_rooms=38,  # SIPp's ports: base+2050 .. base+3990, below the RTP range
    conference_window_s=3.0,
    rtp_ports=4000,
)

SMOKE = Params(
    smoke=True,
    organizations=3,
    users=60,
    big_org_users=30,
    groups=5,
    caller_list_rows=200,
    contacts=200,
    cps_rates=(5,),
    cps_step_s=2.0,
    cps_resolution=5,
    call_hold_ms=200,
    agi_concurrency=10,
    agi_duration_s=1.0,
    agi_open_rate=50,
    burst_rate=50,
    burst_duration_s=1.0,
    process_calls=3,
    api_clients=5,
    api_pace_s=0.05,
    api_duration_s=1.0,
    park_rounds=1,
    transfers=5,
    hold_calls=3,
    announced_transfers=3,
    clicks=3,
    history_rows=2_000,
    fanout_clients=20,
    fanout_processes=1,
    fanout_calls=4,
    fanout_call_rate=2,
    conference_rooms=1,
    conference_window_s=1.5,
    rtp_ports=1000,
    mixed_duration_s=2.0,
    mixed_presence_rate=20,
    mixed_login_rate=5,
    mixed_call_rate=2,
    mixed_call_hold_ms=500,
    sizes=(60,),
    repeats=2,  # the cheap ones only: the smoke stays well under 2 minutes
    repeated=("agi_latency", "agi_burst", "process_agi_ratio", "mixed_load"),
    first_org_users=30,
    org_users=15,
)
