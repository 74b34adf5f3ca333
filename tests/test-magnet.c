/* test-magnet.c — rg_magnet_parse / rg_magnet_format. */
#include "config.h"

#include "magnet.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEX1 "c9e15763f722f23e98a29decdfae341b98d53056"
#define B32_1 "ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW"

/* Parses LINK, expects success and the hex HEX. */
static void good(const char *link, const char *hex) {
  rg_magnet m;
  char *cause = NULL;
  int rc = rg_magnet_parse(link, &m, &cause);
  ok(rc == 0 && strcmp(m.hex, hex) == 0, "parses '%s'", link);
  if (rc)
    printf("#   cause: %s\n", cause ? cause : "(none)");
  free(cause);
  rg_magnet_clear(&m);
}

/* Expects failure with a cause containing WANT. */
static void bad(const char *link, const char *want) {
  rg_magnet m;
  char *cause = NULL;
  int rc = rg_magnet_parse(link, &m, &cause);
  ok(rc == -EINVAL && cause && strstr(cause, want), "rejects '%s' (%s)",
     link ? link : "(null)", want);
  if (!(cause && strstr(cause, want)))
    printf("#   rc %d cause: %s\n", rc, cause ? cause : "(none)");
  ok(m.name == NULL && m.ntrackers == 0 && m.trackers == NULL &&
         m.npeers == 0 && m.peers == NULL,
     "  and leaves nothing to free");
  free(cause);
}

