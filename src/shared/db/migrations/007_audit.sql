-- Audit (issue 8): the trail's filters, the time → position lookup of asOf, the starting
-- hashes of streams written before the hash chain, and the record of each verify run.

-- The store and the SKU an event belongs to, from its stream id alone (no cast to uuid: an
-- odd stream id must never make an append fail). Immutable, so they can be indexed.
create function es_store_of(p_stream text) returns text
language sql immutable parallel safe as $$
  select case
    when p_stream like 'stockitem-%' then split_part(substr(p_stream, 11), '_', 1)
    when p_stream like 'store-%' then substr(p_stream, 7)
  end
$$;

create function es_sku_of(p_stream text) returns text
language sql immutable parallel safe as $$
  select case
    when p_stream like 'stockitem-%' then split_part(substr(p_stream, 11), '_', 2)
    when p_stream like 'sku-%' then substr(p_stream, 5)
  end
$$;

-- Each index ends in position, so a filtered page is one range scan in trail order.
create index es_events_by_store on es_events (es_store_of(stream_id), position) where es_store_of(stream_id) is not null;
create index es_events_by_sku on es_events (es_sku_of(stream_id), position) where es_sku_of(stream_id) is not null;
create index es_events_by_actor on es_events ((metadata->>'actor'), position);
-- The trail's from/to, and the position an asOf time stands for.
create index es_events_by_recorded_at on es_events (recorded_at);

-- Streams that already held events when the hash chain began: the chain hash of their
-- head then, computed once by `npm run verify` (the first run that finds them), so that a
-- later change to those old events is seen although they carry no hash of their own.
create table es_chain_starts (
  stream_id text primary key,
  revision bigint not null,
  hash text not null,
  recorded_at timestamptz not null default now()
);

-- Every `npm run verify`: when, what it found, the root hash it printed.
create table verify_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  head_position bigint not null,
  streams bigint not null,
  events bigint not null,
  differences bigint not null,
  root_hash text not null,
  report jsonb not null
);
