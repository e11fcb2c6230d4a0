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
