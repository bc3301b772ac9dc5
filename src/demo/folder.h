// The demo's working folder and the files it writes there. The folder holds
// the plan (with the server's DSN), the on_cutover hook root may run and the
// sandbox: another local user who could write in it, or swap it for a
// symbolic link, could make root write through a link or run a planted hook.
// So the folder is private (made by mkdtemp, or checked) and every file the
// demo writes in it is opened with O_NOFOLLOW.
#pragma once

#include <string>

namespace dbsplit::demo {

// The folder to work in, absolute. `requested` empty: a new folder made by
// mkdtemp under $TMPDIR (/tmp when unset). Else `requested` itself, made
// when missing; an existing one must be a directory (not a symbolic link)
// that belongs to the caller and that no one else may write, or
// Error(kPrecondition, "demo_dir_untrusted") and nothing is touched.
// As root the folder gets o+x (never o+w): the sandbox's server runs as
// `postgres`, which must reach its folder inside.
std::string privateFolder(const std::string& requested);

// Writes `text` to `path` (created with `mode`, truncated when it exists),
// never through a symbolic link (O_NOFOLLOW). Throws Error on failure.
void writeFileNoFollow(const std::string& path, const std::string& text, unsigned mode = 0600);

}  // namespace dbsplit::demo
