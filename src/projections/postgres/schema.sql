-- The PostgreSQL read models. Run inside one schema (search_path set by the caller):
-- `read_model` serves queries; a rebuild fills `read_model_next` and swaps it in.
-- Each row records the stream revision (and global position) it reflects: an event at or
-- below it is a repeat and changes nothing.

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

-- How far this read model has applied each partition of the bus.
create table progress (
  partition integer primary key,
  through bigint not null,
  updated_at timestamptz not null default now()
);
