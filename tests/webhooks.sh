#!/bin/sh
# webhooks.sh — POST /webhook over real HTTP with every recorded payload in
# tests/fixtures/webhooks/ and the variants media servers and users send
# (curl's own multipart and url-encoded forms, episodes, legacy Plex agents,
# a localised title, path-only and True/False Jellyfin templates, Emby
# forms): each is matched to the right library entry and priority mode shows
# in GET /api/playback (sessions, playing_torrents); stop and DELETE end it;
# the token is enforced and never logged; garbage bodies get 4xx and the
# daemon keeps answering; the event log holds results and survives a
# restart; the safety timeout ends a session that never hears a stop.
# Nothing is downloaded: the library needs only .torrent files.
. "$(dirname "$0")/lib/common.sh"

FIX=$RG_SRCDIR/tests/fixtures/webhooks
[ -d "$FIX" ] || die "no fixtures in $FIX"

mkfile() { mkdir -p "$(dirname "$1")"; truncate -s "$2" "$1"; }
upload() {
  make_torrent "$T/$1.torrent" "$2"
  api POST /api/torrents -H 'Content-Type: application/x-bittorrent' \
    --data-binary "@$T/$1.torrent" >/dev/null
  [ "$STATUS" = 201 ] || die "upload $1: HTTP $STATUS $BODY"
}
library() { api GET /api/library >/dev/null; LIB=$BODY; }
# entry id whose path starts with PREFIX
entry_id() { jget "[e['id'] for e in j['entries'] if e['path'].startswith('$1')][0]" "$LIB"; }
entry_hash() { jget "[e['info_hash'] for e in j['entries'] if e['path'].startswith('$1')][0]" "$LIB"; }
set_ids() { # ID JSON
  api PATCH "/api/library/$1" -H 'Content-Type: application/json' --data-binary "$2" >/dev/null
  [ "$STATUS" = 200 ] || die "PATCH entry $1: HTTP $STATUS $BODY"
}

mkfile "$T/src/Big.Trouble.in.Little.China.1986.1080p.BluRay.x264-GRP.mkv" 3M
mkfile "$T/src/The.Menu.2022.1080p.WEB-DL.DDP5.1.x265-GRP.mkv" 3M
mkfile "$T/src/Heat.1995.1080p.BluRay.x264-GRP.mkv" 2M
mkfile "$T/src/Billy.the.Kid.S02E01.720p.WEB.h264-GRP.mkv" 2M
mkfile "$T/src/Breaking.Bad.S02E01.720p.WEB-DL.x264-GRP.mkv" 2M

start_daemon wh playback_grace_s=1
for n in Big.Trouble.in.Little.China.1986.1080p.BluRay.x264-GRP.mkv \
  The.Menu.2022.1080p.WEB-DL.DDP5.1.x265-GRP.mkv Heat.1995.1080p.BluRay.x264-GRP.mkv \
  Billy.the.Kid.S02E01.720p.WEB.h264-GRP.mkv Breaking.Bad.S02E01.720p.WEB-DL.x264-GRP.mkv; do
  upload "${n%%.[0-9]*}" "$T/src/$n"
done
library
check_eq "five library entries from release names" 5 "$(jget 'len(j["entries"])' "$LIB")"
BTLC=movies/Big\ Trouble\ in\ Little\ China
MENU="movies/The Menu"
HEAT="movies/Heat"
BILLY="tv/Billy the Kid"
BB="tv/Breaking Bad"
BTLC_H=$(entry_hash "$BTLC") MENU_H=$(entry_hash "$MENU") HEAT_H=$(entry_hash "$HEAT")
BILLY_H=$(entry_hash "$BILLY") BB_H=$(entry_hash "$BB")
[ -n "$BTLC_H" ] && [ -n "$MENU_H" ] && [ -n "$HEAT_H" ] && [ -n "$BILLY_H" ] && [ -n "$BB_H" ] ||
  die "library paths are not as expected: $LIB"
# the localised-title and fixture ids (Heat, Billy and Breaking Bad have none)
set_ids "$(entry_id "$BTLC")" '{"imdb_id":"tt0090728","tmdb_id":6978}'
set_ids "$(entry_id "$MENU")" '{"imdb_id":"tt9764362","tmdb_id":593643}'
set_ids "$(entry_id "$BILLY")" '{"year":2022}'

