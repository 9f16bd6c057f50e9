#include "larder/trace/trace.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include "../store/file_io.h"
#include "hashing.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/store/store.h"
#include "trace_json.h"

namespace larder::trace {
namespace fs = std::filesystem;

namespace {

// "<kind>:<hash>", written last: one attribute, as a second one costs HDF5
// as much again as the first.
constexpr const char* trace_attr = "larder.trace";
constexpr const char* file_attr = "larder.trace.file";
constexpr const char* path_attr = "larder.trace.path";
constexpr const char* default_group = "main";

std::string now_utc() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", text, ms);
}

void check_values(std::string_view name, ArrayView values) {
  if (!values.dtype().is_numeric()) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("variable {}: dtype {} is not numeric or bool", name,
                            values.dtype().numpy_str()));
  }
}

void check_key(std::string_view dict, std::string_view key) {
  if (key.empty() || key == "." || key == ".." || key.find('/') != std::string_view::npos ||
      key.starts_with("larder")) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("dict {}: key \"{}\" cannot name a member (empty, '/', '.', '..' "
                            "or starting with \"larder\")",
                            dict, key));
  }
}

void mark(store::Attributes& attrs, std::string_view kind, const std::string& hash) {
  attrs.set(trace_attr, fmt::format("{}:{}", kind, hash));
}

// The kind and hash of a stored variable; empty for a write cut short.
std::pair<std::string, std::string> mark_of(store::Node& node) {
  nlohmann::json value;
  try {
    value = node.attrs().get_json(trace_attr);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) return {};
    throw;
  }
  if (!value.is_string()) return {};
  const std::string text = value.get<std::string>();
  const auto colon = text.find(':');
  if (colon == std::string::npos) return {};
  return {text.substr(0, colon), text.substr(colon + 1)};
}

std::string dict_hash(store::Group& group) {
  Hasher hasher;
  hasher.update("dict|");
  for (const auto& m : group.members()) {
    auto ds = group.open_dataset(m.name);
    hasher.update(m.name).update("=").update(mark_of(*ds).second);
    hasher.update(";");
  }
  return hasher.digest128().hex();
}

std::string attr_text(store::Node& node, const char* name) {
  if (!node.attrs().contains(name)) return {};
  const nlohmann::json value = node.attrs().get_json(name);
  return value.is_string() ? value.get<std::string>() : std::string{};
}

}  // namespace

struct Trace::State {
  fs::path folder;
  TraceRecord record;
  std::string group;
  std::unique_ptr<store::Store> store;
  std::map<std::string, std::unique_ptr<store::Store>> linked;  // open link targets, by file
  bool dirty = false;
  bool read_only = false;

  fs::path json_path() const { return folder / "trace.json"; }
  std::string h5_name() const { return (folder / "trace.h5").string(); }
  GroupRecord& current() { return record.groups.at(group); }
  const GroupRecord& current() const { return record.groups.at(group); }
  std::shared_ptr<store::Group> h5_group() {
    if (!store) {  // read-only traces open trace.h5 when data is first read
      store = store::Store::open(h5_name(), store::OpenMode::read);
      return store->root()->open_group(group);
    }
    return read_only ? store->root()->open_group(group) : store->root()->require_group(group);
  }

  void writable() const {
    if (read_only) {
      throw Error(ErrorCode::invalid_argument, "the trace was linked read-only", folder.string());
    }
  }

  void write_json() {
    store::replace_file(json_path(), format_trace_json(record), {.sync = true});
    dirty = false;
  }

