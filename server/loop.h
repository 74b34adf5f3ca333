/* loop.h — the event loop that owns the daemon's state, and the one way for
 * other threads (FUSE workers, curl/libav workers) to hand it work. */
#ifndef RG_LOOP_H
#define RG_LOOP_H

#include <event2/event.h>

/* Sets up the cross-thread queue on BASE. 0 or -errno. */
int rg_loop_init(struct event_base *base);
void rg_loop_shutdown(void);
struct event_base *rg_loop_base(void);
/* Runs FN(ARG) on the loop thread soon. Safe from any thread. Returns 0, or
 * -ESHUTDOWN once the loop is stopping (FN is then not called). */
int rg_loop_call(void (*fn)(void *), void *arg);
/* True on the loop thread. */
int rg_loop_is_loop_thread(void);

#endif
