#include "util/hash.h"

#include <openssl/evp.h>

#include <memory>

#include "fmt/format.h"

namespace dbsplit::util {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string toHex(const unsigned char* bytes, unsigned len) {
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) out += fmt::format("{:02x}", bytes[i]);
  return out;
}

}  // namespace

std::string sha256Fields(const std::vector<std::string_view>& fields) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (std::string_view f : fields) {
    std::string prefix = fmt::format("{}:", f.size());
    EVP_DigestUpdate(ctx.get(), prefix.data(), prefix.size());
    EVP_DigestUpdate(ctx.get(), f.data(), f.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return toHex(digest, len);
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return toHex(digest, len);
}

}  // namespace dbsplit::util
