-- es_append answers one row and es_append_many one row per append (at most a batch, 50 by
-- default in append-batcher.ts); PostgreSQL costed both as any set-returning function, 1,000
-- rows. The event store's statements read a conflict's missed events in a subquery per row
-- (postgres/index.ts): costed 1,000 times over, that estimate grew with es_events until it
-- crossed jit_above_cost, and every trip was then compiled by LLVM (docs/benchmarks.md, "JIT
-- on the append"). The append pool runs with JIT off for that reason; these estimates keep the
-- statements' cost near their real one for any other session too.
--
-- A later `create or replace function` of either resets ROWS unless it says it again.

alter function es_append(text, bigint, jsonb) rows 1;
alter function es_append_many(text[], bigint[], jsonb[]) rows 50;
