// The services' statements are fixed SQL with bind parameters; table names
// are unqualified for a service's own tables (so that step 6's search_path
// change is what finds them after a schema split) and schema-qualified for
// projections. To keep the Ledger exact, every row has one writer thread: the
// only row two services write is a loaded order's status, and both only ever
// set it to 'shipped'.
#include "demo/workload.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "fmt/format.h"
#include "pg/session.h"
#include "pg/transaction.h"
#include "util/error.h"

namespace dbsplit::demo {

namespace {
constexpr std::int64_t kLoadedOrders = 100000;  // playbooks/ecommerce/schema.sql
constexpr std::int64_t kProducts = 2000;
constexpr std::int64_t kLoadedCarts = 20000;
constexpr std::int64_t kLoadedUsers = 50000;  // playbooks/users/schema.sql
}  // namespace

// One transaction of one service: reads (direct or from the projection) and
// writes whose RETURNING rows become Ledger entries once it commits.
struct Tx {
  pg::Session& home;
  pg::Session& local;
  bool projected;
  bool foreign_writes;  // the waived write-back is still on
  ServiceStats& stats;
  std::vector<Write> writes;

  // A cross-service read: the other service's table before the cutover, the
  // service's own projection after it.
  template <typename... Args>
  pg::Result crossRead(const std::string& direct_sql, const std::string& projection_sql,
                       Args&&... args) {
    if (projected) {
      ++stats.projection_reads;
      return local.execParams(projection_sql, std::forward<Args>(args)...);
    }
    ++stats.direct_reads;
    return home.execParams(direct_sql, std::forward<Args>(args)...);
  }

  template <typename... Args>
  pg::Result read(const std::string& sql, Args&&... args) {
    return home.execParams(sql, std::forward<Args>(args)...);
  }

