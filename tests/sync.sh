#!/bin/bash
# sync.sh — sync jobs against local fake services (tests/fakes/
# fake_services.py replaying tests/fixtures/sync/) whose magnets point at
# real loopback seeders: a dry run changes nothing; a movies run adds the
# expected torrents and library entries; a better release upgrades keeping
# path and inode (movies, tv episodes, season packs); Prowlarr down →
# Torrentio; an invalid TMDB key and malformed answers fail the run with a
# reason; stop works; schedules survive a restart; a watchlist title already
# in the library is kept; upgrade searches wait sync_upgrade_recheck_h
# hours unless forced; a 70-episode pack upgrade maps every episode; a new
# episode is searched even when a season's upgrades fill their budget; an
# episode upgrade whose torrent has no file for it is refused; the history
# keeps each run's log.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg

FIX=$RG_SRCDIR/tests/fixtures/sync
STATE=$T/fake-state.json

# ---- seeders: three releases, each on its own loopback address ----
mkdir -p "$T/src"
A=The.Matrix.1999.1080p.BluRay.x264-GRP
B=The.Matrix.1999.2160p.UHD.BluRay.REMUX.DV.HDR.HEVC.TrueHD.Atmos.7.1-GRP
C=Scream.VI.2023.1080p.WEB-DL.DDP5.1.H.264-GRP
make_random "$T/src/$A.mkv" 1
make_random "$T/src/$B.mkv" 2
make_random "$T/src/$C.mkv" 1
seed_ours seed-a 127.0.0.2 "$T/src/$A.mkv"; MA=$MAGNET HA=$HASH
seed_ours seed-b 127.0.0.3 "$T/src/$B.mkv"; MB=$MAGNET HB=$HASH
seed_ours seed-c 127.0.0.4 "$T/src/$C.mkv"; HC=$HASH PC=$PEER
D=Torznab.Film.2021.1080p.BluRay.x264-TZ
make_random "$T/src/$D.mkv" 1
seed_ours seed-d 127.0.0.6 "$T/src/$D.mkv"; HD=$HASH PD=$PEER
PACK=Game.of.Thrones.S01.1080p.BluRay.x265-GRP
mkdir -p "$T/src/$PACK"
make_random "$T/src/$PACK/Game.of.Thrones.S01E01.1080p.BluRay.x265-GRP.mkv" 1
make_random "$T/src/$PACK/Game.of.Thrones.S01E02.1080p.BluRay.x265-GRP.mkv" 1
seed_ours seed-p 127.0.0.5 "$T/src/$PACK"; MP=$MAGNET HP=$HASH
# better releases for the tv upgrades: one episode in 4K DV, a 4K pack
E2DV=Game.of.Thrones.S01E02.2160p.WEB-DL.DV.HDR.DDP5.1.H.265-GRP
make_random "$T/src/$E2DV.mkv" 1
seed_ours seed-e2 127.0.0.7 "$T/src/$E2DV.mkv"; ME2=$MAGNET HE2=$HASH
PACK4=Game.of.Thrones.S01.2160p.WEB-DL.DDP5.1.H.265-GRP
mkdir -p "$T/src/$PACK4"
make_random "$T/src/$PACK4/Game.of.Thrones.S01E01.2160p.WEB-DL.DDP5.1.H.265-GRP.mkv" 1
make_random "$T/src/$PACK4/Game.of.Thrones.S01E02.2160p.WEB-DL.DDP5.1.H.265-GRP.mkv" 1
seed_ours seed-p4 127.0.0.8 "$T/src/$PACK4"; MP4=$MAGNET HP4=$HASH

# state MOVIES_JSON PROWLARR_JSON SWITCHES_JSON — rewrites the scenario
state() {
  python3 - "$STATE" "$1" "$2" "$3" "$HC" "$PC" "$C" <<'PY'
import json, os, sys
path, movies, prow, sw, hc, pc, c = sys.argv[1:8]
st = {"movies": json.loads(movies), "prowlarr": json.loads(prow),
      "torrentio": {"tt17663992": [{"title": c, "hash": hc, "seeders": 80}]},
      "peers": {hc: pc}, "switches": json.loads(sw)}
st.update(json.loads(os.environ.get("EXTRA") or "{}"))
open(path + ".tmp", "w").write(json.dumps(st)); os.rename(path + ".tmp", path)
PY
}
MATRIX='{"id": 603, "title": "The Matrix", "year": 1999, "imdb": "tt0133093"}'
SCREAM='{"id": 934433, "title": "Scream VI", "year": 2023, "imdb": "tt17663992"}'
PA="{\"title\": \"$A\", \"magnet\": \"$MA\", \"hash\": \"$HA\", \"seeders\": 120}"
PB="{\"title\": \"$B\", \"magnet\": \"$MB\", \"hash\": \"$HB\", \"seeders\": 35, \"size\": 64424509440}"
PCAM='{"title": "The.Matrix.1999.HDCAM.x264-BAD", "magnet": "magnet:?xt=urn:btih:1111111111111111111111111111111111111111", "seeders": 900}'
P720='{"title": "The.Matrix.1999.720p.BluRay.x264-SD", "magnet": "magnet:?xt=urn:btih:2222222222222222222222222222222222222222", "seeders": 900}'
state "[$MATRIX]" "{\"tt0133093\": [$PCAM, $P720, $PA]}" '{}'

