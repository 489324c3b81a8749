// The ct_* functions the Swift side calls, as trampolines into libProStudioTorch.so (CShims/CTorchImpl).
//
// libtorch costs ~1.3 s and ~170 MB of RSS just to load. Linking it into `prostudio` made every command
// (validate, jobs, an idle daemon, a render on the embedded engines) pay that. The real shim lives in its
// own shared library, opened on the first call that needs it; a process that never touches a model
// never loads libtorch. When the library cannot be opened, calls that report errors say why, and the
// rest answer "nothing" (version 0, no CUDA).
#define _GNU_SOURCE
#include "ctorch.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Every forwarded function once: X(return type, name, parameters, arguments, value when unavailable).
// Functions that report through `ct_error **err` are listed in CT_STATUS_FUNCTIONS instead.
#define CT_VALUE_FUNCTIONS(X) \
  X(int, ct_version_major, (void), (), 0) \
  X(int, ct_version_minor, (void), (), 0) \
  X(int, ct_version_patch, (void), (), 0) \
  X(bool, ct_built_with_cuda, (void), (), false) \
  X(bool, ct_cuda_is_available, (void), (), false) \
  X(int, ct_cuda_device_count, (void), (), 0) \
  X(int, ct_cuda_driver_version, (void), (), 0) \
  X(int, ct_cuda_runtime_version, (void), (), 0) \
  X(int64_t, ct_process_rss_bytes, (void), (), -1) \
  X(int64_t, ct_process_peak_rss_bytes, (void), (), -1) \
  X(bool, ct_process_reset_peak_rss, (void), (), false) \
  X(int, ct_get_num_threads, (void), (), 0) \
  X(bool, ct_get_graph_executor_optimize, (void), (), false) \
  X(size_t, ct_tensor_ndim, (const ct_tensor *t), (t), 0) \
  X(int64_t, ct_tensor_numel, (const ct_tensor *t), (t), 0) \
  X(bool, ct_tensor_dtype, (const ct_tensor *t, ct_dtype *out), (t, out), false) \
  X(bool, ct_tensor_is_contiguous_cpu, (const ct_tensor *t), (t), false) \
  X(const void *, ct_tensor_data, (const ct_tensor *t, size_t *nbytes), (t, nbytes), NULL) \
  X(void *, ct_tensor_mutable_data, (ct_tensor *t, size_t *nbytes), (t, nbytes), NULL) \
  X(bool, ct_module_has_method, (const ct_module *m, const char *name), (m, name), false) \
  X(ct_dtype, ct_module_dtype, (const ct_module *m), (m), CT_FLOAT32) \
  X(ct_args *, ct_args_new, (void), (), NULL) \
  X(size_t, ct_tensor_list_size, (const ct_tensor_list *l), (l), 0) \
  X(ct_tensor *, ct_tensor_list_get, (const ct_tensor_list *l, size_t i), (l, i), NULL)

#define CT_VOID_FUNCTIONS(X) \
  X(ct_empty_cache, (void), ()) \
  X(ct_set_num_threads, (int n), (n)) \
  X(ct_manual_seed, (uint64_t seed), (seed)) \
  X(ct_set_graph_executor_optimize, (bool on), (on)) \
  X(ct_tensor_free, (ct_tensor *t), (t)) \
  X(ct_tensor_shape, (const ct_tensor *t, int64_t *shape, size_t capacity), (t, shape, capacity)) \
  X(ct_tensor_device, (const ct_tensor *t, char *buf, size_t size), (t, buf, size)) \
  X(ct_module_free, (ct_module *m), (m)) \
  X(ct_module_device, (const ct_module *m, char *buf, size_t size), (m, buf, size)) \
  X(ct_args_free, (ct_args *a), (a)) \
  X(ct_args_push_tensor, (ct_args *a, const ct_tensor *t), (a, t)) \
  X(ct_args_push_int, (ct_args *a, int64_t v), (a, v)) \
  X(ct_args_push_double, (ct_args *a, double v), (a, v)) \
  X(ct_args_push_bool, (ct_args *a, bool v), (a, v)) \
  X(ct_tensor_list_free, (ct_tensor_list *l), (l)) \
  X(ct_error_free_impl, (ct_error *err), (err))

