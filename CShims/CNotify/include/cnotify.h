// The little of libcurl `prostudio-notify` uses, and prctl (variadic, so not callable from Swift).
//
// libcurl is opened at run time (dlopen "libcurl.so.4"), not linked: Debian's libcurl4 is on every machine that runs
// the Swift toolchain's FoundationNetworking, but its -dev package (headers, libcurl.so) is not, and installing it
// pulls a libcurl4 upgrade. The option numbers below are libcurl's ABI, fixed for soname 4 (checked against
// Debian 12's curl.h, 7.88.1). Why libcurl directly rather than URLSession: see Docs/webhooks.md ("How it is sent").
#ifndef CNOTIFY_H
#define CNOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
  CNOTIFY_OPT_WRITEDATA = 10001,
  CNOTIFY_OPT_URL = 10002,
  CNOTIFY_OPT_ERRORBUFFER = 10010,
  CNOTIFY_OPT_WRITEFUNCTION = 20011,
  CNOTIFY_OPT_POSTFIELDS = 10015,
  CNOTIFY_OPT_USERAGENT = 10018,
  CNOTIFY_OPT_HTTPHEADER = 10023,
  CNOTIFY_OPT_POST = 47,
  CNOTIFY_OPT_FOLLOWLOCATION = 52,
  CNOTIFY_OPT_MAXREDIRS = 68,
  CNOTIFY_OPT_NOSIGNAL = 99,
  CNOTIFY_OPT_TIMEOUT_MS = 155,
  CNOTIFY_OPT_CONNECTTIMEOUT_MS = 156,
  CNOTIFY_OPT_OPENSOCKETFUNCTION = 20163,
  CNOTIFY_OPT_OPENSOCKETDATA = 10164,
  CNOTIFY_OPT_NOPROXY = 10177,
  CNOTIFY_OPT_POSTFIELDSIZE_LARGE = 30120,
  CNOTIFY_OPT_PROTOCOLS_STR = 10318,
  CNOTIFY_OPT_REDIR_PROTOCOLS_STR = 10319,
};

enum {
  CNOTIFY_OK = 0,
  CNOTIFY_COULDNT_CONNECT = 7,
  CNOTIFY_WRITE_ERROR = 23,
  CNOTIFY_OPERATION_TIMEDOUT = 28,
};

enum { CNOTIFY_ERROR_SIZE = 256 };

/// libcurl's `struct curl_sockaddr`: the address it is about to connect to.
struct cnotify_sockaddr {
  int family;
  int socktype;
  int protocol;
  unsigned int addrlen;
  struct sockaddr addr;  // really addrlen bytes (sockaddr_in or sockaddr_in6)
};

typedef size_t (*cnotify_write_fn)(char *data, size_t size, size_t count, void *context);
/// Returns a socket, or -1 to refuse the address (libcurl then tries the next one, else fails to connect).
typedef int (*cnotify_opensocket_fn)(void *context, int purpose, struct cnotify_sockaddr *address);

/// Opens libcurl and initialises it once; 0 on success, else -1 with the reason in `error`.
int cnotify_load(char *error, size_t size);
void *cnotify_easy_init(void);
void cnotify_easy_cleanup(void *handle);
int cnotify_setopt_long(void *handle, int option, long value);
int cnotify_setopt_pointer(void *handle, int option, const void *value);
int cnotify_setopt_size(void *handle, int option, int64_t value);
int cnotify_setopt_write(void *handle, cnotify_write_fn function);
int cnotify_setopt_opensocket(void *handle, cnotify_opensocket_fn function);
int cnotify_perform(void *handle);
long cnotify_response_code(void *handle);
const char *cnotify_strerror(int code);
void *cnotify_slist_append(void *list, const char *line);
void cnotify_slist_free_all(void *list);

/// SIGKILL this process when the thread that spawned it exits (PR_SET_PDEATHSIG), and exit now if `parent` is
/// already gone (it died before the prctl). 0 on success, -1 when the prctl failed.
int cnotify_die_with_parent(int parent);

#endif