rm -f "$T/fake.port"
spawn fake python3 "$RG_SRCDIR/tests/fakes/fake_services.py" "$FIX" "$STATE" "$T/fake.port"
wait_until 10 test -s "$T/fake.port" || die "the fake services did not start: $(tail -3 "$T/fake.out")"
F=http://127.0.0.1:$(cat "$T/fake.port")

start_daemon d tmdb_api_key=tmdb-good-key "tmdb_url=$F/tmdb/3" \
  "prowlarr_url=$F/prowlarr" prowlarr_api_key=prowlarr-key \
  "torrentio_url=$F/torrentio" "jellyfin_url=$F/jellyfin" \
  "torznab_url=$F/torznab/api" torznab_api_key=torznab-key \
  jellyfin_api_key=jf-key sync_movie_lists=popular sync_rate_limit_ms=0 \
  sync_http_retries=1 sync_http_timeout_s=5 sync_metadata_wait_s=30 \
  sync_upgrade_recheck_h=0

# run_job JOB [QUERY] — starts a run and waits (≤ 45 s) until it is over;
# sets RUN (its id) and RUNJ (its history record).
run_job() {
  api POST "/api/sync/$1/run${2:-}" >/dev/null
  RUN=$(jget run_id "$BODY")
  [ "$STATUS" = 202 ] || { note "run: HTTP $STATUS $BODY"; RUN=''; return 1; }
  wait_until 45 run_over "$RUN"
  RUNJ=$BODY
}
run_over() {
  api GET "/api/sync/history/$1" >/dev/null
  [ "$(jget status "$BODY")" != running ]
}
rj() { jget "$1" "$RUNJ" 2>/dev/null; }
# lacks PATTERN TEXT — TEXT has no line matching PATTERN
lacks() { ! grep -q -- "$1" <<<"$2"; }

# ---- a dry run changes nothing ----
run_job movies '?dry_run=1'
check_eq "dry run ends ok" ok "$(rj status)"
check_eq "dry run is marked as one" true "$(rj dry_run)"
check_eq "dry run would add The Matrix" "would_add $A" "$(rj 'j["summary"]["changes"][0]["action"] + " " + j["summary"]["changes"][0]["release"]')"
check "dry run log explains the rejected CAM/720p releases" grep -q "rejected kind: cam\|no acceptable\|offers" <<<"$(rj log)"
check_eq "dry run adds no torrent" 0 "$(api GET /api/torrents | jget 'len(j["torrents"]) if isinstance(j, dict) else len(j)')"
check_eq "dry run adds no library entry" 0 "$(api GET /api/library | jget 'len(j["entries"])')"

# ---- a movies run adds the best release and its library entry ----
run_job movies
check_eq "movies run ends ok" ok "$(rj status)"
check_eq "one title added" 1 "$(rj summary.added)"
check_eq "the 1080p BluRay release was chosen (not CAM, not 720p)" "$HA" "$(rj summary.changes.0.info_hash)"
check_eq "prowlarr was the source" prowlarr "$(rj summary.changes.0.source)"
check "the torrent is known" test "$(tfield "$HA" info_hash)" = "$HA"
api GET /api/library >/dev/null
LIB=$BODY
ENTRY='[e for e in j["entries"] if e["kind"] == "movie" and e["title"] == "The Matrix"]'
check_eq "a library entry for The Matrix (1999)" "1 1999 $HA tt0133093 603" \
  "$(jget "' '.join(str(x) for x in [len($ENTRY), $ENTRY[0]['year'], $ENTRY[0]['info_hash'], $ENTRY[0]['imdb_id'], $ENTRY[0]['tmdb_id']])" "$LIB")"
PATH1=$(jget "$ENTRY[0]['path']" "$LIB")
INO1=$(jget "$ENTRY[0]['inode']" "$LIB")
note "entry $PATH1 inode $INO1"
api GET "/api/torrents/$HA" >/dev/null
check "the torrent carries the TMDB poster of its entry" \
  eval "jget 'j.get(\"poster\", \"\")' \"\$BODY\" | grep -q '^https://image.tmdb.org/t/p/w185/.*\\.jpg$'"
check "jellyfin library refresh requested" test "$(curl -s "$F/_hits" | jget 'j.get("jellyfin_refresh", 0)')" -ge 1

