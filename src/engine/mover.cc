#include "engine/mover.h"

#include <map>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::engine {
namespace {

std::map<std::string, MoverFn>& movers() {
  static std::map<std::string, MoverFn> m;
  return m;
}

std::map<std::string, MoverFn>& undos() {
  static std::map<std::string, MoverFn> m;
  return m;
}

}  // namespace

void registerMover(const std::string& name, MoverFn fn, MoverFn undo) {
  movers()[name] = std::move(fn);
  if (undo) {
    undos()[name] = std::move(undo);
  } else {
    undos().erase(name);
  }
}

const MoverFn* findUndo(const std::string& name) {
  auto it = undos().find(name);
  return it == undos().end() ? nullptr : &it->second;
}

const MoverFn& findMover(const std::string& name) {
  auto it = movers().find(name);
  if (it == movers().end()) {
    throw Error::stepFailed("unknown_mover",
                            fmt::format("no data mover named {} in this dbsplit build", name),
                            "the journal was written by another dbsplit version; resume it "
                            "with that version");
  }
  return it->second;
}

}  // namespace dbsplit::engine
