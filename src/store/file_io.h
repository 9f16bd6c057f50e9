// Whole reads and writes at an offset of a file descriptor: pread/pwrite
// retried on EINTR and short transfers. Shared by the store drivers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace larder::store {

// Reads `out.size()` bytes at `offset`; returns how many it read, fewer only
// where the file ends. Error(io) naming `file` and `path` if the read fails.
std::size_t read_at(int fd, std::span<std::byte> out, std::uint64_t offset, const std::string& file,
                    const std::string& path);

// Writes all of `bytes` at `offset`; Error(io) naming `file` and `path` if
// the write fails.
void write_at(int fd, std::span<const std::byte> bytes, std::uint64_t offset,
              const std::string& file, const std::string& path);

}  // namespace larder::store
