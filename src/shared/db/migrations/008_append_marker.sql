-- Every transaction that writes es_events holds one shared, transaction-scoped advisory
-- lock, taken before its first position is drawn. A subscriber at a hole in the positions
-- then waits only for the transactions holding it, not for every transaction of the
-- server (see docs/decisions.md, "Ordering: wait only on appends").
--
-- A statement-level BEFORE trigger fires before the INSERT computes its first row, and
-- so before the identity default draws a position. It marks every writer of es_events,
-- es_append and any other, without changing es_append.
-- The key (730127401, 1) is also in src/shared/event-store/postgres/append-marker.ts.

create function es_mark_appending() returns trigger
language plpgsql as $fn$
begin
  -- Shared: appends never wait for one another on it. Released at commit or rollback.
  perform pg_advisory_xact_lock_shared(730127401, 1);
  return null;
end
$fn$;

create trigger es_events_mark_appending
  before insert on es_events
  for each statement execute function es_mark_appending();
