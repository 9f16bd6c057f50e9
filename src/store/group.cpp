#include "larder/store/group.h"

#include <fmt/format.h>

#include "larder/core/error.h"

namespace larder::store {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    const std::size_t end = std::min(path.find('/', pos), path.size());
    const std::string_view part = path.substr(pos, end - pos);
    if (part == "." || part == "..") {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("path '{}' has a '{}' segment; use plain names", path, part));
    }
    if (!part.empty()) parts.emplace_back(part);
    pos = end + 1;
  }
  return parts;
}

std::string Node::name() const {
  const std::string& p = path();
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

void Group::visit(const std::function<void(const std::string&, NodeKind)>& visit) {
  for (const auto& member : members()) {
    visit(member.name, member.kind);
    if (member.kind == NodeKind::group) {
      open_group(member.name)->visit([&](const std::string& sub, NodeKind kind) {
        visit(member.name + "/" + sub, kind);
      });
    }
  }
}

}  // namespace larder::store
