/* test-multipart.c — rg_multipart_boundary, rg_multipart_parse, rg_form_get.
 * The Plex body is shared/fixtures/webhooks/plex-media.play-movie.multipart,
 * embedded byte for byte so the test needs no files. */
#include "config.h"

#include "multipart.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const char plex_body[] =
  "------PlexBoundary7MA4YWxkTrZu0gW\r\n"
  "Content-Disposition: form-data; name=\"payload\"\r\n"
  "Content-Type: application/json\r\n"
  "\r\n"
  "{\"event\": \"media.play\", \"user\": true, \"owner\": true, \"Account\": "
  "{\"id\": 1, \"thumb\": \"https://plex.tv/users/1022b120ffbaa/avatar?c=1465"
  "525047\", \"title\": \"elan\"}, \"Server\": {\"title\": \"Office\", \"uuid"
  "\": \"54664a3d8acc39983675640ec9ce00b70af9cc36\"}, \"Player\": {\"local\":"
  " true, \"publicAddress\": \"200.200.200.200\", \"title\": \"Plex Web (Safa"
  "ri)\", \"uuid\": \"r6yfkdnfggbh2bdnvkffwbms\"}, \"Metadata\": {\"librarySe"
  "ctionType\": \"movie\", \"ratingKey\": \"26697\", \"key\": \"/library/meta"
  "data/26697\", \"guid\": \"plex://movie/5d7768313c3c2a001fbcd1f0\", \"type\""
  ": \"movie\", \"title\": \"Big Trouble in Little China\", \"librarySectionT"
  "itle\": \"Movies\", \"librarySectionID\": 1, \"year\": 1986, \"duration\":"
  " 5940000, \"Guid\": [{\"id\": \"imdb://tt0090728\"}, {\"id\": \"tmdb://697"
  "8\"}, {\"id\": \"tvdb://1876\"}]}}\r\n"
  "------PlexBoundary7MA4YWxkTrZu0gW\r\n"
  "Content-Disposition: form-data; name=\"thumb\"; filename=\"thumb.jpg\"\r\n"
  "Content-Type: image/jpeg\r\n"
  "\r\n"
  "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
  "\x00\x00\xff\xd9\r\n"
  "------PlexBoundary7MA4YWxkTrZu0gW--\r\n";
/* clang-format on */
static const char plex_ct[] =
    "multipart/form-data; boundary=----PlexBoundary7MA4YWxkTrZu0gW";

static int parse(const void *body, size_t len, const char *b, rg_part *parts,
                 size_t max, size_t *n) {
  return rg_multipart_parse(body, len, b, parts, max, n);
}

/* Parses BODY (a C string) with boundary B; the parse must fail. */
static void bad(const char *body, const char *b, const char *what) {
  rg_part parts[4];
  size_t n = 99;
  int rc = parse(body, strlen(body), b, parts, 4, &n);
  ok(rc == -EINVAL && n == 0, "rejects %s", what);
}

