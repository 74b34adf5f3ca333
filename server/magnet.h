/* magnet.h — magnet links and bare info hashes (BEP 9). */
#ifndef RG_MAGNET_H
#define RG_MAGNET_H

#include <stddef.h>
#include <stdint.h>

typedef struct rg_magnet {
  uint8_t ih[20];
  char hex[41];     /* lowercase hex of ih */
  char *name;       /* dn=, or NULL */
  char **trackers;  /* tr= (percent-decoded), ntrackers of them */
  size_t ntrackers;
  char **peers;     /* x.pe= "host:port", npeers of them */
  size_t npeers;
} rg_magnet;

/* Parses LINK: "magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=…&tr=…&x.pe=…",
 * or a bare 40-hex / 32-base32 info hash (surrounding whitespace ignored).
 * 0, or -EINVAL with *cause (malloc'd, says what is wrong). On success free
 * the fields with rg_magnet_clear. At most 64 trackers and 64 peers kept. */
int rg_magnet_parse(const char *link, rg_magnet *out, char **cause);
void rg_magnet_clear(rg_magnet *m);
/* Builds "magnet:?xt=urn:btih:HEX&dn=NAME&tr=…&x.pe=…" (malloc'd). */
char *rg_magnet_format(const uint8_t ih[20], const char *name,
                       const char *const *trackers, size_t ntrackers,
                       const char *const *peers, size_t npeers);

#endif