  const VariableInfo& variable(std::string_view name) const {
    const auto& vars = current().variables;
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) {
      std::vector<std::string> names;
      for (const auto& [n, v] : vars)
        names.push_back(n);
      throw Error(ErrorCode::not_found,
                  fmt::format("no variable \"{}\" in group {} (variables: {})", name, group,
                              names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))),
                  h5_name(), "/" + group + "/" + std::string(name));
    }
    return it->second;
  }

  // Removes `name` from trace.h5 and the record, if there.
  void drop(const std::string& name) {
    auto g = h5_group();
    if (g->contains(name)) g->remove(name);
    current().variables.erase(name);
    dirty = true;
  }

  void record_variable(VariableInfo info) {
    std::string name = info.name;
    current().variables[name] = std::move(info);
    dirty = true;
  }

  std::shared_ptr<store::Dataset> resolve(const VariableInfo& info) {
    const std::string where =
        fmt::format("variable {} links to {}:{}", info.name, info.link_file, info.link_path);
    if (!fs::exists(info.link_file)) {
      throw Error(ErrorCode::not_found, where + ", a file that is gone", info.link_file,
                  info.link_path);
    }
    auto it = linked.find(info.link_file);
    if (it == linked.end() || !it->second->is_open()) {
      linked[info.link_file] = store::Store::open(info.link_file, store::OpenMode::read);
      it = linked.find(info.link_file);
    }
    auto root = it->second->root();
    if (!root->contains(info.link_path)) {
      throw Error(ErrorCode::not_found, where + ", an array that is gone", info.link_file,
                  info.link_path);
    }
    return root->open_dataset(info.link_path);
  }

  VariableInfo info_of_dataset(const std::string& name, store::Dataset& ds, VariableKind kind,
                               std::string hash) {
    return VariableInfo{
        .name = name,
        .kind = kind,
        .dtype = ds.dtype(),
        .shape = ds.shape(),
        .nbytes = static_cast<std::uint64_t>(ds.shape().num_elements()) * ds.dtype().item_size(),
        .hash = std::move(hash),
        .link_file = {},
        .link_path = {}};
  }

  // A stored table's record, from its columns' metadata (no data read).
  static VariableInfo table_info(const std::string& name, store::Group& table, std::string hash) {
    VariableInfo info{.name = name, .kind = VariableKind::table, .hash = std::move(hash)};
    std::int64_t rows = 0, columns = 0;
    for (const auto& m : table.members()) {
      if (m.kind != store::NodeKind::dataset) continue;
      auto ds = table.open_dataset(m.name);
      rows = ds->shape().rank() > 0 ? ds->shape()[0] : 1;
      info.nbytes +=
          static_cast<std::uint64_t>(ds->shape().num_elements()) * ds->dtype().item_size();
      ++columns;
    }
    info.shape = Shape{rows, columns};
    return info;
  }

  // The record of what trace.h5 holds in `group_name`: entries of the JSON
  // record that still match are kept; members written without a hash (a
  // write cut short) are removed.
  void reconcile(const std::string& group_name) {
    GroupRecord& g = record.groups[group_name];
    auto h5 = store->root()->require_group(group_name);
    std::map<std::string, VariableInfo> found;
    for (const auto& m : h5->members()) {
      auto node = h5->open(m.name);
      const auto [kind_text, hash] = mark_of(*node);
      if (hash.empty() || kind_text.empty()) {
        h5->remove(m.name);
        continue;
      }
      const auto known = g.variables.find(m.name);
      if (known != g.variables.end() && known->second.hash == hash) {
        found.emplace(m.name, known->second);
        continue;
      }
      const VariableKind kind = variable_kind_from(kind_text);
      if (kind == VariableKind::array || kind == VariableKind::scalar) {
        found.emplace(m.name, info_of_dataset(m.name, *h5->open_dataset(m.name), kind, hash));
      } else if (kind == VariableKind::link) {
        VariableInfo info{.name = m.name,
                          .kind = kind,
                          .hash = hash,
                          .link_file = attr_text(*node, file_attr),
                          .link_path = attr_text(*node, path_attr)};
        try {
          auto target = resolve(info);
          info.dtype = target->dtype();
          info.shape = target->shape();
          info.nbytes =
              static_cast<std::uint64_t>(info.shape.num_elements()) * info.dtype.item_size();
        } catch (const Error&) {
          // A gone target is reported when the variable is read.
        }
        found.emplace(m.name, std::move(info));
      } else if (kind == VariableKind::table) {
        found.emplace(m.name, table_info(m.name, *h5->open_group(m.name), hash));
      } else {
        VariableInfo info{.name = m.name, .kind = kind, .hash = hash};
        auto members = h5->open_group(m.name)->members();
        info.shape = Shape{static_cast<std::int64_t>(members.size())};
        found.emplace(m.name, std::move(info));
      }
    }
    if (found.size() != g.variables.size()) dirty = true;
    g.variables = std::move(found);
  }
};

// ---------------------------------------------------------------- codes

