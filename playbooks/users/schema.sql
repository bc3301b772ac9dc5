-- The shared starting database of the users playbook (seed 002): auth,
-- profile and billing in one database, profile and billing reading auth's
-- `users` table directly. 50,000 users, deterministic (no random()).
--   psql -d accounts -f playbooks/users/schema.sql

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['auth_app', 'profile_app', 'billing_app'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', r);
    END IF;
  END LOOP;
END $$;

-- Auth: the user's identity and credentials.
CREATE TABLE public.users (
  id            bigserial PRIMARY KEY,
  email         text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Profile: what other people see.
CREATE TABLE public.profiles (
  user_id      bigint PRIMARY KEY,
  display_name text NOT NULL,
  avatar_url   text
);

-- Billing: who gets the invoice.
CREATE TABLE public.billing_contacts (
  user_id         bigint PRIMARY KEY,
  billing_email   text NOT NULL,
  billing_address text
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
  TO auth_app, profile_app, billing_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO auth_app, profile_app, billing_app;

INSERT INTO public.users (email, password_hash, created_at)
SELECT 'user' || g || '@example.com', md5('password' || g),
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
  FROM generate_series(1, 50000) g;

INSERT INTO public.profiles
SELECT id, 'User ' || id, 'https://avatars.example.com/' || id || '.png'
  FROM public.users;

INSERT INTO public.billing_contacts
SELECT id, email, id || ' Main Street' FROM public.users WHERE id % 3 <> 0;

ANALYZE;
