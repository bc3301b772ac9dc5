#include "pg/result.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "fmt/format.h"
#include "pqxx/pqxx"
#include "util/error.h"

namespace dbsplit::pg {

struct ResultData {
  explicit ResultData(pqxx::result r) : rows(std::move(r)) {
    for (pqxx::row::size_type c = 0; c < rows.columns(); ++c) {
      names.emplace_back(rows.column_name(c));
    }
  }
  ResultData(std::vector<std::string> n, std::vector<std::vector<std::optional<std::string>>> t)
      : names(std::move(n)), text(std::move(t)), is_text(true) {}
  pqxx::result rows;
  std::vector<std::string> names;  // column names, cached for Row::operator[](name)
  // A console's result (session.cc reads it with libpq): the values as text.
  std::vector<std::vector<std::optional<std::string>>> text;
  bool is_text = false;
};

// Used by session.cc, the one place that runs statements.
Result adoptResult(pqxx::result r) {
  return Result(std::make_shared<const ResultData>(std::move(r)));
}
Result adoptText(std::vector<std::string> names,
                 std::vector<std::vector<std::optional<std::string>>> rows) {
  return Result(std::make_shared<const ResultData>(std::move(names), std::move(rows)));
}

namespace {

const pqxx::field at(const ResultData& d, std::size_t row, std::size_t column) {
  return d
      .rows[static_cast<pqxx::result::size_type>(row)][static_cast<pqxx::row::size_type>(column)];
}

[[noreturn]] void badConversion(const char* text, const char* type) {
  throw Error(ExitCode::kStepFailed, "pg_error",
              fmt::format("cannot read the value '{}' as {}", text, type));
}

template <typename T>
T integer(const Field& f, const char* type) {
  if (f.is_null()) badConversion("NULL", type);
  const char* s = f.c_str();
  const char* end = s + f.size();
  T v{};
  auto [ptr, ec] = std::from_chars(s, end, v);
  if (ec != std::errc() || ptr != end || ptr == s) badConversion(s, type);
  return v;
}

}  // namespace

bool Field::is_null() const {
  if (data_->is_text) return !data_->text[row_][column_].has_value();
  return at(*data_, row_, column_).is_null();
}
const char* Field::c_str() const {
  if (data_->is_text) {
    const auto& v = data_->text[row_][column_];
    return v ? v->c_str() : "";
  }
  return at(*data_, row_, column_).c_str();
}
std::size_t Field::size() const {
  if (data_->is_text) {
    const auto& v = data_->text[row_][column_];
    return v ? v->size() : 0;
  }
  return at(*data_, row_, column_).size();
}

template <>
std::string Field::as<std::string>() const {
  if (is_null()) badConversion("NULL", "text");
  return std::string(c_str(), size());
}

template <>
bool Field::as<bool>() const {
  if (is_null()) badConversion("NULL", "a boolean");
  const std::string s = c_str();
  if (s == "t" || s == "true" || s == "1") return true;
  if (s == "f" || s == "false" || s == "0") return false;
  badConversion(s.c_str(), "a boolean");
}

// Every integer type: one definition, instantiated for the types result.h
// names (an undefined as<T> for any other type fails at link time).
template <typename T>
T Field::as() const {
  static_assert(std::is_integral_v<T>, "Field::as<T>: no conversion to this type");
  return integer<T>(*this, std::is_signed_v<T> ? "an integer" : "a non-negative integer");
}
template int Field::as<int>() const;
template long Field::as<long>() const;
template long long Field::as<long long>() const;
template unsigned Field::as<unsigned>() const;
template unsigned long Field::as<unsigned long>() const;
template unsigned long long Field::as<unsigned long long>() const;

template <>
double Field::as<double>() const {
  if (is_null()) badConversion("NULL", "a double");
  const char* s = c_str();
  // The server's spellings of the special values (strtod knows "inf", not "Infinity").
  const std::string text = s;
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE) badConversion(s, "a double");
  return v;
}

std::size_t Row::size() const { return data_->names.size(); }

Field Row::operator[](std::size_t column) const {
  if (column >= data_->names.size()) {
    throw Error(ExitCode::kStepFailed, "pg_error",
                fmt::format("no column {} in a row of {}", column, data_->names.size()));
  }
  return Field(data_, row_, column);
}

Field Row::operator[](const std::string& column) const {
  for (std::size_t c = 0; c < data_->names.size(); ++c) {
    if (data_->names[c] == column) return Field(data_, row_, c);
  }
  throw Error(ExitCode::kStepFailed, "pg_error",
              fmt::format("no column \"{}\" in the result", column));
}

Result::Result() : Result(std::make_shared<const ResultData>(pqxx::result())) {}
Result::Result(std::shared_ptr<const ResultData> data) : data_(std::move(data)) {}

std::size_t Result::size() const {
  return data_->is_text ? data_->text.size() : data_->rows.size();
}

Row Result::operator[](std::size_t row) const {
  if (row >= size()) {
    throw Error(ExitCode::kStepFailed, "pg_error",
                fmt::format("no row {} in a result of {}", row, size()));
  }
  return Row(data_, row);
}

std::size_t Result::columns() const { return data_->names.size(); }
const std::string& Result::column_name(std::size_t column) const { return data_->names.at(column); }
std::int64_t Result::affected_rows() const {
  return data_->is_text ? 0 : data_->rows.affected_rows();
}

}  // namespace dbsplit::pg
