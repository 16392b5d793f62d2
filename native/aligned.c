// Page-aligned buffers for writes that skip the page cache (O_DIRECT), which need the buffer's
// address, the length and the file offset on block boundaries. Node cannot align an ArrayBuffer,
// so the memory is an anonymous mapping: page-aligned, zeroed and backed lazily, like calloc.
#include <node_api.h>
#include <sys/mman.h>
#include <stdint.h>

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
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { napi_throw_error(env, "ALIGNED", "out of memory"); return NULL; }
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
