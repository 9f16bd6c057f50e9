// A collection phase as loader columns: each variable's stored dataset or
// ragged records, read where they live (memory or storage).
#include "larder/loader/loader.h"

namespace larder::loader {

std::vector<Column> phase_columns(collection::Collection& collection, const std::string& phase,
                                  const std::vector<std::string>& names) {
  const std::vector<std::string> wanted = names.empty() ? collection.variables(phase) : names;
  std::vector<Column> columns;
  for (const auto& name : wanted) {
    const collection::Variable v = collection.variable(phase, name);
    if (v.dense) {
      columns.push_back({.name = name, .source = v.dense});
    } else {
      columns.push_back({.name = name, .source = v.ragged});
    }
  }
  return columns;
}

}  // namespace larder::loader
