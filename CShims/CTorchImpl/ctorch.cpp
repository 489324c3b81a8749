// The C boundary over libtorch. Every entry point catches everything (c10::Error, std::exception, ...)
// and turns it into a ct_status + ct_error, because an exception unwinding into Swift is undefined
// behaviour. Objects are built with RAII first and handed out last, so an error path leaks nothing.
#include <atomic>
#include "ctorch.h"

#include <torch/script.h>
#include <torch/csrc/api/include/torch/cuda.h>
#include <torch/csrc/api/include/torch/utils.h>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#ifdef PROSTUDIO_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <memory>
#include <new>
#include <string>
#include <unistd.h>
#include <vector>

struct ct_error {
  ct_status code;
  std::string message;
};

struct ct_tensor {
  at::Tensor tensor;
};

struct ct_module {
  torch::jit::Module module;
  c10::Device device;
  at::ScalarType dtype;
};

struct ct_args {
  std::vector<c10::IValue> values;
  bool failed = false;  // a push ran out of memory; reported by ct_module_call, not thrown across the boundary
};

struct ct_tensor_list {
  std::vector<at::Tensor> tensors;
};

namespace {

// Thrown inside the shim only, to pick a status other than the generic one for a failure we detect.
struct ShimError {
  ct_status code;
  std::string message;
};

ct_status fail(ct_error **err, ct_status code, std::string message) {
  if (err) {
    // If even this allocation fails there is nothing better to do than report the code without text.
    *err = new (std::nothrow) ct_error{code, std::move(message)};
  }
  return code;
}

// Not every allocation failure arrives as c10::OutOfMemoryError: the CPU allocator raises a plain c10::Error
// ("DefaultCPUAllocator: not enough memory") and the TorchScript interpreter re-raises a CUDA OOM from inside a
// method as a std::runtime_error carrying the original text. Both must read as out-of-memory so callers can
// retry smaller.
bool out_of_memory(const char *message) {
  return message && (std::strstr(message, "CUDA out of memory") || std::strstr(message, "not enough memory") || std::strstr(message, "can't allocate memory") ||
                     std::strstr(message, "OutOfMemoryError"));
}

// Runs body; maps whatever it throws to a status. `fallback` is the status for a plain c10::Error
// (a load reports LOAD_FAILED rather than TORCH, for example). `std_fallback` is the one for other
// std::exceptions: the TorchScript interpreter rethrows op failures (bad shape, dtype) as std::runtime_error,
// so calls and loads pass their own fallback there too.
template <typename F>
ct_status guarded(ct_error **err, ct_status fallback, F &&body, ct_status std_fallback = CT_ERR_STD) {
  if (err) *err = nullptr;
  try {
    body();
    return CT_OK;
  } catch (const ShimError &e) {
    return fail(err, e.code, e.message);
  } catch (const c10::OutOfMemoryError &e) {
    return fail(err, CT_ERR_OUT_OF_MEMORY, e.what_without_backtrace());
  } catch (const c10::Error &e) {
    return fail(err, out_of_memory(e.what_without_backtrace()) ? CT_ERR_OUT_OF_MEMORY : fallback, e.what_without_backtrace());
  } catch (const std::bad_alloc &e) {
    return fail(err, CT_ERR_OUT_OF_MEMORY, std::string("out of memory: ") + e.what());
  } catch (const std::exception &e) {
    return fail(err, out_of_memory(e.what()) ? CT_ERR_OUT_OF_MEMORY : std_fallback, e.what());
  } catch (...) {
    return fail(err, CT_ERR_UNKNOWN, "unknown C++ exception");
  }
}

bool to_scalar_type(ct_dtype d, at::ScalarType *out) {
  switch (d) {
    case CT_FLOAT32: *out = at::kFloat; return true;
    case CT_FLOAT16: *out = at::kHalf; return true;
    case CT_BFLOAT16: *out = at::kBFloat16; return true;
    case CT_FLOAT64: *out = at::kDouble; return true;
    case CT_INT64: *out = at::kLong; return true;
    case CT_INT32: *out = at::kInt; return true;
    case CT_INT16: *out = at::kShort; return true;
    case CT_INT8: *out = at::kChar; return true;
    case CT_UINT8: *out = at::kByte; return true;
    case CT_BOOL: *out = at::kBool; return true;
  }
  return false;
}

bool from_scalar_type(at::ScalarType s, ct_dtype *out) {
  switch (s) {
    case at::kFloat: *out = CT_FLOAT32; return true;
    case at::kHalf: *out = CT_FLOAT16; return true;
    case at::kBFloat16: *out = CT_BFLOAT16; return true;
    case at::kDouble: *out = CT_FLOAT64; return true;
    case at::kLong: *out = CT_INT64; return true;
    case at::kInt: *out = CT_INT32; return true;
    case at::kShort: *out = CT_INT16; return true;
    case at::kChar: *out = CT_INT8; return true;
    case at::kByte: *out = CT_UINT8; return true;
    case at::kBool: *out = CT_BOOL; return true;
    default: return false;
  }
}

at::ScalarType scalar_type_or_throw(ct_dtype d) {
  at::ScalarType s;
  if (!to_scalar_type(d, &s)) throw ShimError{CT_ERR_INVALID_ARGUMENT, "unknown dtype code " + std::to_string(d)};
  return s;
}

c10::Device parse_device(const char *text) {
  if (!text) throw ShimError{CT_ERR_INVALID_ARGUMENT, "device is null"};
  c10::Device device(c10::DeviceType::CPU);
  try {
    device = c10::Device(std::string(text));
  } catch (const c10::Error &) {
    throw ShimError{CT_ERR_INVALID_ARGUMENT, std::string("not a device: '") + text + "' (use cpu, cuda or cuda:N)"};
  }
  if (device.is_cpu()) return device;
  if (!device.is_cuda()) {
    throw ShimError{CT_ERR_UNSUPPORTED, std::string("device '") + text + "' is not supported (use cpu, cuda or cuda:N)"};
  }
  if (!torch::cuda::is_available()) {
    throw ShimError{CT_ERR_UNSUPPORTED, std::string("device '") + text +
                                            "' asked for, but CUDA is not available to this libtorch"};
  }
  auto count = static_cast<int>(torch::cuda::device_count());
  if (device.has_index() && device.index() >= count) {
    throw ShimError{CT_ERR_INVALID_ARGUMENT, std::string("device '") + text + "' does not exist (" +
                                                 std::to_string(count) + " CUDA device(s))"};
  }
  if (!device.has_index()) device.set_index(0);
  return device;
}

void copy_string(const std::string &s, char *buf, size_t size) {
  if (!buf || size == 0) return;
  size_t n = std::min(s.size(), size - 1);
  std::memcpy(buf, s.data(), n);
  buf[n] = '\0';
}

void flatten(const c10::IValue &v, std::vector<at::Tensor> &out) {
  if (v.isTensor()) {
    out.push_back(v.toTensor());
  } else if (v.isTuple()) {
    for (const auto &e : v.toTupleRef().elements()) flatten(e, out);
  } else if (v.isList()) {
    for (const c10::IValue e : v.toListRef()) flatten(e, out);
  } else if (v.isInt()) {
    out.push_back(at::scalar_tensor(v.toInt(), at::kLong));
  } else if (v.isDouble()) {
    out.push_back(at::scalar_tensor(v.toDouble(), at::kDouble));
  } else if (v.isBool()) {
    out.push_back(at::scalar_tensor(v.toBool(), at::kBool));
  } else if (v.isNone()) {
    // Nothing to hand back.
  } else {
    throw ShimError{CT_ERR_UNSUPPORTED, "method returned a " + v.tagKind() +
                                            "; only tensors, tuples/lists of tensors and scalars are supported"};
  }
}

template <typename T>
void push(ct_args *a, T &&v) {
  try {
    a->values.emplace_back(std::forward<T>(v));
  } catch (...) {
    a->failed = true;
  }
}

int64_t read_status_kb(const char *key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  size_t klen = std::strlen(key);
  while (std::getline(f, line)) {
    if (line.compare(0, klen, key) == 0) {
      return std::stoll(line.substr(klen)) * 1024;
    }
  }
  return -1;
}

}  // namespace

