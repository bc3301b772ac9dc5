// The other two readers: SQL files and pg_stat_statements.
#pragma once

#include <string>

#include "catalogue/sink.h"
#include "plan/plan.h"

namespace dbsplit::pg {
class Session;
}

namespace dbsplit::catalogue {

// A .sql file, or every *.sql below a folder (sorted, recursive). Statements are
// attributed to `service` when given, else to the service named by the file's
// first-level subfolder, else to the folder itself when it is named after one.
void readSqlFiles(const std::string& path, const std::string& service, const plan::Plan* plan,
                  Sink& sink);

// pg_stat_statements rows of the session's database (top-level statements only
// where the view says). Throws Error(kPrecondition, "pg_stat_statements_missing").
void readPgStatStatements(pg::Session& session, Sink& sink);
// The view's quoted name; throws as above when the extension is missing.
std::string pgStatStatementsView(pg::Session& session);

}  // namespace dbsplit::catalogue
