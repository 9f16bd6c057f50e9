#include "larder/core/progress.h"

namespace larder {
namespace {

class SilentProgress final : public Progress {
 public:
  void start(std::string_view, std::int64_t) override {}
  void advance(std::int64_t) override {}
  void finish() override {}
};

}  // namespace

Progress& silent_progress() {
  static SilentProgress silent;
  return silent;
}

}  // namespace larder
