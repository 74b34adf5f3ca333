#!/bin/sh
# library-api.sh — the library API over real HTTP: .torrent uploads whose
# files are release-named make automatic entries with the right paths; POST
# (an upgrade keeps path and inode), PUT, PATCH, DELETE; validation errors
# (400 naming the field, 404, 409); entries, paths and inodes survive a
# daemon restart; removing a torrent removes its entries. Nothing is
# downloaded: only the .torrent files are needed.
. "$(dirname "$0")/lib/common.sh"

# sparse files: the library decides from names and sizes, never from bytes
mkfile() { mkdir -p "$(dirname "$1")"; truncate -s "$2" "$1"; }

PACK=Breaking.Bad.S02.720p.WEB-DL.x264-GRP
mkfile "$T/src/$PACK/Breaking.Bad.S02E01.720p.WEB-DL.x264-GRP.mkv" 22M
mkfile "$T/src/$PACK/Breaking.Bad.S02E02.720p.WEB-DL.x264-GRP.mkv" 21M
mkfile "$T/src/$PACK/Sample/breaking.bad.s02e01.sample.mkv" 21M
mkfile "$T/src/$PACK/Extras/Making.Of.mkv" 1M
make_torrent "$T/pack.torrent" "$T/src/$PACK"
PACK_HASH=$THASH

mkfile "$T/src/Heat.1995.1080p.BluRay.x264-GRP.mkv" 3M
make_torrent "$T/heat.torrent" "$T/src/Heat.1995.1080p.BluRay.x264-GRP.mkv"
HEAT_HASH=$THASH

mkfile "$T/src/www.Site.org - Amélie.2001.FRENCH.720p.BluRay.x264 [YTS.MX].MP4" 2M
make_torrent "$T/amelie.torrent" "$T/src/www.Site.org - Amélie.2001.FRENCH.720p.BluRay.x264 [YTS.MX].MP4"
AMELIE_HASH=$THASH

start_daemon lib

upload() {
  api POST /api/torrents -H 'Content-Type: application/x-bittorrent' \
    --data-binary "@$1" >/dev/null
}

# path of the entry whose field F equals V (python expression over j)
entry_field() { jget "[e['$3'] for e in j['entries'] if e['$1'] == $2][0]" "$LIB"; }
library() { api GET /api/library >/dev/null; LIB=$BODY; }

api GET /api/library >/dev/null
check_status "GET /api/library on an empty library" 200
check_eq "no entries yet" 0 "$(jget 'len(j["entries"])' "$BODY")"

# ---- automatic entries
upload "$T/pack.torrent"
check_status "upload the season pack" 201
upload "$T/heat.torrent"
check_status "upload a movie" 201
upload "$T/amelie.torrent"
check_status "upload a site-prefixed movie" 201

library
check_eq "four automatic entries (no sample, no small extra)" 4 "$(jget 'len(j["entries"])' "$LIB")"
E1="tv/Breaking Bad/Season 02/Breaking Bad - S02E01.mkv"
E2="tv/Breaking Bad/Season 02/Breaking Bad - S02E02.mkv"
HEAT="movies/Heat (1995)/Heat (1995).mkv"
AMELIE="movies/Amélie (2001)/Amélie (2001).mp4"
check_eq "episode 1 path" "$E1" "$(entry_field path "'$E1'" path)"
check_eq "episode 2 path" "$E2" "$(entry_field path "'$E2'" path)"
check_eq "movie path" "$HEAT" "$(entry_field path "'$HEAT'" path)"
check_eq "site prefix and group tag dropped, extension lowercased" "$AMELIE" "$(entry_field path "'$AMELIE'" path)"
check_eq "entries are automatic" true "$(entry_field path "'$HEAT'" automatic)"
check_eq "episode fields" "episode 2 1 $PACK_HASH" \
  "$(jget "' '.join(str(x) for x in [[e['kind'], e['season'], e['episode'], e['info_hash']] for e in j['entries'] if e['path'] == '$E1'][0])" "$LIB")"
check_eq "size from the metadata" $((22 * 1048576)) "$(entry_field path "'$E1'" size)"
check_eq "movie year" 1995 "$(entry_field path "'$HEAT'" year)"
HEAT_ID=$(entry_field path "'$HEAT'" id)
HEAT_INO=$(entry_field path "'$HEAT'" inode)
check "inode is a number above 3" test "$HEAT_INO" -gt 3
check_eq "entries ordered by path" \
  "$(jget "'|'.join(sorted(e['path'] for e in j['entries']))" "$LIB")" \
  "$(jget "'|'.join(e['path'] for e in j['entries'])" "$LIB")"

