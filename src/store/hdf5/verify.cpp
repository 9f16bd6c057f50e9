// Opening a file of unknown origin in a child process first: libhdf5 1.10
// crashes or hangs on some crafted files, and a crash there must not take
// the caller's process with it.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "driver.h"
#include "larder/core/error.h"

namespace larder::store::hdf5 {
namespace {

constexpr auto kTimeout = std::chrono::seconds(30);

// Touches every object, attribute and datatype reachable through hard links,
// and the first element of every dataset whose data lives in this file.
herr_t visit_object(hid_t file, const char* name, const H5O_info_t* info, void*) {
  if (info->type == H5O_TYPE_DATASET) {
    Handle dataset = dataset_handle(H5Dopen2(file, name, H5P_DEFAULT));
    if (!dataset) return -1;
    Handle type = type_handle(H5Dget_type(dataset.get()));
    Handle space = space_handle(H5Dget_space(dataset.get()));
    Handle dcpl = plist_handle(H5Dget_create_plist(dataset.get()));
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    const bool external = H5Pget_external_count(dcpl.get()) > 0 || layout == H5D_VIRTUAL;
    const hssize_t points = H5Sget_simple_extent_npoints(space.get());
    if (!external && points > 0 && H5Tis_variable_str(type.get()) <= 0 &&
        H5Tget_size(type.get()) <= 4096) {
      std::vector<hsize_t> start(
          static_cast<std::size_t>(std::max(H5Sget_simple_extent_ndims(space.get()), 0)), 0);
      std::vector<hsize_t> count(start.size(), 1);
      if (!start.empty())
        H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr);
      const hsize_t one = 1;
      Handle memory = space_handle(H5Screate_simple(1, &one, nullptr));
      std::vector<char> element(H5Tget_size(type.get()));
      if (H5Dread(dataset.get(), type.get(), memory.get(), space.get(), H5P_DEFAULT,
                  element.data()) < 0)
        return -1;
    }
  }
  hsize_t index = 0;
  return H5Aiterate_by_name(
      file, name, H5_INDEX_NAME, H5_ITER_INC, &index,
      [](hid_t object, const char* attr_name, const H5A_info_t*, void*) -> herr_t {
        Handle attr = attribute_handle(H5Aopen(object, attr_name, H5P_DEFAULT));
        if (!attr) return -1;
        Handle type = type_handle(H5Aget_type(attr.get()));
        Handle space = space_handle(H5Aget_space(attr.get()));
        return type && space ? 0 : -1;
      },
      nullptr, H5P_DEFAULT);
}

[[noreturn]] void child(const std::filesystem::path& path, int out) {
  std::string message;
  int status = 0;
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    message = "cannot open the file (" + error_stack() + ")";
    status = 3;
  } else if (H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, visit_object, nullptr, H5O_INFO_BASIC) <
             0) {
    message = "cannot read every object (" + error_stack() + ")";
    status = 3;
  }
  if (!message.empty()) (void)!::write(out, message.data(), message.size());
  ::_exit(status);
}

}  // namespace

void verify_in_child(const std::filesystem::path& path, const StoreOptions&) {
  const std::string name = path.string();
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0)
    throw Error(ErrorCode::io, "cannot create a pipe to verify the file", name);
  pid_t pid;
  {
    // Holding the lock, no other thread of ours is inside libhdf5 at the fork.
    Hdf5Lock lock;
    pid = ::fork();
    if (pid == 0) {
      reset_lock_in_child();
      ::close(pipe_fds[0]);
      child(path, pipe_fds[1]);
    }
  }
  ::close(pipe_fds[1]);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    throw Error(ErrorCode::io,
                fmt::format("cannot fork to verify the file: {}", std::strerror(errno)), name);
  }
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  int status = 0;
  bool done = false;
  while (!done) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      done = true;
    } else if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(pipe_fds[0]);
      throw Error(
          ErrorCode::corrupt,
          fmt::format("the HDF5 library hung for {} s reading the file; it is not safe to open",
                      kTimeout.count()),
          name);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  std::string message(4096, '\0');
  const ssize_t n = ::read(pipe_fds[0], message.data(), message.size());
  message.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  ::close(pipe_fds[0]);
  if (WIFSIGNALED(status)) {
    throw Error(
        ErrorCode::corrupt,
        fmt::format(
            "the HDF5 library crashed (signal {}, {}) reading the file; it is not safe to open",
            WTERMSIG(status), strsignal(WTERMSIG(status))),
        name);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    throw Error(ErrorCode::corrupt, message.empty() ? "the file does not read cleanly" : message,
                name);
  }
}

}  // namespace larder::store::hdf5
