-- The shared starting database of the e-commerce playbook (seed 001): one
-- schema, six services' tables side by side, and the cross-service reads and
-- writes of the seed's "wrong" picture. Deterministic data (no random()).
-- Loaded by `dbsplit demo`; safe to load into an empty database by hand.

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

CREATE TABLE public.categories (
  id   integer PRIMARY KEY,
  name text NOT NULL
);

CREATE TABLE public.products (
  id          integer PRIMARY KEY,
  category_id integer NOT NULL REFERENCES public.categories (id),
  name        text NOT NULL,
  price       numeric(10, 2) NOT NULL
);

CREATE TABLE public.carts (
  id          bigserial PRIMARY KEY,
  customer_id integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.cart_items (
  cart_id    bigint  NOT NULL REFERENCES public.carts (id),
  product_id integer NOT NULL REFERENCES public.products (id),
  quantity   integer NOT NULL,
  PRIMARY KEY (cart_id, product_id)
);

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
  product_id integer NOT NULL REFERENCES public.products (id),
  quantity   integer NOT NULL,
  price      numeric(10, 2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

CREATE TABLE public.payment_attempts (
  id       bigserial PRIMARY KEY,
  order_id bigint NOT NULL,
  amount   numeric(12, 2) NOT NULL,
  status   text NOT NULL
);

CREATE TABLE public.stock_items (
  product_id integer PRIMARY KEY REFERENCES public.products (id),
  on_hand    integer NOT NULL
);

CREATE TABLE public.reservations (
  id         bigserial PRIMARY KEY,
  order_id   bigint  NOT NULL,
  product_id integer NOT NULL,
  quantity   integer NOT NULL
);

CREATE TABLE public.shipments (
  id          bigserial PRIMARY KEY,
  order_id    bigint NOT NULL,
  status      text NOT NULL DEFAULT 'pending',
  shipped_at  timestamptz
);

-- Everyone may read and write everything: the shared-database starting point.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
  TO catalog_app, cart_app, orders_app, payments_app, inventory_app, fulfillment_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public
  TO catalog_app, cart_app, orders_app, payments_app, inventory_app, fulfillment_app;

INSERT INTO public.categories
SELECT g, 'category ' || g FROM generate_series(1, 20) g;

INSERT INTO public.products
SELECT g, 1 + g % 20, 'product ' || g, (5 + (g * 37) % 200)::numeric / 1.0
  FROM generate_series(1, 2000) g;

INSERT INTO public.stock_items SELECT id, 100 + id % 50 FROM public.products;

INSERT INTO public.orders (customer_id, status, total, card_number, created_at)
SELECT 1 + (g * 7919) % 5000,
       (ARRAY['confirmed', 'paid', 'shipped', 'delivered'])[1 + g % 4],
       ((g * 131) % 50000)::numeric / 100 + 1,
       '4111-0000-0000-' || lpad((g % 10000)::text, 4, '0'),
       timestamptz '2026-01-01 00:00:00+00' + g * interval '5 minutes'
  FROM generate_series(1, 20000) g;

INSERT INTO public.order_items
SELECT o.id, 1 + (o.id * 13 + k) % 2000, 1 + k, 10
  FROM public.orders o, generate_series(0, 2) k;

INSERT INTO public.payment_attempts (order_id, amount, status)
SELECT id, total, 'captured' FROM public.orders WHERE status <> 'confirmed';

INSERT INTO public.shipments (order_id, status, shipped_at)
SELECT id, 'dispatched', created_at + interval '1 day'
  FROM public.orders WHERE status IN ('shipped', 'delivered');

ANALYZE;