  // Runs a write whose RETURNING list is the key columns (`key_columns` of
  // them, as text) followed by the written columns (as text).
  template <typename... Args>
  pg::Result write(const std::string& table, size_t key_columns, bool deletes,
                   const std::string& sql, Args&&... args) {
    pg::Result r = home.execParams(sql, std::forward<Args>(args)...);
    for (const auto& row : r) {
      Write w;
      w.table = table;
      w.deleted = deletes;
      w.key = nlohmann::json::object();
      w.values = nlohmann::json::object();
      for (size_t i = 0; i < row.size(); ++i) {
        nlohmann::json v = row[i].is_null() ? nlohmann::json() : nlohmann::json(row[i].c_str());
        (static_cast<size_t>(i) < key_columns ? w.key : w.values)[r.column_name(i)] = v;
      }
      writes.push_back(std::move(w));
    }
    return r;
  }
};

using TickFn = std::function<void(Tx&, std::mt19937_64&)>;

namespace {

std::int64_t pick(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

std::string price(std::mt19937_64& rng) {
  std::int64_t cents = pick(rng, 500, 20499);
  return fmt::format("{}.{:02d}", cents / 100, cents % 100);
}

// --- e-commerce (seed 001) -------------------------------------------------

void catalogTick(Tx& tx, std::mt19937_64& rng) {
  tx.write("products", 1, false,
           "UPDATE products SET price = $2::numeric, updated_at = now()\n"
           " WHERE id = $1\n"
           " RETURNING id::text AS id, price::text AS price",
           pick(rng, 1, kProducts), price(rng));
}

void cartTick(Tx& tx, std::mt19937_64& rng) {
  std::int64_t product = pick(rng, 1, kProducts);
  auto p = tx.crossRead("SELECT price::text FROM products WHERE id = $1",
                        "SELECT price::text FROM cart.product_view WHERE id = $1", product);
  if (p.empty()) return;
  auto cart = tx.write("carts", 1, false,
                       "INSERT INTO carts (customer_id) VALUES ($1)\n"
                       " RETURNING id::text AS id, customer_id::text AS customer_id",
                       pick(rng, 1, 20000));
  tx.write("cart_items", 2, false,
           "INSERT INTO cart_items (cart_id, product_id, quantity, unit_price)\n"
           " VALUES ($1::bigint, $2, $3, $4::numeric)\n"
           " RETURNING cart_id::text AS cart_id, product_id::text AS product_id,\n"
           "           quantity::text AS quantity, unit_price::text AS unit_price",
           cart[0][0].c_str(), product, pick(rng, 1, 5), p[0][0].c_str());
  if (pick(rng, 0, 4) == 0) {  // an abandoned cart is emptied
    tx.write("cart_items", 2, true,
             "DELETE FROM cart_items WHERE cart_id = $1\n"
             " RETURNING cart_id::text AS cart_id, product_id::text AS product_id",
             pick(rng, 1, kLoadedCarts));
  }
}

void ordersTick(Tx& tx, std::mt19937_64& rng) {
  if (pick(rng, 0, 1) == 0) {
    // Mark a loaded order shipped once Fulfillment dispatched it.
    std::int64_t order = pick(rng, 1, kLoadedOrders);
    auto s = tx.crossRead(
        "SELECT status FROM shipments WHERE order_id = $1 AND status = 'dispatched' LIMIT 1",
        "SELECT status FROM orders.shipment_view\n"
        " WHERE order_id = $1 AND status = 'dispatched' LIMIT 1",
        order);
    if (s.empty()) return;
    tx.write("orders", 1, false,
             "UPDATE orders SET status = 'shipped'\n"
             " WHERE id = $1 AND status IN ('confirmed', 'paid')\n"
             " RETURNING id::text AS id, status",
             order);
    return;
  }
  // A new order of two products, priced from the catalog.
  std::int64_t a = pick(rng, 1, kProducts);
  std::int64_t b = a % kProducts + 1;
  auto p = tx.crossRead("SELECT id, price::text FROM products WHERE id IN ($1, $2) ORDER BY id",
                        "SELECT id, price::text FROM orders.product_view\n"
                        " WHERE id IN ($1, $2) ORDER BY id",
                        a, b);
  if (p.size() != 2) return;
  auto order = tx.write("orders", 1, false,
                        "INSERT INTO orders (customer_id, total, card_number)\n"
                        " VALUES ($1, $2::numeric + $3::numeric, '4111-0000-0000-0000')\n"
                        " RETURNING id::text AS id, customer_id::text AS customer_id,\n"
                        "           status, total::text AS total",
                        pick(rng, 1, 20000), p[0][1].c_str(), p[1][1].c_str());
  for (const auto& row : p) {
    tx.write("order_items", 2, false,
             "INSERT INTO order_items (order_id, product_id, quantity, price)\n"
             " VALUES ($1::bigint, $2::integer, 1, $3::numeric)\n"
             " RETURNING order_id::text AS order_id, product_id::text AS product_id,\n"
             "           quantity::text AS quantity, price::text AS price",
             order[0][0].c_str(), row[0].c_str(), row[1].c_str());
  }
}

void paymentsTick(Tx& tx, std::mt19937_64& rng) {
  std::int64_t order = pick(rng, 1, kLoadedOrders);
  auto o = tx.crossRead("SELECT total::text FROM orders WHERE id = $1",
                        "SELECT total::text FROM payments.order_view WHERE id = $1", order);
  if (o.empty()) return;
  tx.write("payment_attempts", 1, false,
           "INSERT INTO payment_attempts (order_id, amount, status)\n"
           " VALUES ($1, $2::numeric, 'captured')\n"
           " RETURNING id::text AS id, order_id::text AS order_id,\n"
           "           amount::text AS amount, status",
           order, o[0][0].c_str());
}

void inventoryTick(Tx& tx, std::mt19937_64& rng) {
  std::int64_t order = pick(rng, 1, kLoadedOrders);
  auto items = tx.crossRead(
      "SELECT product_id, quantity FROM order_items WHERE order_id = $1 ORDER BY product_id",
      "SELECT product_id, quantity FROM inventory.order_item_view\n"
      " WHERE order_id = $1 ORDER BY product_id",
      order);
  for (const auto& item : items) {
    tx.write("reservations", 1, false,
             "INSERT INTO reservations (order_id, product_id, quantity)\n"
             " VALUES ($1, $2::integer, $3::integer)\n"
             " RETURNING id::text AS id, order_id::text AS order_id,\n"
             "           product_id::text AS product_id, quantity::text AS quantity, status",
             order, item[0].c_str(), item[1].c_str());
    tx.write("stock_items", 1, false,
             "UPDATE stock_items SET on_hand = on_hand - $2::integer\n"
             " WHERE product_id = $1::integer\n"
             " RETURNING product_id::text AS product_id, on_hand::text AS on_hand",
             item[0].c_str(), item[1].c_str());
  }
}

void fulfillmentTick(Tx& tx, std::mt19937_64& rng) {
  std::int64_t order = pick(rng, 1, kLoadedOrders);
  auto o =
      tx.crossRead("SELECT customer_id, status FROM orders WHERE id = $1",
                   "SELECT customer_id, status FROM fulfillment.order_view WHERE id = $1", order);
  if (o.empty() || std::string(o[0][1].c_str()) == "shipped") return;
  auto items =
      tx.crossRead("SELECT count(*) FROM order_items WHERE order_id = $1",
                   "SELECT count(*) FROM fulfillment.order_item_view WHERE order_id = $1", order);
  if (items.empty() || std::string(items[0][0].c_str()) == "0") return;
  tx.write("shipments", 1, false,
           "INSERT INTO shipments (order_id, status, shipped_at)\n"
           " VALUES ($1, 'dispatched', now())\n"
           " RETURNING id::text AS id, order_id::text AS order_id, status",
           order);
  if (tx.foreign_writes) {
    // The waived write-back: gone once Orders marks its orders itself.
    tx.write("orders", 1, false,
             "UPDATE orders SET status = 'shipped'\n"
             " WHERE id = $1 AND status IN ('confirmed', 'paid')\n"
             " RETURNING id::text AS id, status",
             order);
  }
}

// --- users (seed 002) -------------------------------------------------------

void authTick(Tx& tx, std::mt19937_64& rng) {
  if (pick(rng, 0, 2) == 0) {
    std::int64_t user = pick(rng, 1, kLoadedUsers);
    tx.write("users", 1, false,
             "UPDATE users SET email = 'user' || id || '.' || $2 || '@example.org'\n"
             " WHERE id = $1\n"
             " RETURNING id::text AS id, email",
             user, pick(rng, 1, 1000000));
    return;
  }
  // No sequence by name: a session opened before the split would not find it
  // under its old name (docs/steps/split.md); the id default needs none.
  tx.write("users", 1, false,
           "INSERT INTO users (email, password_hash)\n"
           " VALUES ('new' || $1 || '.' || gen_random_uuid() || '@example.com',\n"
           "         md5($1::text))\n"
           " RETURNING id::text AS id, email",
           pick(rng, 1, 1000000));
}

// The users playbook's consumers: read a user's email (from auth's table, or
// from the consumer's own projection of it once switched) and keep a copy in
// `table`.`column`, keyed by user_id.
void copyUserEmail(Tx& tx, std::mt19937_64& rng, const std::string& consumer,
                   const std::string& table, const std::string& column) {
  std::int64_t user = pick(rng, 1, kLoadedUsers);
  auto u = tx.crossRead("SELECT email FROM users WHERE id = $1",
                        "SELECT email FROM " + consumer + ".user_view WHERE id = $1", user);
  if (u.empty()) return;
  tx.write(table, 1, false,
           fmt::format("INSERT INTO {0} (user_id, {1}) VALUES ($1, $2)\n"
                       " ON CONFLICT (user_id) DO UPDATE SET {1} = EXCLUDED.{1}\n"
                       " RETURNING user_id::text AS user_id, {1}",
                       table, column),
           user, std::string(u[0][0].c_str()));
}

void profileTick(Tx& tx, std::mt19937_64& rng) {
  copyUserEmail(tx, rng, "profile", "profiles", "display_name");
}

void billingTick(Tx& tx, std::mt19937_64& rng) {
  copyUserEmail(tx, rng, "billing", "billing_contacts", "billing_email");
}

struct ServiceDef {
  const char* name;
  const char* role;
  TickFn tick;
};

std::vector<ServiceDef> definitions(const std::string& playbook) {
  if (playbook == "ecommerce") {
    return {{"catalog", "catalog_app", catalogTick},
            {"cart", "cart_app", cartTick},
            {"orders", "orders_app", ordersTick},
            {"payments", "payments_app", paymentsTick},
            {"inventory", "inventory_app", inventoryTick},
            {"fulfillment", "fulfillment_app", fulfillmentTick}};
  }
  if (playbook == "users") {
    return {{"auth", "auth_app", authTick},
            {"profile", "profile_app", profileTick},
            {"billing", "billing_app", billingTick}};
  }
  return {};
}

}  // namespace

class Service {
 public:
  Service(const ServiceDef& def, ServiceDsn dsn, int index)
      : name_(def.name), tick_(def.tick), dsn_(std::move(dsn)), rng_(0x5eed + index) {
    stats_.name = name_;
  }