extern "C" {

// ---- errors

ct_status ct_error_code(const ct_error *err) { return err ? err->code : CT_ERR_UNKNOWN; }
const char *ct_error_message(const ct_error *err) { return err ? err->message.c_str() : "unknown error"; }
void ct_error_free_impl(ct_error *err) { delete err; }

// ---- runtime

int ct_version_major(void) { return TORCH_VERSION_MAJOR; }
int ct_version_minor(void) { return TORCH_VERSION_MINOR; }
int ct_version_patch(void) { return TORCH_VERSION_PATCH; }

bool ct_built_with_cuda(void) {
#ifdef PROSTUDIO_TORCH_CUDA
  return true;
#else
  return false;
#endif
}

bool ct_cuda_is_available(void) {
  try {
    return torch::cuda::is_available();
  } catch (...) {
    return false;
  }
}

int ct_cuda_device_count(void) {
  try {
    return static_cast<int>(torch::cuda::device_count());
  } catch (...) {
    return 0;
  }
}

#ifdef PROSTUDIO_TORCH_CUDA
// A CUDA build on a machine without a GPU (or without the driver) sees no devices: every per-device call
// says so plainly instead of reaching the caching allocator, which asserts on a bad index.
static void require_device(int index) {
  int count = ct_cuda_device_count();
  if (count == 0) {
    throw ShimError{CT_ERR_UNSUPPORTED, "no CUDA device: this is a CUDA build, but the driver reports no GPU "
                                        "(no NVIDIA driver, or no device visible to this process)"};
  }
  if (index < 0 || index >= count) {
    throw ShimError{CT_ERR_UNSUPPORTED, "no CUDA device " + std::to_string(index) + " (" + std::to_string(count) +
                                            " device(s): cuda:0 to cuda:" + std::to_string(count - 1) + ")"};
  }
}
#endif

int ct_cuda_driver_version(void) {
#ifdef PROSTUDIO_TORCH_CUDA
  int v = 0;
  return cudaDriverGetVersion(&v) == cudaSuccess ? v : 0;
#else
  return 0;
#endif
}

int ct_cuda_runtime_version(void) {
#ifdef PROSTUDIO_TORCH_CUDA
  int v = 0;
  return cudaRuntimeGetVersion(&v) == cudaSuccess ? v : 0;
#else
  return 0;
#endif
}

ct_status ct_cuda_memory_info(int index, int64_t *free_bytes, int64_t *total_bytes, ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
    if (!free_bytes || !total_bytes) throw ShimError{CT_ERR_INVALID_ARGUMENT, "out is null"};
#ifdef PROSTUDIO_TORCH_CUDA
    require_device(index);
    int previous = 0;
    cudaGetDevice(&previous);
    auto rc = cudaSetDevice(index);
    size_t free = 0, total = 0;
    if (rc == cudaSuccess) rc = cudaMemGetInfo(&free, &total);
    cudaSetDevice(previous);
    if (rc != cudaSuccess) throw ShimError{CT_ERR_TORCH, std::string("cudaMemGetInfo: ") + cudaGetErrorString(rc)};
    *free_bytes = static_cast<int64_t>(free);
    *total_bytes = static_cast<int64_t>(total);
#else
    (void)index;
    throw ShimError{CT_ERR_UNSUPPORTED, "this build has no CUDA support (see Docs/torch-runtime.md)"};
#endif
  });
}