# ---- a better release upgrades it, keeping path and inode ----
state "[$MATRIX]" "{\"tt0133093\": [$PCAM, $P720, $PA, $PB]}" '{}'
run_job movies
check_eq "upgrade run ends ok" ok "$(rj status)"
check_eq "one title upgraded" 1 "$(rj summary.upgraded)"
check_eq "the upgrade names what it replaces" "$HA" "$(rj summary.changes.0.replaces)"
api GET /api/library >/dev/null
LIB=$BODY
check_eq "the entry now plays the 4K DV REMUX" "$HB" "$(jget "$ENTRY[0]['info_hash']" "$LIB")"
check_eq "path kept" "$PATH1" "$(jget "$ENTRY[0]['path']" "$LIB")"
check_eq "inode kept" "$INO1" "$(jget "$ENTRY[0]['inode']" "$LIB")"
check_eq "only one entry for the title" 1 "$(jget "len($ENTRY)" "$LIB")"
torrent "$HA"
check_eq "the replaced torrent is gone" 404 "$STATUS"

# ---- nothing better: kept ----
run_job movies
check_eq "third run: nothing added or upgraded" "0 0" "$(rj summary.added) $(rj summary.upgraded)"

# ---- Prowlarr down → Torrentio ----
state "[$MATRIX, $SCREAM]" "{\"tt0133093\": [$PA, $PB]}" '{"prowlarr_down": true}'
run_job movies
check_eq "prowlarr-down run ends ok" ok "$(rj status)"
check_eq "Scream VI added from Torrentio" "torrentio $HC" \
  "$(rj '" ".join([[c["source"], c["info_hash"]] for c in j["summary"]["changes"] if c["title"] == "Scream VI"][0])')"
check "the log says Prowlarr failed" grep -q "prowlarr failed: prowlarr: HTTP 503" <<<"$(rj log)"
check_eq "Scream VI in the library (metadata from Torrentio's tracker)" "2023 $HC" \
  "$(api GET /api/library | jget '" ".join(str(x) for x in [[e["year"], e["info_hash"]] for e in j["entries"] if e["title"] == "Scream VI"][0])')"

# ---- Prowlarr down, a Torznab indexer (Jackett) has it ----
TZ='{"id": 777001, "title": "Torznab Film", "year": 2021, "imdb": "tt7770001"}'
EXTRA="{\"torznab\": {\"tt7770001\": [{\"title\": \"$D\", \"hash\": \"$HD\", \"seeders\": 60}]}, \"peers\": {\"$HC\": \"$PC\", \"$HD\": \"$PD\"}}" \
  state "[$TZ]" '{}' '{"prowlarr_down": true}'
run_job movies
check_eq "torznab run ends ok" ok "$(rj status)"
check_eq "Torznab Film added from the Torznab indexer" "torznab $HD" \
  "$(rj '" ".join([[c["source"], c["info_hash"]] for c in j["summary"]["changes"] if c["title"] == "Torznab Film"][0])')"
tz_entry() { api GET /api/library | jget '" ".join(str(x) for x in [[e["year"], e["info_hash"]] for e in j["entries"] if e["title"] == "Torznab Film"][0])'; }
tz_in_library() { [ "$(tz_entry 2>/dev/null)" = "2021 $HD" ]; }
check "Torznab Film in the library (metadata through the indexer's tracker)" wait_until 30 tz_in_library

# ---- invalid TMDB key → a clear error ----
state "[$MATRIX]" '{}' '{"tmdb_invalid_key": true}'
run_job movies
check_eq "invalid key: the run failed" failed "$(rj status)"
check "invalid key: the error says so" grep -q "tmdb: HTTP 401.*Invalid API key" <<<"$(rj error)"
api GET /api/sync/status >/dev/null
check "status shows the last error" grep -q "Invalid API key" <<<"$(jget jobs.movies.last.error "$BODY")"

# ---- malformed and truncated answers → failed runs, daemon fine ----
for kind in truncated garbage; do
  state "[$MATRIX]" '{}' "{\"tmdb_malformed\": \"$kind\"}"
  run_job movies
  check_eq "$kind TMDB answer: the run failed" failed "$(rj status)"
  check "$kind TMDB answer: the reason says malformed JSON" grep -q "malformed JSON" <<<"$(rj error)"
done
state "[$SCREAM]" '{}' '{"prowlarr_malformed": true}'
run_job movies
check "truncated Prowlarr JSON is logged and Torrentio asked" grep -q "prowlarr failed: prowlarr: malformed JSON" <<<"$(rj log)"
check_eq "the daemon still answers" 200 "$(api GET /api/status >/dev/null; echo "$STATUS")"

# ---- stop ----
state "[$MATRIX]" '{}' '{"tmdb_slow_s": 4}'
api POST /api/sync/movies/run >/dev/null
RUN=$(jget run_id "$BODY")
api POST /api/sync/movies/run >/dev/null
check_status "a second run of the same job is refused" 409
sleep 0.5
api POST /api/sync/movies/stop >/dev/null
check_status "stop accepted" 202
T0=$(now_ms)
wait_until 10 run_over "$RUN"
check_eq "the stopped run says so" stopped "$(jget status "$BODY")"
check_le "stopped within 3 s" $(($(now_ms) - T0)) 3000
api POST /api/sync/movies/stop >/dev/null
check_status "stop of an idle job: 409" 409

