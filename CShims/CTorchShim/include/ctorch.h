// ctorch.h: a plain C view of the parts of libtorch ProStudio needs (TorchScript modules, tensors,
// runtime facts). C++ stays behind this header: no exception crosses it. Every fallible call returns a
// ct_status and, on failure, hands back a ct_error the caller frees with ct_error_free.
// Every handle returned through an out-parameter is owned by the caller and freed exactly once with
// its *_free function; on failure no handle is returned and nothing needs freeing.
#ifndef PROSTUDIO_CTORCH_H
#define PROSTUDIO_CTORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_status {
  CT_OK = 0,
  CT_ERR_TORCH = 1,             // a c10::Error from libtorch (bad shape, wrong argument count, ...)
  CT_ERR_INVALID_ARGUMENT = 2,  // the shim refused the arguments (bad device string, null data, ...)
  CT_ERR_NOT_FOUND = 3,         // a file that does not exist
  CT_ERR_LOAD_FAILED = 4,       // the file exists but is not a loadable TorchScript archive
  CT_ERR_NO_SUCH_METHOD = 5,    // the module has no method of that name
  CT_ERR_OUT_OF_MEMORY = 6,     // the allocator gave up (c10::OutOfMemoryError / std::bad_alloc)
  CT_ERR_UNSUPPORTED = 7,       // asks for something this build lacks (CUDA in a CPU build, ...)
  CT_ERR_STD = 8,               // any other std::exception
  CT_ERR_UNKNOWN = 9,           // anything else caught at the boundary
} ct_status;

// Element types. Values are ProStudio's own, not c10::ScalarType's, so the ABI does not follow libtorch.
typedef enum ct_dtype {
  CT_FLOAT32 = 0,
  CT_FLOAT16 = 1,
  CT_BFLOAT16 = 2,
  CT_FLOAT64 = 3,
  CT_INT64 = 4,
  CT_INT32 = 5,
  CT_INT16 = 6,
  CT_INT8 = 7,
  CT_UINT8 = 8,
  CT_BOOL = 9,
} ct_dtype;

typedef struct ct_error ct_error;           // code + message
typedef struct ct_tensor ct_tensor;         // an at::Tensor (shares storage when copied by ct_tensor_list_get)
typedef struct ct_module ct_module;         // a loaded torch::jit::Module pinned to a device and dtype
typedef struct ct_args ct_args;             // an argument list for ct_module_call
typedef struct ct_tensor_list ct_tensor_list;  // the flattened result of ct_module_call

// ---- errors
// Whether the libtorch runtime (libProStudioTorch.so) could be opened; if not, *reason says why.
// Nothing loads libtorch before the first call that needs it.
bool ct_runtime_available(const char **reason);

ct_status ct_error_code(const ct_error *err);
const char *ct_error_message(const ct_error *err);  // valid until ct_error_free
void ct_error_free(ct_error *err);
void ct_error_free_impl(ct_error *err);  // the runtime's own free; call ct_error_free

// ---- runtime facts
int ct_version_major(void);
int ct_version_minor(void);
int ct_version_patch(void);
bool ct_built_with_cuda(void);     // this shim was compiled against a CUDA libtorch
bool ct_cuda_is_available(void);
int ct_cuda_device_count(void);
// Writes the device's name into buf (NUL-terminated, truncated to size). Needs a CUDA build.
// Every ct_cuda_* call that takes an index fails with CT_ERR_UNSUPPORTED and a message starting
// "no CUDA device" when the index is not a device this process can see (a CUDA build on a machine without a GPU).
ct_status ct_cuda_device_name(int index, char *buf, size_t size, ct_error **err);
// The device's free and total memory as the driver reports them (cudaMemGetInfo): what a load can still get.
ct_status ct_cuda_memory_info(int index, int64_t *free_bytes, int64_t *total_bytes, ct_error **err);
// The CUDA driver's version (13000 for 13.0) and the runtime's this shim was built with; 0 when unknown or
// not a CUDA build.
int ct_cuda_driver_version(void);
int ct_cuda_runtime_version(void);

typedef struct ct_memory_stats {
  int64_t allocated_bytes;  // CUDA: caching allocator, current
  int64_t reserved_bytes;   // CUDA: caching allocator, reserved by the cache
  int64_t peak_allocated_bytes;  // CUDA: since the last ct_reset_peak_memory
} ct_memory_stats;
ct_status ct_cuda_memory_stats(int index, ct_memory_stats *out, ct_error **err);
// Caps what the caching allocator may hold on the device (setMemoryFraction of its total): an allocation past
// it fails as CT_ERR_OUT_OF_MEMORY, as if the device were that small. limit_bytes <= 0 lifts the cap.
ct_status ct_cuda_set_memory_limit(int index, int64_t limit_bytes, ct_error **err);
ct_status ct_cuda_reset_peak_memory(int index, ct_error **err);
void ct_empty_cache(void);  // returns cached CUDA blocks to the driver, and free heap pages (malloc_trim) to the OS

