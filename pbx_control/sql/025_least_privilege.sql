-- Least privilege (pbx_control/runtime/db_roles.py): Asterisk connects as a role that may only read
-- the realtime views, insert CEL rows and update the queue-member view. The triggers those writes
-- fire reach tables that role may not touch (call_history, users, answer_group_members), so they
-- run as their owner, with a fixed search_path.
ALTER FUNCTION pbx_history_on_cel() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION pbx_queue_members_update() SECURITY DEFINER SET search_path = public, pg_temp;
