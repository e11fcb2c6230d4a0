-- The index of event ids for the KurrentDB event store (src/shared/event-store/kurrentdb):
-- KurrentDB has no lookup of an event by id, and checks ids only against the recent events
-- of one stream. A row is reserved before its append (revision null) and given its revision
-- after the server answered; a reservation left by a crash is settled by the next lookup.
create table kurrentdb_event_ids (
  event_id uuid primary key,
  stream_id text not null,
  revision bigint
);
-- The streams of a store or of a SKU, by name pattern (src/write/stock-of.ts).
create index kurrentdb_event_ids_by_stream on kurrentdb_event_ids (stream_id text_pattern_ops);
