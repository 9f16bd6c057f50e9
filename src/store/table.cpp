#include "larder/store/table.h"

#include <fmt/format.h>

#include <set>

#include "larder/core/error.h"

namespace larder::store {
namespace {

constexpr std::string_view kKind = "larder.kind";
constexpr std::string_view kColumns = "larder.columns";

}  // namespace

std::int64_t Table::rows() const {
  return columns.empty() ? 0 : columns.front().shape()[0];
}

const Array& Table::column(std::string_view name) const {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return columns.at(i);
  throw Error(ErrorCode::not_found,
              fmt::format("no column '{}'; the table has: {}", name, fmt::join(names, ", ")));
}

void check_table(const Table& table) {
  if (table.names.size() != table.columns.size()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("a table of {} names and {} columns",
                                                         table.names.size(), table.columns.size()));
  }
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < table.names.size(); ++i) {
    const std::string& name = table.names[i];
    const Array& column = table.columns[i];
    if (name.empty() || name.find('/') != std::string::npos || !seen.insert(name).second) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("column name '{}' is empty, holds '/' or is taken", name));
    }
    if (column.rank() != 1 || column.shape()[0] != table.columns.front().shape()[0]) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("column '{}' has shape {} but a table's columns are 1-D of {} rows", name,
                      column.shape().to_string(),
                      table.columns.front().rank() == 1 ? table.columns.front().shape()[0] : 0));
    }
  }
}

void write_table(Group& parent, std::string_view path, const Table& table,
                 const DatasetOptions& options) {
  check_table(table);
  const std::shared_ptr<Group> group = parent.create_group(path);
  try {
    for (std::size_t i = 0; i < table.names.size(); ++i) {
      DatasetOptions column_options = options;
      column_options.dtype = table.columns[i].dtype();
      column_options.shape = table.columns[i].shape();
      if (!column_options.chunks.empty()) column_options.chunks.resize(1);
      group->create_dataset(table.names[i], column_options)->write(Selection(), table.columns[i]);
    }
    group->attrs().set(kColumns, nlohmann::json(table.names));
    group->attrs().set(kKind, "table");  // last: now it is one
  } catch (const Error&) {
    parent.remove(path);  // no half-written table is left behind
    throw;
  }
}

bool is_table(Group& group) {
  if (!group.attrs().contains(kKind)) return false;
  const nlohmann::json kind = group.attrs().get_json(kKind);
  return kind.is_string() && kind.get<std::string>() == "table";
}

TableExtent table_extent(Group& table) {
  TableExtent extent;
  for (const auto& m : table.members()) {
    if (m.kind != NodeKind::dataset) continue;
    auto column = table.open_dataset(m.name);
    extent.rows = column->rows();
    extent.nbytes +=
        static_cast<std::uint64_t>(column->shape().num_elements()) * column->dtype().item_size();
    ++extent.columns;
  }
  return extent;
}

Table read_table(Group& parent, std::string_view path) {
  const std::shared_ptr<Group> group = parent.open_group(path);
  if (!is_table(*group)) {
    throw Error(ErrorCode::type_mismatch, "this group is not a table (no larder.kind = \"table\")",
                group->store_path().string(), group->path());
  }
  const nlohmann::json names = group->attrs().get_json(kColumns);
  Table table;
  if (!names.is_array()) {
    throw Error(ErrorCode::corrupt, "attribute larder.columns is not a list of names",
                group->store_path().string(), group->path());
  }
  for (const nlohmann::json& name : names) {
    if (!name.is_string() || !group->contains(name.get<std::string>())) {
      throw Error(
          ErrorCode::corrupt,
          fmt::format("larder.columns names {} but the table has no such column", name.dump()),
          group->store_path().string(), group->path());
    }
    table.names.push_back(name.get<std::string>());
    table.columns.push_back(group->open_dataset(table.names.back())->read());
  }
  try {
    check_table(table);
  } catch (const Error& e) {
    throw Error(ErrorCode::corrupt, e.what(), group->store_path().string(), group->path());
  }
  return table;
}

}  // namespace larder::store
