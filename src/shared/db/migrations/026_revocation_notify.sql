-- Every revocation is announced on the channel auth_revocations, in the transaction that
-- writes it (so announced if and only if committed), whoever writes it: a process of an
-- older release, a script, an operator's insert. The denylist's mirror (without Redis,
-- src/shared/auth/postgres-revocation-mirror.ts) keeps its copy from these announcements.
-- Payload: {"jti": "...", "exp": <expiry, epoch milliseconds>}.

create function revoked_tokens_announce() returns trigger
language plpgsql as $fn$
begin
  perform pg_notify(
    'auth_revocations',
    json_build_object('jti', new.jti, 'exp', (extract(epoch from new.expires_at) * 1000)::float8)::text
  );
  return null;
end
$fn$;

create trigger revoked_tokens_announce
  after insert on revoked_tokens
  for each row execute function revoked_tokens_announce();