ct_status ct_cuda_device_name(int index, char *buf, size_t size, ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
#ifdef PROSTUDIO_TORCH_CUDA
    require_device(index);
    cudaDeviceProp prop;
    auto rc = cudaGetDeviceProperties(&prop, index);
    if (rc != cudaSuccess) throw ShimError{CT_ERR_INVALID_ARGUMENT, cudaGetErrorString(rc)};
    copy_string(prop.name, buf, size);
#else
    (void)index; (void)buf; (void)size;
    throw ShimError{CT_ERR_UNSUPPORTED, "this build has no CUDA support (see Docs/torch-runtime.md)"};
#endif
  });
}

ct_status ct_cuda_memory_stats(int index, ct_memory_stats *out, ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
    if (!out) throw ShimError{CT_ERR_INVALID_ARGUMENT, "out is null"};
#ifdef PROSTUDIO_TORCH_CUDA
    require_device(index);
    // `auto`: DeviceStats moved namespace across libtorch releases; index 0 is StatType::AGGREGATE in all.
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    out->allocated_bytes = stats.allocated_bytes[0].current;
    out->reserved_bytes = stats.reserved_bytes[0].current;
    out->peak_allocated_bytes = stats.allocated_bytes[0].peak;
#else
    (void)index;
    throw ShimError{CT_ERR_UNSUPPORTED, "this build has no CUDA support (see Docs/torch-runtime.md)"};
#endif
  });
}

