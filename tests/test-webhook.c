/* test-webhook.c — rg_webhook_parse on every recorded payload in
 * tests/fixtures/webhooks/ (copies of shared/fixtures/webhooks/) and on the
 * variants media servers and users produce (episodes, legacy Plex agents,
 * localised titles, path-only Jellyfin templates, text/plain templates with
 * True/False, forms), the garbage a webhook endpoint must refuse, and the
 * matcher (rg_playback_score, rg_playback_map_path) on hand-made entries. */
#include "config.h"

#include "playback.h"
#include "tap.h"
#include "util.h"
#include "webhook.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *fixture(const char *name, size_t *len) {
  const char *src = getenv("RG_SRCDIR");
  char *path =
      rg_printf("%s/tests/fixtures/webhooks/%s", src ? src : ".", name);
  uint8_t *buf = NULL;
  size_t n = 0;
  if (rg_read_file(path, 1 << 20, &buf, &n) != 0) {
    printf("# cannot read %s\n", path);
    free(path);
    *len = 0;
    return rg_strdup("");
  }
  free(path);
  char *s = rg_malloc(n + 1);
  memcpy(s, buf, n);
  s[n] = 0;
  free(buf);
  *len = n;
  return s;
}

/* Parses BODY with CT; NULL (and a failed check) if it does not parse. */
static rg_wh_event *parse_ok(const char *ct, const char *body, size_t len,
                             const char *what) {
  rg_wh_event *e = NULL;
  char *cause = NULL;
  int rc = rg_webhook_parse(ct, (const uint8_t *)body, len, &e, &cause);
  ok(rc == 0 && e, "%s parses", what);
  if (rc)
    printf("#   %d: %s\n", rc, cause ? cause : "?");
  free(cause);
  return e;
}

static void parse_bad(const char *ct, const char *body, size_t len, int want,
                      const char *what) {
  rg_wh_event *e = NULL;
  char *cause = NULL;
  int rc = rg_webhook_parse(ct, (const uint8_t *)body, len, &e, &cause);
  is_int(rc, want, "%s is refused", what);
  ok(e == NULL && cause && *cause, "  … with a reason (%s)",
     cause ? cause : "none");
  free(cause);
  rg_wh_event_free(&e);
}

static void check_plex_movie(rg_wh_event *e, const char *what) {
  if (!e)
    return;
  is_str(rg_wh_server_name(e->server), "plex", "%s: server", what);
  is_str(rg_wh_kind_name(e->kind), "play", "%s: kind", what);
  is_str(e->event, "media.play", "%s: event name", what);
  is_str(e->media_type, "movie", "%s: media type", what);
  ok(e->nimdb >= 1 && strcmp(e->imdb[0], "tt0090728") == 0, "%s: imdb", what);
  ok(e->ntmdb == 1 && e->tmdb[0] == 6978, "%s: tmdb", what);
  ok(e->ntvdb == 1 && e->tvdb[0] == 1876, "%s: tvdb", what);
  is_str(e->title, "Big Trouble in Little China", "%s: title", what);
  is_int(e->year, 1986, "%s: year", what);
  is_str(e->client, "Plex Web (Safari)", "%s: client", what);
  is_str(e->user, "elan", "%s: user", what);
  is_str(e->session, "r6yfkdnfggbh2bdnvkffwbms", "%s: player id", what);
  is_int(e->season, -1, "%s: no season", what);
}