# ---- schedule: validated, persisted across a restart ----
api PUT /api/sync/schedule -H 'Content-Type: application/json' \
  --data-binary '{"movies": {"mode": "interval", "interval_min": 720}, "tv": {"mode": "weekly", "weekdays": ["mon", "fri"], "time": "04:15"}}' >/dev/null
check_status "schedule PUT" 200
SCHED=$BODY
check_eq "tv weekly on mon and fri at 04:15" '["mon", "fri"] 04:15' "$(jget '__import__("json").dumps(j["tv"]["weekdays"]) + " " + j["tv"]["time"]' "$SCHED")"
check "movies next run about 12 h away" test "$(jget movies.next_run "$SCHED")" -gt $(($(date +%s) + 43000))
api PUT /api/sync/schedule --data-binary '{"movies": {"mode": "weekly", "time": "25:00"}}' >/dev/null
check_status "a bad time is refused" 400
check "the error names the field" grep -q "movies.time" <<<"$BODY"
DAEMON_ENV+=(sync_tv_follow=1399 "plex_watchlist_url=$F/plex" plex_token=plex-token "plex_url=$F/plex")
restart_daemon
api GET /api/sync/schedule >/dev/null
check_eq "schedule persisted across a restart" \
  "$(jget '[j["movies"]["mode"], j["movies"]["interval_min"], j["movies"]["next_run"], j["tv"]["mode"], j["tv"]["next_run"]]' "$SCHED")" \
  "$(jget '[j["movies"]["mode"], j["movies"]["interval_min"], j["movies"]["next_run"], j["tv"]["mode"], j["tv"]["next_run"]]' "$BODY")"

# ---- tv: a season pack first, its files mapped to episodes ----
GOT='{"id": 1399, "name": "Game of Thrones", "year": 2011, "imdb": "tt0944947", "episodes": 2}'
PP="{\"title\": \"$PACK\", \"magnet\": \"$MP\", \"hash\": \"$HP\", \"seeders\": 210}"
EXTRA="{\"shows\": [$GOT]}" state '[]' "{\"tt0944947\": [$PP]}" '{}'
run_job tv
check_eq "tv run ends ok" ok "$(rj status)"
check_eq "the season pack was added" "add $HP" "$(rj summary.changes.0.action) $(rj summary.changes.0.info_hash)"
check_eq "both pack files became S01E01 and S01E02" "1-1 1-2" \
  "$(api GET /api/library | jget '" ".join("%d-%d" % (e["season"], e["episode"]) for e in j["entries"] if e["kind"] == "episode" and e["title"] == "Game of Thrones")')"
run_job tv
check "a second tv run finds the episodes in the registry" grep -q "all 2 aired episodes present" <<<"$(rj log)"
check "plex library refresh requested after the tv run" test "$(curl -s "$F/_hits" | jget 'j.get("plex_refresh", 0)')" -ge 1

# ---- tv: a better episode, then a better pack, upgrade in place ----
# got E FIELD — FIELD of the Game of Thrones S01E<E> entry; got_n — their count
got() { api GET /api/library | jget "[e['$2'] for e in j['entries'] if e['kind'] == 'episode' and e['title'] == 'Game of Thrones' and e['episode'] == $1][0]"; }
got_n() { api GET /api/library | jget "len([e for e in j['entries'] if e['kind'] == 'episode' and e['title'] == 'Game of Thrones'])"; }
P1=$(got 1 path) I1=$(got 1 inode) P2=$(got 2 path) I2=$(got 2 inode)
note "S01E01 $P1 inode $I1, S01E02 $P2 inode $I2"
PE2="{\"title\": \"$E2DV\", \"magnet\": \"$ME2\", \"hash\": \"$HE2\", \"seeders\": 90}"
EXTRA="{\"shows\": [$GOT]}" state '[]' "{\"tt0944947\": [$PP, $PE2]}" '{}'
run_job tv '?dry_run=1'
check_eq "tv dry run would upgrade S01E02, replacing the pack" "would_upgrade 2 $HP" \
  "$(rj summary.changes.0.action) $(rj summary.changes.0.episode) $(rj summary.changes.0.replaces)"
check_eq "tv dry run changed nothing" "$HP $HP" "$(got 1 info_hash) $(got 2 info_hash)"
run_job tv
check_eq "episode upgrade run ends ok" ok "$(rj status)"
check_eq "one episode upgraded, nothing added" "1 0" "$(rj summary.upgraded) $(rj summary.added)"
check_eq "the change names the episode, the new release and what it replaces" "upgrade 2 $HE2 $HP" \
  "$(rj summary.changes.0.action) $(rj summary.changes.0.episode) $(rj summary.changes.0.info_hash) $(rj summary.changes.0.replaces)"
check_eq "S01E02 now plays the 4K DV release" "$HE2" "$(got 2 info_hash)"
check_eq "S01E02 path and inode kept" "$P2 $I2" "$(got 2 path) $(got 2 inode)"
check_eq "S01E01 still plays the pack" "$HP" "$(got 1 info_hash)"
check "S01E01: nothing better found, kept" grep -q "Game of Thrones S01E01: in the library ($PACK, score [0-9]*); no better release found: kept" <<<"$(rj log)"
check "the pack stays while S01E01 plays from it" test "$(tfield "$HP" info_hash)" = "$HP"
check_eq "still two Game of Thrones entries" 2 "$(got_n)"

