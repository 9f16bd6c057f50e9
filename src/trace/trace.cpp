#include "larder/trace/trace.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <set>

#include <sys/stat.h>

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
constexpr const char* stamp_attr = "larder.trace.stamp";
constexpr const char* default_group = "main";

fs::path ensure_folder(const fs::path& folder) {
  store::make_directories(folder);
  return folder;
}

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

// What a link's target file is now: device, inode, size and modification
// time, so an unchanged stamp means unchanged content. Empty (hash again)
// for a directory store, whose arrays live in many files, and for a file
// changed too recently to trust its time: the kernel's file clock ticks
// coarsely, so a second change in the same tick could keep the time (git's
// "racily clean" entries). Recently is 100 ms, or 2 s on a file system
// that keeps whole seconds (a time without nanoseconds: FAT keeps 2 s).
std::string file_stamp(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  const auto mtime =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto racy =
      st.st_mtim.tv_nsec == 0 ? std::chrono::milliseconds(2000) : std::chrono::milliseconds(100);
  if (now - mtime < racy) return {};
  return fmt::format("{}:{}:{}:{}", st.st_dev, st.st_ino, st.st_size,
                     std::chrono::duration_cast<std::chrono::nanoseconds>(mtime).count());
}

// `file` and `path` say where the dict is, for the errors.
void check_key(std::string_view dict, std::string_view key, const std::string& file,
               const std::string& path) {
  if (key.empty() || key == "." || key == ".." || key.find('/') != std::string_view::npos ||
      key.starts_with("larder")) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("dict {}: key \"{}\" cannot name a member (empty, '/', '.', '..' "
                            "or starting with \"larder\")",
                            dict, key),
                file, path);
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

// A dict's hash, from its members' hashes (in key order).
std::string dict_hash(const std::map<std::string, std::string>& members) {
  Hasher hasher;
  hasher.update("dict|");
  for (const auto& [key, hash] : members)
    hasher.update(key).update("=").update(hash).update(";");
  return hasher.digest128().hex();
}

// A stored dict's record, from its members' marks and shapes (no data read).
VariableInfo dict_info(const std::string& name, store::Group& dict) {
  std::map<std::string, std::string> hashes;
  std::uint64_t nbytes = 0;
  for (const auto& m : dict.members()) {
    auto ds = dict.open_dataset(m.name);
    hashes[m.name] = mark_of(*ds).second;
    nbytes += static_cast<std::uint64_t>(ds->shape().num_elements()) * ds->dtype().item_size();
  }
  return VariableInfo{.name = name,
                      .kind = VariableKind::dict,
                      .shape = Shape{static_cast<std::int64_t>(hashes.size())},
                      .nbytes = nbytes,
                      .hash = dict_hash(hashes)};
}

// Fills `info`'s dtype, shape and logical bytes from `dataset`'s metadata.
void take_extent(VariableInfo& info, store::Dataset& dataset) {
  info.dtype = dataset.dtype();
  info.shape = dataset.shape();
  info.nbytes = static_cast<std::uint64_t>(info.shape.num_elements()) * info.dtype.item_size();
}

std::string attr_text(store::Node& node, const char* name) {
  if (!node.attrs().contains(name)) return {};
  const nlohmann::json value = node.attrs().get_json(name);
  return value.is_string() ? value.get<std::string>() : std::string{};
}

// The trace folders a Trace of this process has open for writing. Each
// Trace keeps its own record and writes it whole, so a second writer on one
// folder would overwrite what the first recorded (HDF5's file lock does not
// stop a second open from the same process).
class Writers {
 public:
  static Writers& instance() {
    static Writers writers;
    return writers;
  }
  void claim(const std::string& folder) {
    std::lock_guard lock(mutex_);
    if (!folders_.insert(folder).second) {
      throw Error(ErrorCode::invalid_argument,
                  "the trace is already open for writing in this process: close it first, or "
                  "link it read-only",
                  folder);
    }
  }
  void release(const std::string& folder) {
    std::lock_guard lock(mutex_);
    folders_.erase(folder);
  }

 private:
  std::mutex mutex_;
  std::set<std::string> folders_;
};

}  // namespace

struct Trace::State {
  fs::path folder;
  TraceRecord record;
  std::string group;
  std::unique_ptr<store::Store> store;                          // trace.h5 once opened: see h5()
  std::map<std::string, std::unique_ptr<store::Store>> linked;  // open link targets, by file
  bool dirty = false;
  bool read_only = false;
  bool closed = false;
  std::string json_text;  // trace.json as this session last read or wrote it
  std::string claimed;    // the folder this State holds in Writers, while it does
  std::shared_ptr<store::Group> h5_current;  // see h5_group()
  std::string h5_current_name;

