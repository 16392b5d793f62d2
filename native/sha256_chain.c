// SHA-256 that starts from and stops at a chaining value (a "midstate"), so a chunk of a blob
// can be checked against the blob's own hash chain out of order, in one pass over its bytes.
// Node's crypto module hides the state; this calls the SHA256_* functions of the OpenSSL that
// the node binary itself exports (SHA-NI where the CPU has it), so nothing else is linked.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "SHA256_CHAIN", #call " failed"); return NULL; } } while (0)

typedef struct {
  uint8_t state[32];
  const uint8_t *data;
  size_t len;
  double before;
  int final;
  uint8_t out[32];
} run_t;

// Hashes `len` bytes on from `state`, `before` bytes into the message. Without `final` the
// result is the next chaining value (len must be a multiple of 64); with it, the digest.
static void run(run_t *r) {
  SHA256_CTX c;
  SHA256_Init(&c);
  for (int i = 0; i < 8; i++) {
    const uint8_t *p = r->state + 4 * i;
    c.h[i] = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
  }
  uint64_t bits = (uint64_t)r->before * 8;
  c.Nl = (SHA_LONG)bits;
  c.Nh = (SHA_LONG)(bits >> 32);
  SHA256_Update(&c, r->data, r->len);
  if (r->final) { SHA256_Final(r->out, &c); return; }
  for (int i = 0; i < 8; i++) {
    r->out[4 * i] = c.h[i] >> 24; r->out[4 * i + 1] = c.h[i] >> 16;
    r->out[4 * i + 2] = c.h[i] >> 8; r->out[4 * i + 3] = c.h[i];
  }
}

static int bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  size_t n, offset;
  void *p;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &n, &p, &ab, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = p; *len = n;
  return 1;
}

// Reads (state, data, before, final) into r; throws and returns 0 on bad arguments.
static int parse(napi_env env, napi_callback_info info, run_t *r) {
  size_t argc = 4;
  napi_value argv[4];
  uint8_t *state, *data;
  size_t slen, dlen;
  bool final;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      !bytes_of(env, argv[0], &state, &slen) || slen != 32 || !bytes_of(env, argv[1], &data, &dlen) ||
      napi_get_value_double(env, argv[2], &r->before) != napi_ok || napi_get_value_bool(env, argv[3], &final) != napi_ok) {
    napi_throw_type_error(env, "SHA256_CHAIN", "expected (state: 32 bytes, data: Uint8Array, before: number, final: boolean)");
    return 0;
  }
  r->final = final;
  if (!(r->before >= 0) || r->before > 9007199254740991.0 || r->before != (double)(uint64_t)r->before ||
      (uint64_t)r->before % 64 != 0 || (!final && dlen % 64 != 0)) {
    napi_throw_range_error(env, "SHA256_CHAIN", "a chain step starts and, unless final, ends on a 64-byte block");
    return 0;
  }
  memcpy(r->state, state, 32);
  r->data = data;
  r->len = dlen;
  return 1;
}

static napi_value result(napi_env env, const uint8_t out[32]) {
  napi_value ab, arr;
  void *p;
  CHECK(napi_create_arraybuffer(env, 32, &p, &ab));
  memcpy(p, out, 32);
  CHECK(napi_create_typedarray(env, napi_uint8_array, 32, ab, 0, &arr));
  return arr;
}

static napi_value step_sync(napi_env env, napi_callback_info info) {
  run_t r;
  if (!parse(env, info, &r)) return NULL;
  run(&r);
  return result(env, r.out);
}

// The same step on libuv's thread pool, so a chunk's check does not hold the event loop: the
// arguments' buffers are kept alive by references until the promise settles, and must not be
// written meanwhile (the caller owns them until then).
typedef struct {
  run_t r;
  napi_ref keep[2];
  napi_deferred deferred;
  napi_async_work work;
} job_t;

static void job_run(napi_env env, void *data) { (void)env; run(&((job_t *)data)->r); }

static void job_done(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  napi_value v = NULL;
  if (status == napi_ok) v = result(env, j->r.out);
  if (v != NULL) napi_resolve_deferred(env, j->deferred, v);
  else {
    napi_value msg, err;
    napi_get_and_clear_last_exception(env, &err);
    napi_create_string_utf8(env, "the sha256 step was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, j->deferred, err);
  }
  napi_delete_reference(env, j->keep[0]);
  napi_delete_reference(env, j->keep[1]);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value step_async(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], name, promise;
  job_t *j = calloc(1, sizeof(job_t));
  if (j == NULL) { napi_throw_error(env, "SHA256_CHAIN", "out of memory"); return NULL; }
  if (!parse(env, info, &j->r)) { free(j); return NULL; }
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
      napi_create_reference(env, argv[0], 1, &j->keep[0]) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &j->keep[1]) != napi_ok ||
      napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "sha256-chain-step", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, job_run, job_done, j, &j->work) != napi_ok) {
    if (j->keep[0] != NULL) napi_delete_reference(env, j->keep[0]);
    if (j->keep[1] != NULL) napi_delete_reference(env, j->keep[1]);
    free(j);
    napi_throw_error(env, "SHA256_CHAIN", "could not set up the step");
    return NULL;
  }
  // Once queued, job_done runs whatever happens and frees the job.
  if (napi_queue_async_work(env, j->work) != napi_ok) {
    napi_value err;
    napi_create_string_utf8(env, "could not queue the step", NAPI_AUTO_LENGTH, &name);
    napi_create_error(env, NULL, name, &err);
    napi_reject_deferred(env, j->deferred, err);
    napi_delete_async_work(env, j->work);
    napi_delete_reference(env, j->keep[0]);
    napi_delete_reference(env, j->keep[1]);
    free(j);
  }
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value f;
  CHECK(napi_create_function(env, "step", NAPI_AUTO_LENGTH, step_sync, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "step", f));
  CHECK(napi_create_function(env, "stepAsync", NAPI_AUTO_LENGTH, step_async, NULL, &f));
  CHECK(napi_set_named_property(env, exports, "stepAsync", f));
  return exports;
}