PP4="{\"title\": \"$PACK4\", \"magnet\": \"$MP4\", \"hash\": \"$HP4\", \"seeders\": 150, \"size\": 8589934592}"
EXTRA="{\"shows\": [$GOT]}" state '[]' "{\"tt0944947\": [$PP, $PE2, $PP4]}" '{}'
run_job tv
check_eq "pack upgrade run ends ok" ok "$(rj status)"
check_eq "one upgrade: the 4K pack for S01E01 only (S01E02's DV release is better)" "1 upgrade [1] $HP4 $HP" \
  "$(rj summary.upgraded) $(rj summary.changes.0.action) $(rj summary.changes.0.episodes) $(rj summary.changes.0.info_hash) $(rj summary.changes.0.replaces)"
check_eq "S01E01 plays from the 4K pack, path and inode kept" "$HP4 $P1 $I1" "$(got 1 info_hash) $(got 1 path) $(got 1 inode)"
check_eq "S01E02 still plays the DV release" "$HE2 $P2 $I2" "$(got 2 info_hash) $(got 2 path) $(got 2 inode)"
check "S01E02 is on the ladder's top tier: not searched again" lacks "Game of Thrones S01E02" "$(rj log)"
torrent "$HP"
check_eq "the old pack is removed once no episode plays from it" 404 "$STATUS"
check_eq "still two Game of Thrones entries" 2 "$(got_n)"
run_job tv
check_eq "next tv run: nothing added or upgraded" "ok 0 0" "$(rj status) $(rj summary.added) $(rj summary.upgraded)"

# ---- watchlist: Plex watchlist → Guid[] IMDb id → indexers ----
EXTRA='{"watchlist": [{"key": "5d776883ebdf2200209c104e", "title": "Scream VI", "year": 2023, "type": "movie", "imdb": "tt17663992"}]}' \
  state '[]' '{}' '{}'
run_job watchlist
check_eq "watchlist run ends ok" ok "$(rj status)"
check "the watchlist title was found in the library by its IMDb id" grep -q "1 titles on the Plex watchlist" <<<"$(rj log)"
check "and kept, not added twice" grep -q "Scream VI (2023): in the library" <<<"$(rj log)"
# an item whose Guid[] has no ids is found by a TMDB search on title + year
EXTRA='{"watchlist": [{"key": "5d776883ebdf2200209c1777", "title": "Torznab Film", "year": 2021, "type": "movie"}]}' \
  state "[$TZ]" '{}' '{}'
run_job watchlist
check_eq "watchlist run without ids ends ok" ok "$(rj status)"
check "the title was found by a TMDB search" grep -q "Torznab Film (2021): no ids in Guid\[\], found by TMDB search: 777001" <<<"$(rj log)"
# … and, being in the library already (the Torznab run above added it), it is
# reported as present even though no indexer offers anything now
lib_count() { api GET /api/library | jget 'len(j["entries"])'; }
tor_count() { api GET /api/torrents | jget 'len(j["torrents"]) if isinstance(j, dict) else len(j)'; }
check "the search-found title is recognised as in the library" \
  grep -q "Torznab Film (2021): in the library ($D, score [0-9]*); no better release found: kept" <<<"$(rj log)"
check "it is not reported as missing" lacks "Torznab Film (2021): no acceptable release" "$(rj log)"
check_eq "nothing added, one title skipped" "0 0 1" "$(rj summary.added) $(rj summary.upgraded) $(rj summary.skipped)"
NLIB=$(lib_count) NTOR=$(tor_count)
run_job watchlist
check_eq "second watchlist run ends ok" ok "$(rj status)"
check "second run: still in the library (not negatively cached as missing)" \
  grep -q "Torznab Film (2021): in the library ($D" <<<"$(rj log)"
check_eq "second run: nothing added" "0 0" "$(rj summary.added) $(rj summary.upgraded)"
check_eq "no library entry added" "$NLIB" "$(lib_count)"
check_eq "no torrent added" "$NTOR" "$(tor_count)"
# the same when an indexer offers the very release in the library
EXTRA="{\"watchlist\": [{\"key\": \"5d776883ebdf2200209c1777\", \"title\": \"Torznab Film\", \"year\": 2021, \"type\": \"movie\"}], \"torznab\": {\"tt7770001\": [{\"title\": \"$D\", \"hash\": \"$HD\", \"seeders\": 60}]}}" \
  state "[$TZ]" '{}' '{"prowlarr_down": true}'
run_job watchlist
check "offered the same release: kept" grep -q "Torznab Film (2021): in the library ($D, score [0-9]*); best found scores [0-9]*: kept" <<<"$(rj log)"
check_eq "offered the same release: nothing added" "0 0 $NLIB" "$(rj summary.added) $(rj summary.upgraded) $(lib_count)"