# ---- POST
EXTRA=$(tfield "$PACK_HASH" "[f['index'] for f in j['files'] if f['path'].endswith('Making.Of.mkv')][0]")
body=$(printf '{"info_hash":"%s","file_index":%s,"kind":"movie","title":"Making: Breaking Bad?","year":2013,"imdb_id":"tt1234567","tmdb_id":42}' "$PACK_HASH" "$EXTRA")
api POST /api/library -H 'Content-Type: application/json' --data-binary "$body" >/dev/null
check_status "POST a manual entry" 201
M_ID=$(jget id "$BODY")
check_eq "sanitised path" "movies/Making - Breaking Bad (2013)/Making - Breaking Bad (2013).mkv" "$(jget path "$BODY")"
check_eq "manual entries are not automatic" false "$(jget automatic "$BODY")"
check_eq "imdb and tmdb ids kept" "tt1234567 42" "$(jget imdb_id "$BODY") $(jget tmdb_id "$BODY")"
api GET "/api/library/$M_ID" >/dev/null
check_status "GET one entry" 200
check_eq "GET one entry: its title" "Making: Breaking Bad?" "$(jget title "$BODY")"

# the same title from another file: an upgrade keeps path and inode
body=$(printf '{"info_hash":"%s","file_index":0,"kind":"movie","title":"heat","year":1995,"tmdb_id":949}' "$HEAT_HASH")
api POST /api/library -H 'Content-Type: application/json' --data-binary "$body" >/dev/null
check_status "POST the same title again (upgrade)" 201
check_eq "upgrade keeps the path" "$HEAT" "$(jget path "$BODY")"
check_eq "upgrade keeps the inode" "$HEAT_INO" "$(jget inode "$BODY")"
api GET "/api/library/$HEAT_ID" >/dev/null
check_status "the replaced entry is gone" 404

# ---- PUT / PATCH
api PUT "/api/library/$M_ID" -H 'Content-Type: application/json' --data-binary '{"title":"Making Of","year":2014}' >/dev/null
check_status "PUT a new title" 200
check_eq "PUT moves the path" "movies/Making Of (2014)/Making Of (2014).mkv" "$(jget path "$BODY")"
check_eq "PUT keeps other fields" "tt1234567" "$(jget imdb_id "$BODY")"
api PATCH "/api/library/$M_ID" -H 'Content-Type: application/json' --data-binary '{"kind":"episode","title":"Breaking Bad","year":null,"season":0,"episode":1}' >/dev/null
check_status "PATCH into a special episode" 200
check_eq "special episode path" "tv/Breaking Bad/Season 00/Breaking Bad - S00E01.mkv" "$(jget path "$BODY")"
api PATCH "/api/library/$M_ID" -H 'Content-Type: application/json' --data-binary '{"year":"soon"}' >/dev/null
check_status "PATCH a bad year → 400" 400
check "the error names year" sh -c 'printf "%s" "$1" | grep -q year' _ "$BODY"
api PATCH "/api/library/$M_ID" -H 'Content-Type: application/json' --data-binary '{"season":2,"episode":1}' >/dev/null
check_status "PATCH onto another entry's episode → 409" 409

# ---- errors
post() { api POST /api/library -H 'Content-Type: application/json' --data-binary "$1" >/dev/null; }
err_names() { printf '%s' "$BODY" | grep -q "$1"; }
post "{\"info_hash\":\"$HEAT_HASH\",\"file_index\":0,\"kind\":\"movie\"}"
check_status "missing title → 400" 400
check "… naming title" err_names title
post "{\"info_hash\":\"$HEAT_HASH\",\"file_index\":0,\"kind\":\"show\",\"title\":\"X\"}"
check_status "bad kind → 400" 400
check "… naming kind" err_names kind
post "{\"info_hash\":\"$HEAT_HASH\",\"file_index\":0,\"kind\":\"episode\",\"title\":\"X\",\"season\":1}"
check_status "episode without a number → 400" 400
check "… naming episode" err_names episode
post "{\"info_hash\":\"$HEAT_HASH\",\"file_index\":7,\"kind\":\"movie\",\"title\":\"X\"}"
check_status "no such file → 400" 400
check "… naming file_index" err_names file_index
post '{"info_hash":"0123456789abcdef0123456789abcdef01234567","file_index":0,"kind":"movie","title":"X"}'
check_status "unknown torrent → 404" 404
post '{"info_hash":"xyz","file_index":0,"kind":"movie","title":"X"}'
check_status "malformed info_hash → 400" 400
check "… naming info_hash" err_names info_hash
post "{\"info_hash\":\"$HEAT_HASH\",\"file_index\":0,\"kind\":\"movie\",\"title\":\"X\",\"imdb_id\":\"123\"}"
check_status "bad imdb_id → 400" 400
check "… naming imdb_id" err_names imdb_id
post 'not json'
check_status "not JSON → 400" 400
api GET /api/library/999999 >/dev/null
check_status "unknown entry → 404" 404
api GET /api/library/abc >/dev/null
check_status "non-numeric id → 404" 404
api PUT /api/library/999999 -H 'Content-Type: application/json' --data-binary '{"title":"X"}' >/dev/null
check_status "PUT unknown entry → 404" 404
api DELETE /api/library/999999 >/dev/null
check_status "DELETE unknown entry → 404" 404
http GET "$URL/api/library"
check_status "no key → 401" 401

