// Attributes of memory groups and arrays: JSON values and Arrays held as
// given (an Array keeps its dtype, byte order and shape); get() copies.
#include <fmt/format.h>

#include <mutex>

#include "driver.h"
#include "larder/core/error.h"

namespace larder::store::memory {
namespace {

class MemoryAttributes final : public Attributes {
 public:
  MemoryAttributes(Context context, std::shared_ptr<NodeData> data, std::string path)
      : context_(std::move(context)), data_(std::move(data)), path_(std::move(path)) {}

  std::vector<std::string> names() const override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    std::vector<std::string> out;
    out.reserve(data_->attrs.size());
    for (const auto& [name, value] : data_->attrs)
      out.push_back(name);
    return out;
  }

  bool contains(std::string_view name) const override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    return data_->attrs.contains(name);
  }

  AttributeValue get(std::string_view name) const override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    const auto it = data_->attrs.find(name);
    if (it == data_->attrs.end()) {
      lock.unlock();  // missing() lists the names, under the lock again
      throw missing(name, context_->name, path_);
    }
    if (const auto* json = std::get_if<nlohmann::json>(&it->second)) return *json;
    return std::get<Array>(it->second).clone();
  }

  void set(std::string_view name, const nlohmann::json& value) override {
    std::unique_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    data_->attrs.insert_or_assign(std::string(name), value);
  }

  void set(std::string_view name, ArrayView value) override {
    std::unique_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    if (!value.dtype().is_fixed_size()) {
      throw Error(ErrorCode::unsupported, "array attributes need a fixed-size dtype",
                  context_->name, path_);
    }
    data_->attrs.insert_or_assign(std::string(name), Array::copy_of(value));
  }

  void remove(std::string_view name) override {
    std::unique_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    const auto it = data_->attrs.find(name);
    if (it == data_->attrs.end()) {
      lock.unlock();
      throw missing(name, context_->name, path_);
    }
    data_->attrs.erase(it);
  }

 private:
  Context context_;
  std::shared_ptr<NodeData> data_;
  std::string path_;
};

}  // namespace

std::unique_ptr<Attributes> make_attributes(Context context, std::shared_ptr<NodeData> data,
                                            std::string path) {
  return std::make_unique<MemoryAttributes>(std::move(context), std::move(data), std::move(path));
}

}  // namespace larder::store::memory
