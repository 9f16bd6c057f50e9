#include "file_io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "larder/core/error.h"

namespace larder::store {

ReadOnlyFile::ReadOnlyFile(const std::string& name)
    : fd_(::open(name.c_str(), O_RDONLY | O_CLOEXEC)) {
  if (fd_ < 0) {
    throw Error(ErrorCode::io,
                fmt::format("cannot open {} for reading: {}", name, std::strerror(errno)), name);
  }
}

ReadOnlyFile::~ReadOnlyFile() {
  ::close(fd_);
}

std::size_t read_at(int fd, std::span<std::byte> out, std::uint64_t offset, const std::string& file,
                    const std::string& path) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw Error(ErrorCode::io,
                  fmt::format("cannot read at byte {}: {}", offset + done, std::strerror(errno)),
                  file, path);
    }
    if (n == 0) break;  // the end of the file
    done += static_cast<std::size_t>(n);
  }
  return done;
}

void write_at(int fd, std::span<const std::byte> bytes, std::uint64_t offset,
              const std::string& file, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error(ErrorCode::io,
                  fmt::format("cannot write at byte {}: {}", offset + done,
                              n < 0 ? std::strerror(errno) : "nothing written"),
                  file, path);
    }
    done += static_cast<std::size_t>(n);
  }
}

void replace_file(const std::filesystem::path& file, std::span<const std::byte> bytes,
                  const ReplaceOptions& options) {
  const std::string temp_name =
      options.temp.empty() ? file.string() + ".tmp" : options.temp.string();
  const int fd = ::open(temp_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  for (std::size_t done = 0; ok && done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  if (ok && options.sync) ok = ::fsync(fd) == 0;
  const int error = errno;
  if (fd >= 0 && ::close(fd) != 0) ok = false;
  if (!ok || ::rename(temp_name.c_str(), file.c_str()) != 0) {
    const std::string reason = std::strerror(ok ? errno : error);
    ::unlink(temp_name.c_str());
    throw Error(ErrorCode::io, fmt::format("cannot write {}: {}", file.string(), reason),
                file.string());
  }
  if (options.sync) {  // the rename itself, in the folder
    const std::filesystem::path folder = file.has_parent_path() ? file.parent_path() : ".";
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
}

void replace_file(const std::filesystem::path& file, std::string_view text,
                  const ReplaceOptions& options) {
  replace_file(file, std::as_bytes(std::span(text.data(), text.size())), options);
}

void make_directories(const std::filesystem::path& folder, std::string_view what) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec)
    throw Error(ErrorCode::io, fmt::format("cannot make {}: {}", what, ec.message()),
                folder.string());
}

void create_store_directory(const std::filesystem::path& path, const std::string& name,
                            std::string_view text) {
  const std::string store = path.string();
  const std::filesystem::path temp = fmt::format("{}.larder-new-{}", store, ::getpid());
  std::error_code ec;
  std::filesystem::remove_all(temp, ec);
  std::filesystem::create_directory(temp, ec);
  if (ec)
    throw Error(ErrorCode::io, fmt::format("cannot create the store: {}", ec.message()), store);
  replace_file(temp / name, text);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::filesystem::remove_all(temp, ec);
    throw Error(ErrorCode::io,
                fmt::format("cannot create the store: {}",
                            error == ENOTEMPTY || error == EEXIST
                                ? "it exists and mode 'w-' does not overwrite"
                                : std::strerror(error)),
                store);
  }
}

std::string read_text(const std::filesystem::path& file, const std::string& node_path,
                      std::uint64_t max_bytes) {
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(file, ec);
  if (ec) {
    const ErrorCode code =
        ec == std::errc::no_such_file_or_directory ? ErrorCode::not_found : ErrorCode::io;
    throw Error(code, fmt::format("cannot read {}: {}", file.string(), ec.message()), file.string(),
                node_path);
  }
  if (size > max_bytes) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} holds {} bytes, more than the {} read here", file.string(), size,
                            max_bytes),
                file.string(), node_path);
  }
  std::string text(size, '\0');
  std::ifstream in(file, std::ios::binary);
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(size))) {
    throw Error(ErrorCode::io, fmt::format("cannot read {}", file.string()), file.string(),
                node_path);
  }
  return text;
}

}  // namespace larder::store
