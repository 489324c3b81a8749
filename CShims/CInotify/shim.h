// Raw inotify + eventfd for the Watcher module. Swift's Glibc module does not export eventfd, and
// `inotify_event.name` (a flexible array member) is not imported: both are reached through here.
#ifndef PROSTUDIO_CINOTIFY_SHIM_H
#define PROSTUDIO_CINOTIFY_SHIM_H
#include <sys/inotify.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

/// A non-blocking, close-on-exec eventfd used to wake the watcher thread for shutdown.
static inline int cinotify_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

/// Rings an eventfd (adds 1 to its counter); returns write(2)'s result.
static inline ssize_t cinotify_eventfd_ring(int fd) { uint64_t one = 1; return write(fd, &one, sizeof one); }

/// The NUL-terminated name of an event, or "" when the event is about the watched folder itself.
static inline const char *cinotify_event_name(const struct inotify_event *e) { return e->len ? e->name : ""; }

#endif