# ---- upgrade searches: at most once per sync_upgrade_recheck_h per item ----
DAEMON_ENV+=(sync_upgrade_recheck_h=24)
restart_daemon
hits() { curl -s "$F/_hits" | jget "j.get('$1', 0)"; }
EXTRA="{\"shows\": [$GOT]}" state "[$MATRIX]" "{\"tt0133093\": [$PA, $PB], \"tt0944947\": [$PP, $PE2, $PP4]}" '{}'
run_job movies '?force=1'
check_eq "forced movies run ends ok" "ok 0 0" "$(rj status) $(rj summary.added) $(rj summary.upgraded)"
check "forced: The Matrix searched for an upgrade" \
  grep -q "The Matrix (1999): in the library ($B, score [0-9]*); best found scores" <<<"$(rj log)"
indexer_hits() { echo "$(hits prowlarr) $(hits torznab) $(hits torrentio)"; }
N3=$(indexer_hits) N0=$(hits prowlarr)
run_job movies
check_eq "the next movies run ends ok" ok "$(rj status)"
check_eq "the next run asks no indexer for The Matrix" "$N3" "$(indexer_hits)"
check "its log says when it was searched and when again" \
  grep -q "The Matrix (1999): in the library ($B); searched for an upgrade 0 h ago, again after 24 h (sync_upgrade_recheck_h): kept" <<<"$(rj log)"
run_job movies '?force=1'
check "force=1 searches again" test "$(hits prowlarr)" -gt "$N0"
check_eq "the forced run ends ok" ok "$(rj status)"
N3=$(indexer_hits) N0=$(hits prowlarr)
run_job tv
check_eq "tv run ends ok" ok "$(rj status)"
check_eq "tv: S01E01 (searched by the last tv run) is not searched again" "$N3" "$(indexer_hits)"
check "tv: the log says why" grep -q "Game of Thrones season 1: 1 episodes searched for an upgrade in the last 24 h" <<<"$(rj log)"
run_job tv '?force=1'
check "tv with force=1 searches S01E01 again" test "$(hits prowlarr)" -gt "$N0"
check_eq "forced tv run: still nothing better, nothing changed" "ok 0 0 2" "$(rj status) $(rj summary.added) $(rj summary.upgraded) $(got_n)"

# ---- tv: a 70-episode season, upgrades by the pack, a new episode, a
# mislabelled single-episode upgrade ----
# (a pack upgrade writes one wanted row per episode: more than 64 of them;
# a season whose present episodes all fill the per-season search budget
# still gets its new episode; an upgrade never guesses the episode's file)
LS=Long.Show.S01.1080p.BluRay.x265-GRP
LS4=Long.Show.S01.2160p.WEB-DL.DDP5.1.H.265-GRP
mkdir -p "$T/src/$LS" "$T/src/$LS4"
for ((e = 1; e <= 70; e++)); do
  make_random_bytes "$T/src/$LS/$(printf 'Long.Show.S01E%02d.1080p.BluRay.x265-GRP.mkv' $e)" 4096
  make_random_bytes "$T/src/$LS4/$(printf 'Long.Show.S01E%02d.2160p.WEB-DL.DDP5.1.H.265-GRP.mkv' $e)" 4096
done
seed_ours seed-l 127.0.0.9 "$T/src/$LS"; MLS=$MAGNET HLS=$HASH
seed_ours seed-l4 127.0.0.10 "$T/src/$LS4"; MLS4=$MAGNET HLS4=$HASH
E71=Long.Show.S01E71.1080p.BluRay.x265-GRP
make_random "$T/src/$E71.mkv" 1
seed_ours seed-e71 127.0.0.11 "$T/src/$E71.mkv"; ME71=$MAGNET HE71=$HASH
# offered as Game of Thrones S01E01 in 4K DV, but its files are two other
# episodes
BONUS=Game.of.Thrones.Bonus.Disc
mkdir -p "$T/src/$BONUS"
make_random "$T/src/$BONUS/Game.of.Thrones.S01E09.Extended.mkv" 2
make_random "$T/src/$BONUS/Game.of.Thrones.S01E10.Extended.mkv" 1
seed_ours seed-bonus 127.0.0.12 "$T/src/$BONUS"; MBON=$MAGNET HBON=$HASH
# a 4K DV pack of Long Show that lacks E70 (and E71, which aired later)
LSDV=Long.Show.S01.2160p.WEB-DL.DV.HDR.DDP5.1.H.265-GRP
mkdir -p "$T/src/$LSDV"
for ((e = 1; e <= 69; e++)); do
  make_random_bytes "$T/src/$LSDV/$(printf 'Long.Show.S01E%02d.2160p.WEB-DL.DV.HDR.DDP5.1.H.265-GRP.mkv' $e)" 4096