static void test_boundary(void) {
  char b[80];
  ok(rg_multipart_boundary(plex_ct, b, sizeof b) == 0, "Plex Content-Type");
  is_str(b, "----PlexBoundary7MA4YWxkTrZu0gW", "  boundary");
  ok(rg_multipart_boundary("multipart/form-data; boundary=\"a b;c=d\"", b,
                           sizeof b) == 0,
     "quoted boundary");
  is_str(b, "a b;c=d", "  with space, ';' and '=' inside");
  ok(rg_multipart_boundary("Multipart/Form-Data;charset=utf-8;BOUNDARY=xyz", b,
                           sizeof b) == 0,
     "case-insensitive, other params first");
  is_str(b, "xyz", "  boundary");
  ok(rg_multipart_boundary("multipart/form-data ; boundary = \"q\\\"x\" ; a=b",
                           b, sizeof b) == 0,
     "whitespace and escaped quote");
  is_str(b, "q\"x", "  boundary");
  ok(rg_multipart_boundary("multipart/mixed; foo; boundary=z", b, sizeof b) ==
             0 &&
         strcmp(b, "z") == 0,
     "a valueless parameter is skipped");
  ok(rg_multipart_boundary("application/json", b, sizeof b) == -EINVAL,
     "not multipart");
  ok(rg_multipart_boundary("multipart/form-data", b, sizeof b) == -EINVAL,
     "no boundary");
  ok(rg_multipart_boundary("multipart/form-data; boundary=", b, sizeof b) ==
         -EINVAL,
     "empty boundary");
  ok(rg_multipart_boundary("multipart/form-data; boundary=\"\"", b, sizeof b) ==
         -EINVAL,
     "empty quoted boundary");
  ok(rg_multipart_boundary("multipart/form-data; boundary=\"abc", b,
                           sizeof b) == -EINVAL,
     "unterminated quote");
  ok(rg_multipart_boundary("multipart/form-data; xboundary=abc", b, sizeof b) ==
         -EINVAL,
     "a parameter merely ending in 'boundary'");
  char longct[200] = "multipart/form-data; boundary=";
  memset(longct + strlen(longct), 'x', 71);
  ok(rg_multipart_boundary(longct, b, sizeof b) == -EINVAL,
     "71-byte boundary is overlong");
  longct[strlen(longct) - 1] = 0;
  ok(rg_multipart_boundary(longct, b, sizeof b) == 0 && strlen(b) == 70,
     "70-byte boundary is fine");
  ok(rg_multipart_boundary(longct, b, 70) == -EINVAL,
     "boundary longer than the caller's buffer");
  ok(rg_multipart_boundary(NULL, b, sizeof b) == -EINVAL, "NULL");
}

static void test_plex(void) {
  char b[80];
  rg_part parts[8];
  size_t n = 0;
  rg_multipart_boundary(plex_ct, b, sizeof b);
  int rc = parse(plex_body, sizeof plex_body - 1, b, parts, 8, &n);
  ok(rc == 0 && n == 2, "Plex body: two parts");
  if (n != 2)
    return;
  is_str(parts[0].name, "payload", "part 1 name");
  is_str(parts[0].filename, "", "part 1 has no filename");
  is_str(parts[0].content_type, "application/json", "part 1 type");
  ok(parts[0].len > 2 && parts[0].data[0] == '{' &&
         parts[0].data[parts[0].len - 1] == '}',
     "payload is exactly the JSON object (%zu bytes)", parts[0].len);
  ok(memmem(parts[0].data, parts[0].len, "\"media.play\"", 12) != NULL,
     "payload holds the event");
  is_str(parts[1].name, "thumb", "part 2 name");
  is_str(parts[1].filename, "thumb.jpg", "part 2 filename");
  is_str(parts[1].content_type, "image/jpeg", "part 2 type");
  ok(parts[1].len == 45 && parts[1].data[0] == 0xff &&
         parts[1].data[1] == 0xd8 && parts[1].data[43] == 0xff &&
         parts[1].data[44] == 0xd9,
     "thumb is the JPEG bytes, NULs included (%zu)", parts[1].len);
  ok(parts[0].data >= (const uint8_t *)plex_body &&
         parts[1].data + parts[1].len <=
             (const uint8_t *)plex_body + sizeof plex_body,
     "parts point into the body");

  /* Only room for one part: the first is kept. */
  n = 0;
  ok(parse(plex_body, sizeof plex_body - 1, b, parts, 1, &n) == 0 && n == 1 &&
         strcmp(parts[0].name, "payload") == 0,
     "max 1 keeps the first part");
  n = 9;
  ok(parse(plex_body, sizeof plex_body - 1, b, NULL, 0, &n) == 0 && n == 0,
     "max 0 only validates");

  /* Every truncation of the body fails cleanly (the epilogue CRLF aside). */
  int bad_trunc = 0;
  for (size_t len = 0; len < sizeof plex_body - 3; len++) {
    uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan checks reads */
    memcpy(copy, plex_body, len);
    n = 0;
    if (parse(copy, len, b, parts, 8, &n) != -EINVAL)
      bad_trunc++;
    free(copy);
  }
  is_int(bad_trunc, 0, "every truncated Plex body is rejected");
  ok(parse(plex_body, sizeof plex_body - 3, b, parts, 8, &n) == 0 && n == 2,
     "close delimiter without the final CRLF is fine");
}