int64_t ct_process_rss_bytes(void);       // resident set size now (from /proc/self/statm), -1 if unknown
int64_t ct_process_peak_rss_bytes(void);  // VmHWM: peak RSS since start or the last reset, -1 if unknown
bool ct_process_reset_peak_rss(void);     // writes 5 to /proc/self/clear_refs; false if refused

void ct_set_num_threads(int n);  // intra-op threads
int ct_get_num_threads(void);
void ct_manual_seed(uint64_t seed);  // CPU and, when present, CUDA generators
// The profiling graph executor re-optimises on every new input shape (seconds each for some voices);
// ProStudio turns it off by default. Process-wide.
void ct_set_graph_executor_optimize(bool on);
bool ct_get_graph_executor_optimize(void);

// ---- tensors
// A new tensor with a copy of `nbytes` bytes of `data` (row-major, contiguous) on the CPU.
ct_status ct_tensor_from_data(const void *data, size_t nbytes, const int64_t *shape, size_t ndim,
                              ct_dtype dtype, ct_tensor **out, ct_error **err);
// A new uninitialised contiguous CPU tensor; fill it through ct_tensor_mutable_data (no extra copy).
ct_status ct_tensor_empty(const int64_t *shape, size_t ndim, ct_dtype dtype, ct_tensor **out, ct_error **err);
void ct_tensor_free(ct_tensor *t);

size_t ct_tensor_ndim(const ct_tensor *t);
// Copies min(ndim, capacity) sizes into shape.
void ct_tensor_shape(const ct_tensor *t, int64_t *shape, size_t capacity);
int64_t ct_tensor_numel(const ct_tensor *t);
// False when the tensor's type has no ct_dtype (complex, quantised, ...).
bool ct_tensor_dtype(const ct_tensor *t, ct_dtype *out);
// "cpu", "cuda:0", ... written into buf.
void ct_tensor_device(const ct_tensor *t, char *buf, size_t size);
bool ct_tensor_is_contiguous_cpu(const ct_tensor *t);

// The tensor's own storage when it is contiguous and on the CPU; NULL otherwise (use ct_tensor_to first).
// Valid while the tensor lives.
const void *ct_tensor_data(const ct_tensor *t, size_t *nbytes);
void *ct_tensor_mutable_data(ct_tensor *t, size_t *nbytes);

// A tensor on `device` ("cpu", "cuda", "cuda:N") with `dtype`, contiguous. When nothing has to change
// it shares the input's storage (no copy).
ct_status ct_tensor_to(const ct_tensor *t, const char *device, ct_dtype dtype, ct_tensor **out, ct_error **err);

// ---- modules
// Loads a TorchScript archive onto `device` and casts its floating-point parameters to `dtype`
// (fp32, fp16 or bf16), in eval mode.
ct_status ct_module_load(const char *path, const char *device, ct_dtype dtype, ct_module **out, ct_error **err);
void ct_module_free(ct_module *m);
bool ct_module_has_method(const ct_module *m, const char *name);
void ct_module_device(const ct_module *m, char *buf, size_t size);
ct_dtype ct_module_dtype(const ct_module *m);

ct_args *ct_args_new(void);
void ct_args_free(ct_args *a);
// The list keeps its own reference to the tensor: the caller may free its handle afterwards.
void ct_args_push_tensor(ct_args *a, const ct_tensor *t);
void ct_args_push_int(ct_args *a, int64_t v);
void ct_args_push_double(ct_args *a, double v);
void ct_args_push_bool(ct_args *a, bool v);

// Calls `method` ("forward" or any exported method) under inference mode. A returned tensor, tuple or
// list (nested ones flattened in order) comes back as a tensor list; scalars come back as 0-d tensors.
ct_status ct_module_call(ct_module *m, const char *method, const ct_args *args, ct_tensor_list **out,
                         ct_error **err);

size_t ct_tensor_list_size(const ct_tensor_list *l);
// A new handle to element i (shares storage); NULL when out of range.
ct_tensor *ct_tensor_list_get(const ct_tensor_list *l, size_t i);
void ct_tensor_list_free(ct_tensor_list *l);

#ifdef __cplusplus
}
#endif
#endif
