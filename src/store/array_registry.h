// ArrayRegistry — one shared state per array path in an open store, for the
// directory drivers (mmap, zarr): every Dataset object of one array uses
// the same State, whichever group handed it out, and removing a group or
// an array marks the states below it as removed. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace larder::store {

template <class State>
class ArrayRegistry {
 public:
  // The live state of `path`, or a new one from `make` (then `fresh`).
  std::shared_ptr<State> get(const std::string& path, bool& fresh,
                             const std::function<std::shared_ptr<State>()>& make) {
    std::lock_guard lock(mutex_);
    if (auto existing = states_[path].lock()) {
      fresh = false;
      return existing;
    }
    auto state = make();
    states_[path] = state;
    fresh = true;
    return state;
  }

  // Forgets `path` (a state that failed to load).
  void erase(const std::string& path) {
    std::lock_guard lock(mutex_);
    states_.erase(path);
  }

  // Calls `mark` on every live state at or below `path`, and forgets them.
  void forget(const std::string& path, const std::function<void(State&)>& mark) {
    std::lock_guard lock(mutex_);
    const std::string below = path == "/" ? "/" : path + "/";
    for (auto it = states_.begin(); it != states_.end();) {
      if (it->first == path || it->first.starts_with(below)) {
        if (auto state = it->second.lock()) mark(*state);
        it = states_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<State>> states_;
};

}  // namespace larder::store
