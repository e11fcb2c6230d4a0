-- read_model_write_batch: a live projector batch's writes in one call, each statement planned
-- once per session (see docs/benchmarks.md, "Prepared writes"). The batch's writes used to
-- go as an anonymous DO block with their values written in: one round trip, but a DO block
-- keeps no plan, so every batch parsed and planned its seventeen statements again (3.3 ms of
-- planning for 1.1 ms of execution on an idle host).
--
-- Each statement comes as its text with $1..$n parameters, a name derived from that text by
-- the caller (a hash: the same text, the same name) and its arguments written as a list of
-- quoted literals, "('a', '{"b"}')" (empty when it has none). The first time a session meets
-- a name it PREPAREs the text; from then on it EXECUTEs the statement, whose plan PostgreSQL
-- keeps (and re-plans by itself when a table it names changes: a rebuild's swap). Untyped
-- parameters and literals, as the driver's bound parameters are: PostgreSQL resolves their
-- types from the same context.
--
-- In order, each statement seeing those before it and taking a fresh snapshot under READ
-- COMMITTED, as in the DO block; a SELECT's rows (a lock's) are discarded. An error rolls back
-- the caller's transaction as before. A null argument list prepares its statement and runs
-- nothing (read_model_write_batch_then_rows runs it). Prepared statements outlive a
-- rollback, and are looked up here, not remembered by the caller, so a session's state is
-- always what the server says.
--
-- Bounded: a session holding 256 of them (texts come from the code and name their schema, so
-- only schemas coming and going add any) forgets them all and prepares again what it meets.
-- Generic plans from the first execution: a custom plan is planned again at every execution,
-- which is the cost this function exists to avoid (by default PostgreSQL plans the first five
-- with their values, and goes on doing so when the generic plan's estimate looks worse). The
-- statements look rows up by key and scan their jsonb or array arguments whole; live batches
-- of 1,000 adjustments cost the server no more CPU with generic plans than with custom ones.

create function read_model_write_batch(p_names text[], p_statements text[], p_arguments text[])
returns void
language plpgsql
set plan_cache_mode = force_generic_plan
as $fn$
declare
  prepared text[];
  held bigint;
  stale text;
begin
  if cardinality(p_names) is distinct from cardinality(p_statements) or cardinality(p_names) is distinct from cardinality(p_arguments) then
    raise exception 'read_model_write_batch: % names, % statements, % argument lists', cardinality(p_names), cardinality(p_statements), cardinality(p_arguments);
  end if;
  select coalesce(array_agg(name) filter (where name = any(p_names)), '{}'), count(*)
    into prepared, held
    from pg_prepared_statements
   where name like 'rmw\_%';
  if held >= 256 then
    for stale in select name from pg_prepared_statements where name like 'rmw\_%' loop
      execute format('deallocate %I', stale);
    end loop;
    prepared := '{}';
  end if;
  for i in 1 .. coalesce(cardinality(p_names), 0) loop
    if p_names[i] not like 'rmw\_%' then
      raise exception 'read_model_write_batch: statement name % does not start with rmw_', p_names[i];
    end if;
    if not p_names[i] = any(prepared) then
      execute format('prepare %I as %s', p_names[i], p_statements[i]);
      prepared := prepared || p_names[i];
    end if;
    if p_arguments[i] is not null then
      execute format('execute %I%s', p_names[i], p_arguments[i]);
    end if;
  end loop;
end
$fn$;

-- The writes, then one read, in the same round trip: the read takes its snapshot after the
-- writes (a lock queued before it is held when it reads), as the read sent alone after them
-- did. A live batch's stream locks and its read of the rows it folds, or the store totals'
-- SKU locks and their read of the stores, come back in one trip instead of two. p_row is a
-- null of the read's row type (null::text for one text column, null::read_model.stock for a
-- table's rows, the read selecting its columns in order): the caller selects * from the call,
-- so the columns come back with their own types and the driver parses them as it would the
-- read sent alone.
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