  ~State() { release(); }

  void claim() {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(folder, ec);
    const std::string key = (ec ? folder : canonical).string();
    Writers::instance().claim(key);
    claimed = key;
  }
  void release() {
    if (claimed.empty()) return;
    Writers::instance().release(claimed);
    claimed.clear();
  }

  fs::path json_path() const { return folder / "trace.json"; }
  std::string h5_name() const { return (folder / "trace.h5").string(); }
  // Where variable `name` of the current group is in trace.h5.
  std::string path_of(std::string_view name) const { return fmt::format("/{}/{}", group, name); }
  GroupRecord& current() { return record.groups.at(group); }
  const GroupRecord& current() const { return record.groups.at(group); }
  // trace.h5, opened when first needed: a link whose record is complete
  // reads nothing from it, so a re-run whose steps are all skipped never
  // opens it (and a read-only link never waits on a writer it does not
  // read from). Opened for writing, it is first checked that no other
  // process wrote the trace since this session read trace.json: libhdf5's
  // file lock, taken now rather than at link, no longer keeps a second
  // writer out from the start.
  store::Store& h5() {
    if (closed) throw Error(ErrorCode::invalid_argument, "the trace is closed", folder.string());
    if (store) return *store;
    if (!read_only && store::read_text(json_path(), "") != json_text) {
      throw Error(ErrorCode::io,
                  "another process changed the trace since it was linked here (link it again)",
                  json_path().string());
    }
    store = store::Store::open(h5_name(),
                               read_only ? store::OpenMode::read : store::OpenMode::read_write);
    return *store;
  }
  bool h5_open() const { return store && store->is_open(); }

  // trace.h5's group of the current trace group, opened once per group.
  std::shared_ptr<store::Group> h5_group() {
    if (h5_current && h5_current_name == group && h5_open()) return h5_current;
    h5_current = read_only ? h5().root()->open_group(group) : h5().root()->require_group(group);
    h5_current_name = group;
    return h5_current;
  }

  void check_writable() const {
    if (read_only) {
      throw Error(ErrorCode::invalid_argument, "the trace was linked read-only", folder.string());
    }
  }

  // Before the first change of a session touches trace.h5, the record on
  // disk stops claiming to be complete: a session killed from here on is
  // checked against trace.h5 by the next link.
  void begin_change() {
    check_writable();
    h5();  // opened, and checked against another writer, before anything changes
    if (record.clean) {
      record.clean = false;
      write_json();
    }
  }