ct_status ct_cuda_reset_peak_memory(int index, ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
#ifdef PROSTUDIO_TORCH_CUDA
    require_device(index);
    c10::cuda::CUDACachingAllocator::resetPeakStats(index);
#else
    (void)index;
    throw ShimError{CT_ERR_UNSUPPORTED, "this build has no CUDA support (see Docs/torch-runtime.md)"};
#endif
  });
}

ct_status ct_cuda_set_memory_limit(int index, int64_t limit_bytes, ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
#ifdef PROSTUDIO_TORCH_CUDA
    require_device(index);
    cudaDeviceProp prop;
    auto rc = cudaGetDeviceProperties(&prop, index);
    if (rc != cudaSuccess) throw ShimError{CT_ERR_TORCH, cudaGetErrorString(rc)};
    double total = static_cast<double>(prop.totalGlobalMem);
    double fraction = limit_bytes <= 0 ? 1.0 : std::min(1.0, static_cast<double>(limit_bytes) / total);
    c10::cuda::CUDACachingAllocator::setMemoryFraction(fraction, static_cast<c10::DeviceIndex>(index));
#else
    (void)index; (void)limit_bytes;
    throw ShimError{CT_ERR_UNSUPPORTED, "this build has no CUDA support (see Docs/torch-runtime.md)"};
#endif
  });
}

void ct_empty_cache(void) {
#ifdef PROSTUDIO_TORCH_CUDA
  try {
    if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::emptyCache();
  } catch (...) {
  }
#endif
#ifdef __GLIBC__
  // CPU weights are freed into glibc's arenas; hand the free pages back so RSS shows the unload.
  malloc_trim(0);
#endif
}

int64_t ct_process_rss_bytes(void) {
  FILE *f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long long size = 0, resident = 0;
  int n = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  if (n != 2) return -1;
  return static_cast<int64_t>(resident) * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

int64_t ct_process_peak_rss_bytes(void) {
  try {
    return read_status_kb("VmHWM:");
  } catch (...) {
    return -1;
  }
}

bool ct_process_reset_peak_rss(void) {
  FILE *f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

void ct_set_num_threads(int n) {
  try {
    if (n > 0) torch::set_num_threads(n);
  } catch (...) {
  }
}

int ct_get_num_threads(void) { return torch::get_num_threads(); }

void ct_manual_seed(uint64_t seed) {
  try {
    torch::manual_seed(seed);
  } catch (...) {
  }
}

// libtorch keeps this setting per thread (a thread_local in graph_executor.cpp): setting it once left the
// calls on other threads (Swift's executor queue hops between threads) with the profiling executor on, which
// re-profiles every new input length. So the wanted value lives here, process-wide, and every module call
// applies it on its own thread (GraphOptimizerEnabledGuard in ct_module_call).
static std::atomic<bool> g_executor_optimize{true};

void ct_set_graph_executor_optimize(bool on) {
  g_executor_optimize.store(on);
  try {
    torch::jit::setGraphExecutorOptimize(on);
  } catch (...) {
  }
}
bool ct_get_graph_executor_optimize(void) { return g_executor_optimize.load(); }

// ---- tensors

static std::vector<int64_t> shape_vector(const int64_t *shape, size_t ndim) {
  if (ndim > 0 && !shape) throw ShimError{CT_ERR_INVALID_ARGUMENT, "shape is null"};
  std::vector<int64_t> v(shape, shape + ndim);
  for (auto s : v) {
    if (s < 0) throw ShimError{CT_ERR_INVALID_ARGUMENT, "negative dimension " + std::to_string(s)};
  }
  return v;
}

ct_status ct_tensor_from_data(const void *data, size_t nbytes, const int64_t *shape, size_t ndim,
                              ct_dtype dtype, ct_tensor **out, ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
    if (!out) throw ShimError{CT_ERR_INVALID_ARGUMENT, "out is null"};
    auto sizes = shape_vector(shape, ndim);
    auto t = torch::empty(sizes, torch::TensorOptions().dtype(scalar_type_or_throw(dtype)));
    size_t need = t.numel() * t.element_size();
    if (need != nbytes) {
      throw ShimError{CT_ERR_INVALID_ARGUMENT, "shape " + c10::str(t.sizes()) + " needs " + std::to_string(need) +
                                                   " bytes, got " + std::to_string(nbytes)};
    }
    if (need > 0) {
      if (!data) throw ShimError{CT_ERR_INVALID_ARGUMENT, "data is null"};
      std::memcpy(t.data_ptr(), data, need);
    }
    *out = new ct_tensor{std::move(t)};
  });
}