/* A file part whose bytes hold CRLFs, NULs and near-boundaries. */
static void test_binary(void) {
  static const char head[] =
      "preamble to ignore\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"torrent\"; "
      "filename=\"C:\\dir\\a \\\"b\\\".torrent\"\r\n"
      "content-type:application/x-bittorrent\r\n"
      "X-Other: ignored\r\n"
      "\r\n";
  static const uint8_t
      data[] = {'d',  '\r', '\n', '-',  '-',  'X',  'y',  'Z',  'a', '\r',
                '\n', /* +chars */
                '\r', '\n', '-',  '-',  'X',  'y',  'Z',  '-',  'x', /* "-x" */
                '-',  '-',  'X',  'y',  'Z',  '\r', '\n', /* no CRLF before */
                0,    0xff, '\r', '\n', '\r', '\n', '\r', '\n', '-', '-',
                'X',  'y',  '\r', '\n', '-',  '-',  'X',  'y',  'Z', ' ',
                'q',  '\r', '\n', 'e'};
  static const char tail[] =
      "\r\n--XyZ \t\r\n"
      "Content-Disposition: form-data; name=plain\r\n"
      "\r\n"
      "v\r\n"
      "--XyZ\r\n"
      "\r\n"
      "headerless\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"empty\"\r\n"
      "\r\n"
      "\r\n"
      "--XyZ--\r\n"
      "epilogue --XyZ garbage";
  size_t len = sizeof head - 1 + sizeof data + sizeof tail - 1;
  uint8_t *body = malloc(len);
  memcpy(body, head, sizeof head - 1);
  memcpy(body + sizeof head - 1, data, sizeof data);
  memcpy(body + sizeof head - 1 + sizeof data, tail, sizeof tail - 1);

  rg_part parts[8];
  size_t n = 0;
  int rc = rg_multipart_parse(body, len, "XyZ", parts, 8, &n);
  ok(rc == 0 && n == 4, "binary body: four parts (rc %d, n %zu)", rc, n);
  if (n == 4) {
    is_str(parts[0].name, "torrent", "file part name");
    is_str(parts[0].filename, "C:\\dir\\a \"b\".torrent",
           "filename: bare backslashes kept, \\\" unescaped");
    is_str(parts[0].content_type, "application/x-bittorrent",
           "lower-case header name, no space after ':'");
    ok(parts[0].len == sizeof data &&
           memcmp(parts[0].data, data, sizeof data) == 0,
       "file bytes intact (%zu of %zu)", parts[0].len, sizeof data);
    is_str(parts[1].name, "plain",
           "token name (transport padding after delimiter)");
    ok(parts[1].len == 1 && parts[1].data[0] == 'v', "  value");
    ok(parts[2].name[0] == 0 && parts[2].len == 10 &&
           memcmp(parts[2].data, "headerless", 10) == 0,
       "part without headers");
    ok(strcmp(parts[3].name, "empty") == 0 && parts[3].len == 0, "empty part");
  }
  free(body);
}