#define CT_STATUS_FUNCTIONS(X) \
  X(ct_cuda_device_name, (int index, char *buf, size_t size, ct_error **err), (index, buf, size, err)) \
  X(ct_cuda_memory_info, (int index, int64_t *free_bytes, int64_t *total_bytes, ct_error **err), (index, free_bytes, total_bytes, err)) \
  X(ct_cuda_memory_stats, (int index, ct_memory_stats *out, ct_error **err), (index, out, err)) \
  X(ct_cuda_reset_peak_memory, (int index, ct_error **err), (index, err)) \
  X(ct_cuda_set_memory_limit, (int index, int64_t limit_bytes, ct_error **err), (index, limit_bytes, err)) \
  X(ct_tensor_from_data, (const void *data, size_t nbytes, const int64_t *shape, size_t ndim, ct_dtype dtype, ct_tensor **out, ct_error **err), \
    (data, nbytes, shape, ndim, dtype, out, err)) \
  X(ct_tensor_empty, (const int64_t *shape, size_t ndim, ct_dtype dtype, ct_tensor **out, ct_error **err), (shape, ndim, dtype, out, err)) \
  X(ct_tensor_to, (const ct_tensor *t, const char *device, ct_dtype dtype, ct_tensor **out, ct_error **err), (t, device, dtype, out, err)) \
  X(ct_module_load, (const char *path, const char *device, ct_dtype dtype, ct_module **out, ct_error **err), (path, device, dtype, out, err)) \
  X(ct_module_call, (ct_module *m, const char *method, const ct_args *args, ct_tensor_list **out, ct_error **err), (m, method, args, out, err))

// Resolved entry points, filled once.
static struct {
#define FIELD_VALUE(ret, name, params, args, fallback) ret (*name) params;
#define FIELD_VOID(name, params, args) void (*name) params;
#define FIELD_STATUS(name, params, args) ct_status (*name) params;
  CT_VALUE_FUNCTIONS(FIELD_VALUE)
  CT_VOID_FUNCTIONS(FIELD_VOID)
  CT_STATUS_FUNCTIONS(FIELD_STATUS)
  ct_status (*ct_error_code)(const ct_error *err);
  const char *(*ct_error_message)(const ct_error *err);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char why[1024] = "the libtorch runtime was not opened";

// The loader's own error object, for "the library could not be opened".
static struct ct_error *const LOADER_ERROR = (struct ct_error *)&why;

// How to build the library where it will be found. SwiftPM puts products in SCRATCH/TRIPLE/CONFIG/, so the
// executable's folder names the configuration (and the scratch folder, when it is not .build): a plain
// `swift build` fills .build/debug, which a release binary never looks in.
static void build_hint(char *out, size_t size) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    snprintf(out, size, "build it with `swift build --product ProStudioTorch` beside the executable, or set PROSTUDIO_TORCH_LIB");
    return;
  }
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (slash) *slash = 0;
  const char *config = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
  if (strcmp(config, "release") != 0 && strcmp(config, "debug") != 0) {
    snprintf(out, size, "copy libProStudioTorch.so (the ProStudioTorch product) into %s, or set PROSTUDIO_TORCH_LIB", exe);
    return;
  }
  // SCRATCH is two folders up from CONFIG.
  char scratch[PATH_MAX];
  snprintf(scratch, sizeof scratch, "%s", exe);
  for (int up = 0; up < 2; up++) {
    char *s = strrchr(scratch, '/');
    if (s) *s = 0;
  }
  const char *scratchName = strrchr(scratch, '/') ? strrchr(scratch, '/') + 1 : scratch;
  bool plain = strcmp(scratchName, ".build") == 0;
  snprintf(out, size, "build it into %s with `swift build%s --product ProStudioTorch%s%s`, or set PROSTUDIO_TORCH_LIB", exe,
           strcmp(config, "release") == 0 ? " -c release" : "", plain ? "" : " --scratch-path ", plain ? "" : scratch);
}

