#include "larder/trace/data.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../store/file_io.h"
#include "larder/core/error.h"
#include "larder/store/copy.h"
#include "larder/store/npy.h"
#include "larder/store/store.h"
#include "larder/trace/trace.h"
#include "larder/trace/variable.h"

namespace larder::trace {
namespace fs = std::filesystem;

Data::~Data() = default;

std::unique_ptr<Data> Data::create(const fs::path& working_folder) {
  store::make_directories(working_folder, "the working folder");
  auto data = std::unique_ptr<Data>(new Data());
  for (;;) {
    const std::string code = fresh_code(working_folder);
    const fs::path file = working_folder / ("data_" + code + ".h5");
    // O_EXCL claims the name: a second process drawing the same code retries.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      data->file_ = file;
      data->code_ = code;
      break;
    }
    if (errno != EEXIST) {
      throw Error(ErrorCode::io,
                  fmt::format("cannot create the data file: {}", std::strerror(errno)),
                  file.string());
    }
  }
  data->store_ = store::Store::open(data->file_, store::OpenMode::truncate);
  return data;
}

std::unique_ptr<Data> Data::link(const fs::path& working_folder, std::string_view code) {
  const fs::path file = working_folder / fmt::format("data_{}.h5", code);
  if (!fs::exists(file)) {
    throw Error(ErrorCode::not_found,
                fmt::format("no data store with code \"{}\" in {}", code, working_folder.string()),
                file.string());
  }
  auto data = std::unique_ptr<Data>(new Data());
  data->file_ = file;
  data->code_ = std::string(code);
  data->store_ = store::Store::open(file, store::OpenMode::read_write);
  return data;
}

const fs::path& Data::file() const {
  return file_;
}
const std::string& Data::code() const {
  return code_;
}
store::Group& Data::root() {
  return *store_->root();
}
void Data::close() {
  store_->close();
}

void Data::from_array(std::string_view name, ArrayView values) {
  check_variable_name(name);
  check_numeric(fmt::format("array {}", name), values.dtype(), file_.string());
  auto root = store_->root();
  const std::string key(name);
  if (root->contains(key)) root->remove(key);
  root->create_dataset(
          key, store::DatasetOptions{.dtype = values.dtype().native(), .shape = values.shape()})
      ->write(Selection(), values);
  store_->flush();
}

void Data::from_table(std::string_view name, const store::Table& table) {
  check_variable_name(name);
  check_numeric_table(name, table, file_.string());
  auto root = store_->root();
  const std::string key(name);
  if (root->contains(key)) root->remove(key);
  store::write_table(*root, key, table);
  store_->flush();
}

void Data::load_npy(std::string_view name, const fs::path& file) {
  check_variable_name(name);
  const Array values = store::read_npy(file);
  from_array(name, values);
}

std::vector<std::string> Data::load_npz(const fs::path& file, std::string_view prefix) {
  auto members = store::read_npz(file);
  std::vector<std::string> names;
  for (const auto& [member, values] : members) {
    const std::string name = std::string(prefix) + member;
    try {
      check_variable_name(name);
    } catch (const Error& e) {
      throw Error(ErrorCode::invalid_argument, fmt::format("member {}: {}", member, e.message()),
                  file.string());
    }
    check_numeric(fmt::format("member {}", member), values.dtype(), file.string());
    names.push_back(name);
  }
  for (std::size_t i = 0; i < members.size(); ++i)
    from_array(names[i], members[i].second);
  return names;
}

void Data::load_csv(std::string_view name, const fs::path& file, const store::CsvOptions& options) {
  check_variable_name(name);
  from_table(name, store::read_csv(file, options));
}

std::vector<fs::path> Data::load_tiff(std::string_view name, const fs::path& file_or_folder,
                                      const TiffOptions& options) {
  check_variable_name(name);
  auto root = store_->root();
  const std::string key(name);
  if (!root->contains(key)) {
    TiffStack stack = import_tiff(file_or_folder, *root, key, options);
    store_->flush();
    return stack.files;
  }
  // Replacing: imported under another name first, so a stack that fails
  // half-way leaves the old array as it was.
  const std::string incoming = key + ".incoming";
  if (root->contains(incoming)) root->remove(incoming);
  TiffStack stack = import_tiff(file_or_folder, *root, incoming, options);
  stack.dataset.reset();
  root->remove(key);
  store::copy(*root, incoming, *root, key);
  root->remove(incoming);
  store_->flush();
  return stack.files;
}

namespace {

// Walks a nested JSON list, checking it is rectangular, collecting leaves.
void flatten(const nlohmann::ordered_json& j, std::size_t depth, std::vector<std::int64_t>& shape,
             std::vector<const nlohmann::ordered_json*>& leaves, const std::string& file) {
  if (!j.is_array()) {
    if (depth != shape.size()) {
      throw Error(ErrorCode::invalid_argument, "nested lists are not rectangular", file);
    }
    if (!j.is_number() && !j.is_boolean()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("value {} is not a number or a boolean", j.dump()), file);
    }
    leaves.push_back(&j);
    return;
  }
  if (depth == shape.size()) {
    if (!leaves.empty()) {
      throw Error(ErrorCode::invalid_argument, "nested lists are not rectangular", file);
    }
    shape.push_back(static_cast<std::int64_t>(j.size()));
  } else if (depth > shape.size() || shape[depth] != static_cast<std::int64_t>(j.size())) {
    throw Error(ErrorCode::invalid_argument, "nested lists are not rectangular", file);
  }
  for (const auto& item : j)
    flatten(item, depth + 1, shape, leaves, file);
}