std::string fresh_code(const fs::path& working_folder) {
  std::random_device device;
  for (int attempt = 0; attempt < 100000; ++attempt) {
    const std::string code = fmt::format("{:04}", device() % 10000);
    if (!fs::exists(working_folder / ("trace_" + code)) &&
        !fs::exists(working_folder / ("data_" + code + ".h5")))
      return code;
  }
  throw Error(ErrorCode::unsupported, "no free four-digit code left in the folder",
              working_folder.string());
}

// ---------------------------------------------------------------- open

Trace::Trace(std::unique_ptr<State> state) : state_(std::move(state)) {}

Trace::~Trace() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report; the record is rewritten at the next open.
  }
}

std::unique_ptr<Trace> Trace::create(const fs::path& working_folder, std::string_view group,
                                     const TraceOptions& options) {
  const std::string group_name = group.empty() ? default_group : std::string(group);
  check_variable_name(group_name);
  std::error_code ec;
  fs::create_directories(working_folder, ec);
  if (ec) {
    throw Error(ErrorCode::io, fmt::format("cannot make the working folder: {}", ec.message()),
                working_folder.string());
  }
  auto state = std::make_unique<State>();
  for (;;) {
    const std::string code = fresh_code(working_folder);
    const fs::path folder = working_folder / ("trace_" + code);
    if (fs::create_directory(folder, ec)) {  // exclusive: another process may race us
      state->folder = folder;
      state->record.code = code;
      break;
    }
    if (ec) {
      throw Error(ErrorCode::io, fmt::format("cannot make a trace folder: {}", ec.message()),
                  folder.string());
    }
  }
  state->record.seed = options.seed
                           ? *options.seed
                           : (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  for (const char* sub : {"trace_files", "trace_readings", "trace_outputs"})
    fs::create_directories(state->folder / sub / group_name);
  state->store = store::Store::open(state->h5_name(), store::OpenMode::create_new);
  state->group = group_name;
  state->record.groups[group_name] = GroupRecord{};
  state->store->root()->require_group(group_name);
  state->store->flush();
  state->write_json();
  return std::unique_ptr<Trace>(new Trace(std::move(state)));
}

std::unique_ptr<Trace> Trace::link(const fs::path& trace_folder, std::string_view group,
                                   const LinkOptions& options) {
  auto state = std::make_unique<State>();
  state->read_only = options.read_only;
  state->folder = trace_folder;
  if (!fs::is_directory(trace_folder) || !fs::exists(state->json_path())) {
    throw Error(
        ErrorCode::not_found,
        fmt::format("{} is not a trace folder: it has no trace.json", trace_folder.string()),
        trace_folder.string());
  }
  const std::string origin = state->json_path().string();
  state->record = parse_trace_json(store::read_text(state->json_path(), ""), origin);
  if (!fs::exists(trace_folder / "trace.h5")) {
    throw Error(ErrorCode::not_found, "the trace has no trace.h5", state->h5_name());
  }
  if (state->record.groups.empty())
    throw Error(ErrorCode::corrupt, "the trace has no group", origin);
  if (!options.read_only)
    state->store = store::Store::open(state->h5_name(), store::OpenMode::read_write);
  // A step left running by a process that died: mark it and drop what it wrote.
  for (auto& [name, g] : state->record.groups) {
    if (options.read_only) break;
    for (auto& node : g.nodes) {
      if (node.status != NodeStatus::running) continue;
      node.status = NodeStatus::interrupted;
      auto h5 = state->store->root()->require_group(name);
      for (const auto& out : node.outputs) {
        if (h5->contains(out.name)) h5->remove(out.name);
        g.variables.erase(out.name);
      }
      state->dirty = true;
    }
  }
  // A read-only trace shows the record as last written (apply, flush,
  // close): opening trace.h5 would wait on a process writing it. A record
  // written by close() is complete: trace.h5 is read only when it is not.
  for (const auto& [name, g] : state->record.groups) {
    if (!options.read_only && !state->record.clean) state->reconcile(name);
  }
  state->group = group.empty() ? (state->record.groups.count(default_group)
                                      ? std::string(default_group)
                                      : state->record.groups.begin()->first)
                               : std::string(group);
  auto trace = std::unique_ptr<Trace>(new Trace(std::move(state)));
  if (!trace->state_->record.groups.count(trace->state_->group)) {
    if (options.read_only) trace->change_group(trace->state_->group);  // raises, listing groups
    trace->create_group(trace->state_->group);
  }
  if (trace->state_->dirty) trace->flush();
  return trace;
}

const fs::path& Trace::folder() const {
  return state_->folder;
}
std::string Trace::code() const {
  return state_->record.code;
}
std::uint64_t Trace::seed() const {
  return state_->record.seed;
}

// ---------------------------------------------------------------- groups

void Trace::create_group(std::string_view group) {
  state_->writable();
  const std::string name(group);
  check_variable_name(name);
  if (!state_->record.groups.count(name)) {
    state_->store->root()->require_group(name);
    state_->record.groups[name] = GroupRecord{};
    state_->store->flush();
    state_->write_json();
  }
  state_->group = name;
}

void Trace::change_group(std::string_view group) {
  const std::string name(group);
  if (!state_->record.groups.count(name)) {
    throw Error(
        ErrorCode::not_found,
        fmt::format("no group \"{}\" in the trace (groups: {})", name, fmt::join(groups(), ", ")),
        state_->json_path().string());
  }
  state_->group = name;
}

const std::string& Trace::group() const {
  return state_->group;
}

std::vector<std::string> Trace::groups() const {
  std::vector<std::string> names;
  for (const auto& [n, g] : state_->record.groups)
    names.push_back(n);
  return names;
}

namespace {
fs::path ensure_folder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) {
    throw Error(ErrorCode::io, fmt::format("cannot make the folder: {}", ec.message()),
                folder.string());
  }
  return folder;
}
}  // namespace

