-- The PostgreSQL read models. Run inside one schema (search_path set by the caller):
-- `read_model` serves queries; a rebuild fills `read_model_next` and swaps it in.
-- Each row records the stream revision (and global position) it reflects: an event at or
-- below it is a repeat and changes nothing.
--
-- Every documented sort has an index whose order its keyset walks (expression, then the id
-- that ends every order), so a page reads about `limit` index entries however many rows
-- there are; `q` is served by trigram indexes (see docs/decisions.md).

-- Trigram indexes for `q` (a substring of code or name). In `public`, not in the read
-- model's schema: a rebuild drops the old schema, and the extension must outlive it.
-- Trusted since PostgreSQL 13: the database owner may create it.
create extension if not exists pg_trgm with schema public;

create table users (
  id uuid primary key,
  username text not null,
  display_name text,
  email text,
  role text not null,
  store_ids uuid[] not null default '{}',
  low_stock_emails boolean not null default true,
  deleted boolean not null default false,
  revision bigint not null,
  position bigint not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index users_username on users (lower(username), id);
create index users_role on users (role, id);
create index users_display_name on users (lower(display_name), id);

create table stores (
  id uuid primary key,
  name text not null,
  code text,
  address text,
  status text not null,
  revision bigint not null,
  position bigint not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index stores_name on stores (lower(name), id);
create index stores_code on stores (upper(code), id);
create index stores_status on stores (status, id);

create table store_assignments (
  user_id uuid not null,
  store_id uuid not null,
  primary key (user_id, store_id)
);
create index store_assignments_store on store_assignments (store_id);

create table skus (
  id uuid primary key,
  code text not null,
  name text not null,
  category text,
  unit text not null,
  -- Unconstrained NUMERIC keeps the scale the user gave ("4.50" stays "4.50") and still sorts.
  price numeric,
  low_stock_threshold integer not null,
  deleted boolean not null default false,
  revision bigint not null,
  position bigint not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index skus_code on skus (upper(code), id);
create index skus_name on skus (lower(name), id);
create index skus_category on skus (category, id);
create index skus_price on skus (price, id);
-- A category's SKUs by price ("the cheapest tea"): prices follow categories, so walking
-- skus_price and skipping other categories can pass most of the catalogue first.
create index skus_category_price on skus (category, price, id);
-- deleted=true: the few deleted SKUs, without passing every live one.
create index skus_deleted on skus (upper(code), id) where deleted;
create index skus_low_stock_threshold on skus (low_stock_threshold, id);
-- `q` is `lower(column) like '%needle%'` (read/list.ts textSearch), which these answer.
create index skus_code_trgm on skus using gin (lower(code) public.gin_trgm_ops);
create index skus_name_trgm on skus using gin (lower(name) public.gin_trgm_ops);

-- One row per SKU in a store (a stock item stream).
create table stock (
  store_id uuid not null,
  sku_id uuid not null,
  quantity bigint not null,
  low_stock_threshold integer not null,
  removed boolean not null default false,
  revision bigint not null,
  position bigint not null,
  updated_at timestamptz not null,
  primary key (store_id, sku_id)
);
create index stock_sku on stock (sku_id);
create index stock_store_quantity on stock (store_id, quantity, sku_id);
create index stock_low on stock (store_id, sku_id) where not removed and quantity <= low_stock_threshold;
create index stock_store_threshold on stock (store_id, low_stock_threshold, sku_id);
-- A staff member of one store sorting /api/inventory by lowStockStoreCount (read/inventory.ts
-- staffInventory): their store's items, low ones apart, in id order.
create index stock_store_low_flag on stock (store_id, ((quantity <= low_stock_threshold)::integer), sku_id) where not removed;
-- The dashboard's `lowest`: items by margin to their threshold, read from the front.
create index stock_margin on stock ((quantity - low_stock_threshold), quantity, store_id, sku_id) where not removed;

-- Every level of every stock item, one row per event: the stock as of any position is the
-- last row at or before it, one probe of this key per item (GET ...?asOf=).
create table stock_ledger (
  store_id uuid not null,
  sku_id uuid not null,
  position bigint not null,
  revision bigint not null,
  quantity bigint not null,
  low_stock_threshold integer not null,
  removed boolean not null,
  primary key (store_id, sku_id, position)
);

-- The overall stock of a SKU, summed over the stores that hold it.
create table stock_summary (
  sku_id uuid primary key,
  total_quantity bigint not null,
  store_count integer not null,
  low_stock_store_count integer not null,
  position bigint not null,
  updated_at timestamptz not null
);
create index stock_summary_quantity on stock_summary (total_quantity, sku_id);
create index stock_summary_store_count on stock_summary (store_count, sku_id);
create index stock_summary_low_count on stock_summary (low_stock_store_count, sku_id);

-- Streams the projector stopped on: an event of theirs it cannot read. Their later events
-- wait (read again from the event store on a retry); every other stream moves on.
-- `npm run projections:stuck` lists them and retries them after a fix.
create table stuck_streams (
  stream_id text primary key,
  event_id uuid not null,
  position bigint not null,
  type text not null,
  reason text not null,
  stuck_at timestamptz not null default now(),
  attempts integer not null default 1
);

-- How far this read model has applied each partition of the bus.
create table progress (
  partition integer primary key,
  through bigint not null,
  updated_at timestamptz not null default now()
);

-- The dashboards (GET /api/reports/inventory). Movements are counters kept from the events
-- the projector applied (each counted once, see AppliedEventsProjection); store totals are
-- recomputed from `stock` and `skus` for the stores a batch touched.

-- Units in and out per UTC day and reason (received, sold, damaged, returned, correction,
-- count, added, removed). Small (days x reasons), kept for ever.
create table movements_daily (
  day date not null,
  reason text not null,
  units_in bigint not null,
  units_out bigint not null,
  primary key (day, reason)
);

-- Units in and out per SKU (all stores) and UTC hour, for the top movers of the last 24 hours
-- and 7 days; hours older than 8 days are pruned by the projector.
create table sku_movements_hourly (
  sku_id uuid not null,
  hour timestamptz not null,
  units_in bigint not null,
  units_out bigint not null,
  primary key (sku_id, hour)
);
create index sku_movements_hourly_hour on sku_movements_hourly (hour);

-- Each SKU's units in and out over the top movers' two windows (the current hour and the 23,
-- or 167, before it), as of `movement_window_clock.hour`: the hourly rows added as they come,
-- and subtracted when the clock passes the end of a window. The dashboard reads its top 10
-- from the front of an index instead of summing every SKU that moved (while the clock is the
-- current hour; otherwise it sums the hourly rows as before).
create table sku_movement_windows (
  sku_id uuid primary key,
  units_in_24h bigint not null,
  units_out_24h bigint not null,
  units_in_7d bigint not null,
  units_out_7d bigint not null
);
create index sku_movement_windows_24h on sku_movement_windows (units_out_24h desc, units_in_24h desc, sku_id)
  where units_out_24h > 0 or units_in_24h > 0;
create index sku_movement_windows_7d on sku_movement_windows (units_out_7d desc, units_in_7d desc, sku_id)
  where units_out_7d > 0 or units_in_7d > 0;

-- The UTC hour the windows end at. Every batch that moves units locks it first.
create table movement_window_clock (
  singleton boolean primary key default true check (singleton),
  hour timestamptz not null
);

-- One row per store that holds or held stock: its items not removed and their value at the
-- SKUs' current prices (a SKU without a price counts 0).
create table store_totals (
  store_id uuid primary key,
  items integer not null,
  units bigint not null,
  stock_value numeric not null,
  low_stock_items integer not null,
  out_of_stock_items integer not null,
  updated_at timestamptz not null
);

-- How many SKUs are live (the dashboard's `skus`): one row, added to by the events applied
-- (SkuCreated +1, SkuDeleted -1), so a report does not count every SKU row.
create table catalog_totals (
  singleton boolean primary key default true check (singleton),
  live_skus bigint not null
);

-- The sha256 of the schema.sql this read model was created from: a process with the
-- projector role rebuilds a read model of another fingerprint before it projects.
create table schema_fingerprint (
  fingerprint text not null
);