  // One transaction; false when it failed (counted in the stats).
  bool runOnce(bool projected, bool foreign_writes, Ledger& ledger) {
    const auto started = std::chrono::steady_clock::now();
    try {
      connect();
      ServiceStats delta;
      pg::Transaction block(*home_);
      Tx tx{*home_, *local_, projected, foreign_writes, delta, {}};
      tick_(tx, rng_);
      block.commit();
      ledger.record(tx.writes);
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.transactions;
      stats_.direct_reads += delta.direct_reads;
      stats_.projection_reads += delta.projection_reads;
      last_writes_ = std::move(tx.writes);
      ++window_.transactions;
      window_.longest_ms = std::max(window_.longest_ms, msSince(started));
      return true;
    } catch (const std::exception& e) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.errors;
        stats_.last_error = e.what();
        ++window_.errors;
        window_.longest_ms = std::max(window_.longest_ms, msSince(started));
      }
      // The pool's way: drop the connections, start over next time.
      home_.reset();
      local_.reset();
      return false;
    }
  }

  void setDsn(const ServiceDsn& dsn) {
    std::lock_guard<std::mutex> lock(mu_);
    dsn_ = dsn;
    reconnect_ = true;
  }

  ServiceStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  WindowStats window() const {
    std::lock_guard<std::mutex> lock(mu_);
    return window_;
  }
  void beginWindow() {
    std::lock_guard<std::mutex> lock(mu_);
    window_ = {};
  }
  void recycle() {
    std::lock_guard<std::mutex> lock(mu_);
    reconnect_ = true;
  }
  std::vector<Write> lastWrites() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_writes_;
  }
  const std::string& name() const { return name_; }
  std::atomic<bool> idle{false};

 private:
  void connect() {
    ServiceDsn dsn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (reconnect_) {
        home_.reset();
        local_.reset();
        reconnect_ = false;
      }
      dsn = dsn_;
    }
    if (!home_) {
      home_ = pg::Session::connect({dsn.home, "demo/" + name_, false, 10, true});
      local_.reset();
      countConnect();
    }
    if (!local_) {
      local_ = pg::Session::connect({dsn.local, "demo/" + name_, false, 10, true});
      countConnect();
    }
  }

  void countConnect() {
    std::lock_guard<std::mutex> lock(mu_);
    ++window_.connects;
  }

  std::string name_;
  TickFn tick_;
  mutable std::mutex mu_;
  ServiceDsn dsn_;
  bool reconnect_ = false;
  std::mt19937_64 rng_;
  std::unique_ptr<pg::Session> home_, local_;
  ServiceStats stats_;
  WindowStats window_;
  std::vector<Write> last_writes_;

  static std::int64_t msSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t)
        .count();
  }
};

