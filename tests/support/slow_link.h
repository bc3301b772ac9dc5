// A TCP forwarder on 127.0.0.1 in front of the sandbox's PostgreSQL (its Unix
// socket) that can hold new connections before it opens theirs upstream: a
// PgBouncer pool pointed at it then has a server connection in its login
// phase for as long as the test wants. A python3 child of the test, which
// ends with the object (or with the test process).
#pragma once

#include <string>

namespace dbsplit::test {

class SlowLink {
 public:
  SlowLink();
  ~SlowLink();
  SlowLink(const SlowLink&) = delete;
  SlowLink& operator=(const SlowLink&) = delete;

  int port() const { return port_; }
  // From hold() on, every new connection waits (at most 20 s) until release()
  // before it is forwarded; connections already forwarded are not touched.
  void hold();
  void release();

 private:
  void stop();
  std::string dir_;
  int pid_ = 0;
  int port_ = 0;
};

}  // namespace dbsplit::test