# ---- the URL and the token
api GET /api/webhooks >/dev/null
check_status "GET /api/webhooks" 200
WURL=$(jget url "$BODY")
TOKEN=${WURL##*token=}
check "the URL points at /webhook with a token" sh -c 'case "$1" in http://127.0.0.1:*/webhook\?token=?*) exit 0 ;; esac; exit 1' _ "$WURL"
check "the token is at least 32 characters" test "${#TOKEN}" -ge 32
http GET "$URL/api/webhooks"
check_status "GET /api/webhooks without the API key → 401" 401

# hook CURL-ARGS… — POST to the webhook URL
hook() { http POST "$WURL" "$@"; }
json_hook() { hook -H 'Content-Type: application/json' --data-binary "$1"; }
playback() { api GET /api/playback >/dev/null; PB=$BODY; }
playing() { playback; jget "' '.join(sorted(j['playing_torrents']))" "$PB"; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
result() { jget "$1" "$BODY" 2>/dev/null; }

http POST "$URL/webhook" -H 'Content-Type: application/json' --data-binary @"$FIX/plex-media.play-movie.json"
check_status "no token → 401" 401
http POST "$URL/webhook?token=nope" -H 'Content-Type: application/json' --data-binary @"$FIX/plex-media.play-movie.json"
check_status "wrong token → 401" 401
http POST "$URL/webhook?api_key=$API_KEY" -H 'Content-Type: application/json' --data-binary @"$FIX/plex-media.play-movie.json"
check_status "the API key is not the webhook token → 401" 401
http GET "$WURL"
check_status "GET with the token → 405" 405
check_eq "nothing plays yet" "" "$(playing)"

# ---- Plex
hook -H "Content-Type: $(cat "$FIX/plex-media.play-movie.multipart.content-type")" \
  --data-binary @"$FIX/plex-media.play-movie.multipart"
check_status "Plex multipart media.play (payload + thumb) → 200" 200
check_eq "… matched by imdb" "applied imdb plex play" "$(result result) $(result match) $(result server) $(result kind)"
check_eq "… to the movie" "$BTLC_H" "$(result entry.info_hash)"
check_eq "priority mode: its torrent plays" "$BTLC_H" "$(playing)"
playback
check_eq "… priority on" true "$(jget priority "$PB")"
check_eq "… one session, client and user" "1 Plex Web (Safari) elan playing" \
  "$(jget "'%d %s %s %s' % (len(j['sessions']), j['sessions'][0]['client'], j['sessions'][0]['user'], j['sessions'][0]['state'])" "$PB")"
hook -H 'Content-Type: application/json' --data-binary @"$FIX/plex-media.stop-movie.json"
check_status "Plex media.stop → 200" 200
check_eq "stop ends priority mode" "" "$(playing)"
playback
check_eq "… no sessions" 0 "$(jget 'len(j["sessions"])' "$PB")"

hook -F "payload=<$FIX/plex-media.play-movie.json;type=application/json" -F "thumb=@$FIX/plex-media.play-movie.multipart;type=image/jpeg;filename=thumb.jpg"
check_status "curl-made multipart with a thumb → 200" 200
check_eq "… plays again" "$BTLC_H" "$(playing)"
hook --data-urlencode "payload@$FIX/plex-media.stop-movie.json"
check_status "url-encoded payload= stop → 200" 200
check_eq "… stops" "" "$(playing)"

# ---- Jellyfin
hook -H 'Content-Type: text/plain' --data-binary @"$FIX/jellyfin-PlaybackStart-all-properties.json"
check_status "Jellyfin SendAllProperties as text/plain → 200" 200
check_eq "… jellyfin, imdb, The Menu" "jellyfin imdb $MENU_H" "$(result server) $(result match) $(result entry.info_hash)"
hook -H 'Content-Type: text/plain; charset=utf-8' --data-binary @"$FIX/jellyfin-PlaybackStart-template.txt"
check_status "Jellyfin Plex-style template → 200" 200
check_eq "… the same title" "$MENU_H" "$(result entry.info_hash)"

# ---- Emby, while The Menu plays: the priority is shared
hook -H 'Content-Type: application/json' --data-binary @"$FIX/emby-playback.start-episode.json"
check_status "Emby playback.start episode → 200" 200
check_eq "… matched by show + season + episode" "emby episode $BILLY_H" "$(result server) $(result match) $(result entry.info_hash)"
check_eq "two titles share the priority" "$(sorted "$MENU_H" "$BILLY_H")" "$(playing)"
hook --data-urlencode "data@$FIX/emby-playback.start-episode.json"
check_status "Emby form data= → 200" 200
check_eq "… same player, still one Emby session" 1 \
  "$(playback; jget "len([s for s in j['sessions'] if s['server'] == 'emby'])" "$PB")"
api DELETE /api/playback >/dev/null
check_status "DELETE /api/playback" 200
check_eq "… ends every session" "" "$(playing)"

# ---- variants
json_hook '{"NotificationType":"PlaybackStart","ItemPath":"/srv/media/movies/Heat (1995)/Heat (1995).mkv","DeviceId":"tv1"}'
check_status "path-only Jellyfin template → 200" 200
check_eq "… matched by path" "path $HEAT_H" "$(result match) $(result entry.info_hash)"
hook -H 'Content-Type: text/plain' --data-binary "$(printf '{\n "NotificationType": "PlaybackProgress",\n "ItemPath": "/srv/media/movies/Heat (1995)/Heat (1995).mkv",\n "DeviceId": "tv1",\n "IsPaused": True,\n "Year": ,\n "PlaybackPositionTicks": 6000000000,\n}')"
check_status "True/False template (paused progress) → 200" 200
check_eq "… the session is paused at 600 s and keeps the priority" "paused 600000 $HEAT_H" \
  "$(playback; jget "'%s %s %s' % (j['sessions'][0]['state'], j['sessions'][0]['position_ms'], ' '.join(j['playing_torrents']))" "$PB")"
hook -H 'Content-Type: text/plain' --data-binary "$(printf 'NotificationType: PlaybackStop\nItemPath: /srv/media/movies/Heat (1995)/Heat (1995).mkv\nDeviceId: tv1\n')"
check_status "Key: Value template stop → 200" 200
check_eq "… stops" "" "$(playing)"

json_hook '{"event":"media.play","Player":{"uuid":"p2","title":"Shield"},"Metadata":{"type":"episode","title":"Grilled","grandparentTitle":"Breaking Bad","parentIndex":2,"index":1,"Guid":[{"id":"imdb://tt1232248"},{"id":"tvdb://438913"}]}}'
check_status "Plex episode → 200" 200
check_eq "… by show + season + episode" "episode $BB_H" "$(result match) $(result entry.info_hash)"
json_hook '{"event":"media.stop","Player":{"uuid":"p2"},"Metadata":{"type":"episode","grandparentTitle":"Breaking Bad","guid":"com.plexapp.agents.thetvdb://81189/2/1?lang=en"}}'
check_status "Plex legacy thetvdb agent stop → 200" 200
check_eq "… the same episode" "$BB_H" "$(result entry.info_hash)"
check_eq "… stops" "" "$(playing)"
json_hook '{"event":"media.play","Player":{"uuid":"p3"},"Metadata":{"type":"movie","title":"Big Trouble in Little China","guid":"com.plexapp.agents.imdb://tt0090728?lang=en"}}'
check_status "Plex legacy imdb agent → 200" 200
check_eq "… by imdb" "imdb $BTLC_H" "$(result match) $(result entry.info_hash)"
json_hook '{"event":"media.play","Player":{"uuid":"p3"},"Metadata":{"type":"movie","title":"Les Aventures de Jack Burton dans les griffes du Mandarin","year":1986,"Guid":[{"id":"imdb://tt0090728"}]}}'
check_status "localised title with an imdb id → 200" 200
check_eq "… by imdb" "imdb $BTLC_H" "$(result match) $(result entry.info_hash)"
json_hook '{"event":"media.play","Player":{"uuid":"p4"},"Metadata":{"type":"movie","title":"Heat","year":1995}}'
check_status "title + year only → 200" 200
check_eq "… by title" "title $HEAT_H" "$(result match) $(result entry.info_hash)"
check_eq "two players, two titles" "$(sorted "$BTLC_H" "$HEAT_H")" "$(playing)"
json_hook '{"event":"media.play","Player":{"uuid":"p4"},"Metadata":{"type":"movie","title":"The Menu","Guid":[{"id":"tmdb://593643"}]}}'
check_status "the same player plays another title (tmdb) → 200" 200
check_eq "… which replaces its previous one" "$(sorted "$BTLC_H" "$MENU_H")" "$(playing)"
api DELETE /api/playback >/dev/null

json_hook '{"event":"media.play","Player":{"uuid":"p5"},"Metadata":{"type":"movie","title":"Nothing Like It","year":2001,"Guid":[{"id":"imdb://tt0000001"}]}}'
check_status "unmatched title → 202" 202
check_eq "… unmatched, with a reason" "unmatched yes" "$(result result) $(result "'yes' if 'tt0000001' in j['reason'] else 'no'")"
check_eq "… no effect" "" "$(playing)"
json_hook '{"event":"library.new","Account":{"title":"x"},"Metadata":{"type":"movie","title":"Heat","year":1995}}'
check_status "library.new → 202" 202
check_eq "… ignored" ignored "$(result result)"
json_hook '{"Event":"system.notificationtest","Title":"Test Notification"}'
check_status "Emby test notification → 202" 202

# ---- garbage: 4xx, and the daemon keeps answering
alive_check() { api GET /api/status >/dev/null; [ "$STATUS" = 200 ]; }
hook -H 'Content-Type: application/json' --data-binary ''
check_status "empty body → 400" 400
head -c 300 "$FIX/plex-media.play-movie.json" >"$T/trunc.json"
hook -H 'Content-Type: application/json' --data-binary @"$T/trunc.json"
check_status "truncated JSON → 400" 400
hook -H 'Content-Type: text/plain' --data-binary @"$T/trunc.json"
check_status "truncated JSON as text/plain → 400" 400
head -c $((10 * 1048576)) /dev/zero | tr '\0' 'a' >"$T/big"
hook -H 'Content-Type: application/json' --data-binary @"$T/big"
check_status "10 MB body → 413" 413
hook -H 'Content-Type: image/png' --data-binary @"$FIX/plex-media.play-movie.json"
check_status "wrong content type → 415" 415
hook -F "thumb=@$FIX/plex-media.play-movie.multipart;type=image/jpeg;filename=t.jpg"
check_status "multipart without payload → 400" 400
hook -H "Content-Type: $(cat "$FIX/plex-media.play-movie.multipart.content-type")" --data-binary @"$T/trunc.json"
check_status "multipart that is not multipart → 400" 400
json_hook '{"hello":"world"}'
check_status "JSON without an event → 400" 400
check "the daemon answers after the garbage" alive_check
check_eq "… and nothing plays" "" "$(playing)"

# ---- the event log
api GET /api/webhooks/events >/dev/null
check_status "GET /api/webhooks/events" 200
EV=$BODY
check_eq "newest first: the last rejection" "rejected 400" "$(jget "'%s %s' % (j['events'][0]['result'], j['events'][0]['status'])" "$EV")"
check_eq "every result kind is there" "applied ignored rejected unmatched" \
  "$(jget "' '.join(sorted(set(e['result'] for e in j['events'])))" "$EV")"
check_eq "the first applied event names its entry and rule" "imdb $BTLC_H" \
  "$(jget "[ '%s %s' % (e['match'], e['entry']['info_hash']) for e in j['events'] if e['result'] == 'applied'][-1]" "$EV")"
check_eq "unauthenticated requests are not logged as events" 0 \
  "$(jget "len([e for e in j['events'] if e.get('status') == 401])" "$EV")"
NEV=$(jget 'len(j["events"])' "$EV")
check "at most 100 events" test "$NEV" -le 100
check "the token never reaches the log" sh -c '! grep -qF -- "$1" "$2"/reelgate.log "$2"/daemon.out' _ "$TOKEN" "$DATA"

# ---- restart: the token and the events stay; a safety timeout ends a
# session that never hears a stop
DAEMON_ENV=(playback_grace_s=1 playback_safety_timeout_s=2)
restart_daemon
api GET /api/webhooks >/dev/null
check_eq "the token survives a restart" "$WURL" "$(jget url "$BODY")"
api GET /api/webhooks/events >/dev/null
check_eq "the events survive a restart" "$NEV" "$(jget 'len(j["events"])' "$BODY")"
hook -H 'Content-Type: application/json' --data-binary @"$FIX/plex-media.play-movie.json"
check_status "play after the restart → 200" 200
check_eq "… plays" "$BTLC_H" "$(playing)"
nothing_plays() { [ -z "$(playing)" ]; }
check "the safety timeout ends it without a stop" wait_until 10 nothing_plays
api GET /api/webhooks/events >/dev/null
check_eq "… and says so in the events" expired "$(jget "j['events'][0]['result']" "$BODY")"

# a regenerated token is in use at once; the old one stops working
OLD_URL=$WURL
api POST /api/webhooks/regenerate >/dev/null
NEW_URL=$(jget url "$BODY")
check "a new webhook URL comes back" test -n "$NEW_URL" -a "$NEW_URL" != "$OLD_URL"
http POST "$OLD_URL" -H 'Content-Type: application/json' --data-binary @"$FIX/plex-media.stop-movie.json"
check_status "the old token stops working at once" 401
http POST "$NEW_URL" -H 'Content-Type: application/json' --data-binary @"$FIX/plex-media.stop-movie.json"
check "the new token works at once" test "$STATUS" != 401 -a "${STATUS#2}" != "$STATUS"

stop_daemon
finish