  void write_json() {
    std::string text = format_trace_json(record);
    store::replace_file(json_path(), text, {.sync = true});
    json_text = std::move(text);
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
                  h5_name(), path_of(name));
    }
    return it->second;
  }

  // Removes `name` from trace.h5 and the record, if there: the first change
  // every setter makes, after its checks.
  void drop(const std::string& name) {
    begin_change();
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

  // The record of link `name`, checked against its target: a target file
  // whose stamp changed is hashed again, and a new hash recorded (the mark
  // first, then the stamp: a kill between them leaves a stale stamp, which
  // only costs a hash next time).
  const VariableInfo& refresh_link(const std::string& name) {
    VariableInfo& info = current().variables.at(name);
    const std::string stamp = file_stamp(info.link_file);
    if (!stamp.empty() && stamp == info.link_stamp) return info;
    auto target = resolve(info);
    const std::string hash = hash_dataset(*target, "array");
    if (hash == info.hash && stamp == info.link_stamp) return info;
    begin_change();
    auto g = h5_group()->open_group(name);
    if (hash != info.hash) mark(g->attrs(), "link", hash);
    g->attrs().set(stamp_attr, stamp);
    take_extent(info, *target);
    info.hash = hash;
    info.link_stamp = stamp;
    dirty = true;
    return info;
  }

  VariableInfo info_of_dataset(const std::string& name, store::Dataset& ds, VariableKind kind,
                               std::string hash) {
    VariableInfo info{.name = name, .kind = kind, .hash = std::move(hash)};
    take_extent(info, ds);
    return info;
  }

  // A stored table's record, from its columns' metadata (no data read).
  static VariableInfo table_info(const std::string& name, store::Group& table, std::string hash) {
    const store::TableExtent extent = store::table_extent(table);
    return VariableInfo{.name = name,
                        .kind = VariableKind::table,
                        .shape = Shape{extent.rows, extent.columns},
                        .nbytes = extent.nbytes,
                        .hash = std::move(hash)};
  }

  // The record of what trace.h5 holds in `group_name`: entries of the JSON
  // record that still match are kept; members written without a hash (a
  // write cut short) are removed.
  void reconcile(const std::string& group_name) {
    GroupRecord& g = record.groups[group_name];
    auto h5 = this->h5().root()->require_group(group_name);
    std::map<std::string, VariableInfo> found;
    for (const auto& m : h5->members()) {
      auto node = h5->open(m.name);
      const auto [kind_text, hash] = mark_of(*node);
      if (hash.empty() || kind_text.empty()) {
        h5->remove(m.name);
        continue;
      }
      const VariableKind kind = variable_kind_from(kind_text);
      const auto known = g.variables.find(m.name);
      VariableInfo info;
      if (kind == VariableKind::dict) {
        // A write_key cut short leaves its member unmarked (dropped here)
        // and the dict's mark behind its members: the mark is redone from
        // the members that were committed. Members are checked whatever
        // the record says: write_key marks the dict last.
        auto dict = h5->open_group(m.name);
        for (const auto& member : dict->members()) {
          if (mark_of(*dict->open(member.name)).second.empty()) dict->remove(member.name);
        }
        info = dict_info(m.name, *dict);
        if (info.hash != hash) mark(dict->attrs(), "dict", info.hash);
      } else if (known != g.variables.end() && known->second.hash == hash) {
        info = known->second;
      } else if (kind == VariableKind::array || kind == VariableKind::scalar) {
        info = info_of_dataset(m.name, *h5->open_dataset(m.name), kind, hash);
      } else if (kind == VariableKind::link) {
        info = VariableInfo{.name = m.name,
                            .kind = kind,
                            .hash = hash,
                            .link_file = attr_text(*node, file_attr),
                            .link_path = attr_text(*node, path_attr),
                            .link_stamp = attr_text(*node, stamp_attr)};
        try {
          take_extent(info, *resolve(info));
        } catch (const Error&) {
          // A gone target is reported when the variable is read.
        }
      } else {
        info = table_info(m.name, *h5->open_group(m.name), hash);
      }
      if (known == g.variables.end() || known->second.hash != info.hash) dirty = true;
      found.emplace(m.name, std::move(info));
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
  store::make_directories(working_folder, "the working folder");
  std::error_code ec;
  auto state = std::make_unique<State>();
  for (;;) {
    const std::string code = fresh_code(working_folder);
    const fs::path folder = working_folder / ("trace_" + code);
    if (fs::create_directory(folder, ec)) {  // exclusive: another process may race us
      state->folder = folder;
      state->record.code = code;
      state->claim();
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
    ensure_folder(state->folder / sub / group_name);
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
  state->json_text = store::read_text(state->json_path(), "");
  state->record = parse_trace_json(state->json_text, origin);
  if (!fs::exists(trace_folder / "trace.h5")) {
    throw Error(ErrorCode::not_found, "the trace has no trace.h5", state->h5_name());
  }
  if (state->record.groups.empty())
    throw Error(ErrorCode::corrupt, "the trace has no group", origin);
  if (!options.read_only) {
    state->claim();
    // A step left running by a process that died is marked; what it wrote
    // is sorted out below: an output it replaced is unmarked in trace.h5 and
    // dropped, one it never reached still holds the earlier step's content.
    bool interrupted = false;
    for (auto& [name, g] : state->record.groups) {
      for (auto& node : g.nodes) {
        if (node.status != NodeStatus::running) continue;
        node.status = NodeStatus::interrupted;
        interrupted = state->dirty = true;
      }
    }
    // A record written by close() is complete: trace.h5 is read only when
    // it is not. A read-only trace shows the record as last written (apply,
    // flush, close): opening trace.h5 would wait on a process writing it.
    if (!state->record.clean || interrupted) {
      for (const auto& [name, g] : state->record.groups)
        state->reconcile(name);
    }
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
  state_->check_writable();
  const std::string name(group);
  check_variable_name(name);
  if (!state_->record.groups.count(name)) {
    state_->begin_change();
    state_->h5().root()->require_group(name);
    state_->record.groups[name] = GroupRecord{};
    state_->h5().flush();
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
  state_->check_writable();
  check_variable_name(name);
  check_numeric(fmt::format("variable {}", name), value.dtype(), state_->h5_name(),
                state_->path_of(name));
  const std::string key(name);
  state_->drop(key);
  auto ds = state_->h5_group()->create_dataset_from(
      key, store::DatasetOptions{.dtype = value.dtype().native(), .shape = value.shape()}, value);
  const std::string hash = hash_values(value, "array");
  mark(ds->attrs(), "array", hash);
  state_->record_variable(state_->info_of_dataset(key, *ds, VariableKind::array, hash));
}

void Trace::set_scalar(std::string_view name, ArrayView value) {
  state_->check_writable();
  check_variable_name(name);
  check_numeric(fmt::format("variable {}", name), value.dtype(), state_->h5_name(),
                state_->path_of(name));
  if (value.shape().rank() != 0) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("variable {}: a scalar has no shape, got {}", name, value.shape().to_string()),
        state_->h5_name(), state_->path_of(name));
  }
  const std::string key(name);
  state_->drop(key);
  auto ds = state_->h5_group()->create_dataset_from(
      key, store::DatasetOptions{.dtype = value.dtype().native(), .shape = Shape{}}, value);
  const std::string hash = hash_values(value, "scalar");
  mark(ds->attrs(), "scalar", hash);
  state_->record_variable(state_->info_of_dataset(key, *ds, VariableKind::scalar, hash));
}

namespace {

// Writes one member and returns its hash.
std::string write_member(store::Group& dict, const std::string& key, const DictValue& value) {
  auto ds = dict.create_dataset_from(
      key, {.dtype = value.value.dtype().native(), .shape = value.value.shape()}, value.value);
  const char* kind = value.scalar ? "scalar" : "array";
  const std::string hash = hash_values(value.value, kind);
  mark(ds->attrs(), kind, hash);
  return hash;
}

void check_member(std::string_view dict, std::string_view key, const DictValue& value,
                  const std::string& file, const std::string& path) {
  check_key(dict, key, file, path);
  check_numeric(fmt::format("dict {}: key {}", dict, key), value.value.dtype(), file, path);
  if (value.scalar && value.value.shape().rank() != 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("dict {}: key {} is a scalar with shape {}", dict, key,
                            value.value.shape().to_string()),
                file, path);
  }
}

}  // namespace

void Trace::set_dict(std::string_view name, const Dict& value) {
  state_->check_writable();
  check_variable_name(name);
  for (const auto& [key, member] : value)
    check_member(name, key, member, state_->h5_name(), state_->path_of(name));
  const std::string key(name);
  state_->drop(key);
  auto g = state_->h5_group()->create_group(key);
  std::map<std::string, std::string> hashes;
  std::uint64_t nbytes = 0;
  for (const auto& [k, member] : value) {
    hashes[k] = write_member(*g, k, member);
    nbytes += member.value.nbytes();
  }
  const std::string hash = dict_hash(hashes);
  mark(g->attrs(), "dict", hash);
  state_->record_variable(VariableInfo{.name = key,
                                       .kind = VariableKind::dict,
                                       .shape = Shape{static_cast<std::int64_t>(value.size())},
                                       .nbytes = nbytes,
                                       .hash = hash});
}

void Trace::set_link(std::string_view name, const fs::path& file, std::string_view path) {
  state_->check_writable();
  check_variable_name(name);
  std::error_code ec;
  const fs::path absolute = fs::absolute(file, ec);
  VariableInfo info{.name = std::string(name),
                    .kind = VariableKind::link,
                    .link_file = (ec ? file : absolute.lexically_normal()).string(),
                    .link_path = std::string(path)};
  auto target = state_->resolve(info);
  check_numeric(fmt::format("variable {} (a link)", name), target->dtype(), info.link_file,
                info.link_path);
  info.link_stamp = file_stamp(info.link_file);  // before the content is read
  take_extent(info, *target);
  info.hash = hash_dataset(*target, "array");
  state_->drop(info.name);
  auto g = state_->h5_group()->create_group(info.name);
  g->attrs().set(file_attr, info.link_file);
  g->attrs().set(path_attr, info.link_path);
  g->attrs().set(stamp_attr, info.link_stamp);
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
  state_->check_writable();
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
                state_->h5_name(), state_->path_of(info.name));
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
  state_->check_writable();
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
                  state_->h5_name(), state_->path_of(info.name));
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
                state.h5_name(), state.path_of(info.name));
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
        state_->h5_name(), state_->path_of(name));
  }
  return member_value(*g, k);
}