std::vector<std::pair<std::string, std::string>> Workload::services(const std::string& playbook) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& d : definitions(playbook)) out.emplace_back(d.name, d.role);
  return out;
}

Workload::Workload(const std::string& playbook, std::map<std::string, ServiceDsn> dsns, double rate)
    : playbook_(playbook), rate_(rate) {
  int i = 0;
  for (const auto& d : definitions(playbook)) {
    services_.push_back(std::make_unique<Service>(d, dsns.at(d.name), i++));
  }
}

Workload::~Workload() { stop(); }

void Workload::start() {
  stop_ = false;
  const auto period = std::chrono::microseconds(
      static_cast<std::int64_t>(1e6 * static_cast<double>(services_.size()) / rate_));
  for (auto& s : services_) {
    Service* svc = s.get();
    threads_.emplace_back([this, svc, period] {
      auto next = std::chrono::steady_clock::now();
      while (!stop_) {
        if (paused_) {
          svc->idle = true;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        svc->idle = false;
        if (!svc->runOnce(projected_, foreign_writes_, ledger_)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        next += period;
        auto now = std::chrono::steady_clock::now();
        if (next > now) {
          std::this_thread::sleep_until(next);
        } else {
          next = now;
        }
      }
      svc->idle = true;
    });
  }
}

void Workload::switchToProjections() { projected_ = true; }

void Workload::pause() {
  paused_ = true;
  for (auto& s : services_) {
    while (!s->idle && !threads_.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

void Workload::resume(const std::map<std::string, ServiceDsn>& dsns) {
  for (auto& s : services_) {
    auto it = dsns.find(s->name());
    if (it != dsns.end()) s->setDsn(it->second);
  }
  paused_ = false;
}

void Workload::recyclePool() {
  for (auto& s : services_) s->recycle();
}

void Workload::beginWindow() {
  for (auto& s : services_) s->beginWindow();
}

WindowStats Workload::window() const {
  WindowStats total;
  for (const auto& s : services_) {
    WindowStats w = s->window();
    total.transactions += w.transactions;
    total.errors += w.errors;
    total.longest_ms = std::max(total.longest_ms, w.longest_ms);
    total.connects += w.connects;
  }
  return total;
}

void Workload::stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

std::vector<Write> Workload::writeOnce(const std::string& service) {
  for (auto& s : services_) {
    if (s->name() != service) continue;
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (s->runOnce(projected_, foreign_writes_, ledger_) && !s->lastWrites().empty()) {
        return s->lastWrites();
      }
    }
  }
  return {};
}

std::vector<ServiceStats> Workload::stats() const {
  std::vector<ServiceStats> out;
  for (const auto& s : services_) out.push_back(s->stats());
  return out;
}

}  // namespace dbsplit::demo