// A JSON value as an array: a (nested) list of numbers and booleans.
Array array_of(const nlohmann::ordered_json& json, const std::string& file) {
  std::vector<std::int64_t> dims;
  std::vector<const nlohmann::ordered_json*> leaves;
  flatten(json, 0, dims, leaves, file);
  const Shape shape(std::move(dims));
  bool all_bool = !leaves.empty(), all_int = true;
  for (const auto* leaf : leaves) {
    all_bool = all_bool && leaf->is_boolean();
    // An integer beyond int64 (JSON numbers have no limit) makes it float64.
    all_int = all_int && leaf->is_number_integer() &&
              !(leaf->is_number_unsigned() &&
                leaf->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX));
  }
  Array values = Array::empty(all_bool  ? DType::boolean()
                              : all_int ? DType::int64()
                                        : DType::float64(),
                              shape);
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (all_bool) {
      values.values<bool>()[i] = leaves[i]->get<bool>();
    } else if (all_int) {
      values.values<std::int64_t>()[i] = leaves[i]->get<std::int64_t>();
    } else {
      values.values<double>()[i] =
          leaves[i]->is_boolean() ? (leaves[i]->get<bool>() ? 1.0 : 0.0) : leaves[i]->get<double>();
    }
  }
  return values;
}

// An object of columns: each member a list of numbers.
store::Table table_of(const nlohmann::ordered_json& json, const std::string& file) {
  store::Table table;
  for (const auto& [column, values] : json.items()) {
    if (!values.is_array()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("column {} is not a list of numbers", column), file);
    }
    Array a = array_of(values, file);
    if (a.rank() != 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("column {} is not a flat list of numbers", column), file);
    }
    table.names.push_back(column);
    table.columns.push_back(std::move(a));
  }
  return table;
}

}  // namespace

void Data::load_json(std::string_view name, const fs::path& file) {
  check_variable_name(name);
  nlohmann::ordered_json json;
  try {
    json = nlohmann::ordered_json::parse(store::read_text(file, ""));
  } catch (const nlohmann::ordered_json::exception& e) {
    throw Error(ErrorCode::invalid_argument, fmt::format("not JSON: {}", e.what()), file.string());
  }
  if (json.is_object()) {
    from_table(name, table_of(json, file.string()));
    return;
  }
  if (!json.is_array()) {
    throw Error(ErrorCode::unsupported,
                "JSON is imported from a (nested) list of numbers or an object of columns",
                file.string());
  }
  from_array(name, array_of(json, file.string()));
}

bool Data::contains(std::string_view name) {
  return store_->root()->contains(std::string(name));
}

store::Table Data::table(std::string_view name) {
  dataset_or_table(name);
  return store::read_table(*store_->root(), std::string(name));
}

std::shared_ptr<store::Dataset> Data::dataset(std::string_view name) {
  if (dataset_or_table(name) != store::NodeKind::dataset) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("{} is a table, not an array: read it with table()", name),
                file_.string(), "/" + std::string(name));
  }
  return store_->root()->open_dataset(std::string(name));
}

store::NodeKind Data::dataset_or_table(std::string_view name) {
  auto root = store_->root();
  if (!root->contains(std::string(name))) {
    std::vector<std::string> names;
    for (const auto& m : root->members())
      names.push_back(m.name);
    throw Error(ErrorCode::not_found,
                fmt::format("no dataset \"{}\" in the data store (datasets: {})", name,
                            names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))),
                file_.string(), "/" + std::string(name));
  }
  return root->open(std::string(name))->kind();
}

void Data::use(std::string_view name) {
  dataset(name);
  used_ = std::string(name);
}

const std::string& Data::used() const {
  return used_;
}

Array Data::read(const Selection& selection) {
  if (used_.empty()) {
    throw Error(ErrorCode::invalid_argument, "no dataset in use: call use(name) first",
                file_.string());
  }
  return dataset(used_)->read(selection);
}

std::vector<DataEntry> Data::info() {
  std::vector<DataEntry> entries;
  auto root = store_->root();
  for (const auto& m : root->members()) {
    if (m.kind == store::NodeKind::dataset) {
      auto ds = root->open_dataset(m.name);
      entries.push_back(
          {.name = m.name, .kind = "array", .dtype = ds->dtype(), .shape = ds->shape()});
    } else if (auto g = root->open_group(m.name); store::is_table(*g)) {
      const store::TableExtent extent = store::table_extent(*g);
      entries.push_back(
          {.name = m.name, .kind = "table", .shape = Shape{extent.rows, extent.columns}});
    }
  }
  return entries;
}

}  // namespace larder::trace