static void test_plex(void) {
  size_t len, clen;
  char *json = fixture("plex-media.play-movie.json", &len);
  rg_wh_event *e = parse_ok("application/json", json, len, "Plex play JSON");
  check_plex_movie(e, "Plex JSON");
  rg_wh_event_free(&e);

  char *mp = fixture("plex-media.play-movie.multipart", &len);
  char *ct = fixture("plex-media.play-movie.multipart.content-type", &clen);
  while (clen && (ct[clen - 1] == '\n' || ct[clen - 1] == '\r'))
    ct[--clen] = 0;
  e = parse_ok(ct, mp, len, "Plex multipart with a thumb");
  check_plex_movie(e, "Plex multipart");
  rg_wh_event_free(&e);
  free(mp);
  free(ct);

  /* payload= url-encoded */
  char *enc = rg_percent_encode(json);
  char *form = rg_printf("payload=%s", enc);
  e = parse_ok("application/x-www-form-urlencoded", form, strlen(form),
               "Plex url-encoded payload=");
  check_plex_movie(e, "Plex form");
  rg_wh_event_free(&e);
  free(form);
  free(enc);
  free(json);

  json = fixture("plex-media.stop-movie.json", &len);
  e = parse_ok("application/json", json, len, "Plex stop");
  if (e)
    is_str(rg_wh_kind_name(e->kind), "stop", "Plex stop: kind");
  rg_wh_event_free(&e);
  free(json);

  /* an episode, with a position */
  const char *ep =
      "{\"event\":\"media.pause\",\"Account\":{\"title\":\"kim\"},"
      "\"Player\":{\"title\":\"Living Room\",\"uuid\":\"p1\"},"
      "\"Metadata\":{\"type\":\"episode\",\"title\":\"Winter Is Coming\","
      "\"grandparentTitle\":\"Game of Thrones\",\"parentIndex\":1,"
      "\"index\":1,\"year\":2011,\"viewOffset\":120000,"
      "\"grandparentGuid\":\"plex://show/5d9c086c46115600200aa2fe\","
      "\"Guid\":[{\"id\":\"imdb://tt1480055\"},{\"id\":\"tmdb://63056\"},"
      "{\"id\":\"tvdb://3254641\"}]}}";
  e = parse_ok("application/json", ep, strlen(ep), "Plex episode");
  if (e) {
    is_str(rg_wh_kind_name(e->kind), "pause", "Plex episode: pause");
    is_str(e->media_type, "episode", "Plex episode: type");
    is_str(e->show, "Game of Thrones", "Plex episode: show");
    is_int(e->season, 1, "Plex episode: season");
    is_int(e->episode, 1, "Plex episode: episode");
    is_str(e->title, "Winter Is Coming", "Plex episode: its own title");
    is_int(e->position_ms, 120000, "Plex episode: viewOffset");
    is_str(e->imdb[0], "tt1480055", "Plex episode: imdb");
  }
  rg_wh_event_free(&e);

  /* legacy agents */
  const char *legacy =
      "{\"event\":\"media.resume\",\"Player\":{\"uuid\":\"x\"},\"Metadata\":"
      "{\"type\":\"movie\",\"title\":\"Big Trouble in Little China\","
      "\"guid\":\"com.plexapp.agents.imdb://tt0090728?lang=en\"}}";
  e = parse_ok("application/json", legacy, strlen(legacy),
               "Plex legacy imdb agent");
  if (e) {
    is_str(rg_wh_kind_name(e->kind), "resume", "legacy: resume");
    ok(e->nimdb == 1 && strcmp(e->imdb[0], "tt0090728") == 0,
       "legacy: imdb without ?lang=en");
  }
  rg_wh_event_free(&e);
  const char *legacy_tmdb =
      "{\"event\":\"media.play\",\"Metadata\":{\"type\":\"movie\","
      "\"title\":\"Fight Club\",\"guid\":"
      "\"com.plexapp.agents.themoviedb://550?lang=en\"},\"Player\":{}}";
  e = parse_ok(NULL, legacy_tmdb, strlen(legacy_tmdb),
               "Plex legacy themoviedb agent, no Content-Type");
  if (e)
    ok(e->ntmdb == 1 && e->tmdb[0] == 550 && e->nimdb == 0,
       "legacy themoviedb: tmdb 550");
  rg_wh_event_free(&e);
  const char *legacy_tv =
      "{\"event\":\"media.scrobble\",\"Player\":{},\"Metadata\":{\"type\":"
      "\"episode\",\"grandparentTitle\":\"Breaking Bad\",\"guid\":"
      "\"com.plexapp.agents.thetvdb://81189/2/3?lang=en\"}}";
  e = parse_ok("application/json", legacy_tv, strlen(legacy_tv),
               "Plex legacy thetvdb agent");
  if (e) {
    is_str(rg_wh_kind_name(e->kind), "scrobble", "legacy tv: scrobble");
    ok(e->season == 2 && e->episode == 3, "legacy tv: S02E03 from the guid");
    is_int(e->ntvdb, 0, "legacy tv: the show's tvdb id is not the item's");
  }
  rg_wh_event_free(&e);

  /* localised title: the ids still come through */
  const char *loc =
      "{\"event\":\"media.play\",\"Player\":{\"uuid\":\"fr\"},\"Metadata\":"
      "{\"type\":\"movie\",\"title\":\"Les Aventures de Jack Burton dans les "
      "griffes du Mandarin\",\"year\":1986,\"Guid\":[{\"id\":"
      "\"imdb://tt0090728\"}]}}";
  e = parse_ok("application/json", loc, strlen(loc), "Plex localised title");
  if (e)
    is_str(e->imdb[0], "tt0090728", "localised: imdb");
  rg_wh_event_free(&e);

  const char *other =
      "{\"event\":\"library.new\",\"Metadata\":{\"title\":\"x\"},"
      "\"Account\":{}}";
  e = parse_ok("application/json", other, strlen(other), "Plex library.new");
  if (e)
    is_str(rg_wh_kind_name(e->kind), "other", "library.new: other");
  rg_wh_event_free(&e);
}

