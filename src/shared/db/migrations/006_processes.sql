-- Every running process says it is alive here every few seconds (src/ops/heartbeat.ts), so
-- that any replica can list the whole cluster in GET /api/reports/cluster. A clean stop
-- deletes its row; a process that died leaves it, shown as gone, deleted after a day.
create table processes (
  id uuid primary key,
  roles text[] not null,
  version text not null,
  host text not null,
  pid integer not null,
  -- Both stamped with the database's clock, so ages compare across hosts.
  started_at timestamptz not null,
  heartbeat_at timestamptz not null,
  -- The process's own interval: it is gone after three missed heartbeats.
  heartbeat_interval_ms integer not null,
  memory_rss_bytes bigint not null,
  -- Figures a role reports about itself, e.g. {"websockets": 12}.
  gauges jsonb not null default '{}'
);
create index processes_heartbeat_at on processes (heartbeat_at);
