-- The low-stock mailer's state. A migration, not part of the disposable read model: what
-- was sent must survive a read-model rebuild, or a rebuild would mail every crossing again.

-- The mailer's own view of each stock item, enough to tell a crossing into low stock. An
-- event at or below `revision` is a repeat (redelivery, replay) and changes nothing.
create table mail_stock_levels (
  stream_id text primary key,
  store_id uuid not null,
  sku_id uuid not null,
  quantity bigint not null,
  low_stock_threshold integer not null,
  removed boolean not null,
  low boolean not null,
  revision bigint not null,
  position bigint not null,
  updated_at timestamptz not null default now()
);

-- One row per crossing into low stock: the event (stream, revision) that made the item low.
-- `historical`: recorded without mailing, because the event was older than the history
-- bound when the mailer first saw it (a new consumer group reading the topic from the start).
create table mail_crossings (
  stream_id text not null,
  revision bigint not null,
  store_id uuid not null,
  sku_id uuid not null,
  quantity bigint not null,
  low_stock_threshold integer not null,
  actor text,
  occurred_at timestamptz not null,
  historical boolean not null,
  created_at timestamptz not null default now(),
  primary key (stream_id, revision)
);

-- What is to be sent: who was sent each crossing, or will be. Each (crossing, recipient)
-- once; `mail_id` is null until the sender puts the row into a mail.
create table mails (
  id uuid primary key,
  -- '<id@stockroom>': the same on every attempt, so that a copy sent again after a crash
  -- can be recognized as the same message by the receiving side.
  message_id text not null unique,
  recipient_user_id uuid not null,
  recipient_email text not null,
  store_id uuid not null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  -- While status = 'sending': the sender that claimed it holds it until then; after that,
  -- another sender may take it (the first one died mid-send).
  claimed_until timestamptz,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index mails_due on mails (next_attempt_at) where status <> 'sent';

create table mail_outbox (
  stream_id text not null,
  revision bigint not null,
  recipient_user_id uuid not null,
  recipient_email text not null,
  store_id uuid not null,
  created_at timestamptz not null default now(),
  mail_id uuid references mails (id),
  primary key (stream_id, revision, recipient_user_id),
  foreign key (stream_id, revision) references mail_crossings (stream_id, revision)
);
create index mail_outbox_unsent on mail_outbox (recipient_user_id, store_id, created_at) where mail_id is null;
create index mail_outbox_mail on mail_outbox (mail_id);

-- How far the mailer has recorded each partition of the bus (the embedded default's
-- forwarder resumes from the lowest local checkpoint, this one included).
create table mail_progress (
  partition integer primary key,
  through bigint not null,
  updated_at timestamptz not null default now()
);
