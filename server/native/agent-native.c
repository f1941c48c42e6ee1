/*
 * The agent's calls into the kernel and libc that node has no API for
 * (server/src/native.ts loads them):
 *   dropPages(start, length) -> 0 or errno: madvise(MADV_DONTNEED) on a range
 *     of the agent's own address space. The caller passes only private,
 *     read-only mappings of files with no page of their own, whose pages the
 *     kernel faults back from the page cache when they are used again
 *     (server/src/memory-release.ts).
 *   trimHeap() -> boolean: malloc_trim(0), which gives the free pages of
 *     malloc's heap back to the kernel.
 *   keepHeap(block, keep) -> boolean: mallopt(M_MMAP_THRESHOLD, block) and
 *     mallopt(M_TRIM_THRESHOLD, keep): blocks up to `block` bytes come from
 *     malloc's heap, and up to `keep` bytes of free memory stay there for
 *     the next ones (not unmapped, then faulted in and zeroed again);
 *     trimHeap() gives them back when the agent goes idle.
 *   pipeSize(fd) -> bytes, or -errno: F_GETPIPE_SZ.
 *   setPipeSize(fd, bytes) -> the pipe's new size, or -errno: F_SETPIPE_SZ
 *     (server/src/stdio-pipes.ts).
 * Built by scripts/build.mjs as dist/berth-agent-native.node (N-API, so any
 * node of the same ABI version loads it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <node_api.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value drop_pages(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2)
    return throw_type_error(env, "dropPages(start, length) takes two numbers");
  double start, length;
  if (napi_get_value_double(env, argv[0], &start) != napi_ok || napi_get_value_double(env, argv[1], &length) != napi_ok)
    return throw_type_error(env, "dropPages(start, length) takes two numbers");
  /* Whole pages of user space only; doubles hold any x86-64 user address exactly. */
  const double page = (double)sysconf(_SC_PAGESIZE);
  if (start <= 0 || length <= 0 || start >= 9007199254740992.0 || length >= 9007199254740992.0 ||
      (double)(uint64_t)start != start || (double)(uint64_t)length != length ||
      (uint64_t)start % (uint64_t)page != 0 || (uint64_t)length % (uint64_t)page != 0)
    return throw_type_error(env, "dropPages: start and length must be positive multiples of the page size");
  int rc = madvise((void *)(uintptr_t)start, (size_t)length, MADV_DONTNEED) == 0 ? 0 : errno;
  napi_value out;
  napi_create_int32(env, rc, &out);
  return out;
}

static napi_value trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) == 1, &out);
  return out;
}

/* Reads a non-negative int argument; 0 when the value is not one. */
static int int_arg(napi_env env, napi_value value, int *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d < 0 || d > 2147483647.0 || (double)(int)d != d) return 0;
  *out = (int)d;
  return 1;
}

static napi_value keep_heap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int block, keep;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !int_arg(env, argv[0], &block) ||
      !int_arg(env, argv[1], &keep) || block == 0 || keep == 0)
    return throw_type_error(env, "keepHeap(block, keep) takes two positive sizes");
  napi_value out;
  napi_get_boolean(env, mallopt(M_MMAP_THRESHOLD, block) == 1 && mallopt(M_TRIM_THRESHOLD, keep) == 1, &out);
  return out;
}

static napi_value pipe_size(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || !int_arg(env, argv[0], &fd))
    return throw_type_error(env, "pipeSize(fd) takes a file descriptor");
  int rc = fcntl(fd, F_GETPIPE_SZ);
  napi_value out;
  napi_create_int32(env, rc < 0 ? -errno : rc, &out);
  return out;
}

static napi_value set_pipe_size(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int fd, bytes;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !int_arg(env, argv[0], &fd) ||
      !int_arg(env, argv[1], &bytes) || bytes == 0)
    return throw_type_error(env, "setPipeSize(fd, bytes) takes a file descriptor and a positive size");
  int rc = fcntl(fd, F_SETPIPE_SZ, bytes);
  napi_value out;
  napi_create_int32(env, rc < 0 ? -errno : rc, &out);
  return out;
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } calls[] = {
    {"dropPages", drop_pages}, {"trimHeap", trim_heap}, {"keepHeap", keep_heap}, {"pipeSize", pipe_size}, {"setPipeSize", set_pipe_size},
  };
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, calls[i].name, NAPI_AUTO_LENGTH, calls[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, calls[i].name, fn) != napi_ok)
      return NULL;
  }
  return exports;
}
