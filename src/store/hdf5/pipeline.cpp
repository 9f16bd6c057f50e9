#include "pipeline.h"

#include <fmt/format.h>

#include <cstring>

#include "larder/codec/registry.h"
#include "larder/core/error.h"

namespace larder::store::hdf5 {
namespace {

constexpr unsigned kShuffle = 2;

// HDF5's shuffle filter: byte j of element i goes to j * n + i; bytes past
// the last whole element stay where they are.
void byte_shuffle(std::span<const std::byte> in, std::span<std::byte> out, std::size_t size) {
  const std::size_t n = in.size() / size;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < size; ++j)
      out[j * n + i] = in[i * size + j];
  std::memcpy(out.data() + n * size, in.data() + n * size, in.size() - n * size);
}

void byte_unshuffle(std::span<const std::byte> in, std::span<std::byte> out, std::size_t size) {
  const std::size_t n = in.size() / size;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < size; ++j)
      out[i * size + j] = in[j * n + i];
  std::memcpy(out.data() + n * size, in.data() + n * size, in.size() - n * size);
}

}  // namespace

Pipeline Pipeline::from_dcpl(hid_t dcpl, std::size_t item_size) {
  Pipeline p;
  p.item_size_ = item_size;
  const int count = H5Pget_nfilters(dcpl);
  for (int i = 0; i < count; ++i) {
    unsigned flags = 0;
    unsigned cd[32] = {};
    std::size_t cd_count = 32;
    char name[256] = {};
    unsigned config = 0;
    const H5Z_filter_t id = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &cd_count, cd,
                                           sizeof(name), name, &config);
    if (id < 0) {
      H5Eclear2(H5E_DEFAULT);
      p.direct_ = false;
      continue;
    }
    const auto uid = static_cast<unsigned>(id);
    if (uid == kShuffle) {
      p.steps_.push_back({uid, "shuffle", nullptr});
      continue;
    }
    try {
      const auto spec = codec::CodecRegistry::builtin().spec_from_hdf5(
          uid, std::span<const unsigned>(cd, std::min<std::size_t>(cd_count, 32)));
      p.steps_.push_back({uid, spec.to_string(), codec::make_codec(spec)});
    } catch (const Error&) {
      p.direct_ = false;
      p.steps_.push_back({uid, name[0] != '\0' ? name : fmt::format("filter {}", uid), nullptr});
      p.unknown_ += p.unknown_.empty() ? p.steps_.back().name : ", " + p.steps_.back().name;
    }
  }
  return p;
}

Pipeline Pipeline::for_codec(const codec::CodecSpec& spec, std::size_t item_size,
                             bool shuffle_first) {
  Pipeline p;
  p.item_size_ = item_size;
  if (shuffle_first) p.steps_.push_back({kShuffle, "shuffle", nullptr});
  if (spec.id == "none") return p;
  auto made = codec::make_codec(spec);
  const unsigned id = made->hdf5_filter(0).id;  // Error(unsupported) when HDF5 has no filter
  p.steps_.push_back({id, made->spec().to_string(), std::move(made)});
  return p;
}

bool Pipeline::shuffles_first() const {
  return !steps_.empty() && !steps_[0].codec;
}

std::optional<codec::CodecSpec> Pipeline::codec() const {
  const std::size_t first = shuffles_first() ? 1 : 0;  // HDF5's shuffle, then the codec
  if (steps_.size() == first) return codec::CodecSpec{.id = "none"};
  if (steps_.size() == first + 1 && steps_[first].codec) return steps_[first].codec->spec();
  return std::nullopt;
}

std::string Pipeline::description() const {
  std::string out;
  for (const auto& s : steps_)
    out += out.empty() ? s.name : "+" + s.name;
  return out;
}

void Pipeline::decode(std::span<const std::byte> stored, unsigned filter_mask,
                      std::span<std::byte> out) const {
  if (!direct_) {
    throw Error(ErrorCode::unsupported,
                fmt::format("filters {} are run by libhdf5, not larder", unknown_));
  }
  // Filters were applied first to last; undo them last to first. The last
  // step to undo writes straight into `out`; earlier ones go through a
  // buffer. Every step preserves the chunk size except the codecs, whose
  // decoded size is the chunk size unless the frame says otherwise.
  std::vector<std::size_t> active;
  for (std::size_t i = steps_.size(); i-- > 0;) {
    if (!(filter_mask & (1u << i))) active.push_back(i);
  }
  if (active.empty()) {
    if (stored.size() != out.size()) {
      throw Error(ErrorCode::corrupt, fmt::format("unfiltered chunk of {} bytes, expected {}",
                                                  stored.size(), out.size()));
    }
    std::memcpy(out.data(), stored.data(), out.size());
    return;
  }
  std::span<const std::byte> input = stored;
  std::vector<std::byte> buffers[2];
  for (std::size_t n = 0; n < active.size(); ++n) {
    const Step& s = steps_[active[n]];
    const bool last = n + 1 == active.size();
    std::span<std::byte> target = out;
    if (!last) {
      std::size_t size = s.codec ? s.codec->decoded_size(input).value_or(out.size()) : input.size();
      buffers[n % 2].resize(size);
      target = buffers[n % 2];
    } else if (!s.codec && input.size() != out.size()) {
      throw Error(ErrorCode::corrupt, fmt::format("chunk of {} bytes through {}, expected {}",
                                                  input.size(), description(), out.size()));
    }
    if (s.codec) {
      s.codec->decode(input, target);
    } else {
      byte_unshuffle(input, target, item_size_);
    }
    input = target;
  }
}

std::vector<std::byte> Pipeline::encode(std::span<const std::byte> chunk) const {
  std::vector<std::byte> current(chunk.begin(), chunk.end());
  std::vector<std::byte> next;
  for (const Step& s : steps_) {
    if (s.codec) {
      next = s.codec->encode(current);
    } else {
      next.resize(current.size());
      byte_shuffle(current, next, item_size_);
    }
    current.swap(next);
  }
  return current;
}

void Pipeline::apply(hid_t dcpl, std::size_t chunk_bytes) const {
  for (const Step& s : steps_) {
    if (!s.codec) {
      check(H5Pset_shuffle(dcpl), "cannot add the shuffle filter");
      continue;
    }
    const auto filter = s.codec->hdf5_filter(chunk_bytes);
    check(H5Pset_filter(dcpl, filter.id, H5Z_FLAG_OPTIONAL, filter.cd_values.size(),
                        filter.cd_values.data()),
          fmt::format("cannot add HDF5 filter {} ({})", filter.id, filter.name));
  }
}

}  // namespace larder::store::hdf5
