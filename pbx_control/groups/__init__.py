"""Answer groups ("svarsgrupper"): queues whose members log in and out.

How Asterisk is kept in line with PostgreSQL: realtime queues, not AMI QueueAdd against static
queues.conf entries. app_queue reads `queues => pgsql,general,pbx_queues` and
`queue_members => pgsql,general,pbx_queue_members` (pbx_control/sql/004_groups.sql) when a call enters a
queue and again before every ring attempt, so:

- there is nothing to restore after an Asterisk restart or an AMI reconnect, and nothing can drift:
  the members Asterisk rings are the rows the views show at that moment (a login, a pause, a change
  of ring time or overflow takes effect for the next call, without a reload);
- a member whose activity is not Available (user_activities, pbx_control/sql/003) is paused by the view
  itself, and unpaused when the activity ends: nobody has to write anything at the end time;
- the AGI handler never needs an AMI round trip: it reads the group row and sets the queue name.

A member is one user, not one device: the interface `Local/<position>-<user id>@pbx-group-member/n`
rings all the user's devices, and answers busy when one of them is on a call, so a member on a call
is not rung even on their other phone (verified in Asterisk 22: app_queue moves on to the next
member at once; ringinuse=no keeps a second group call off a member already in one).

Realtime members cannot be removed in Asterisk (app_queue refuses: not dynamic), and a pause made
there (CLI, AMI QueuePause) is written by app_queue into the view, whose trigger stores it on the
member's row. The one thing Asterisk can still add on its own is a *dynamic* member (`queue add
member`, AMI QueueAdd): `reconcile.py` settles those, and there the database wins.

app_queue fixes a queue's strategy and an in-order queue's ring order when it first builds the
queue, so a strategy change, a member list change, or a login/logout in an in-order group bumps the
group's `generation`, part of the Asterisk queue name (`g<id>v<generation>`): the next call builds
a fresh queue, while callers already waiting keep theirs: every generation a group leaves stays
in the views while a caller may still wait in it (`answer_group_generations`, sql/015: max_wait and
a ring time, plus a minute), however many changes come in between.

Modules: model (validation), decision (pure: where a call goes), repository (facts on the AGI
path), membership (login, pause, night: who may), admin (CRUD and the app's view), agi (handlers),
lamps (night hint and device state), reconcile (dynamic members), wiring (into the service).
"""