fs::path Trace::files_folder() {
  return ensure_folder(state_->folder / "trace_files" / group());
}
fs::path Trace::readings_folder() {
  return ensure_folder(state_->folder / "trace_readings" / group());
}
fs::path Trace::outputs_folder() {
  return ensure_folder(state_->folder / "trace_outputs" / group());
}

// ---------------------------------------------------------------- variables

void Trace::set_array(std::string_view name, ArrayView value) {
  state_->writable();
  check_variable_name(name);
  check_values(name, value);
  const std::string key(name);
  state_->drop(key);
  auto ds = state_->h5_group()->create_dataset(
      key, store::DatasetOptions{.dtype = value.dtype().native(), .shape = value.shape()});
  ds->write(Selection(), value);
  const std::string hash = hash_values(value, "array");
  mark(ds->attrs(), "array", hash);
  state_->record_variable(state_->info_of_dataset(key, *ds, VariableKind::array, hash));
}

void Trace::set_scalar(std::string_view name, ArrayView value) {
  state_->writable();
  check_variable_name(name);
  check_values(name, value);
  if (value.shape().rank() != 0) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("variable {}: a scalar has no shape, got {}", name, value.shape().to_string()));
  }
  const std::string key(name);
  state_->drop(key);
  auto ds = state_->h5_group()->create_dataset(
      key, store::DatasetOptions{.dtype = value.dtype().native(), .shape = Shape{}});
  ds->write(Selection(), value);
  const std::string hash = hash_values(value, "scalar");
  mark(ds->attrs(), "scalar", hash);
  state_->record_variable(state_->info_of_dataset(key, *ds, VariableKind::scalar, hash));
}

namespace {

void write_member(store::Group& dict, const std::string& key, const DictValue& value) {
  auto ds = dict.create_dataset(key, store::DatasetOptions{.dtype = value.value.dtype().native(),
                                                           .shape = value.value.shape()});
  ds->write(Selection(), value.value);
  const char* kind = value.scalar ? "scalar" : "array";
  mark(ds->attrs(), kind, hash_values(value.value, kind));
}

void check_member(std::string_view dict, std::string_view key, const DictValue& value) {
  check_key(dict, key);
  if (!value.value.dtype().is_numeric()) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("dict {}: key {} holds dtype {}, not a number or bool", dict, key,
                            value.value.dtype().numpy_str()));
  }
  if (value.scalar && value.value.shape().rank() != 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("dict {}: key {} is a scalar with shape {}", dict, key,
                            value.value.shape().to_string()));
  }
}

}  // namespace

void Trace::set_dict(std::string_view name, const Dict& value) {
  state_->writable();
  check_variable_name(name);
  for (const auto& [key, member] : value)
    check_member(name, key, member);
  const std::string key(name);
  state_->drop(key);
  auto g = state_->h5_group()->create_group(key);
  std::uint64_t nbytes = 0;
  for (const auto& [k, member] : value) {
    write_member(*g, k, member);
    nbytes += member.value.nbytes();
  }
  const std::string hash = dict_hash(*g);
  mark(g->attrs(), "dict", hash);
  state_->record_variable(VariableInfo{.name = key,
                                       .kind = VariableKind::dict,
                                       .shape = Shape{static_cast<std::int64_t>(value.size())},
                                       .nbytes = nbytes,
                                       .hash = hash});
}