static void test_jellyfin(void) {
  size_t len;
  char *all = fixture("jellyfin-PlaybackStart-all-properties.json", &len);
  rg_wh_event *e = parse_ok("text/plain; charset=utf-8", all, len,
                            "Jellyfin SendAllProperties as text/plain");
  if (e) {
    is_str(rg_wh_server_name(e->server), "jellyfin", "Jellyfin: server");
    is_str(rg_wh_kind_name(e->kind), "play", "Jellyfin: play");
    is_str(e->media_type, "movie", "Jellyfin: movie");
    is_str(e->imdb[0], "tt9764362", "Jellyfin: Provider_imdb");
    ok(e->ntmdb == 1 && e->tmdb[0] == 593643, "Jellyfin: Provider_tmdb");
    is_str(e->title, "The Menu", "Jellyfin: Name");
    is_int(e->year, 2022, "Jellyfin: Year");
    is_str(e->client, "Jellyfin Web", "Jellyfin: client");
    is_str(e->device, "Firefox", "Jellyfin: device");
    is_str(e->user, "jellyfin", "Jellyfin: user");
    is_int(e->position_ms, 0, "Jellyfin: position");
  }
  rg_wh_event_free(&e);
  free(all);

  char *tpl = fixture("jellyfin-PlaybackStart-template.txt", &len);
  e = parse_ok("text/plain", tpl, len, "Jellyfin Plex-style template");
  if (e) {
    is_str(rg_wh_server_name(e->server), "jellyfin", "template: server");
    is_str(rg_wh_kind_name(e->kind), "play", "template: play");
    is_str(e->imdb[0], "tt9764362", "template: imdb from guid");
    is_str(e->title, "The Menu", "template: title");
    is_str(e->media_type, "movie", "template: librarySectionType");
  }
  rg_wh_event_free(&e);
  free(tpl);

  /* a Handlebars template: bare True/False, an empty value, a raw newline
   * inside a string, a trailing comma */
  const char *hb = "{\n \"NotificationType\": \"PlaybackProgress\",\n"
                   " \"Name\": \"The Menu\",\n \"Overview\": \"line one\n"
                   "line two\",\n \"IsPaused\": True,\n \"IsAutomated\": "
                   "False,\n \"Year\": ,\n \"Provider_imdb\": \"tt9764362\",\n"
                   " \"PlaybackPositionTicks\": 6000000000,\n}\n";
  e = parse_ok("text/plain", hb, strlen(hb), "template with True/False");
  if (e) {
    is_str(rg_wh_kind_name(e->kind), "pause", "paused progress → pause");
    ok(e->paused, "  IsPaused True");
    is_int(e->year, 0, "  empty Year → unknown");
    is_int(e->position_ms, 600000, "  ticks → ms");
    is_str(e->imdb[0], "tt9764362", "  imdb");
  }
  rg_wh_event_free(&e);

  const char *resumed = "{\"NotificationType\":\"PlaybackProgress\","
                        "\"IsPaused\":\"False\",\"Name\":\"x\"}";
  e = parse_ok("application/json", resumed, strlen(resumed),
               "progress, IsPaused \"False\"");
  if (e)
    is_str(rg_wh_kind_name(e->kind), "progress", "  → progress");
  rg_wh_event_free(&e);

  /* path only */
  const char *po = "{\"NotificationType\":\"PlaybackStart\",\"ItemPath\":"
                   "\"/data/media/movies/Heat (1995)/Heat (1995).mkv\"}";
  e = parse_ok("text/plain", po, strlen(po), "path-only template");
  if (e) {
    is_str(e->path, "/data/media/movies/Heat (1995)/Heat (1995).mkv",
           "path-only: path");
    is_str(e->title, "Heat", "path-only: title from the folder");
    is_int(e->year, 1995, "path-only: year from the folder");
    is_str(e->media_type, "movie", "path-only: a movie");
  }
  rg_wh_event_free(&e);

  const char *pe = "{\"NotificationType\":\"PlaybackStop\",\"Path\":"
                   "\"D:\\\\Media\\\\tv\\\\Breaking Bad\\\\Season 02\\\\"
                   "Breaking Bad - S02E01.mkv\"}";
  e = parse_ok("text/plain", pe, strlen(pe), "path-only Windows episode");
  if (e) {
    is_str(rg_wh_kind_name(e->kind), "stop", "  stop");
    is_str(e->show, "Breaking Bad", "  show from the folder");
    ok(e->season == 2 && e->episode == 1, "  S02E01 from the name");
    is_str(e->media_type, "episode", "  an episode");
  }
  rg_wh_event_free(&e);

  /* an episode, all properties */
  const char *je = "{\"NotificationType\":\"PlaybackStart\",\"ItemType\":"
                   "\"Episode\",\"Name\":\"Pilot\",\"SeriesName\":\"Breaking "
                   "Bad\",\"SeasonNumber00\":\"01\",\"EpisodeNumber00\":\"01\","
                   "\"Provider_tvdb\":\"349232\",\"Provider_tmdbcollection\":"
                   "\"77\",\"DeviceId\":\"d1\"}";
  e = parse_ok("application/json", je, strlen(je), "Jellyfin episode");
  if (e) {
    is_str(e->show, "Breaking Bad", "  SeriesName");
    ok(e->season == 1 && e->episode == 1, "  SeasonNumber00/EpisodeNumber00");
    ok(e->ntvdb == 1 && e->tvdb[0] == 349232, "  Provider_tvdb");
    is_int(e->ntmdb, 0, "  Provider_tmdbcollection is not a tmdb id");
    is_str(e->session, "d1", "  DeviceId keys the session");
  }
  rg_wh_event_free(&e);

  /* "Key: Value" lines */
  const char *lines = "NotificationType: PlaybackStop\nName: The Menu\n"
                      "Provider_imdb: tt9764362\n";
  e = parse_ok("text/plain", lines, strlen(lines), "Key: Value template");
  if (e) {
    is_str(rg_wh_kind_name(e->kind), "stop", "  stop");
    is_str(e->imdb[0], "tt9764362", "  imdb");
  }
  rg_wh_event_free(&e);
}

