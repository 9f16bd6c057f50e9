// The JSON sidecar of a memory-mapped array (NAME.json beside NAME.bin),
// parsed from bytes and written back; docs/formats/mmap.md specifies it.
// Version 1 and 2 sidecars are read; version 2 is written. An extendable
// version 2 array also has a commit file (commit.h), which may record
// rows committed after the sidecar was written.
//
// parse_sidecar() is the one place untrusted sidecar bytes are read: every
// field is checked (types, signs, overflow of rows x row bytes, checksum
// count) and anything wrong is Error(corrupt) naming the file. Value types,
// no shared state: thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/dtype.h"
#include "larder/core/shape.h"

namespace larder::store::mmap {

constexpr std::uint64_t kDefaultBlockBytes = std::uint64_t{4} << 20;
// Arrays of more bytes than this are refused as corrupt: no file holds
// them, and rows x row bytes cannot overflow below it.
constexpr std::uint64_t kMaxArrayBytes = std::uint64_t{1} << 60;
constexpr int kSidecarVersion = 2;  // what format_sidecar writes

struct Sidecar {
  // 1: the sidecar alone is the commit. 2: an extendable array's commit
  // file may hold later commits than `commit_sequence`.
  int version = kSidecarVersion;
  std::uint64_t commit_sequence = 0;  // the commit this sidecar records (version 2)
  DType dtype = DType::float64();
  Shape shape;  // shape[0] is the committed row count (rank >= 1)
  bool extendable = false;
  nlohmann::json fill_value{};  // null: zeros
  std::uint64_t block_bytes = kDefaultBlockBytes;
  // xxh3-64 of each block_bytes-long piece of the committed bytes (the last
  // one shorter); ceil(committed_bytes() / block_bytes) of them.
  std::vector<std::uint64_t> checksums;
  nlohmann::json attrs = nlohmann::json::object();
  nlohmann::json array_attrs = nlohmann::json::object();

  // Bytes of one row (of the whole array for rank 0) and rows committed.
  std::uint64_t row_bytes() const;
  std::uint64_t rows() const;
  std::uint64_t committed_bytes() const { return rows() * row_bytes(); }
};

// Error(corrupt) naming `file` for anything that is not a valid sidecar.
Sidecar parse_sidecar(std::string_view text, const std::string& file);
std::string format_sidecar(const Sidecar& sidecar);

// xxh3-64 checksums of `bytes` cut into blocks of `block_bytes`.
std::vector<std::uint64_t> block_checksums(std::span<const std::byte> bytes,
                                           std::uint64_t block_bytes);

}  // namespace larder::store::mmap
