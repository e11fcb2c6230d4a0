-- Snapshots of streams' states (src/shared/snapshots): an optimisation only, so nothing
-- refers to this table and it may be emptied at any time; the events stay the truth.
-- One row per stream and fingerprint (what produced the state: the aggregate's evolve,
-- state shape, event shapes and upcasters), so that two releases running side by side
-- during a rolling deploy each keep their own and never read the other's.
create table snapshots (
  stream_id text not null,
  fingerprint text not null,
  -- The state covers the stream's events up to and including this revision.
  revision bigint not null,
  -- Position and chain hash of the event at that revision: a reader checks them against
  -- the event itself before trusting the state.
  position bigint not null,
  hash text not null,
  state jsonb not null,
  taken_at timestamptz not null default now(),
  primary key (stream_id, fingerprint)
);
