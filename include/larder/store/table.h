// Table — named 1-D columns of equal length, and their stored form.
//
// Stored (DESIGN.md, docs/formats/table.md): a group with attribute
// `larder.kind = "table"` holding one 1-D dataset per column, named after
// it; the column order is attribute `larder.columns`. Any driver; h5py and
// zarr-python see plain arrays. A Table owns its columns; the functions are
// as thread-safe as the Group they are given (one thread at a time).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/array.h"
#include "larder/store/group.h"

namespace larder::store {

struct Table {
  std::vector<std::string> names;
  std::vector<Array> columns;

  // Rows of the first column, 0 for a table without columns.
  std::int64_t rows() const;
  // The column called `name`; Error(not_found) listing the names there are.
  const Array& column(std::string_view name) const;
};

// Checks the table: as many names as columns, names unique, non-empty and
// free of '/', every column 1-D of one length. Error(invalid_argument)
// naming the column at fault.
void check_table(const Table& table);

// Writes `table` as a new group at `path` below `parent` (Error if the path
// exists). `options` give codec and chunks; dtype and shape come from each
// column.
void write_table(Group& parent, std::string_view path, const Table& table,
                 const DatasetOptions& options = {});
// Error(type_mismatch) if the group at `path` is not a table, Error(corrupt)
// if its columns disagree with its attributes.
Table read_table(Group& parent, std::string_view path);
bool is_table(Group& group);

// A stored table's size from its columns' metadata (no values read).
struct TableExtent {
  std::int64_t rows = 0;
  std::int64_t columns = 0;
  std::uint64_t nbytes = 0;  // of all the values
};
TableExtent table_extent(Group& table);

}  // namespace larder::store
