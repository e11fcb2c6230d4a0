-- es_append_many, second version: set-based (see docs/benchmarks.md, "Set-based group commit").
-- The first version (024) ran es_append once per append, five to eight statements each; with
-- one trip in flight the rate at 16 writers was bounded by that trip's length. This one
-- decides and writes a whole batch in two statements, whatever its size:
--   1. lock the stream rows of the call that exist, in stream id order, and read their revisions;
--   2. one statement: the repeat check by event id, each append's decision against its own
--      expected revision, the new stream rows, the revisions moved, the events inserted.
-- Only appends outside the common case go through es_append one by one, as in 024, after the
-- set-based part: an append whose stream comes more than once in the call (each must see the
-- one before it), one with an event id already written (a retry: es_append answers
-- 'duplicate' or raises), and one whose new stream another transaction created meanwhile.
--
-- Unchanged from 024: the signature; each append keeps its own expected revision and outcome
-- (a conflict is a row, not an error, and writes nothing of its own); an error (a bad payload,
-- an event id of another stream) rolls the whole call back and the caller (append-batcher.ts)
-- sends each append alone; rows answer ord (1-based, array order), callers order by it.
--
-- Locks: callers pass the appends sorted by stream id, and step 1 locks every existing stream
-- row of the call in that order before anything else, so two calls never wait on each other
-- in opposite orders over existing streams. A stream created by this call is locked by its
-- INSERT later; two calls creating and locking the same new streams in crossed orders could
-- only meet when one of them expected an exact revision of a stream that did not exist yet;
-- PostgreSQL then raises a deadlock in one of them, whose batch is sent again one by one.
-- Positions: the INSERT into es_events takes the append marker (migration 008) before its
-- first position is drawn, as before.

create or replace function es_append_many(p_streams text[], p_expected bigint[], p_events jsonb[])
returns table (ord integer, outcome text, revision bigint, last_position bigint)
language plpgsql as $fn$
declare
  v_count integer := coalesce(cardinality(p_streams), 0);
  v_ids text[];
  v_revisions bigint[];
  v_ords integer[];
  v_outcomes text[];
  v_results bigint[];
  v_positions bigint[];
  i integer;
begin
  if coalesce(cardinality(p_expected), 0) <> v_count or coalesce(cardinality(p_events), 0) <> v_count then
    raise exception 'es_append_many: % streams, % expected revisions, % event lists',
      v_count, coalesce(cardinality(p_expected), 0), coalesce(cardinality(p_events), 0)
      using errcode = 'invalid_parameter_value';
  end if;
  if v_count = 0 then
    return;
  end if;

  -- 1. The existing stream rows, locked in stream id order (LockRows runs above the sort).
  select coalesce(array_agg(l.stream_id), '{}'), coalesce(array_agg(l.revision), '{}')
    into v_ids, v_revisions
    from (select s.stream_id, s.revision from es_streams s
           where s.stream_id = any(p_streams) order by s.stream_id for update) l;

  -- 2. Every append of a stream that comes once and repeats no event id, in one statement.
  --    A new snapshot: it sees whatever committed before the rows were locked. `moved` is
  --    read by nobody: a data-modifying WITH runs to completion all the same.
  with a as (
    select u.k::integer as ord, u.stream_id, u.expected, u.events, jsonb_array_length(u.events) as n,
           count(*) over (partition by u.stream_id) as times
      from unnest(p_streams, p_expected, p_events) with ordinality as u(stream_id, expected, events, k)
  ),
  decided as (
    select a.ord, a.stream_id, a.expected, a.events, a.n, c.revision as current,
           case
             when c.revision is null then case when a.expected in (-1, -2) then 'create' else 'conflict' end
             when a.expected = -1 or (a.expected >= 0 and a.expected <> c.revision) then 'conflict'
             else 'write'
           end as action
      from a left join unnest(v_ids, v_revisions) as c(stream_id, revision) on c.stream_id = a.stream_id
     where a.times = 1
       and not exists (select from jsonb_array_elements(a.events) x
                         join es_events e on e.event_id = (x->>'id')::uuid)
  ),
  created as (
    insert into es_streams (stream_id, revision)
    select d.stream_id, d.n - 1 from decided d where d.action = 'create' order by d.stream_id
    on conflict do nothing
    returning es_streams.stream_id
  ),
  moved as (
    update es_streams s set revision = d.current + d.n
      from decided d
     where d.action = 'write' and s.stream_id = d.stream_id
    returning s.stream_id
  ),
  to_write as (
    select d.ord, d.stream_id, d.events, d.current as base from decided d where d.action = 'write'
    union all
    select d.ord, d.stream_id, d.events, -1 from decided d join created c on c.stream_id = d.stream_id
  ),
  written as (
    insert into es_events (stream_id, revision, event_id, type, data, metadata)
    select w.stream_id, w.base + x.k, (x.e->>'id')::uuid, x.e->>'type', x.e->'data', x.e->'metadata'
      from to_write w, jsonb_array_elements(w.events) with ordinality as x(e, k)
     order by w.ord, x.k
    returning es_events.stream_id, es_events.position
  ),
  answered as (
    select w.ord, 'written'::text as outcome, w.base + jsonb_array_length(w.events) as revision,
           (select max(p.position) from written p where p.stream_id = w.stream_id) as last_position
      from to_write w
    union all
    select d.ord, 'conflict', coalesce(d.current, -1), null::bigint from decided d where d.action = 'conflict'
  )
  select coalesce(array_agg(r.ord), '{}'), coalesce(array_agg(r.outcome), '{}'),
         coalesce(array_agg(r.revision), '{}'), coalesce(array_agg(r.last_position), '{}')
    into v_ords, v_outcomes, v_results, v_positions
    from answered r;

  return query select u.ord, u.outcome, u.revision, u.last_position
    from unnest(v_ords, v_outcomes, v_results, v_positions) as u(ord, outcome, revision, last_position);

  -- 3. The rest, one es_append each in array order (stream id order), as in 024.
  if cardinality(v_ords) < v_count then
    for i in 1 .. v_count loop
      continue when i = any(v_ords);
      return query select i, e.outcome, e.revision, e.last_position from es_append(p_streams[i], p_expected[i], p_events[i]) e;
    end loop;
  end if;
end
$fn$;
