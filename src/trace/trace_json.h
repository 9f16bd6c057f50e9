// trace.json: the record of a trace (docs/formats/trace.md), parsed and
// formatted. parse_trace_json takes untrusted text (fuzzed): anything but a
// well-formed record is Error(corrupt) naming `origin`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "larder/trace/graph.h"
#include "larder/trace/variable.h"

namespace larder::trace {

struct GroupRecord {
  std::map<std::string, VariableInfo> variables;
  std::vector<Node> nodes;
  std::int64_t next_id = 1;
};

struct TraceRecord {
  std::string code;
  std::uint64_t seed = 0;
  // Written by close(): the record lists exactly what trace.h5 holds.
  bool clean = false;
  std::map<std::string, GroupRecord> groups;
};

TraceRecord parse_trace_json(std::string_view text, const std::string& origin);
std::string format_trace_json(const TraceRecord& record);

nlohmann::json variable_to_json(const VariableInfo& info);
VariableInfo variable_from_json(const std::string& name, const nlohmann::json& json,
                                const std::string& origin);

}  // namespace larder::trace