static void test_bad(void) {
  bad("", "B", "an empty body");
  bad("no delimiter here", "B", "a body without a delimiter");
  bad("--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx", "B",
      "no closing delimiter");
  bad("--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B", "B",
      "a truncated closing delimiter");
  bad("--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B-", "B",
      "a half closing delimiter");
  bad("--B\r\nContent-Disposition: form-data; name=a\r\n", "B",
      "a part without header end");
  bad("--B\r\nContent-Disposition: form-data; name=a\r\n--B\r\nX: y\r\n\r\n"
      "v\r\n--B--\r\n",
      "B", "a part whose blank line is missing");
  bad("--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--B--", "B",
      "an unterminated quoted name");
  bad("--Bx\r\n\r\nv\r\n--Bz", "B", "a delimiter with trailing junk only");
  bad("x--B\r\n\r\nv\r\n--Bz\r\n", "B",
      "a first delimiter not at a line start");
  bad("--B\n\nv\n--B--\n", "B", "bare LF line ends");
  bad("--B\r\n\r\nv\r\n--B--", "", "an empty boundary");
  char big[300];
  snprintf(big, sizeof big,
           "--B\r\nContent-Disposition: form-data; name=\"%0200d\"\r\n\r\n"
           "v\r\n--B--",
           0);
  bad(big, "B", "an overlong name");
  rg_part p[1];
  size_t n;
  ok(rg_multipart_parse((const uint8_t *)"--B--", 5, NULL, p, 1, &n) == -EINVAL,
     "NULL boundary");
  n = 5;
  ok(rg_multipart_parse((const uint8_t *)"--B--", 5, "B", p, 1, &n) == 0 &&
         n == 0,
     "a body with only the close delimiter has no parts (empty browser form)");
  static const char pre[] = "x--B\r\n--Bx\r\n\r\n--B--\r\n";
  n = 5;
  ok(rg_multipart_parse((const uint8_t *)pre, sizeof pre - 1, "B", p, 1, &n) ==
             0 &&
         n == 0,
     "delimiter look-alikes before the first real one are preamble");
  ok(rg_multipart_parse((const uint8_t *)"--B\r\n\r\n\r\n--B--", 14, "B", p, 1,
                        &n) == 0 &&
         n == 1 && p[0].len == 0,
     "one empty part");
}

static void test_form(void) {
  static const char q[] = "a=1&event=media.play&payload=%7B%22x%22%3A+1%7D"
                          "&empty=&flag&sp=a+b%20c&a=2&bad=%zz&nul=%00";
  size_t len = sizeof q - 1;
  char *v;
  is_str(v = rg_form_get(q, len, "a"), "1", "first value wins");
  free(v);
  is_str(v = rg_form_get(q, len, "event"), "media.play", "plain value");
  free(v);
  is_str(v = rg_form_get(q, len, "payload"), "{\"x\": 1}", "percent and plus");
  free(v);
  is_str(v = rg_form_get(q, len, "empty"), "", "empty value");
  free(v);
  is_str(v = rg_form_get(q, len, "flag"), "", "key without '='");
  free(v);
  is_str(v = rg_form_get(q, len, "sp"), "a b c", "'+' and %%20");
  free(v);
  ok(rg_form_get(q, len, "missing") == NULL, "absent → NULL");
  ok(rg_form_get(q, len, "bad") == NULL, "bad escape → NULL");
  ok(rg_form_get(q, len, "nul") == NULL, "%%00 → NULL");
  ok(rg_form_get(q, len, "ev") == NULL, "no prefix match");
  is_str(v = rg_form_get("my+key=x&my%20key=y", 19, "my key"), "x",
         "keys are decoded too");
  free(v);
  is_str(v = rg_form_get("?api_key=abc&x=1", 16, "api_key"), "abc",
         "leading '?' of a query string");
  free(v);
  is_str(v = rg_form_get("a=12345", 4, "a"), "12", "LEN bounds the body");
  free(v);
  ok(rg_form_get("", 0, "a") == NULL, "empty body");
  ok(rg_form_get(NULL, 0, "a") == NULL, "NULL body");
}

int main(void) {
  test_boundary();
  test_plex();
  test_binary();
  test_bad();
  test_form();
  return tap_done();
}