static void check_emby(rg_wh_event *e, const char *what) {
  if (!e)
    return;
  is_str(rg_wh_server_name(e->server), "emby", "%s: server", what);
  is_str(rg_wh_kind_name(e->kind), "play", "%s: play", what);
  is_str(e->media_type, "episode", "%s: episode", what);
  ok(e->ntvdb == 1 && e->tvdb[0] == 9944695, "%s: ProviderIds.Tvdb", what);
  ok(e->season == 2 && e->episode == 1, "%s: S02E01", what);
  is_str(e->show, "Billy the Kid", "%s: show from the path", what);
  is_int(e->show_year, 2022, "%s: show year from the path", what);
  is_str(e->title, "The Road to Hell", "%s: episode title", what);
  is_str(e->client, "Emby Web", "%s: client", what);
  is_str(e->user, "Scott", "%s: user", what);
  is_int(e->position_ms, 0, "%s: position", what);
}

static void test_emby(void) {
  size_t len;
  char *json = fixture("emby-playback.start-episode.json", &len);
  rg_wh_event *e = parse_ok("application/json", json, len, "Emby JSON");
  check_emby(e, "Emby JSON");
  rg_wh_event_free(&e);

  char *enc = rg_percent_encode(json);
  char *form = rg_printf("data=%s", enc);
  e = parse_ok("application/x-www-form-urlencoded", form, strlen(form),
               "Emby form data=");
  check_emby(e, "Emby form");
  rg_wh_event_free(&e);
  free(form);
  free(enc);

  char *mp = rg_printf("--XyZ\r\nContent-Disposition: form-data; "
                       "name=\"data\"\r\n\r\n%s\r\n--XyZ--\r\n",
                       json);
  e = parse_ok("multipart/form-data; boundary=XyZ", mp, strlen(mp),
               "Emby multipart data");
  check_emby(e, "Emby multipart");
  rg_wh_event_free(&e);
  free(mp);
  free(json);

  const char *test = "{\"Event\":\"system.notificationtest\",\"Title\":"
                     "\"Test Notification\",\"Server\":{\"Name\":\"x\"}}";
  e = parse_ok("application/json", test, strlen(test), "Emby test event");
  if (e)
    is_str(rg_wh_kind_name(e->kind), "other", "  other");
  rg_wh_event_free(&e);
}

