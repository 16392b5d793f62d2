// Page-aligned buffers for writes that skip the page cache (O_DIRECT), which need the buffer's
// address, the length and the file offset on block boundaries. Node cannot align an ArrayBuffer,
// so the memory is an anonymous mapping: page-aligned and zeroed, like calloc.
//
// A buffer of 2 MiB or more sits on a 2 MiB boundary, asks for transparent huge pages and is
// backed at once. Why: a chunk buffer backed lazily takes one page fault per 4 KiB on its first
// fill, and in a virtual machine each fault costs 7-15 us (a fresh 4 MiB buffer: ~12 ms of CPU,
// what copying 200 MB costs); with huge pages backed in one call it is a fraction of a ms. Where
// huge pages are off or none is free, the kernel backs it with small pages, still in one call.
#include <node_api.h>
#include <sys/mman.h>
#include <stdint.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define HUGE_PAGE ((size_t)2 << 20)

// A mapping of `len` bytes (whole pages); from HUGE_PAGE up it starts on a HUGE_PAGE boundary and is backed now.
static void *map_aligned(size_t len) {
  if (len < HUGE_PAGE) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
  }
  size_t span = len + HUGE_PAGE;
  char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  char *a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
  // The slack before and after goes back, so the mapping is [a, a + len) in whole pages.
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char *end = a + ((len + page - 1) & ~(page - 1));
  if (a > p) munmap(p, (size_t)(a - p));
  if (p + span > end) munmap(end, (size_t)(p + span - end));
  // Both are hints: a kernel without them leaves the buffer to fault in as before.
  (void)madvise(a, len, MADV_HUGEPAGE);
  (void)madvise(a, len, MADV_POPULATE_WRITE);
  return a;
}

static void unmap(napi_env env, void *data, void *hint) {
  size_t len = (size_t)(uintptr_t)hint;
  int64_t ignored;
  munmap(data, len);
  napi_adjust_external_memory(env, -(int64_t)len, &ignored);
}

static napi_value alloc(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ab, arr;
  double n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_double(env, argv[0], &n) != napi_ok || !(n >= 1) || n > 4294967296.0 || n != (double)(size_t)n) {
    napi_throw_range_error(env, "ALIGNED", "expected a size from 1 byte to 4 GiB");
    return NULL;
  }
  size_t len = (size_t)n;
  void *p = map_aligned(len);
  if (p == NULL) { napi_throw_error(env, "ALIGNED", "out of memory"); return NULL; }
  if (napi_create_external_arraybuffer(env, p, len, unmap, (void *)(uintptr_t)len, &ab) != napi_ok) {
    munmap(p, len);
    napi_throw_error(env, "ALIGNED", "could not wrap the mapping");
    return NULL;
  }
  int64_t ignored;
  // Tells V8 how much memory the wrapper holds, so a dropped buffer is collected in time.
  napi_adjust_external_memory(env, (int64_t)len, &ignored);
  if (napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &arr) != napi_ok) {
    napi_throw_error(env, "ALIGNED", "could not make a view");
    return NULL;
  }
  return arr;
}

NAPI_MODULE_INIT() {
  napi_value f;
  if (napi_create_function(env, "alloc", NAPI_AUTO_LENGTH, alloc, NULL, &f) != napi_ok ||
      napi_set_named_property(env, exports, "alloc", f) != napi_ok) {
    napi_throw_error(env, "ALIGNED", "module init failed");
    return NULL;
  }
  return exports;
}