void Trace::write_key(std::string_view name, std::string_view key, const DictValue& value) {
  state_->check_writable();
  auto g = dict_group(*state_, name);
  check_member(name, key, value, state_->h5_name(), state_->path_of(name));
  const std::string k(key);
  state_->begin_change();
  if (g->contains(k)) g->remove(k);
  write_member(*g, k, value);
  VariableInfo info = dict_info(std::string(name), *g);
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
        created_(options.outputs.size(), false),
        hashes_(options.outputs.size()) {}

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
    hashes_[i].clear();  // written through the dataset: hashed when the step ends
    return state_.h5_group()->create_dataset(name, options);
  }
  void set_output(std::size_t i, ArrayView values) override {
    check_numeric(fmt::format("output {}", options_.outputs.at(i)), values.dtype(),
                  state_.h5_name(), state_.path_of(options_.outputs.at(i)));
    create_output(i,
                  store::DatasetOptions{.dtype = values.dtype().native(), .shape = values.shape()})
        ->write(Selection(), values);
    hashes_[i] = hash_values(values, "array");  // in RAM now: no read back
  }
  std::uint64_t seed() const override { return state_.record.seed; }
  Random random() const override { return random_; }
  fs::path files_folder() override { return trace_.files_folder(); }
  fs::path readings_folder() override { return trace_.readings_folder(); }
  fs::path outputs_folder() override { return trace_.outputs_folder(); }

  bool created(std::size_t i) const { return created_[i]; }
  // Output i's content hash when it came from RAM, else empty.
  const std::string& hash(std::size_t i) const { return hashes_[i]; }

 private:
  Trace& trace_;
  Trace::State& state_;
  const ApplyOptions& options_;
  Random random_;
  std::vector<bool> created_;
  std::vector<std::string> hashes_;
};

}  // namespace

