// Driver for bench/catalogue.sh.
//   catalogue_bench baseline LOG   reads LOG with the catalogue's own log reader
//                                  and calls pg_query_parse on every statement
//                                  (the naive way); prints statements, seconds, peak RSS
//   catalogue_bench measure CMD... runs CMD; prints its seconds and peak RSS
// Both print "statements=N seconds=S rss_kb=K" on one line.
#include <pg_query.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "catalogue/log_reader.h"

namespace {

using Clock = std::chrono::steady_clock;

class ParseEverything : public dbsplit::catalogue::Sink {
 public:
  void statement(const dbsplit::catalogue::Observation& obs) override {
    PgQueryParseResult r = pg_query_parse(obs.text.c_str());
    if (r.error) ++errors;
    pg_query_free_parse_result(r);
    ++count;
  }
  void skipped(const std::string&, const std::string&) override {}
  long count = 0;
  long errors = 0;
};

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "baseline") == 0) {
    ParseEverything sink;
    auto start = Clock::now();
    dbsplit::catalogue::readLog(argv[2], "", sink);
    double secs = since(start);
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("statements=%ld seconds=%.3f rss_kb=%ld errors=%ld\n", sink.count, secs,
                ru.ru_maxrss, sink.errors);
    return 0;
  }
  if (argc >= 3 && std::strcmp(argv[1], "measure") == 0) {
    auto start = Clock::now();
    pid_t pid = fork();
    if (pid == 0) {
      execvp(argv[2], argv + 2);
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    double secs = since(start);
    rusage ru{};
    getrusage(RUSAGE_CHILDREN, &ru);
    std::printf("seconds=%.3f rss_kb=%ld exit=%d\n", secs, ru.ru_maxrss,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  std::fprintf(stderr, "usage: catalogue_bench baseline LOG | measure CMD...\n");
  return 2;
}