static void *open_library(void) {
  const char *name = "libProStudioTorch.so";
  const char *env = getenv("PROSTUDIO_TORCH_LIB");
  if (env && *env) {
    void *h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
    if (!h) snprintf(why, sizeof why, "cannot open the libtorch runtime %s (PROSTUDIO_TORCH_LIB): %s", env, dlerror());
    return h;
  }
  // Beside the executable (prostudio, or a test runner a few folders inside the build folder), then the loader's path.
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    for (int up = 0; up < 4; up++) {
      char *slash = strrchr(exe, '/');
      if (!slash) break;
      *slash = 0;
      // DIR/libProStudioTorch.so (a build folder), or PREFIX/lib/prostudio/ for an installed /usr/bin/prostudio.
      const char *layouts[] = {"%s/%s", "%s/lib/prostudio/%s"};
      for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++) {
        char candidate[PATH_MAX + 64];
        snprintf(candidate, sizeof candidate, layouts[k], exe, name);
        if (access(candidate, R_OK) != 0) continue;
        void *h = dlopen(candidate, RTLD_NOW | RTLD_LOCAL);
        if (!h) snprintf(why, sizeof why, "cannot open the libtorch runtime %s: %s (is libtorch-dev installed? run scripts/setup)", candidate, dlerror());
        return h;
      }
    }
  }
  void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    char hint[PATH_MAX * 2 + 128];
    build_hint(hint, sizeof hint);
    snprintf(why, sizeof why, "the libtorch runtime %s is not beside this executable: %s (%s)", name, hint, dlerror());
  }
  return h;
}

static void load(void) {
  void *h = open_library();
  if (!h) return;
  bool complete = true;
#define RESOLVE(name) \
  if (!(*(void **)&api.name = dlsym(h, #name))) { complete = false; snprintf(why, sizeof why, "the libtorch runtime lacks %s", #name); }
#define RESOLVE_VALUE(ret, name, params, args, fallback) RESOLVE(name)
#define RESOLVE_VOID(name, params, args) RESOLVE(name)
#define RESOLVE_STATUS(name, params, args) RESOLVE(name)
  CT_VALUE_FUNCTIONS(RESOLVE_VALUE)
  CT_VOID_FUNCTIONS(RESOLVE_VOID)
  CT_STATUS_FUNCTIONS(RESOLVE_STATUS)
  RESOLVE(ct_error_code)
  RESOLVE(ct_error_message)
  loaded = complete;
}

static bool ready(void) {
  pthread_once(&once, load);
  return loaded;
}

#define TRAMPOLINE_VALUE(ret, name, params, args, fallback) \
  ret name params { return ready() ? api.name args : fallback; }
#define TRAMPOLINE_VOID(name, params, args) \
  void name params { if (ready()) api.name args; }
#define TRAMPOLINE_STATUS(name, params, args) \
  ct_status name params { \
    if (ready()) return api.name args; \
    if (err) *err = LOADER_ERROR; \
    return CT_ERR_UNSUPPORTED; \
  }
CT_VALUE_FUNCTIONS(TRAMPOLINE_VALUE)
CT_VOID_FUNCTIONS(TRAMPOLINE_VOID)
CT_STATUS_FUNCTIONS(TRAMPOLINE_STATUS)

ct_status ct_error_code(const ct_error *err) {
  if (err == LOADER_ERROR) return CT_ERR_UNSUPPORTED;
  return ready() ? api.ct_error_code(err) : CT_ERR_UNKNOWN;
}

const char *ct_error_message(const ct_error *err) {
  if (err == LOADER_ERROR) return why;
  return ready() ? api.ct_error_message(err) : why;
}

void ct_error_free(ct_error *err) {
  if (err == LOADER_ERROR || !err) return;
  if (ready()) api.ct_error_free_impl(err);
}

bool ct_runtime_available(const char **reason) {
  bool ok = ready();
  if (reason) *reason = ok ? NULL : why;
  return ok;
}