static void test_garbage(void) {
  parse_bad("application/json", "", 0, -EINVAL, "an empty body");
  parse_bad("text/plain", " \r\n ", 4, -EINVAL, "a blank body");
  const char *trunc = "{\"event\": \"media.play\", \"Metadata\": {\"title\"";
  parse_bad("application/json", trunc, strlen(trunc), -EINVAL,
            "truncated JSON");
  parse_bad("text/plain", trunc, strlen(trunc), -EINVAL,
            "truncated JSON as text/plain");
  size_t big = 10u << 20;
  char *huge = rg_malloc(big);
  memset(huge, 'a', big);
  huge[0] = '{';
  parse_bad("application/json", huge, big, -EMSGSIZE, "a 10 MB body");
  free(huge);
  const char *png = "\x89PNG\r\n\x1a\n";
  parse_bad("image/png", png, 8, -ENOTSUP, "image/png");
  parse_bad("application/octet-stream", "{\"event\":\"media.play\"}", 22,
            -ENOTSUP, "application/octet-stream");
  const char *nopayload = "--B\r\nContent-Disposition: form-data; "
                          "name=\"thumb\"; filename=\"t.jpg\"\r\n\r\n\xff\xd8"
                          "\r\n--B--\r\n";
  parse_bad("multipart/form-data; boundary=B", nopayload, strlen(nopayload),
            -EINVAL, "multipart without payload");
  const char *cut = "--B\r\nContent-Disposition: form-data; name=\"payload\""
                    "\r\n\r\n{\"event\":\"media.play\"}";
  parse_bad("multipart/form-data; boundary=B", cut, strlen(cut), -EINVAL,
            "multipart without its closing delimiter");
  parse_bad("multipart/form-data", cut, strlen(cut), -EINVAL,
            "multipart without a boundary");
  parse_bad("application/json", "[1,2]", 5, -EINVAL, "a JSON array");
  parse_bad("application/json", "{\"foo\":1}", 9, -EINVAL,
            "JSON without an event");
  parse_bad("text/plain", "hello world", 11, -EINVAL, "plain words");
  parse_bad("application/json", "event=media.play", 16, -EINVAL,
            "a form sent as JSON");
  parse_bad("application/x-www-form-urlencoded", "payload=%7B%ZZ", 14, -EINVAL,
            "a bad percent escape");
  parse_bad("application/x-www-form-urlencoded", "payload=%7B%22ev", 16,
            -EINVAL, "a truncated url-encoded payload");
  parse_bad("application/json", "{\"event\":\"media.play\"} trailing", 31,
            -EINVAL, "JSON with trailing bytes");
  /* deeply nested: bounded, no crash */
  size_t depth = 5000;
  char *deep = rg_malloc(2 * depth + 64);
  size_t o = (size_t)sprintf(deep, "{\"event\":\"media.play\",\"a\":");
  for (size_t i = 0; i < depth; i++)
    deep[o++] = '[';
  for (size_t i = 0; i < depth; i++)
    deep[o++] = ']';
  deep[o++] = '}';
  rg_wh_event *e = NULL;
  char *cause = NULL;
  int rc = rg_webhook_parse("application/json", (uint8_t *)deep, o, &e, &cause);
  ok(rc == 0 || rc == -EINVAL, "deep nesting: parsed or refused (%d)", rc);
  rg_wh_event_free(&e);
  free(cause);
  free(deep);
}

