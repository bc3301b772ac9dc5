// Compatibility views of the split step's schema mode. A session's search_path
// is fixed when it connects, so a pooled connection opened before the split
// would lose every table that moves. Each move therefore leaves, in the same
// transaction, an auto-updatable view under the table's old name, owned by the
// table's owner (nobody else gains a privilege). Sessions opened after the
// owner roles' new search_path resolve the name to the table itself.
// `dbsplit split finalize` drops the views once no session of an owner role is
// older than that search_path; `status` counts those sessions.
#pragma once

#include <string>
#include <vector>

#include "engine/action.h"
#include "journal/journal.h"
#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::steps::split {

// The comment that marks a view as dbsplit's (with its owner and its single
// table of the same name in a service's schema, see readCompatViews).
extern const char* const kCompatComment;

struct CompatView {
  plan::QualifiedName view;   // where the table was
  plan::QualifiedName table;  // where it is now
  std::string owner;          // the table's owner, and the view's
  // Not a superuser, and the owner may not create in the view's schema: CREATE
  // is granted to it around the view's creation (acl::withSchemaCreate).
  bool grant_create = false;
};

// SQL of the move that leaves the view, and of its exact inverse (which also
// works after finalize dropped the view).
std::string moveWithViewSql(const CompatView& v);
std::string moveBackSql(const CompatView& v);

// The compatibility views present for the services of `plan` (any schema).
std::vector<CompatView> readCompatViews(pg::Session& catalog, const plan::Plan& plan);

// Sessions of one owner login role that started before its new search_path.
struct OldSessions {
  std::string role;
  std::string service;
  std::int64_t count = 0;
  std::string oldest;  // backend_start of the oldest, "" when none or hidden
};

// Per owner login role whose search_path step split changed (journal: the
// applied `split/search_path/<role>` action): its sessions older than that
// change, dbsplit's own excluded. A session whose start is hidden from the
// connected role (no pg_read_all_stats) counts as old. Roles without such a
// session are left out.
std::vector<OldSessions> readOldSessions(pg::Session& catalog, const plan::Plan& plan,
                                         const journal::Journal& journal);

// finalize's actions: drop each view (inverse: create it again).
std::vector<engine::Action> retireActions(const std::vector<CompatView>& views);

}  // namespace dbsplit::steps::split
