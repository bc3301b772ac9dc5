// A transaction block on a pg::Session, as an RAII guard: BEGIN when built,
// COMMIT on commit(), ROLLBACK when it goes out of scope uncommitted (an
// exception, an early return). Statements run through the session as usual
// while the guard lives; it replaces hand-written "BEGIN"/"COMMIT" strings.
//
// Thread-safety: like its Session, one thread.
#pragma once

#include <string>

#include "pg/session.h"

namespace dbsplit::pg {

struct TransactionOptions {
  enum class Isolation { kDefault, kRepeatableRead, kSerializable };
  Isolation isolation = Isolation::kDefault;
  bool read_only = false;
  // A snapshot another transaction exported (pg_export_snapshot()) to see the
  // database as it did; needs kRepeatableRead or kSerializable.
  std::string snapshot;
};

class Transaction {
 public:
  explicit Transaction(Session& session, const TransactionOptions& options = {});
  // Rolls back unless committed; never throws (a broken connection has
  // already ended the transaction on the server).
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();
  void rollback();

  // pg_export_snapshot() of this transaction: valid until it ends.
  std::string exportSnapshot();

 private:
  Session& session_;
  bool open_ = true;
};

}  // namespace dbsplit::pg
