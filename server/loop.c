/* loop.c — a mutex-protected queue of closures drained on the loop thread,
 * woken through an eventfd (transmission's tr_runInEventThread, simplified). */
#include "config.h"

#include "loop.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct call {
  void (*fn)(void *);
  void *arg;
  struct call *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct call *head, *tail;
static int efd = -1;
static struct event *ev;
static struct event_base *base_;
static pthread_t loop_thread;
static int stopping;

static void drain(evutil_socket_t fd, short what, void *arg) {
  uint64_t v;
  ssize_t r = read(efd, &v, sizeof v);
  (void)r;
  for (;;) {
    pthread_mutex_lock(&lock);
    struct call *c = head;
    head = NULL;
    tail = NULL;
    pthread_mutex_unlock(&lock);
    if (!c)
      break;
    while (c) {
      struct call *next = c->next;
      c->fn(c->arg);
      free(c);
      c = next;
    }
  }
}

int rg_loop_init(struct event_base *base) {
  efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0)
    return -errno;
  base_ = base;
  loop_thread = pthread_self();
  ev = event_new(base, efd, EV_READ | EV_PERSIST, drain, NULL);
  event_add(ev, NULL);
  stopping = 0;
  return 0;
}

void rg_loop_shutdown(void) {
  pthread_mutex_lock(&lock);
  stopping = 1;
  pthread_mutex_unlock(&lock);
  drain(-1, 0, NULL);
  if (ev)
    event_free(ev);
  ev = NULL;
  if (efd >= 0)
    close(efd);
  efd = -1;
}

struct event_base *rg_loop_base(void) { return base_; }

int rg_loop_is_loop_thread(void) {
  return pthread_equal(pthread_self(), loop_thread);
}

int rg_loop_call(void (*fn)(void *), void *arg) {
  struct call *c = rg_malloc(sizeof *c);
  c->fn = fn;
  c->arg = arg;
  c->next = NULL;
  pthread_mutex_lock(&lock);
  if (stopping || efd < 0) {
    pthread_mutex_unlock(&lock);
    free(c);
    return -ESHUTDOWN;
  }
  if (tail)
    tail->next = c;
  else
    head = c;
  tail = c;
  uint64_t one = 1;
  ssize_t w = write(efd, &one, sizeof one);
  (void)w;
  pthread_mutex_unlock(&lock);
  return 0;
}
