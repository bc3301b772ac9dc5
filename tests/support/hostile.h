// A fixture schema with hostile identifiers (quotes, spaces, mixed case,
// non-ASCII), a pre-existing comment with quotes, and a partitioned table: every
// engine and step test should survive it.
#pragma once

#include <string>
#include <vector>

namespace dbsplit::test {

inline const char* kHostileSchema = R"SQL(
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Order ""Items""" (id int PRIMARY KEY, "Qty" int);
CREATE TABLE public.plain (id int PRIMARY KEY, note text);
COMMENT ON TABLE public.plain IS 'kept: it''s the "original" comment';
CREATE TABLE public."Tëst ünïcode" ("ключ" int PRIMARY KEY);
CREATE TABLE public.events (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
)SQL";

// The same tables as plan [[table]] names.
inline std::vector<std::string> hostileTables() {
  return {R"("Sales Dept"."Order ""Items""")", "public.plain", R"(public."Tëst ünïcode")",
          "public.events"};
}

}  // namespace dbsplit::test
