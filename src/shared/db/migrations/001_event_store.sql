-- The event store: the source of truth and the outbox at once.

create table es_streams (
  stream_id text primary key,
  -- Revision of the stream's last event. The row is the stream's lock: appends to one
  -- stream serialize on it, appends to different streams never wait for each other.
  revision bigint not null
);

create table es_events (
  -- Taken from the sequence before commit, so positions may become visible out of
  -- order; subscribers handle that (see docs/decisions.md, "ordering").
  position bigint generated always as identity primary key,
  stream_id text not null,
  revision bigint not null,
  event_id uuid not null,
  type text not null,
  data jsonb not null,
  metadata jsonb not null,
  recorded_at timestamptz not null default clock_timestamp(),
  constraint es_events_stream_revision unique (stream_id, revision),
  constraint es_events_event_id unique (event_id)
);

-- One round trip per append: lock or create the stream row, detect a retried append
-- by its event ids, check the expected revision, write the events.
-- p_expected: -1 no stream, -2 any, -3 stream exists, n >= 0 exactly n.
-- Answers outcome 'written' | 'duplicate' | 'conflict' with the stream's revision
-- (the actual one on a conflict, -1 when the stream does not exist).
create function es_append(p_stream text, p_expected bigint, p_events jsonb)
returns table (outcome text, revision bigint, last_position bigint)
language plpgsql as $fn$
declare
  v_count integer := jsonb_array_length(p_events);
  v_current bigint;
  v_created boolean := false;
  v_duplicates integer;
  v_duplicate_revision bigint;
  v_last_position bigint;
begin
  loop
    select s.revision into v_current from es_streams s where s.stream_id = p_stream for update;
    exit when found;
    if p_expected >= 0 or p_expected = -3 then
      return query select 'conflict'::text, -1::bigint, null::bigint;
      return;
    end if;
    -- Creating the stream row before the events is what assigns this transaction its
    -- id before any position is drawn: the subscriber's gap check relies on that.
    insert into es_streams (stream_id, revision) values (p_stream, v_count - 1) on conflict do nothing;
    if found then
      v_current := -1;
      v_created := true;
      exit;
    end if;
    -- Another writer created the stream meanwhile: go round and lock its row.
  end loop;

  if not v_created then
    select count(*), max(e.revision), max(e.position) into v_duplicates, v_duplicate_revision, v_last_position
      from es_events e
     where e.event_id in (select (x->>'id')::uuid from jsonb_array_elements(p_events) x)
       and e.stream_id = p_stream
    having count(*) > 0;
    if found then
      if v_duplicates <> v_count then
        raise exception 'append to %: % of % event ids were already written', p_stream, v_duplicates, v_count
          using errcode = 'unique_violation';
      end if;
      return query select 'duplicate'::text, v_duplicate_revision, v_last_position;
      return;
    end if;
    if p_expected = -1 or (p_expected >= 0 and p_expected <> v_current) then
      return query select 'conflict'::text, v_current, null::bigint;
      return;
    end if;
    update es_streams set revision = v_current + v_count where stream_id = p_stream;
  end if;

  with written as (
    insert into es_events (stream_id, revision, event_id, type, data, metadata)
    select p_stream, v_current + x.ord, (x.e->>'id')::uuid, x.e->>'type', x.e->'data', x.e->'metadata'
      from jsonb_array_elements(p_events) with ordinality as x(e, ord)
     order by x.ord
    returning es_events.position
  )
  select max(w.position) into v_last_position from written w;

  return query select 'written'::text, v_current + v_count, v_last_position;
end
$fn$;
