-- Where each subscriber of the event store stands (the forwarder).
create table projection_checkpoints (
  name text primary key,
  position bigint not null,
  updated_at timestamptz not null default now()
);

-- How far each projection has applied each partition of the bus: everything of that
-- partition up to `through` is in its read model. The minimum over partitions is the
-- position a query's X-Min-Position waits for.
create table projection_progress (
  projection text not null,
  partition integer not null,
  through bigint not null,
  updated_at timestamptz not null default now(),
  primary key (projection, partition)
);