int main(void) {
  rg_magnet m;
  char *cause = NULL;

  /* Bare hashes: hex either case, base32 either case, whitespace. */
  good(HEX1, HEX1);
  good("C9E15763F722F23E98A29DECDFAE341B98D53056", HEX1);
  good(B32_1, HEX1);
  good("zhqvoy7xelzd5gfctxwn7lrudomnkmcw", HEX1);
  good("ZhQvOy7XeLzD5gFcTxWn7lRuDoMnKmCw", HEX1);
  good("  \t" HEX1 "\n", HEX1);
  good("AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT",
       "000102030405060708090a0b0c0d0e0f10111213");
  good("77777777777777777777777777777777",
       "ffffffffffffffffffffffffffffffffffffffff");

  /* The ih bytes match the hex. */
  ok(rg_magnet_parse(B32_1, &m, &cause) == 0 && m.ih[0] == 0xc9 &&
         m.ih[19] == 0x56 && !m.name && m.ntrackers == 0 && m.npeers == 0,
     "base32 decodes to the right bytes, no extras");
  rg_magnet_clear(&m);

  /* Magnet links. */
  good("magnet:?xt=urn:btih:" HEX1, HEX1);
  good("magnet:?xt=urn:btih:" B32_1, HEX1);
  good("MAGNET:?xt=URN:BTIH:" HEX1, HEX1);
  good("magnet:?dn=x&xt=urn:btih:" HEX1, HEX1);
  good(" magnet:?xt=urn:btih:" HEX1 " ", HEX1);
  good("magnet:?xt=urn%3Abtih%3A" HEX1, HEX1);
  good("magnet:?xt.1=urn:btih:" HEX1, HEX1);
  good("magnet:?xt=urn:btmh:1220aaaa&xt=urn:btih:" HEX1, HEX1); /* hybrid */
  good("magnet:?xt=urn:btih:" HEX1 "&&&junk&=x&dn", HEX1);

  /* dn, tr, x.pe with percent-decoding. */
  const char *link =
      "magnet:?xt=urn:btih:" HEX1 "&dn=Big+Trouble%20in%20Little%20China"
      "&tr=http%3A%2F%2Ftracker.example%3A6969%2Fannounce"
      "&tr=udp://t2.example:1337/announce"
      "&tr=http%3A%2F%2Ftracker.example%3A6969%2Fannounce" /* duplicate */
      "&x.pe=127.0.0.2:6881&x.pe=%5B%3A%3A1%5D%3A51413"
      "&x.pe=noport&x.pe=host:0&x.pe=host:99999&x.pe=:80"
      "&dn=second";
  ok(rg_magnet_parse(link, &m, &cause) == 0, "full magnet parses");
  is_str(m.hex, HEX1, "hex");
  is_str(m.name, "Big Trouble in Little China", "dn decoded, '+' is a space");
  is_int(m.ntrackers, 2, "two distinct trackers");
  if (m.ntrackers == 2) {
    is_str(m.trackers[0], "http://tracker.example:6969/announce", "tr 1");
    is_str(m.trackers[1], "udp://t2.example:1337/announce", "tr 2");
  }
  is_int(m.npeers, 2, "two valid peers (bad ports and hosts dropped)");
  if (m.npeers == 2) {
    is_str(m.peers[0], "127.0.0.2:6881", "peer 1");
    is_str(m.peers[1], "[::1]:51413", "peer 2 (IPv6, decoded)");
  }
  rg_magnet_clear(&m);
  ok(m.name == NULL && m.trackers == NULL && m.ntrackers == 0, "clear zeroes");
  rg_magnet_clear(&m); /* twice is fine */

  /* Bad hints are dropped, not fatal. */
  ok(rg_magnet_parse("magnet:?xt=urn:btih:" HEX1 "&dn=%zz&tr=%&tr=a%00b"
                     "&tr=udp://ok:1/a",
                     &m, &cause) == 0,
     "bad dn/tr escapes do not fail the link");
  ok(m.name == NULL && m.ntrackers == 1, "  they are dropped");
  rg_magnet_clear(&m);

  /* At most 64 trackers. */
  {
    char buf[8192] = "magnet:?xt=urn:btih:" HEX1;
    for (int i = 0; i < 100; i++)
      sprintf(buf + strlen(buf), "&tr=udp://t%d:1/a", i);
    ok(rg_magnet_parse(buf, &m, &cause) == 0 && m.ntrackers == 64,
       "trackers capped at 64");
    rg_magnet_clear(&m);
  }

  /* Errors, with causes that say what is wrong. */
  bad(NULL, "not a magnet link or info hash");
  bad("", "not a magnet link or info hash");
  bad("   ", "not a magnet link or info hash");
  bad("http://example.com/x.torrent", "not a magnet link or info hash");
  bad("hello world", "not a magnet link or info hash");
  bad("magnet:", "'?'");
  bad("magnet:xt=urn:btih:" HEX1, "'?'");
  bad("magnet:?", "magnet has no xt=urn:btih");
  bad("magnet:?dn=foo&tr=udp://x:1/a", "magnet has no xt=urn:btih");
  bad("magnet:?xt=urn:sha1:" HEX1, "magnet has no xt=urn:btih");
  bad("magnet:?xt=urn:btmh:1220" HEX1, "v2");
  bad("magnet:?xt=urn:btih:",
      "info hash must be 40 hex or 32 base32 characters");
  bad("magnet:?xt=urn:btih:abc", "info hash must be 40 hex or 32 base32");
  bad("magnet:?xt=urn:btih:" HEX1 "0", "got 41");
  bad("c9e15763f722f23e98a29decdfae341b98d5305", "got 39");
  bad("c9e15763f722f23e98a29decdfae341b98d5305g", "non-hex character 'g'");
  bad("ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMC1", "non-base32 character '1'");
  bad("ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMC8", "base32 is A-Z and 2-7");
  bad("magnet:?xt=urn:btih:" B32_1 "%00", "bad percent escape");
  bad("magnet:?xt=urn:btih:%zz", "bad percent escape");
  bad("magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d5305%",
      "bad percent escape");
  ok(rg_magnet_parse("junk", &m, NULL) == -EINVAL, "NULL cause is allowed");

  /* Format and round trip. */
  uint8_t ih[20];
  for (int i = 0; i < 20; i++)
    ih[i] = (uint8_t)(i * 13);
  const char *trs[] = {"http://t.example:6969/announce?passkey=a&b",
                       "udp://u:1"};
  const char *pes[] = {"127.0.0.2:6881"};
  char *s = rg_magnet_format(ih, "A Movie (1986) & more", trs, 2, pes, 1);
  ok(strncmp(s, "magnet:?xt=urn:btih:000d1a", 26) == 0, "format: %s", s);
  ok(strstr(s, "&dn=A%20Movie%20%281986%29%20%26%20more") != NULL,
     "format encodes dn");
  ok(rg_magnet_parse(s, &m, &cause) == 0, "formatted link parses");
  ok(memcmp(m.ih, ih, 20) == 0, "round trip: ih");
  is_str(m.name, "A Movie (1986) & more", "round trip: name");
  ok(m.ntrackers == 2 && strcmp(m.trackers[0], trs[0]) == 0 &&
         strcmp(m.trackers[1], trs[1]) == 0,
     "round trip: trackers");
  ok(m.npeers == 1 && strcmp(m.peers[0], pes[0]) == 0, "round trip: peers");
  rg_magnet_clear(&m);
  free(s);

  s = rg_magnet_format(ih, NULL, NULL, 0, NULL, 0);
  is_str(s, "magnet:?xt=urn:btih:000d1a2734414e5b6875828f9ca9b6c3d0ddeaf7",
         "format with nothing else");
  free(s);
  s = rg_magnet_format(ih, "", NULL, 0, NULL, 0);
  ok(strstr(s, "dn=") == NULL, "empty name is left out");
  free(s);

  return tap_done();
}
