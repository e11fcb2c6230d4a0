-- Group commit: several appends, to the same or different streams, in one round trip and
-- one transaction (one WAL flush). Each is es_append as it stands: it keeps its own expected
-- revision, event-id repeat check and outcome; a conflict is an outcome, not an error, and
-- writes nothing of its own. An error (a bad payload, an event id taken by another stream)
-- rolls the whole call back: the caller (append-batcher.ts) then sends each append alone, so
-- the error stays with its own append.
--
-- Appends run in array order and answer one row each, in that order (ord, 1-based). Two
-- appends to one stream in one call see each other as two calls would: the second to expect
-- revision n after the first moved the stream to n + 1 conflicts.
-- Callers pass the appends sorted by stream id: the stream rows are then locked in one
-- order by every call, so two calls never deadlock on them.
-- Positions: the transaction takes the append marker (migration 008) at its first INSERT,
-- before its first position is drawn, and holds it to its end, so the subscriber's gap rule
-- holds for a call as for one append; the call's positions are merely drawn by one
-- transaction instead of several.

create function es_append_many(p_streams text[], p_expected bigint[], p_events jsonb[])
returns table (ord integer, outcome text, revision bigint, last_position bigint)
language plpgsql as $fn$
declare
  v_count integer := coalesce(cardinality(p_streams), 0);
begin
  if coalesce(cardinality(p_expected), 0) <> v_count or coalesce(cardinality(p_events), 0) <> v_count then
    raise exception 'es_append_many: % streams, % expected revisions, % event lists',
      v_count, coalesce(cardinality(p_expected), 0), coalesce(cardinality(p_events), 0)
      using errcode = 'invalid_parameter_value';
  end if;
  for i in 1 .. v_count loop
    return query select i, a.outcome, a.revision, a.last_position from es_append(p_streams[i], p_expected[i], p_events[i]) a;
  end loop;
end
$fn$;
