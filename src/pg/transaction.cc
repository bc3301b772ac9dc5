#include "pg/transaction.h"

#include "sql/quote.h"

namespace dbsplit::pg {

Transaction::Transaction(Session& session, const TransactionOptions& options) : session_(session) {
  std::string begin = "BEGIN";
  switch (options.isolation) {
    case TransactionOptions::Isolation::kDefault:
      break;
    case TransactionOptions::Isolation::kRepeatableRead:
      begin += " ISOLATION LEVEL REPEATABLE READ";
      break;
    case TransactionOptions::Isolation::kSerializable:
      begin += " ISOLATION LEVEL SERIALIZABLE";
      break;
  }
  if (options.read_only) begin += " READ ONLY";
  session_.exec(begin);
  if (!options.snapshot.empty()) {
    try {
      session_.exec("SET TRANSACTION SNAPSHOT " + sql::quoteLiteral(options.snapshot));
    } catch (...) {
      rollback();
      throw;
    }
  }
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    rollback();
  } catch (...) {
  }
}

void Transaction::commit() {
  open_ = false;
  session_.exec("COMMIT");
}

void Transaction::rollback() {
  open_ = false;
  if (session_.isOpen()) session_.exec("ROLLBACK");
}

std::string Transaction::exportSnapshot() {
  return session_.exec("SELECT pg_export_snapshot()")[0][0].as<std::string>();
}

}  // namespace dbsplit::pg
