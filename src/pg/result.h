// dbsplit's own view of a query result: Result (rows), Row (fields by index or
// column name) and Field (text, NULL, typed conversion). They hide libpqxx from
// every layer above src/pg; the names follow the libpqxx ones the call sites
// were written against (c_str, is_null, as<T>, affected_rows).
//
// A Row or Field keeps its Result's data alive (shared, immutable), so one may
// outlive the Result it came from. Conversions that fail (a NULL read without a
// default, text that is not a number) throw Error(kStepFailed, "pg_error").
//
// Thread-safety: a Result is immutable; copies may be read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace dbsplit::pg {

// The rows themselves: opaque here, defined in src/pg (libpqxx's result).
struct ResultData;

// One value of a row: its text form as the server sent it, or NULL.
class Field {
 public:
  bool is_null() const;
  // The text form; "" for NULL. Valid while any copy of the Result lives.
  const char* c_str() const;
  std::size_t size() const;  // bytes of the text form

  // The value converted to T: std::string, bool, int, long, long long,
  // unsigned, unsigned long, unsigned long long or double.
  // REQUIRES: not NULL (throws otherwise); use as(default) for nullable columns.
  template <typename T>
  T as() const;
  template <typename T>
  T as(const T& if_null) const {
    return is_null() ? if_null : as<T>();
  }

 private:
  friend class Row;
  Field(std::shared_ptr<const ResultData> data, std::size_t row, std::size_t column)
      : data_(std::move(data)), row_(row), column_(column) {}

  std::shared_ptr<const ResultData> data_;
  std::size_t row_;
  std::size_t column_;
};

template <>
std::string Field::as<std::string>() const;
template <>
bool Field::as<bool>() const;
template <>
double Field::as<double>() const;
// The integer types (int, long, long long and their unsigned kinds) are
// explicit instantiations of the one definition in result.cc.

// One row of a result.
class Row {
 public:
  std::size_t size() const;  // number of columns
  Field operator[](std::size_t column) const;
  // REQUIRES: the result has a column of that name (throws otherwise).
  Field operator[](const std::string& column) const;
  Field operator[](const char* column) const { return (*this)[std::string(column)]; }
  Field operator[](int column) const { return (*this)[static_cast<std::size_t>(column)]; }

 private:
  friend class Result;
  Row(std::shared_ptr<const ResultData> data, std::size_t row)
      : data_(std::move(data)), row_(row) {}

  std::shared_ptr<const ResultData> data_;
  std::size_t row_;
};

// The rows a statement returned (none for a command) and the rows it affected.
class Result {
 public:
  class const_iterator {
   public:
    Row operator*() const { return (*result_)[index_]; }
    const_iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return index_ == o.index_; }
    bool operator!=(const const_iterator& o) const { return index_ != o.index_; }

   private:
    friend class Result;
    const_iterator(const Result* result, std::size_t index) : result_(result), index_(index) {}
    const Result* result_;
    std::size_t index_;
  };

  Result();  // no rows, no columns

  std::size_t size() const;
  bool empty() const { return size() == 0; }
  Row operator[](std::size_t row) const;
  Row operator[](int row) const { return (*this)[static_cast<std::size_t>(row)]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

  std::size_t columns() const;
  const std::string& column_name(std::size_t column) const;
  // Rows an INSERT, UPDATE, DELETE (or COPY, SELECT) touched; 0 for others.
  std::int64_t affected_rows() const;

  // Built by src/pg only, from libpqxx's result (the holder is opaque here).
  explicit Result(std::shared_ptr<const ResultData> data);

 private:
  std::shared_ptr<const ResultData> data_;
};

}  // namespace dbsplit::pg
