-- read_model_write_batch_then_rows: a live projector batch's queued writes (its stream locks
-- and its stuck-stream guard) and its read of the rows it folds, in one round trip instead of
-- two (see docs/benchmarks.md, "Freshness: the locks and the rows' read in one trip").
--
-- As read_model_write_batch_then_read (migration 029), but the read hands back whole rows of
-- a table, typed: p_row is a null of the table's row type (null::read_model.stock), and the
-- read must select that table's columns, in order (select * / select s.*). The caller selects
-- * from the call, so the columns come back with their own types and the driver parses them
-- as it would the read sent alone.
create function read_model_write_batch_then_rows(
  p_row anyelement,
  p_names text[], p_statements text[], p_arguments text[],
  p_read_name text, p_read_statement text, p_read_arguments text
)
returns setof anyelement
language plpgsql
set plan_cache_mode = force_generic_plan
as $fn$
begin
  perform read_model_write_batch(p_names || p_read_name, p_statements || p_read_statement, p_arguments || null::text);
  return query execute format('execute %I%s', p_read_name, p_read_arguments);
end
$fn$;

-- Raises (SQLSTATE RMSTK) when the batch carries a stream marked stuck. A live batch queues
-- it right after its stream locks, instead of reading the stuck streams and waiting for the
-- answer before it reads its rows: a stuck stream is rare, and the projector then rolls the
-- transaction back and applies the batch again the careful way (reading which are stuck).
-- Read under the stream locks, so a retry that cleared a stream has committed, or waits.
create function read_model_refuse_stuck(p_stuck text[])
returns void
language plpgsql
as $fn$
begin
  if cardinality(p_stuck) > 0 then
    raise exception 'read_model: the batch carries streams marked stuck: %', array_to_string(p_stuck, ', ') using errcode = 'RMSTK';
  end if;
end
$fn$;
