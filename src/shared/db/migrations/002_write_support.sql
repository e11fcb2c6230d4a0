-- Tokens revoked by logout, until they would have expired anyway.
create table revoked_tokens (
  jti uuid primary key,
  expires_at timestamptz not null
);
create index revoked_tokens_expires_at on revoked_tokens (expires_at);

-- One row per Idempotency-Key of a user. The answer is kept so that a repeat returns it;
-- resource_id is drawn once, so that a repeated creation names the same resource.
create table idempotency_keys (
  scope text not null,
  key text not null,
  request_hash text not null,
  resource_id uuid not null,
  status_code integer,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (scope, key)
);
create index idempotency_keys_created_at on idempotency_keys (created_at);