static rg_lib_entry entry(int64_t id, const char *kind, const char *title,
                          int year, int season, int episode, const char *imdb,
                          int64_t tmdb, const char *path) {
  rg_lib_entry e = {0};
  e.id = id;
  snprintf(e.hash, sizeof e.hash, "%040d", (int)id);
  snprintf(e.kind, sizeof e.kind, "%s", kind);
  e.title = (char *)title;
  e.year = year;
  e.season = season;
  e.episode = episode;
  e.imdb_id = (char *)imdb;
  e.tmdb_id = tmdb;
  e.path = (char *)path;
  return e;
}

static int score(const rg_lib_entry *e, const char *body, const char *maps,
                 const char **rule) {
  rg_wh_event *ev = NULL;
  char *cause = NULL;
  *rule = NULL;
  if (rg_webhook_parse("application/json", (const uint8_t *)body, strlen(body),
                       &ev, &cause) != 0) {
    printf("# %s\n", cause);
    free(cause);
    return -1;
  }
  char *mapped = ev->path ? rg_playback_map_path(maps, ev->path) : NULL;
  int s = rg_playback_score(e, ev, mapped, rule);
  free(mapped);
  rg_wh_event_free(&ev);
  return s;
}

static void test_match(void) {
  rg_lib_entry btlc = entry(
      1, "movie", "Big Trouble in Little China", 1986, 0, 0, "tt0090728", 0,
      "movies/Big Trouble in Little China (1986)/Big Trouble in "
      "Little China (1986).mkv");
  rg_lib_entry heat = entry(2, "movie", "Heat", 1995, 0, 0, NULL, 949,
                            "movies/Heat (1995)/Heat (1995).mkv");
  rg_lib_entry bb =
      entry(3, "episode", "Breaking Bad", 2008, 2, 1, "tt0903747", 1396,
            "tv/Breaking Bad (2008)/Season 02/Breaking Bad "
            "(2008) - S02E01.mkv");
  rg_lib_entry billy = entry(4, "episode", "Billy the Kid", 2022, 2, 1, NULL, 0,
                             "tv/Billy the Kid (2022)/Season 02/Billy the "
                             "Kid (2022) - S02E01.mkv");
  const char *rule;

  ok(score(&btlc,
           "{\"event\":\"media.play\",\"Metadata\":{\"title\":\"Les "
           "Aventures de Jack Burton\",\"Guid\":[{\"id\":\"imdb://tt0090728\"}"
           "]}}",
           NULL, &rule) > 0 &&
         rule && strcmp(rule, "imdb") == 0,
     "a localised title matches by imdb");
  ok(score(&heat,
           "{\"event\":\"media.play\",\"Metadata\":{\"type\":\"movie\","
           "\"title\":\"Heat\",\"Guid\":[{\"id\":\"tmdb://949\"}]}}",
           NULL, &rule) > 0 &&
         rule && strcmp(rule, "tmdb") == 0,
     "a movie matches by tmdb");
  is_int(score(&heat,
               "{\"event\":\"media.play\",\"Metadata\":{\"type\":\"episode\","
               "\"grandparentTitle\":\"X\",\"parentIndex\":1,\"index\":1,"
               "\"Guid\":[{\"id\":\"tmdb://949\"}]}}",
               NULL, &rule),
         0, "an episode's tmdb id never matches a movie");
  ok(score(&heat,
           "{\"NotificationType\":\"PlaybackStart\",\"Path\":\"/mnt/reelgate/"
           "movies/Heat (1995)/Heat (1995).mkv\"}",
           NULL, &rule) > 0 &&
         rule && strcmp(rule, "path") == 0,
     "a path under any prefix matches (rule %s)", rule ? rule : "none");
  ok(score(&heat,
           "{\"NotificationType\":\"PlaybackStart\",\"Path\":\"/share/Films/"
           "Heat (1995)/Heat (1995).mkv\"}",
           "/other=/x;/share/Films=/mnt/reelgate/movies", &rule) > 0,
     "a path through a mapping matches (rule %s)", rule ? rule : "none");
  score(&heat,
        "{\"NotificationType\":\"PlaybackStart\",\"Path\":\"/a/"
        "xmovies/Heat (1995)/Heat (1995).mkv.part\"}",
        NULL, &rule);
  ok(!rule || strcmp(rule, "path") != 0,
     "a path that only ends alike is no path match (rule %s)",
     rule ? rule : "none");
  ok(score(&heat,
           "{\"event\":\"media.play\",\"Metadata\":{\"type\":\"movie\","
           "\"title\":\"heat\",\"year\":1995}}",
           NULL, &rule) > 0 &&
         rule && strcmp(rule, "title") == 0,
     "title + year");
  is_int(score(&heat,
               "{\"event\":\"media.play\",\"Metadata\":{\"type\":\"movie\","
               "\"title\":\"Heat\",\"year\":1986}}",
               NULL, &rule),
         0, "title with another year does not match");
  ok(score(&bb,
           "{\"event\":\"media.play\",\"Metadata\":{\"type\":\"episode\","
           "\"grandparentTitle\":\"Breaking Bad\",\"parentIndex\":2,"
           "\"index\":1}}",
           NULL, &rule) > 0 &&
         rule && strcmp(rule, "episode") == 0,
     "show + season + episode");
  is_int(score(&bb,
               "{\"event\":\"media.play\",\"Metadata\":{\"type\":\"episode\","
               "\"grandparentTitle\":\"Breaking Bad\",\"parentIndex\":2,"
               "\"index\":2,\"Guid\":[{\"id\":\"imdb://tt0903747\"}]}}",
               NULL, &rule),
         0, "a show-level id on another episode does not match");
  ok(score(&bb,
           "{\"event\":\"media.play\",\"Metadata\":{\"type\":\"episode\","
           "\"grandparentTitle\":\"Breaking Bad\",\"parentIndex\":2,"
           "\"index\":1,\"Guid\":[{\"id\":\"imdb://tt0903747\"}]}}",
           NULL, &rule) > 0 &&
         rule && strcmp(rule, "imdb") == 0,
     "a show-level id on the same episode matches by imdb");
  size_t len;
  char *emby = fixture("emby-playback.start-episode.json", &len);
  ok(score(&billy, emby, NULL, &rule) > 0 && rule &&
         strcmp(rule, "episode") == 0,
     "Emby's episode (tvdb only, another file name) by show + S/E");
  is_int(score(&bb, emby, NULL, &rule), 0, "… not another show");
  free(emby);

  char *m = rg_playback_map_path("/data=/mnt/rg", "/data/movies/x.mkv");
  is_str(m, "/mnt/rg/movies/x.mkv", "map_path: prefix");
  free(m);
  m = rg_playback_map_path("/data=/mnt/rg", "/database/x.mkv");
  is_str(m, "/database/x.mkv", "map_path: only at a component boundary");
  free(m);
  m = rg_playback_map_path("D:/Media/=/mnt/rg/", "D:\\Media\\tv\\a.mkv");
  is_str(m, "/mnt/rg/tv/a.mkv", "map_path: Windows separators");
  free(m);
  m = rg_playback_map_path("", "/a/b");
  is_str(m, "/a/b", "map_path: no mappings");
  free(m);
}

static void test_json(void) {
  const char *b = "{\"event\":\"media.stop\",\"Player\":{\"uuid\":\"u\"},"
                  "\"Metadata\":{\"type\":\"movie\",\"title\":\"T\","
                  "\"Guid\":[{\"id\":\"imdb://tt1234567\"}]}}";
  rg_wh_event *e = parse_ok("application/json", b, strlen(b), "for JSON");
  if (!e)
    return;
  json_t *j = rg_wh_event_json(e);
  is_str(json_string_value(json_object_get(j, "kind")), "stop", "json: kind");
  is_str(json_string_value(json_object_get(j, "server")), "plex",
         "json: server");
  is_str(json_string_value(json_array_get(json_object_get(j, "imdb"), 0)),
         "tt1234567", "json: imdb");
  ok(json_is_null(json_object_get(j, "season")), "json: season null");
  json_decref(j);
  rg_wh_event_free(&e);
}

int main(void) {
  test_plex();
  test_jellyfin();
  test_emby();
  test_garbage();
  test_match();
  test_json();
  return tap_done();
}
