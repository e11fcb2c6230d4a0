-- Progress of `npm run events:migrate` (src/ops/migrate-events.ts): the source position copied
-- through, so that a copy stopped half-way resumes where it was.
create table event_migrations (
  name text primary key,
  through bigint not null,
  events bigint not null,
  updated_at timestamptz not null default now()
);