ct_status ct_tensor_empty(const int64_t *shape, size_t ndim, ct_dtype dtype, ct_tensor **out, ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
    if (!out) throw ShimError{CT_ERR_INVALID_ARGUMENT, "out is null"};
    auto sizes = shape_vector(shape, ndim);
    auto t = torch::empty(sizes, torch::TensorOptions().dtype(scalar_type_or_throw(dtype)));
    *out = new ct_tensor{std::move(t)};
  });
}

void ct_tensor_free(ct_tensor *t) { delete t; }

size_t ct_tensor_ndim(const ct_tensor *t) { return static_cast<size_t>(t->tensor.dim()); }

void ct_tensor_shape(const ct_tensor *t, int64_t *shape, size_t capacity) {
  auto sizes = t->tensor.sizes();
  for (size_t i = 0; i < capacity && i < sizes.size(); ++i) shape[i] = sizes[i];
}

int64_t ct_tensor_numel(const ct_tensor *t) { return t->tensor.numel(); }

bool ct_tensor_dtype(const ct_tensor *t, ct_dtype *out) { return from_scalar_type(t->tensor.scalar_type(), out); }

void ct_tensor_device(const ct_tensor *t, char *buf, size_t size) {
  try {
    copy_string(t->tensor.device().str(), buf, size);
  } catch (...) {
    copy_string("", buf, size);
  }
}

bool ct_tensor_is_contiguous_cpu(const ct_tensor *t) {
  return t->tensor.device().is_cpu() && t->tensor.is_contiguous() && !t->tensor.is_sparse();
}

const void *ct_tensor_data(const ct_tensor *t, size_t *nbytes) {
  if (!ct_tensor_is_contiguous_cpu(t)) return nullptr;
  if (nbytes) *nbytes = t->tensor.numel() * t->tensor.element_size();
  return t->tensor.data_ptr();
}

void *ct_tensor_mutable_data(ct_tensor *t, size_t *nbytes) {
  if (!ct_tensor_is_contiguous_cpu(t)) return nullptr;
  if (nbytes) *nbytes = t->tensor.numel() * t->tensor.element_size();
  return t->tensor.data_ptr();
}

ct_status ct_tensor_to(const ct_tensor *t, const char *device, ct_dtype dtype, ct_tensor **out, ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
    if (!out) throw ShimError{CT_ERR_INVALID_ARGUMENT, "out is null"};
    auto dev = parse_device(device);
    auto converted = t->tensor.to(dev, scalar_type_or_throw(dtype)).contiguous();
    *out = new ct_tensor{std::move(converted)};
  });
}

// ---- modules