done
seed_ours seed-ldv 127.0.0.14 "$T/src/$LSDV"; MLDV=$MAGNET HLDV=$HASH
# the same offer, but someone added the torrent by hash before the run
BONUS2=Game.of.Thrones.Bonus.Disc.2
mkdir -p "$T/src/$BONUS2"
make_random "$T/src/$BONUS2/Game.of.Thrones.S01E07.Extended.mkv" 1
make_random "$T/src/$BONUS2/Game.of.Thrones.S01E08.Extended.mkv" 1
seed_ours seed-bonus2 127.0.0.13 "$T/src/$BONUS2"; MBON2=$MAGNET HBON2=$HASH
DAEMON_ENV+=(sync_tv_follow=1399,4242 sync_upgrade_recheck_h=0)
restart_daemon
LONG70='{"id": 4242, "name": "Long Show", "year": 2020, "imdb": "tt4242424", "episodes": 70}'
LONG71='{"id": 4242, "name": "Long Show", "year": 2020, "imdb": "tt4242424", "episodes": 71}'
PLS="{\"title\": \"$LS\", \"magnet\": \"$MLS\", \"hash\": \"$HLS\", \"seeders\": 200, \"size\": 21474836480}"
PLS4="{\"title\": \"$LS4\", \"magnet\": \"$MLS4\", \"hash\": \"$HLS4\", \"seeders\": 150, \"size\": 146800640000}"
PE71="{\"title\": \"$E71\", \"magnet\": \"$ME71\", \"hash\": \"$HE71\", \"seeders\": 90}"
PBON="{\"title\": \"Game.of.Thrones.S01E01.2160p.WEB-DL.DV.HDR.DDP5.1.H.265-GRP\", \"magnet\": \"$MBON\", \"hash\": \"$HBON\", \"seeders\": 90}"
GOTP="\"tt0944947\": [$PP, $PE2, $PP4]"
# long — "E:hash" of every Long Show entry, by episode
long() { api GET /api/library | jget "' '.join('%d:%s' % (e['episode'], e['info_hash'][:8]) for e in sorted((e for e in j['entries'] if e['kind'] == 'episode' and e['title'] == 'Long Show'), key=lambda e: e['episode']))"; }
long_all() { # long_all HASH N — N entries, every one from HASH, E01..E<N>
  python3 -c 'import sys; print(" ".join("%d:%s" % (e, sys.argv[1][:8]) for e in range(1, int(sys.argv[2]) + 1)))' "$1" "$2"; }
EXTRA="{\"shows\": [$GOT, $LONG70]}" state '[]' "{$GOTP, \"tt4242424\": [$PLS]}" '{}'
run_job tv
check_eq "long show: the 70-file pack added" "ok add $HLS" "$(rj status) $(rj 'next(c["action"] + " " + c["info_hash"] for c in j["summary"]["changes"] if c["title"] == "Long Show")')"
check_eq "long show: 70 episodes from the pack" "$(long_all "$HLS" 70)" "$(long)"
EXTRA="{\"shows\": [$GOT, $LONG70]}" state '[]' "{$GOTP, \"tt4242424\": [$PLS, $PLS4]}" '{}'
run_job tv
check_eq "long show: the 4K pack upgrades all 70 episodes" "ok upgrade 70 $HLS4" \
  "$(rj status) $(rj 'next(c["action"] + " " + str(len(c["episodes"])) + " " + c["info_hash"] for c in j["summary"]["changes"] if c["title"] == "Long Show")')"
check_eq "long show: every episode (past the 64th too) plays from the 4K pack" "$(long_all "$HLS4" 70)" "$(long)"
check "long show: no torrent left waiting for metadata" lacks "still wait for metadata" "$(rj log)"
torrent "$HLS"
check_eq "long show: the 1080p pack is removed once no episode plays from it" 404 "$STATUS"

# all 70 present below the top tier (each worth an upgrade search), E71 new
EXTRA="{\"shows\": [$GOT, $LONG71]}" state '[]' "{$GOTP, \"tt4242424\": [$PLS, $PLS4, $PE71]}" '{}'
run_job tv
check_eq "long show: the new S01E71 is added despite 70 upgradable episodes" "ok add $HE71" \
  "$(rj status) $(rj 'next((c["action"] + " " + c["info_hash"] for c in j["summary"]["changes"] if c["title"] == "Long Show" and c.get("episode") == 71), "none")')"
check_eq "long show: S01E71 in the library from its own torrent" "$(long_all "$HLS4" 70) 71:${HE71:0:8}" "$(long)"
check "long show: upgrade searches have their own budget" grep -q "Long Show season 1: 30 upgrade searches this run" <<<"$(rj log)"

# a 4K DV "S01E01" whose files are S01E09 and S01E10: no file is E01's.
# S01E01 plays alone from the 4K pack, which a wrong guess would delete.
EXTRA="{\"shows\": [$GOT, $LONG71]}" state '[]' "{\"tt0944947\": [$PP, $PE2, $PP4, $PBON], \"tt4242424\": [$PLS, $PE71]}" '{}'
run_job tv
check_eq "mislabelled upgrade: the run ends ok" ok "$(rj status)"
check_eq "mislabelled upgrade: S01E01 still plays the 4K pack, same path and inode" \
  "$HP4 $P1 $I1" "$(got 1 info_hash) $(got 1 path) $(got 1 inode)"
