/* fs.h — the FUSE library mount (libfuse3 low-level API) over the library's
 * tree snapshots and the reader core. */
#ifndef RG_FS_H
#define RG_FS_H

#include "library.h"
#include "torrents.h"

typedef struct rg_fs rg_fs;

/* Mounts the library at DIR (clearing a stale mount left by a crash, with a
 * log line) and starts the FUSE worker threads. Call on the loop thread.
 * 0, or -errno + *cause (e.g. no /dev/fuse): the daemon then runs without
 * the mount. */
int rg_fs_mount(const char *dir, rg_library *lib, rg_tm *tm,
                int read_timeout_s, rg_fs **out, char **cause);
/* Unmounts and joins the workers, bounded in time (a blocked client cannot
 * hold the daemon). Call on the loop thread before the loop stops. */
void rg_fs_unmount(rg_fs **fs);

#endif
