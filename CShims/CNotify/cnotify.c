// Trampolines into libcurl.so.4 (opened at run time; see include/cnotify.h) and prctl for `prostudio-notify`.
#define _GNU_SOURCE
#include "cnotify.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static int (*p_global_init)(long);
static void *(*p_easy_init)(void);
static void (*p_easy_cleanup)(void *);
static int (*p_easy_setopt)(void *, int, ...);
static int (*p_easy_perform)(void *);
static int (*p_easy_getinfo)(void *, int, ...);
static const char *(*p_easy_strerror)(int);
static void *(*p_slist_append)(void *, const char *);
static void (*p_slist_free_all)(void *);

int cnotify_load(char *error, size_t size) {
  void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(error, size, "cannot open libcurl.so.4 (Debian: apt install libcurl4): %s", dlerror());
    return -1;
  }
#define LOAD(var, name) \
  if (!(*(void **)&var = dlsym(lib, name))) { snprintf(error, size, "libcurl.so.4 lacks %s", name); return -1; }
  LOAD(p_global_init, "curl_global_init")
  LOAD(p_easy_init, "curl_easy_init")
  LOAD(p_easy_cleanup, "curl_easy_cleanup")
  LOAD(p_easy_setopt, "curl_easy_setopt")
  LOAD(p_easy_perform, "curl_easy_perform")
  LOAD(p_easy_getinfo, "curl_easy_getinfo")
  LOAD(p_easy_strerror, "curl_easy_strerror")
  LOAD(p_slist_append, "curl_slist_append")
  LOAD(p_slist_free_all, "curl_slist_free_all")
#undef LOAD
  if (p_global_init(3 /* CURL_GLOBAL_DEFAULT */) != 0) { snprintf(error, size, "curl_global_init failed"); return -1; }
  return 0;
}

void *cnotify_easy_init(void) { return p_easy_init(); }
void cnotify_easy_cleanup(void *handle) { p_easy_cleanup(handle); }
int cnotify_setopt_long(void *handle, int option, long value) { return p_easy_setopt(handle, option, value); }
int cnotify_setopt_pointer(void *handle, int option, const void *value) { return p_easy_setopt(handle, option, value); }
int cnotify_setopt_size(void *handle, int option, int64_t value) { return p_easy_setopt(handle, option, (long long)value); }
int cnotify_setopt_write(void *handle, cnotify_write_fn function) {
  return p_easy_setopt(handle, CNOTIFY_OPT_WRITEFUNCTION, function);
}
int cnotify_setopt_opensocket(void *handle, cnotify_opensocket_fn function) {
  return p_easy_setopt(handle, CNOTIFY_OPT_OPENSOCKETFUNCTION, function);
}
int cnotify_perform(void *handle) { return p_easy_perform(handle); }
long cnotify_response_code(void *handle) {
  long code = 0;
  if (p_easy_getinfo(handle, 0x200002 /* CURLINFO_RESPONSE_CODE */, &code) != 0) return 0;
  return code;
}
const char *cnotify_strerror(int code) { return p_easy_strerror(code); }
void *cnotify_slist_append(void *list, const char *line) { return p_slist_append(list, line); }
void cnotify_slist_free_all(void *list) { p_slist_free_all(list); }

int cnotify_die_with_parent(int parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return -1;
  if (parent > 0 && getppid() != parent) _exit(1);
  return 0;
}
