// The numpy_binary (npy, npz) and csv loaders, over the store layer's readers.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "../store/fixed_strings.h"
#include "builtin_loaders.h"
#include "larder/core/error.h"
#include "larder/store/csv.h"
#include "larder/store/npy.h"

namespace larder::tree {
namespace {

std::shared_ptr<Node> load_numpy(const LoadRequest& request) {
  const std::string ext = lowered(request.file.extension().string());
  if (ext == ".npz") {
    auto group = std::make_shared<Group>(request.name, GroupClass::ordered);
    for (auto& [name, array] : store::read_npz(request.file))
      group->add(std::make_shared<ArrayLeaf>(name, std::move(array)));
    group->attrs()["filepath"] = request.file.string();
    return group;
  }
  return [&] {
    auto leaf = std::make_shared<ArrayLeaf>(request.name, store::read_npy(request.file));
    leaf->attrs()["filepath"] = request.file.string();
    return std::static_pointer_cast<Node>(leaf);
  }();
}

std::shared_ptr<Node> load_csv(const LoadRequest& request) {
  store::CsvOptions options;
  if (const auto it = request.options.find("delimiter"); it != request.options.end()) {
    if (!it->is_string() || it->get<std::string>().size() != 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("csv delimiter must be one character, not {}", it->dump()),
                  request.file.string());
    }
    options.delimiter = it->get<std::string>()[0];
  }
  options.header = loader_flag(request.options, "header", true);
  options.text = true;
  auto table = store::read_csv(request.file, options);
  auto group = std::make_shared<Group>(request.name, GroupClass::ordered);
  for (std::size_t i = 0; i < table.names.size(); ++i) {
    Array& column = table.columns[i];
    if (column.dtype().kind() != DTypeKind::string) {
      group->add(std::make_shared<ArrayLeaf>(table.names[i], std::move(column)));
      continue;
    }
    // A text column: its cells as strings, as pandas gives an object column.
    Value cells = Value::array();
    for (auto& cell : store::unpack_fixed_strings(column))
      cells.push_back(std::move(cell));
    group->add(std::make_shared<ObjectLeaf>(table.names[i], std::move(cells)));
  }
  group->attrs()["filepath"] = request.file.string();
  return group;
}

}  // namespace

void add_array_file_loaders(LoaderRegistry& registry) {
  registry.add("numpy_binary", {load_numpy});
  registry.add("csv", {load_csv, {"delimiter", "header"}});
}

}  // namespace larder::tree
