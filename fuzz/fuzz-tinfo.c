/* fuzz-tinfo.c — rg_tinfo_parse (libtorrent's bdecoder and torrent_info
 * behind the C shim) on arbitrary bytes. Whatever it accepts must describe a
 * consistent file layout. */
#include "config.h"

#include "engine.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *cause = NULL;
  rg_tinfo *t = rg_tinfo_parse(data, size, &cause);
  if (!t) {
    if (!cause) /* the contract: NULL comes with a cause */
      abort();
    free(cause);
    return 0;
  }
  if (t->total_size < 0 || t->piece_length <= 0 || t->num_pieces < 0 ||
      t->nfiles <= 0 || !t->files || !t->info || t->info_len == 0 ||
      t->info_len > size || t->ntrackers < 0 || (t->ntrackers && !t->trackers))
    abort();
  int64_t sum = 0;
  for (int i = 0; i < t->nfiles; i++) {
    const rg_tfile *f = &t->files[i];
    if (!f->path || f->size < 0 || f->offset != sum)
      abort();
    sum += f->size;
  }
  if (sum != t->total_size)
    abort();
  if (t->total_size > 0 &&
      (t->total_size - 1) / t->piece_length + 1 != t->num_pieces)
    abort();
  for (int i = 0; i < t->ntrackers; i++)
    if (!t->trackers[i])
      abort();
  free(cause);
  rg_tinfo_free(&t);
  if (t)
    abort();
  return 0;
}