void Trace::set_link(std::string_view name, const fs::path& file, std::string_view path) {
  state_->writable();
  check_variable_name(name);
  std::error_code ec;
  const fs::path absolute = fs::absolute(file, ec);
  VariableInfo info{.name = std::string(name),
                    .kind = VariableKind::link,
                    .link_file = (ec ? file : absolute.lexically_normal()).string(),
                    .link_path = std::string(path)};
  auto target = state_->resolve(info);
  check_values(name, ArrayView(nullptr, target->dtype(), Shape{0}));
  info.dtype = target->dtype();
  info.shape = target->shape();
  info.nbytes = static_cast<std::uint64_t>(info.shape.num_elements()) * info.dtype.item_size();
  info.hash = hash_dataset(*target, "array");
  state_->drop(info.name);
  auto g = state_->h5_group()->create_group(info.name);
  g->attrs().set(file_attr, info.link_file);
  g->attrs().set(path_attr, info.link_path);
  mark(g->attrs(), "link", info.hash);
  state_->record_variable(std::move(info));
}

namespace {
std::string table_hash(const store::Table& table) {
  Hasher hasher;
  hasher.update("table|");
  for (std::size_t i = 0; i < table.names.size(); ++i)
    hasher.update(table.names[i])
        .update("=")
        .update(hash_values(table.columns[i], "array"))
        .update(";");
  return hasher.digest128().hex();
}
}  // namespace

void Trace::set_table(std::string_view name, const store::Table& table) {
  state_->writable();
  check_variable_name(name);
  check_numeric_table(name, table);
  const std::string key(name);
  state_->drop(key);
  auto parent = state_->h5_group();
  store::write_table(*parent, key, table);
  auto g = parent->open_group(key);
  const std::string hash = table_hash(table);
  mark(g->attrs(), "table", hash);
  state_->record_variable(State::table_info(key, *g, hash));
}

store::Table Trace::get_table(std::string_view name) {
  const VariableInfo& info = state_->variable(name);
  if (info.kind != VariableKind::table) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("variable {} is a {}, not a table", name, to_string(info.kind)),
                state_->h5_name(), "/" + group() + "/" + info.name);
  }
  return store::read_table(*state_->h5_group(), info.name);
}

bool Trace::exists(std::string_view name) const {
  return state_->current().variables.count(std::string(name)) > 0;
}

VariableInfo Trace::info(std::string_view name) const {
  return state_->variable(name);
}

std::vector<VariableInfo> Trace::variables() const {
  std::vector<VariableInfo> list;
  for (const auto& [n, v] : state_->current().variables)
    list.push_back(v);
  return list;
}

void Trace::remove(std::string_view name) {
  state_->writable();
  state_->variable(name);
  state_->drop(std::string(name));
}

std::shared_ptr<store::Dataset> Trace::dataset(std::string_view name) {
  const VariableInfo& info = state_->variable(name);
  switch (info.kind) {
    case VariableKind::array:
    case VariableKind::scalar:
      return state_->h5_group()->open_dataset(info.name);
    case VariableKind::link:
      return state_->resolve(info);
    default:
      throw Error(ErrorCode::type_mismatch,
                  fmt::format("variable {} is a {}, not an array", name, to_string(info.kind)),
                  state_->h5_name(), "/" + group() + "/" + info.name);
  }
}

Array Trace::get(std::string_view name, const Selection& selection) {
  return dataset(name)->read(selection);
}

namespace {
std::shared_ptr<store::Group> dict_group(Trace::State& state, std::string_view name) {
  const VariableInfo& info = state.variable(name);
  if (info.kind != VariableKind::dict) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("variable {} is a {}, not a dict", name, to_string(info.kind)),
                state.h5_name(), "/" + state.group + "/" + info.name);
  }
  return state.h5_group()->open_group(info.name);
}

DictValue member_value(store::Group& dict, const std::string& key) {
  auto ds = dict.open_dataset(key);
  return DictValue{.value = ds->read(), .scalar = mark_of(*ds).first == "scalar"};
}
}  // namespace

