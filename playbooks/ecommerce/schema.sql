-- The shared starting database of the e-commerce playbook (seed 001): six
-- services' tables side by side in one schema, every service role allowed to
-- read and write all of them -- the seed's "wrong" picture. The owned-data
-- table of the seed decides which service will own which table
-- (playbooks/ecommerce.toml).
--
-- Deterministic data (no random()) of a realistic shape: 2,000 products,
-- 100,000 orders with 300,000 items, their payments, reservations and
-- shipments. Everything is generated with generate_series, so loading takes
-- seconds. Loaded by `dbsplit demo`; safe to load by hand into an empty
-- database:  psql -d shop -f playbooks/ecommerce/schema.sql

-- The services' login roles. On the demo sandbox local connections use trust
-- authentication; on your own server give them passwords.
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['catalog_app', 'cart_app', 'orders_app', 'payments_app',
                           'inventory_app', 'fulfillment_app'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', r);
    END IF;
  END LOOP;
END $$;

-- Catalog: Product, Category.
CREATE TABLE public.categories (
  id   integer PRIMARY KEY,
  name text NOT NULL
);

CREATE TABLE public.products (
  id          integer PRIMARY KEY,
  category_id integer NOT NULL REFERENCES public.categories (id),
  name        text NOT NULL,
  price       numeric(10, 2) NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Cart: Cart, CartItem.
CREATE TABLE public.carts (
  id          bigserial PRIMARY KEY,
  customer_id integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.cart_items (
  cart_id    bigint  NOT NULL REFERENCES public.carts (id),
  product_id integer NOT NULL,
  quantity   integer NOT NULL,
  unit_price numeric(10, 2) NOT NULL,
  PRIMARY KEY (cart_id, product_id)
);

-- Orders: Order, OrderItem (the outbox comes with step 3).
CREATE TABLE public.orders (
  id          bigserial PRIMARY KEY,
  customer_id integer NOT NULL,
  status      text NOT NULL DEFAULT 'confirmed',
  total       numeric(12, 2) NOT NULL,
  card_number text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.order_items (
  order_id   bigint  NOT NULL REFERENCES public.orders (id),
  product_id integer NOT NULL,
  quantity   integer NOT NULL,
  price      numeric(10, 2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

-- Payments: PaymentAttempt, Refund.
CREATE TABLE public.payment_attempts (
  id       bigserial PRIMARY KEY,
  order_id bigint NOT NULL,
  amount   numeric(12, 2) NOT NULL,
  status   text NOT NULL
);

CREATE TABLE public.refunds (
  id                 bigserial PRIMARY KEY,
  payment_attempt_id bigint NOT NULL REFERENCES public.payment_attempts (id),
  amount             numeric(12, 2) NOT NULL
);

-- Inventory: StockItem, Reservation.
CREATE TABLE public.stock_items (
  product_id integer PRIMARY KEY,
  on_hand    integer NOT NULL
);

CREATE TABLE public.reservations (
  id         bigserial PRIMARY KEY,
  order_id   bigint  NOT NULL,
  product_id integer NOT NULL,
  quantity   integer NOT NULL,
  status     text NOT NULL DEFAULT 'confirmed'
);

-- Fulfillment: Shipment, PackagingRule.
CREATE TABLE public.shipments (
  id          bigserial PRIMARY KEY,
  order_id    bigint NOT NULL,
  status      text NOT NULL DEFAULT 'pending',
  shipped_at  timestamptz
);

CREATE TABLE public.packaging_rules (
  category_id integer PRIMARY KEY,
  box         text NOT NULL
);

-- Note what is missing: no foreign key crosses a service boundary (order_items
-- -> products, reservations -> orders, ...). A cross-service foreign key is
-- a shared-database coupling of its own; it would have to go before step 6.

-- Everyone may read and write everything: the shared-database starting point.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
  TO catalog_app, cart_app, orders_app, payments_app, inventory_app, fulfillment_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public
  TO catalog_app, cart_app, orders_app, payments_app, inventory_app, fulfillment_app;

INSERT INTO public.categories
SELECT g, 'category ' || g FROM generate_series(1, 20) g;

INSERT INTO public.products (id, category_id, name, price, updated_at)
SELECT g, 1 + g % 20, 'product ' || g, (500 + (g * 3701) % 20000)::numeric / 100,
       timestamptz '2026-01-01 00:00:00+00'
  FROM generate_series(1, 2000) g;

INSERT INTO public.stock_items SELECT id, 100 + id % 50 FROM public.products;

INSERT INTO public.packaging_rules
SELECT id, (ARRAY['envelope', 'small box', 'large box'])[1 + id % 3] FROM public.categories;

INSERT INTO public.carts (customer_id, created_at)
SELECT 1 + (g * 4099) % 20000, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
  FROM generate_series(1, 20000) g;

INSERT INTO public.cart_items
SELECT c.id, 1 + (c.id * 17 + k * 101) % 2000, 1 + k, 10
  FROM public.carts c, generate_series(0, 1) k;

INSERT INTO public.orders (customer_id, status, total, card_number, created_at)
SELECT 1 + (g * 7919) % 20000,
       (ARRAY['confirmed', 'paid', 'shipped', 'delivered'])[1 + g % 4],
       ((g * 131) % 50000)::numeric / 100 + 1,
       '4111-0000-0000-' || lpad((g % 10000)::text, 4, '0'),
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
  FROM generate_series(1, 100000) g;

INSERT INTO public.order_items
SELECT o.id, 1 + (o.id * 13 + k * 577) % 2000, 1 + k, 10
  FROM public.orders o, generate_series(0, 2) k;

INSERT INTO public.payment_attempts (order_id, amount, status)
SELECT id, total, 'captured' FROM public.orders WHERE status <> 'confirmed';

INSERT INTO public.refunds (payment_attempt_id, amount)
SELECT id, amount FROM public.payment_attempts WHERE id % 97 = 0;

INSERT INTO public.reservations (order_id, product_id, quantity)
SELECT order_id, product_id, quantity FROM public.order_items WHERE order_id % 4 = 1;

INSERT INTO public.shipments (order_id, status, shipped_at)
SELECT id, 'dispatched', created_at + interval '1 day'
  FROM public.orders WHERE status IN ('shipped', 'delivered');

CREATE INDEX ON public.shipments (order_id);

ANALYZE;