# ---- DELETE
api DELETE "/api/library/$M_ID" >/dev/null
check_status "DELETE an entry" 200
api GET "/api/library/$M_ID" >/dev/null
check_status "deleted entry → 404" 404

# ---- restart: same entries, paths and inodes
library
BEFORE=$(jget "'|'.join('%s=%s' % (e['path'], e['inode']) for e in j['entries'])" "$LIB")
restart_daemon
library
AFTER=$(jget "'|'.join('%s=%s' % (e['path'], e['inode']) for e in j['entries'])" "$LIB")
check_eq "entries, paths and inodes survive a restart" "$BEFORE" "$AFTER"
check_eq "the deleted entry stays deleted" 4 "$(jget 'len(j["entries"])' "$LIB")"

# ---- removing a torrent removes its entries; re-adding restores the inodes
E1_INO=$(entry_field path "'$E1'" inode)
api DELETE "/api/torrents/$PACK_HASH" >/dev/null
check_status "remove the season pack" 200
library
check_eq "its entries are gone" 0 "$(jget "len([e for e in j['entries'] if e['info_hash'] == '$PACK_HASH'])" "$LIB")"
upload "$T/pack.torrent"
check_status "upload it again" 201
library
check_eq "the episode comes back with its old inode" "$E1_INO" "$(entry_field path "'$E1'" inode)"

# ---- a season pack of a show already in the library (as after a sync
# job's partial pack upgrade): episodes that have an entry get no second,
# year-less automatic one; a new episode joins the show's folder
for e in 01 02; do
  f="Better.Call.Saul.S01E$e.720p.HDTV.x264-OLD.mkv"
  mkfile "$T/src/$f" 21M
  make_torrent "$T/bcs$e.torrent" "$T/src/$f"
  eval "BCS${e}_HASH=\$THASH"
  upload "$T/bcs$e.torrent"
  check_status "upload the old S01E$e" 201
  library
  id=$(entry_field info_hash "'$THASH'" id)
  # what the sync job makes: the TMDB title and year, not automatic
  api PATCH "/api/library/$id" -H 'Content-Type: application/json' --data-binary '{"year":2015}' >/dev/null
  check_status "S01E$e gets the show's year" 200
done
BCS="tv/Better Call Saul (2015)/Season 01/Better Call Saul (2015)"
BPACK=Better.Call.Saul.S01.1080p.BluRay.x264-NEW
for e in 01 02 03; do
  mkfile "$T/src/$BPACK/Better.Call.Saul.S01E$e.1080p.BluRay.x264-NEW.mkv" 21M
done
make_torrent "$T/bpack.torrent" "$T/src/$BPACK"
BPACK_HASH=$THASH
upload "$T/bpack.torrent"
check_status "upload a pack of the same season" 201
# the sync job takes S01E01 from the pack (an upgrade, the same identity)
library
I01=$(entry_field path "'$BCS - S01E01.mkv'" inode)
F01=$(tfield "$BPACK_HASH" "[f['index'] for f in j['files'] if f['path'].endswith('S01E01.1080p.BluRay.x264-NEW.mkv')][0]")
body=$(printf '{"info_hash":"%s","file_index":%s,"kind":"episode","title":"Better Call Saul","year":2015,"season":1,"episode":1,"tmdb_id":60059}' "$BPACK_HASH" "$F01")
api POST /api/library -H 'Content-Type: application/json' --data-binary "$body" >/dev/null
check_status "the pack's S01E01 replaces the old one" 201
library
bcs() { jget "' '.join('%d:%s' % (e['episode'], e['$1']) for e in j['entries'] if e['kind'] == 'episode' and e['season'] == 1 and 'saul' in e['title'].lower())" "$LIB"; }
check_eq "one entry per episode, all in the show's folder" \
  "1:$BCS - S01E01.mkv 2:$BCS - S01E02.mkv 3:$BCS - S01E03.mkv" "$(bcs path)"
check_eq "S01E01 plays the pack, S01E02 still the old torrent, S01E03 the pack" \
  "1:$BPACK_HASH 2:$BCS02_HASH 3:$BPACK_HASH" "$(bcs info_hash)"
check_eq "only the new episode is automatic" "1:False 2:False 3:True" "$(bcs automatic)"
check_eq "S01E01 kept its inode" "$I01" "$(entry_field path "'$BCS - S01E01.mkv'" inode)"
check_eq "no year-less Better Call Saul folder" 0 \
  "$(jget "len([e for e in j['entries'] if e['path'].startswith('tv/Better Call Saul/')])" "$LIB")"

stop_daemon
finish