Dict Trace::get_dict(std::string_view name) {
  auto g = dict_group(*state_, name);
  Dict dict;
  for (const auto& m : g->members())
    dict.emplace(m.name, member_value(*g, m.name));
  return dict;
}

DictValue Trace::read_key(std::string_view name, std::string_view key) {
  auto g = dict_group(*state_, name);
  const std::string k(key);
  if (!g->contains(k)) {
    std::vector<std::string> keys;
    for (const auto& m : g->members())
      keys.push_back(m.name);
    throw Error(
        ErrorCode::not_found,
        fmt::format("dict {} has no key \"{}\" (keys: {})", name, key, fmt::join(keys, ", ")),
        state_->h5_name(), "/" + group() + "/" + std::string(name));
  }
  return member_value(*g, k);
}

void Trace::write_key(std::string_view name, std::string_view key, const DictValue& value) {
  state_->writable();
  auto g = dict_group(*state_, name);
  check_member(name, key, value);
  const std::string k(key);
  if (g->contains(k)) g->remove(k);
  write_member(*g, k, value);
  VariableInfo info = state_->variable(name);
  info.hash = dict_hash(*g);
  info.shape = Shape{static_cast<std::int64_t>(g->members().size())};
  info.nbytes = 0;
  for (const auto& m : g->members()) {
    auto ds = g->open_dataset(m.name);
    info.nbytes += static_cast<std::uint64_t>(ds->shape().num_elements()) * ds->dtype().item_size();
  }
  mark(g->attrs(), "dict", info.hash);
  state_->record_variable(std::move(info));
}

// ---------------------------------------------------------------- apply

namespace {

class StepContext final : public OperationContext {
 public:
  StepContext(Trace& trace, Trace::State& state, const ApplyOptions& options, Random random)
      : trace_(trace),
        state_(state),
        options_(options),
        random_(random),
        created_(options.outputs.size(), false) {}

  const nlohmann::json& params() const override { return options_.params; }
  std::size_t input_count() const override { return options_.inputs.size(); }
  std::size_t output_count() const override { return options_.outputs.size(); }
  std::shared_ptr<store::Dataset> input(std::size_t i) override {
    return trace_.dataset(options_.inputs.at(i));
  }
  const std::string& input_name(std::size_t i) const override { return options_.inputs.at(i); }
  const std::string& output_name(std::size_t i) const override { return options_.outputs.at(i); }

  std::shared_ptr<store::Dataset> create_output(std::size_t i,
                                                const store::DatasetOptions& options) override {
    const std::string& name = options_.outputs.at(i);
    state_.drop(name);
    created_[i] = true;
    return state_.h5_group()->create_dataset(name, options);
  }
  void set_output(std::size_t i, ArrayView values) override {
    check_values(options_.outputs.at(i), values);
    create_output(i,
                  store::DatasetOptions{.dtype = values.dtype().native(), .shape = values.shape()})
        ->write(Selection(), values);
  }
  std::uint64_t seed() const override { return state_.record.seed; }
  Random random() const override { return random_; }
  fs::path files_folder() override { return trace_.files_folder(); }
  fs::path readings_folder() override { return trace_.readings_folder(); }
  fs::path outputs_folder() override { return trace_.outputs_folder(); }

  bool created(std::size_t i) const { return created_[i]; }

 private:
  Trace& trace_;
  Trace::State& state_;
  const ApplyOptions& options_;
  Random random_;
  std::vector<bool> created_;
};

}  // namespace

ApplyResult Trace::apply(std::string_view operation, const ApplyOptions& options) {
  auto op = OperationRegistry::instance().make(operation);
  return apply(*op, options);
}

