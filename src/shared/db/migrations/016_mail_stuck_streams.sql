-- The mailer's record of streams it stopped on (an event it cannot read), as the read
-- model keeps its own: the rest of the partition moves on, that stream's later crossings
-- wait until an operator retries it (npm run projections:stuck). A schema of its own, with
-- the read model's table shape, so that one reader lists both.
create schema if not exists mailer;
create table mailer.stuck_streams (
  stream_id text primary key,
  event_id uuid not null,
  position bigint not null,
  type text not null,
  reason text not null,
  stuck_at timestamptz not null default now(),
  attempts integer not null default 1
);