check "mislabelled upgrade: the 4K pack is kept" test "$(tfield "$HP4" info_hash)" = "$HP4"
torrent "$HBON"
check_eq "mislabelled upgrade: the candidate torrent is dropped" 404 "$STATUS"
check "mislabelled upgrade: the log says why" \
  grep -q "Game of Thrones S01E01: no file of $HBON is named for it; kept $HP4, not upgraded" <<<"$(rj log)"
check "mislabelled upgrade: and that the candidate went" \
  grep -q "candidate torrent $HBON removed: no file of it was used" <<<"$(rj log)"
check_eq "mislabelled upgrade: still two Game of Thrones entries" 2 "$(got_n)"
check_eq "mislabelled upgrade: its summary record says refused" upgrade_refused \
  "$(rj 'next(c["action"] for c in j["summary"]["changes"] if c.get("info_hash") == "'"$HBON"'")')"
check_eq "mislabelled upgrade: summary.upgraded does not count it" true \
  "$(rj 'j["summary"]["upgraded"] == sum(c["action"] == "upgrade" for c in j["summary"]["changes"])')"

# The same, for a torrent someone added by its bare hash (no peer, so its
# metadata never comes) before the run picked it: the run's magnet names the
# seeder, the metadata comes, the upgrade is refused, and the torrent stays.
add_link "$HBON2"
check_status "own torrent: added by hash → 201" 201
sleep 1
check_eq "own torrent: no metadata without a peer" false "$(tfield "$HBON2" has_metadata)"
PBON2="{\"title\": \"Game.of.Thrones.S01E01.2160p.WEB-DL.DV.HDR.DDP5.1.H.265-GRP2\", \"magnet\": \"$MBON2\", \"hash\": \"$HBON2\", \"seeders\": 95}"
EXTRA="{\"shows\": [$GOT, $LONG71]}" state '[]' "{\"tt0944947\": [$PP, $PE2, $PP4, $PBON2], \"tt4242424\": [$PLS, $PE71]}" '{}'
run_job tv
check "own torrent: the run's magnet brought its seeder, the metadata came" \
  wait_until 20 eval '[ "$(tfield "$HBON2" has_metadata)" = true ]'
check "own torrent: the upgrade is refused" \
  wait_until 10 daemon_log_has "S01E01: no file of $HBON2 is named for it; kept $HP4, not upgraded"
check_eq "own torrent: S01E01 still plays the 4K pack" "$HP4 $P1 $I1" "$(got 1 info_hash) $(got 1 path) $(got 1 inode)"
check_eq "own torrent: it is kept (sync did not add it)" "$HBON2" "$(tfield "$HBON2" info_hash)"
check "own torrent: and was never called a candidate to remove" \
  sh -c '! grep -q "candidate torrent $1 removed" "$2"' _ "$HBON2" "$DATA/reelgate.log"

# The DV pack beats every Long Show episode, but has no file for E70 or E71:
# those two are refused and keep their torrents; the summary says so.
PLDV="{\"title\": \"$LSDV\", \"magnet\": \"$MLDV\", \"hash\": \"$HLDV\", \"seeders\": 300, \"size\": 150000000000}"
EXTRA="{\"shows\": [$GOT, $LONG71]}" state '[]' "{$GOTP, \"tt4242424\": [$PLS, $PE71, $PLDV]}" '{}'
run_job tv
ldv() { rj 'next((c["action"], len(c.get("episodes", [])), sorted(c.get("refused", []))) for c in j["summary"]["changes"] if c.get("info_hash") == "'"$HLDV"'")'; }
check_eq "partial pack: an upgrade of 69 episodes, E70 and E71 refused" "('upgrade', 69, [70, 71])" "$(ldv)"
check_eq "partial pack: summary.upgraded counts only upgrades" true \
  "$(rj 'j["summary"]["upgraded"] == sum(c["action"] == "upgrade" for c in j["summary"]["changes"])')"
check_eq "partial pack: E01–E69 from the DV pack, E70 and E71 from their old torrents" \
  "$(long_all "$HLDV" 69) 70:${HLS4:0:8} 71:${HE71:0:8}" "$(long)"
check "partial pack: the 4K pack stays for E70" test "$(tfield "$HLS4" info_hash)" = "$HLS4"
DAEMON_ENV+=(sync_tv_follow=1399)

# ---- history ----
api GET '/api/sync/history?job=movies&limit=50' >/dev/null
check "history keeps every run with its log" test "$(jget 'len([r for r in j["runs"] if r["log"]])' "$BODY")" -ge 9
check "no secret in the status or history" bash -c "! grep -q 'tmdb-good-key\|prowlarr-key\|jf-key' <<<'$(api GET /api/sync/status) $BODY'"
check "no secret in the log" bash -c "! grep -q 'tmdb-good-key\|prowlarr-key\|jf-key' '$DATA/reelgate.log'"

stop_daemon
finish