ApplyResult Trace::apply(Operation& operation, const ApplyOptions& options) {
  if (state_->read_only) state_->writable();  // raises
  State& s = *state_;
  std::vector<Port> inputs;
  for (const auto& name : options.inputs)
    inputs.push_back({.name = name, .hash = s.variable(name).hash});
  std::set<std::string> seen;
  for (const auto& name : options.outputs) {
    check_variable_name(name);
    if (!seen.insert(name).second) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("operation {}: output {} is named twice", operation.name(), name));
    }
    if (std::find(options.inputs.begin(), options.inputs.end(), name) != options.inputs.end()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("operation {}: {} is both an input and an output (write the result "
                              "to a new variable)",
                              operation.name(), name));
    }
  }
  if (!options.params.is_object()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("operation {}: params must be a JSON object, got {}", operation.name(),
                            options.params.dump()));
  }
  const std::string op_name = operation.name();
  const int version = operation.version();
  GroupRecord& g = s.current();

  if (!options.force) {
    for (auto it = g.nodes.rbegin(); it != g.nodes.rend(); ++it) {
      const Node& node = *it;
      if (node.status != NodeStatus::finished || node.operation != op_name ||
          node.version != version || node.params != options.params || node.inputs != inputs ||
          node.outputs.size() != options.outputs.size())
        continue;
      bool current = true;
      for (std::size_t i = 0; i < node.outputs.size() && current; ++i) {
        const auto v = g.variables.find(options.outputs[i]);
        current = node.outputs[i].name == options.outputs[i] && v != g.variables.end() &&
                  v->second.hash == node.outputs[i].hash;
      }
      if (current) return ApplyResult{.node = node, .skipped = true};
    }
  }

  s.writable();
  Node node{.id = g.next_id++,
            .operation = op_name,
            .version = version,
            .params = options.params,
            .inputs = inputs,
            .outputs = {},
            .started = now_utc(),
            .finished = {},
            .status = NodeStatus::running,
            .error = {}};
  for (const auto& name : options.outputs)
    node.outputs.push_back({.name = name, .hash = {}});
  s.store->flush();
  g.nodes.push_back(node);
  s.write_json();

  const std::string params_text = options.params.dump();
  StepContext context(*this, s, options,
                      Random(s.record.seed, xxh3_64(op_name + "|" + params_text)));
  const auto fail = [&](const std::string& why) {
    for (std::size_t i = 0; i < options.outputs.size(); ++i) {
      if (context.created(i)) s.drop(options.outputs[i]);
    }
    Node& stored = s.current().nodes.back();
    stored.status = NodeStatus::failed;
    stored.finished = now_utc();
    stored.error = why;
    s.store->flush();
    s.write_json();
  };
  try {
    operation.apply(context);
    for (std::size_t i = 0; i < options.outputs.size(); ++i) {
      if (!context.created(i)) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("operation {} did not write its output {}", op_name, options.outputs[i]));
      }
    }
    for (std::size_t i = 0; i < options.outputs.size(); ++i) {
      const std::string& name = options.outputs[i];
      auto ds = s.h5_group()->open_dataset(name);
      const std::string hash = hash_dataset(*ds, "array");
      mark(ds->attrs(), "array", hash);
      s.record_variable(s.info_of_dataset(name, *ds, VariableKind::array, hash));
      node.outputs[i].hash = hash;
    }
  } catch (const Error& e) {
    fail(e.what());
    throw;
  } catch (const std::exception& e) {
    fail(e.what());
    throw;
  }
  s.store->flush();
  node.status = NodeStatus::finished;
  node.finished = now_utc();
  s.current().nodes.back() = node;
  s.write_json();
  return ApplyResult{.node = std::move(node), .skipped = false};
}

Graph Trace::graph() const {
  const auto& nodes = state_->current().nodes;
  return Graph{.nodes = nodes, .edges = edges_of(nodes)};
}

Lineage Trace::lineage(std::string_view variable) const {
  const std::string name(variable);
  const auto& nodes = state_->current().nodes;
  bool known = exists(name);
  for (const auto& node : nodes) {
    for (const auto& p : node.outputs)
      known = known || p.name == name;
  }
  if (!known) state_->variable(name);  // raises not_found listing the variables
  const auto& variables = state_->current().variables;
  const auto now = variables.find(name);
  return lineage_of(nodes, name, now == variables.end() ? std::string() : now->second.hash);
}

void Trace::close() {
  if (!state_->store || !state_->store->is_open()) {
    state_->linked.clear();
    return;
  }
  state_->store->flush();
  if (!state_->read_only && (!state_->record.clean || state_->dirty)) {
    state_->record.clean = true;
    state_->write_json();
  }
  state_->linked.clear();
  state_->store->close();
}

void Trace::flush() {
  if (!state_ || !state_->store || !state_->store->is_open() || state_->read_only) return;
  state_->store->flush();
  if (state_->dirty) state_->write_json();
}

}  // namespace larder::trace
