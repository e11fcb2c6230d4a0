-- A key whose first attempt ended in a 5xx is released: not an answer (a repeat runs the
-- command again), and not in flight either (a repeat need not wait for it). The row stays,
-- so a repeat still reuses its resource_id, and the events' ids derived from the key still
-- make a second run write nothing it already wrote.
alter table idempotency_keys add column released boolean not null default false;
