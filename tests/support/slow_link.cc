// The test's slow link to PostgreSQL (slow_link.h).
#include "support/slow_link.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/pg_test.h"

namespace dbsplit::test {
namespace fs = std::filesystem;
namespace {

// argv: upstream Unix socket, port file, hold file. Ends when its parent does.
const char* kForwarder = R"PY(
import os, socket, sys, threading, time

upstream, port_file, hold_file = sys.argv[1:4]
parent = os.getppid()
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)


def orphaned():
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    deadline = time.monotonic() + 20
    while os.path.exists(hold_file) and time.monotonic() < deadline:
        time.sleep(0.01)
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        up.connect(upstream)
    except OSError:
        client.close()
        return
    threading.Thread(target=pipe, args=(up, client), daemon=True).start()
    pipe(client, up)


threading.Thread(target=orphaned, daemon=True).start()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
)PY";

}  // namespace

SlowLink::SlowLink() {
  char tmpl[] = "/tmp/dbsplit-slowlink-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::ofstream(dir_ + "/forward.py") << kForwarder;
  const std::string upstream = sandboxDir() + "/.s.PGSQL." + std::to_string(sandboxPort());
  std::vector<std::string> args = {"python3", dir_ + "/forward.py", upstream, dir_ + "/port",
                                   dir_ + "/hold"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 200 && !fs::exists(dir_ + "/port"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::ifstream in(dir_ + "/port");
  if (!(in >> port_) || port_ <= 0) {
    stop();
    throw std::runtime_error("the slow link (python3) did not start");
  }
}

SlowLink::~SlowLink() { stop(); }

void SlowLink::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void SlowLink::hold() { std::ofstream(dir_ + "/hold") << "hold\n"; }

void SlowLink::release() {
  std::error_code ec;
  fs::remove(dir_ + "/hold", ec);
}

}  // namespace dbsplit::test