ApplyResult Trace::apply(std::string_view operation, const ApplyOptions& options) {
  auto op = OperationRegistry::instance().make(operation);
  return apply(*op, options);
}

ApplyResult Trace::apply(Operation& operation, const ApplyOptions& options) {
  state_->check_writable();
  State& s = *state_;
  std::vector<Port> inputs;
  for (const auto& name : options.inputs) {
    const VariableInfo& input = s.variable(name);
    inputs.push_back(
        {.name = name,
         .hash = input.kind == VariableKind::link ? s.refresh_link(name).hash : input.hash});
  }
  std::set<std::string> seen;
  for (const auto& name : options.outputs) {
    check_variable_name(name);
    if (!seen.insert(name).second) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("operation {}: output {} is named twice", operation.name(), name),
                  s.h5_name(), s.path_of(name));
    }
    if (std::find(options.inputs.begin(), options.inputs.end(), name) != options.inputs.end()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("operation {}: {} is both an input and an output (write the result "
                              "to a new variable)",
                              operation.name(), name),
                  s.h5_name(), s.path_of(name));
    }
  }
  if (!options.params.is_object()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("operation {}: params must be a JSON object, got {}", operation.name(),
                            options.params.dump()),
                s.json_path().string());
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

  s.begin_change();
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
  s.h5().flush();
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
    s.h5().flush();
    s.write_json();
  };
  try {
    operation.apply(context);
    for (std::size_t i = 0; i < options.outputs.size(); ++i) {
      if (!context.created(i)) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("operation {} did not write its output {}", op_name, options.outputs[i]),
            s.h5_name(), s.path_of(options.outputs[i]));
      }
    }
    for (std::size_t i = 0; i < options.outputs.size(); ++i) {
      const std::string& name = options.outputs[i];
      auto ds = s.h5_group()->open_dataset(name);
      const std::string hash =
          context.hash(i).empty() ? hash_dataset(*ds, "array") : context.hash(i);
      mark(ds->attrs(), "array", hash);
      s.record_variable(s.info_of_dataset(name, *ds, VariableKind::array, hash));
      node.outputs[i].hash = hash;
    }
  } catch (const std::exception& e) {
    fail(e.what());
    throw;
  }
  s.h5().flush();
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
  State& s = *state_;
  if (s.closed) return;
  if (s.h5_open()) s.store->flush();
  // A session that changed nothing never opened trace.h5 for writing and
  // leaves trace.json as it found it.
  if (!s.read_only && (!s.record.clean || s.dirty)) {
    s.record.clean = true;
    s.write_json();
  }
  s.linked.clear();
  if (s.h5_open()) s.store->close();
  s.closed = true;
  s.release();
}

void Trace::flush() {
  if (!state_ || state_->closed || state_->read_only) return;
  if (state_->h5_open()) state_->store->flush();
  if (state_->dirty) state_->write_json();
}

}  // namespace larder::trace