ct_status ct_module_load(const char *path, const char *device, ct_dtype dtype, ct_module **out, ct_error **err) {
  return guarded(err, CT_ERR_LOAD_FAILED, [&] {
    if (!out) throw ShimError{CT_ERR_INVALID_ARGUMENT, "out is null"};
    if (!path) throw ShimError{CT_ERR_INVALID_ARGUMENT, "path is null"};
    auto dev = parse_device(device);
    auto st = scalar_type_or_throw(dtype);
    if (!at::isFloatingType(st)) {
      throw ShimError{CT_ERR_INVALID_ARGUMENT, "a module's dtype must be floating point (fp32, fp16 or bf16)"};
    }
    if (access(path, F_OK) != 0) throw ShimError{CT_ERR_NOT_FOUND, std::string("no such file: ") + path};
    if (access(path, R_OK) != 0) throw ShimError{CT_ERR_NOT_FOUND, std::string("cannot read: ") + path};
    auto handle = std::make_unique<ct_module>(ct_module{torch::jit::load(path, dev), dev, st});
    handle->module.eval();
    if (st != at::kFloat) {
      // Only floating-point state changes type: integer buffers (positions, codebook ids) must stay.
      for (auto p : handle->module.parameters()) {
        if (p.is_floating_point()) p.set_data(p.to(st));
      }
      for (auto b : handle->module.buffers()) {
        if (b.is_floating_point()) b.set_data(b.to(st));
      }
    }
    *out = handle.release();
  }, CT_ERR_LOAD_FAILED);
}

void ct_module_free(ct_module *m) { delete m; }

bool ct_module_has_method(const ct_module *m, const char *name) {
  try {
    return name && m->module.find_method(name).has_value();
  } catch (...) {
    return false;
  }
}

void ct_module_device(const ct_module *m, char *buf, size_t size) {
  try {
    copy_string(m->device.str(), buf, size);
  } catch (...) {
    copy_string("", buf, size);
  }
}

ct_dtype ct_module_dtype(const ct_module *m) {
  ct_dtype d = CT_FLOAT32;
  from_scalar_type(m->dtype, &d);
  return d;
}

ct_args *ct_args_new(void) { return new (std::nothrow) ct_args{}; }
void ct_args_free(ct_args *a) { delete a; }
void ct_args_push_tensor(ct_args *a, const ct_tensor *t) { push(a, t->tensor); }
void ct_args_push_int(ct_args *a, int64_t v) { push(a, v); }
void ct_args_push_double(ct_args *a, double v) { push(a, v); }
void ct_args_push_bool(ct_args *a, bool v) { push(a, v); }

ct_status ct_module_call(ct_module *m, const char *method, const ct_args *args, ct_tensor_list **out,
                         ct_error **err) {
  return guarded(err, CT_ERR_TORCH, [&] {
    if (!m || !out || !method) throw ShimError{CT_ERR_INVALID_ARGUMENT, "null module, method or out"};
    auto found = m->module.find_method(method);
    if (!found) throw ShimError{CT_ERR_NO_SUCH_METHOD, std::string("the module has no method '") + method + "'"};
    if (args && args->failed) throw ShimError{CT_ERR_OUT_OF_MEMORY, "out of memory while building the arguments"};
    std::vector<c10::IValue> stack;
    if (args) stack = args->values;
    c10::InferenceMode guard;
    torch::jit::GraphOptimizerEnabledGuard optimize(g_executor_optimize.load());
    auto result = (*found)(std::move(stack));
    auto list = std::make_unique<ct_tensor_list>();
    flatten(result, list->tensors);
    *out = list.release();
  }, CT_ERR_TORCH);
}

size_t ct_tensor_list_size(const ct_tensor_list *l) { return l->tensors.size(); }

ct_tensor *ct_tensor_list_get(const ct_tensor_list *l, size_t i) {
  if (i >= l->tensors.size()) return nullptr;
  return new (std::nothrow) ct_tensor{l->tensors[i]};
}

void ct_tensor_list_free(ct_tensor_list *l) { delete l; }

}  // extern "C"
