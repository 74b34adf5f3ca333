#!/usr/bin/env bash
# auth.sh — no way in without the key (issue 9, item 5).
#
# Every route that changes state or reveals a secret answers 401 without the
# API key and with a wrong one (TorrServer routes also with a wrong Basic
# password); /webhook needs its token; the web UI's static files and /echo
# are open. Path traversal in stream names, HLS paths, library titles and
# web UI paths is refused. Header, body and upload sizes are limited. No
# secret (API key, webhook token, TMDB/Prowlarr/Torznab/Plex/Jellyfin keys)
# appears in a GET response other than the few that hand out URLs carrying
# the key, and none ever appears in the daemon's log. Key comparisons go
# through rg_secret_eq (constant time).
. "$(dirname "$0")/lib/common.sh"

TMDB=tmdbsecret0c4f9e1a77b2d3 PROWL=prowlsecret5e8d21b04a9f
TZN=torznabsecret77aa01c2 PLEX=plexsecret9b1e4d0f3c JF=jellyfinsecret3d2a9c
WH=whtokensecret6a1f0e2b7c
CLOSED=http://127.0.0.1:9 # nothing listens: sync calls fail at once

start_daemon d "tmdb_api_key=$TMDB" "tmdb_url=$CLOSED" "prowlarr_url=$CLOSED" \
  "prowlarr_api_key=$PROWL" "torznab_url=$CLOSED" "torznab_api_key=$TZN" \
  "plex_url=$CLOSED" "plex_token=$PLEX" "plex_watchlist_url=$CLOSED" \
  "jellyfin_url=$CLOSED" "jellyfin_api_key=$JF" "webhook_token=$WH" \
  "torrentio_url=$CLOSED" sync_http_retries=0 torrserver=true

# A torrent whose metadata is known (no seeder needed for HEAD).
mkdir -p "$T/src"
make_random "$T/src/film.mkv" 2
make_torrent "$T/film.torrent" "$T/src/film.mkv"
H=$THASH
api POST /api/torrents -H 'Content-Type: application/x-bittorrent' \
  --data-binary @"$T/film.torrent" >/dev/null
case $STATUS in 200 | 201) ;; *) die "cannot add the torrent: $STATUS $BODY" ;; esac
SIZE=$(file_size "$T/src/film.mkv")

# code METHOD PATH [curl args] — the status only (000: connection failed).
code() {
  local m=$1 p=$2; shift 2
  local mf=(-X "$m")
  [ "$m" = HEAD ] && mf=(-I)
  [ "$m" = GET ] && mf=()
  curl -sS -g --noproxy '*' --path-as-is --max-time 20 "${mf[@]}" \
    -o "$T/code.body" -w '%{http_code}' "$@" "$URL$p" 2>/dev/null || true
}

# ------------------------------------------------------ 401 without key --

# METHOD PATH [body] — every route that changes state or reveals a secret.
ROUTES=(
  "GET /api/status" "GET /api/settings" "PUT /api/settings {\"log_level\":\"debug\"}"
  "PATCH /api/settings {}" "GET /api/system" "GET /api/speed"
  "POST /api/key/regenerate" "POST /api/webhooks/regenerate" "POST /api/restart"
  "GET /api/library" "POST /api/library {}" "GET /api/library/1"
  "PUT /api/library/1 {}" "PATCH /api/library/1 {}" "DELETE /api/library/1"
  "GET /api/sync" "GET /api/sync/status" "GET /api/sync/schedule"
  "PUT /api/sync/schedule {}" "GET /api/sync/history" "GET /api/sync/history/1"
  "POST /api/sync/movies/run" "POST /api/sync/tv/stop" "POST /api/sync/watchlist/run"
  "GET /api/playback" "GET /api/webhooks" "GET /api/webhooks/events"
  "GET /api/warmup" "POST /api/torrents/$H/warmup"
  "GET /api/torrents" "POST /api/torrents {\"link\":\"$H\"}" "GET /api/torrents/$H"
  "DELETE /api/torrents/$H" "GET /api/blocklist" "POST /api/blocklist"
  "GET /api/portmap" "GET /api/nosuchroute" "GET /api"
  "GET /metrics"
  "GET /stream/$H/0/film.mkv" "HEAD /stream/$H/0/film.mkv"
  "GET /hls/$H/0/index.m3u8" "GET /hls/$H/0/seg0.ts"
  "POST /torrents {\"action\":\"list\"}" "POST /torrents {\"action\":\"wipe\"}"
  "POST /torrent/upload" "GET /stream?link=$H&index=1&play"
  "GET /stream/film.mkv?link=$H&index=1&stat" "GET /play/$H/1"
  "GET /playlist?hash=$H" "GET /playlistall/all.m3u"
  "POST /settings {\"action\":\"get\"}" "POST /viewed {\"action\":\"list\"}"
  "POST /cache {\"action\":\"get\",\"hash\":\"$H\"}"
)
BASIC_BAD=$(printf 'lampa:wrong-%s' "$API_KEY" | base64 -w0)
BASIC_EMPTY=$(printf 'lampa:' | base64 -w0)
bad=0 total=0
for r in "${ROUTES[@]}"; do
  m=${r%% *} rest=${r#* } p=${rest%% *} b=''
  [ "$rest" != "$p" ] && b=${rest#* }
  bodyarg=()
  [ -n "$b" ] && bodyarg=(--data-binary "$b")
  variants=(none wrongkey wrongquery)
  case $p in /api* | /metrics | /stream/$H* | /hls*) ;; *) variants+=(wrongbasic emptybasic) ;; esac
  for v in "${variants[@]}"; do
    case $v in
      none) a=() q=$p ;;
      wrongkey) a=(-H "X-Api-Key: x$API_KEY") q=$p ;;
      wrongquery) a=() q=$p$([ "${p#*\?}" = "$p" ] && echo '?' || echo '&')api_key=${API_KEY}x ;;
      wrongbasic) a=(-H "Authorization: Basic $BASIC_BAD") q=$p ;;
      emptybasic) a=(-H "Authorization: Basic $BASIC_EMPTY") q=$p ;;
    esac
    total=$((total + 1))
    c=$(code "$m" "$q" ${a[@]+"${a[@]}"} ${bodyarg[@]+"${bodyarg[@]}"})
    if [ "$c" != 401 ]; then
      bad=$((bad + 1))
      note "$m $q ($v): HTTP $c, want 401: $(head -c 160 "$T/code.body")"
    fi
  done
done
check_eq "every protected route answers 401 without / with a wrong key ($total requests)" 0 $bad
check "the daemon is still running after the unauthenticated requests" alive "$DPID"
check_eq "the torrent is still there (no unauthenticated change took effect)" \
  "$H" "$(tfield "$H" info_hash)"
api GET /api/settings >/dev/null
check "the log level was not changed without the key" \
  eval '[ "$(jget "[s for s in j[\"settings\"] if s[\"key\"]==\"log_level\"][0][\"value\"]" "$BODY" 2>/dev/null)" != debug ]'

# The right key in each accepted form gets through.
check_eq "X-Api-Key is accepted" 200 "$(code GET /api/status -H "X-Api-Key: $API_KEY")"
check_eq "?api_key= is accepted" 200 "$(code GET "/api/status?api_key=$API_KEY")"
BASIC_OK=$(printf 'lampa:%s' "$API_KEY" | base64 -w0)
check_eq "TorrServer: the key as Basic password is accepted" 200 \
  "$(code POST /torrents -H "Authorization: Basic $BASIC_OK" --data-binary '{"action":"list"}')"
check_eq "TorrServer: a Basic password that only starts with the key is refused" 401 \
  "$(code POST /torrents -H "Authorization: Basic $(printf 'u:%sx' "$API_KEY" | base64 -w0)" --data-binary '{"action":"list"}')"
check_eq "a key prefix is refused" 401 "$(code GET /api/status -H "X-Api-Key: ${API_KEY%?}")"
check_eq "an empty key is refused" 401 "$(code GET /api/status -H 'X-Api-Key;')"

# The stream key (what URLs handed to players carry) plays, and nothing else:
# in every form a key is taken, it opens no route that changes state or
# reveals a secret.
check "the stream key is not the API key" test "$STREAM_KEY" != "$API_KEY"
check_eq "HEAD of a stream URL with ?key=<stream key> → 200" 200 \
  "$(code HEAD "/stream/$H/0/film.mkv?key=$STREAM_KEY")"
check_eq "a wrong stream key → 401" 401 "$(code HEAD "/stream/$H/0/film.mkv?key=${STREAM_KEY}x")"
check_eq "the API key as ?api_key= still plays" 200 "$(code HEAD "/stream/$H/0/film.mkv?api_key=$API_KEY")"
BASIC_SK=$(printf 'lampa:%s' "$STREAM_KEY" | base64 -w0)
sbad=0 stotal=0
for r in "${ROUTES[@]}"; do
  m=${r%% *} rest=${r#* } p=${rest%% *} b=''
  [ "$rest" != "$p" ] && b=${rest#* }
  case $p in /stream/$H* | /hls*) continue ;; esac
  bodyarg=()
  [ -n "$b" ] && bodyarg=(--data-binary "$b")
  sep=$([ "${p#*\?}" = "$p" ] && echo '?' || echo '&')
  for v in header api_key key basic; do
    case $v in
      header) a=(-H "X-Api-Key: $STREAM_KEY") q=$p ;;
      api_key) a=() q=$p${sep}api_key=$STREAM_KEY ;;
      key) a=() q=$p${sep}key=$STREAM_KEY ;;
      basic) a=(-H "Authorization: Basic $BASIC_SK") q=$p ;;
    esac
    stotal=$((stotal + 1))
    c=$(code "$m" "$q" ${a[@]+"${a[@]}"} ${bodyarg[@]+"${bodyarg[@]}"})
    if [ "$c" != 401 ]; then
      sbad=$((sbad + 1))
      note "$m $q (stream key, $v): HTTP $c, want 401: $(head -c 160 "$T/code.body")"
    fi
  done
done
check_eq "the stream key opens no other route ($stotal requests)" 0 $sbad
check_eq "the torrent is still there" "$H" "$(tfield "$H" info_hash)"

# Open routes.
check_eq "/echo is open" 200 "$(code GET /echo)"
check_eq "the web UI's index is open" 200 "$(code GET /)"
check_eq "the web UI's script is open" 200 "$(code GET /app.js)"
check "the open web UI carries no key" eval "! grep -q -- '$API_KEY' '$T/code.body'"

# /webhook needs its token.
WBODY="$RG_SRCDIR/tests/fixtures/webhooks/plex-media.play-movie.multipart"
WCT=$(cat "$RG_SRCDIR/tests/fixtures/webhooks/plex-media.play-movie.multipart.content-type")
check_eq "/webhook without a token → 401" 401 \
  "$(code POST /webhook -H "Content-Type: $WCT" --data-binary @"$WBODY")"
check_eq "/webhook with a wrong token → 401" 401 \
  "$(code POST "/webhook?token=${WH}x" -H "Content-Type: $WCT" --data-binary @"$WBODY")"
check_eq "/webhook with the API key instead of the token → 401" 401 \
  "$(code POST "/webhook?api_key=$API_KEY" -H "Content-Type: $WCT" --data-binary @"$WBODY")"
check_eq "/webhook with the token in the header → 2xx" 2 \
  "$(code POST /webhook -H "X-Webhook-Token: $WH" -H "Content-Type: $WCT" --data-binary @"$WBODY" | cut -c1)"

# ------------------------------------------------------- path traversal --

K=(-H "X-Api-Key: $API_KEY")
no_passwd() { ! grep -q 'root:.*:0:0:' "$T/code.body"; }
trav_bad=0
for p in "/stream/$H/0/../../../../etc/passwd" "/stream/$H/0/%2e%2e%2f%2e%2e%2fetc%2fpasswd" \
  "/stream/$H/../../../etc/passwd" "/stream/$H/0/..%2F..%2F..%2Fetc%2Fpasswd" \
  "/stream/../../../../etc/passwd" "/stream/%2e%2e/%2e%2e/etc/passwd"; do
  c=$(code HEAD "$p" "${K[@]}")
  len=$(sed -n 's/^[Cc]ontent-[Ll]ength: *\([0-9]*\).*/\1/p' "$T/code.body" | tail -1)
  # either the torrent's own file (the name is decorative) or a 4xx
  if [ "$c" = 200 ] && [ "$len" = "$SIZE" ]; then :;
  elif [ "${c#4}" != "$c" ]; then :;
  else trav_bad=$((trav_bad + 1)); note "HEAD $p: HTTP $c, length $len"; fi
  no_passwd || { trav_bad=$((trav_bad + 1)); note "HEAD $p answered with /etc/passwd"; }
done
check_eq "stream names with ../ serve only the torrent's file" 0 $trav_bad
trav_bad=0
for p in "/hls/$H/0/../../../../etc/passwd" "/hls/$H/0/%2e%2e/%2e%2e/%2e%2e/etc/passwd" \
  "/hls/$H/0/..%2f..%2f..%2fetc%2fpasswd" "/hls/../../../etc/passwd" \
  "/ui/../../etc/passwd" "/ui/%2e%2e/%2e%2e/etc/passwd" "/..%2f..%2fetc%2fpasswd" \
  "/../../../../etc/passwd" "/ui/..%2f..%2f..%2fetc%2fpasswd" "/%2e%2e/%2e%2e/etc/passwd" \
  "/api/../../etc/passwd" "/webhook/../../etc/passwd" "/play/$H/../../etc/passwd"; do
  c=$(code GET "$p" "${K[@]}" --max-time 10)
  no_passwd || { trav_bad=$((trav_bad + 1)); note "GET $p served /etc/passwd (HTTP $c)"; }
  case $c in 000 | 5*) trav_bad=$((trav_bad + 1)); note "GET $p: HTTP $c" ;; esac
done
check_eq "HLS, web UI and other paths with ../ never reach the filesystem" 0 $trav_bad
check "the daemon is alive after the traversal attempts" alive "$DPID"

# Library: titles become path components; ../ never escapes the library.
lib_ok() { # JSON of an entry: its path is relative with no .. component
  local p
  p=$(jget path "$1") || return 1
  case "/$p/" in */../* | */./* | //*) echo "# unsafe library path '$p'"; return 1 ;; esac
  case $p in /*) echo "# absolute library path '$p'"; return 1 ;; esac
  return 0
}
api POST /api/library -H 'Content-Type: application/json' --data-binary \
  "{\"info_hash\":\"$H\",\"file_index\":0,\"kind\":\"movie\",\"title\":\"../../../../etc/passwd\",\"year\":1999}" >/dev/null
if [ "${STATUS#2}" != "$STATUS" ]; then
  check "POST /api/library: a ../ title makes a safe path" lib_ok "$BODY"
  ID=$(jget id "$BODY")
  api PUT "/api/library/$ID" --data-binary '{"title":"../../..","kind":"episode","season":1,"episode":2}' >/dev/null
  if [ "${STATUS#2}" != "$STATUS" ]; then check "PUT /api/library: a ../ title makes a safe path" lib_ok "$BODY"
  else check "PUT /api/library: a ../ title is refused with 4xx" test "${STATUS#4}" != "$STATUS"; fi
  api PATCH "/api/library/$ID" --data-binary '{"title":"a/../../b\\\\..\\\\c"}' >/dev/null
  if [ "${STATUS#2}" != "$STATUS" ]; then check "PATCH /api/library: slashes in a title make a safe path" lib_ok "$BODY"
  else check "PATCH /api/library: a bad title is refused with 4xx" test "${STATUS#4}" != "$STATUS"; fi
  api GET /api/library >/dev/null
  check "every library path is safe" eval \
    "jget '\"ok\" if all(not e[\"path\"].startswith(\"/\") and \"..\" not in e[\"path\"].split(\"/\") for e in j[\"entries\"]) else \"bad\"' \"\$BODY\" | grep -qx ok"
else
  check "POST /api/library: a ../ title is refused with 4xx" test "${STATUS#4}" != "$STATUS"
fi
api POST /api/library --data-binary "{\"info_hash\":\"$H\",\"file_index\":0,\"kind\":\"movie\",\"title\":\"..\"}" >/dev/null
if [ "${STATUS#2}" != "$STATUS" ]; then check "a title of just .. makes a safe path" lib_ok "$BODY"
else check "a title of just .. is refused with 4xx" test "${STATUS#4}" != "$STATUS"; fi

# ---------------------------------------------------------------- limits --

head100k=$(head -c 102400 /dev/zero | tr '\0' a)
c=$(curl -sS --noproxy '*' --max-time 20 -o /dev/null -w '%{http_code}' \
  -H "X-Big: $head100k" "${K[@]}" "$URL/api/status" 2>/dev/null)
case $c in 4* | 000) pass "a 100 KiB header is refused (HTTP $c)" ;;
  *) fail "a 100 KiB header is refused (got HTTP $c)" ;; esac
check "the daemon is alive after an oversized header" alive "$DPID"
check_eq "and still answers" 200 "$(code GET /api/status "${K[@]}")"

head -c $((33 * 1048576)) /dev/zero >"$T/big.body"
for p in /api/torrents /torrents /webhook?token=$WH /api/library; do
  c=$(curl -sS --noproxy '*' --max-time 30 -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/x-bittorrent' -H 'Expect:' "${K[@]}" \
    --data-binary @"$T/big.body" "$URL$p" 2>/dev/null)
  case $c in 413 | 000) pass "a 33 MiB body to $p is refused (HTTP $c)" ;;
    *) fail "a 33 MiB body to $p is refused (got HTTP $c)" ;; esac
done
check_eq "the daemon answers after the oversized bodies" 200 "$(code GET /api/status "${K[@]}")"

# Uploads: a 12 MiB "torrent" (larger than any real .torrent the daemon
# takes), multipart and raw, and a 2 MiB webhook.
head -c $((12 * 1048576)) /dev/urandom >"$T/fake.torrent"
check_eq "a 12 MiB multipart upload is refused" 413 \
  "$(code POST /api/torrents "${K[@]}" -F "torrent=@$T/fake.torrent")"
grep -q 'larger than' "$T/code.body" || note "no size in the answer: $(head -c 200 "$T/code.body")"
check_eq "a 12 MiB raw upload is refused" 413 \
  "$(code POST /api/torrents "${K[@]}" -H 'Content-Type: application/x-bittorrent' --data-binary @"$T/fake.torrent")"
c=$(code POST /torrent/upload "${K[@]}" -F "file=@$T/fake.torrent")
check "a 12 MiB TorrServer upload is refused with 4xx (HTTP $c)" eval "[ '${c#4}' != '$c' ] && grep -q 'larger than' '$T/code.body'"
head -c $((2 * 1048576)) /dev/zero | tr '\0' x >"$T/wh.body"
c=$(code POST "/webhook?token=$WH" -H 'Content-Type: application/json' --data-binary @"$T/wh.body")
check_eq "a 2 MiB webhook is refused with 413" 413 "$c"
check_eq "the daemon answers after the oversized uploads" 200 "$(code GET /api/status "${K[@]}")"

# ---------------------------------------------------------------- secrets --

# A sync run, so the clients that carry the keys talk (to a closed port) and
# log what they log.
api POST /api/sync/movies/run >/dev/null
api POST /api/sync/watchlist/run >/dev/null
sync_idle() { api GET /api/sync/status >/dev/null; ! printf '%s' "$BODY" | grep -q '"running": *true'; }
wait_until 20 sync_idle || note "sync still running"
curl -s --noproxy '*' --max-time 5 -o /dev/null -H "Content-Type: $WCT" \
  --data-binary @"$WBODY" "$URL/webhook?token=$WH"

# GET routes (with the key) whose answers may not carry any secret.
SECRET_FREE=(/api/status /api/settings /api/system /api/speed /api/library
  /api/sync/status /api/sync/schedule "/api/sync/history?limit=20"
  /api/sync/history/1 /api/sync/history/2 /api/playback /api/webhooks/events
  /api/warmup /api/blocklist /api/portmap /metrics /api/nosuchroute
  "/stream/$H/0/film.mkv?stat")
leaks=0
for p in "${SECRET_FREE[@]}"; do
  code GET "$p" "${K[@]}" >/dev/null
  for s in "$API_KEY" "$WH" "$TMDB" "$PROWL" "$TZN" "$PLEX" "$JF"; do
    if grep -qF -- "$s" "$T/code.body"; then
      leaks=$((leaks + 1)); note "GET $p reveals a secret (${s:0:6}…)"
    fi
  done
done
# The URL-handing routes carry the stream key (players can't send headers),
# never the API key or the other secrets.
for p in /api/torrents "/api/torrents/$H" /api/webhooks "/playlist?hash=$H" \
  /playlistall/all.m3u; do
  code GET "$p" "${K[@]}" >/dev/null
  for s in "$API_KEY" "$TMDB" "$PROWL" "$TZN" "$PLEX" "$JF"; do
    grep -qF -- "$s" "$T/code.body" && { leaks=$((leaks + 1)); note "GET $p reveals ${s:0:6}…"; }
  done
  case $p in /api/webhooks) ;; *)
    grep -qF -- "$WH" "$T/code.body" && { leaks=$((leaks + 1)); note "GET $p reveals the webhook token"; } ;;
  esac
done
for a in get; do
  code POST /settings "${K[@]}" --data-binary "{\"action\":\"$a\"}" >/dev/null
  for s in "$API_KEY" "$WH" "$TMDB" "$PROWL" "$TZN" "$PLEX" "$JF"; do
    grep -qF -- "$s" "$T/code.body" && { leaks=$((leaks + 1)); note "TorrServer /settings reveals ${s:0:6}…"; }
  done
done
check_eq "no secret in any API response" 0 $leaks
code GET /api/webhooks "${K[@]}" >/dev/null
check "GET /api/webhooks hands out the webhook URL with its token" grep -qF -- "$WH" "$T/code.body"

# A new API key brings a new stream key: the URLs handed out before stop.
code POST /api/key/regenerate "${K[@]}" >/dev/null
NK=$(jget api_key "$(cat "$T/code.body")")
check "POST /api/key/regenerate gave a new key" test -n "$NK" -a "$NK" != "$API_KEY"
check_eq "after it, the old stream key → 401" 401 "$(code HEAD "/stream/$H/0/film.mkv?key=$STREAM_KEY")"
check_eq "… and the new key's stream key plays" 200 \
  "$(code HEAD "/stream/$H/0/film.mkv?key=$(stream_key_of "$NK")")"

# Failed logins are logged; the attempted keys are not.
stop_daemon
logleaks=0
for s in "$API_KEY" "$NK" "$STREAM_KEY" "$WH" "$TMDB" "$PROWL" "$TZN" "$PLEX" "$JF" "x$API_KEY" "${API_KEY}x"; do
  if grep -qF -- "$s" "$DATA/reelgate.log" "$DATA/daemon.out"; then
    logleaks=$((logleaks + 1)); note "the log holds a secret: $(grep -hF -- "$s" "$DATA/reelgate.log" "$DATA/daemon.out" | head -2)"
  fi
done
check_eq "no secret in the log (configured key, tokens, service keys)" 0 $logleaks
check "the log is not empty (the test looked at the right file)" test -s "$DATA/reelgate.log"

# ------------------------------------------------- constant-time compare --

SRC=$RG_SRCDIR
check "rg_secret_eq has no early exit on the first differing byte" eval \
  "sed -n '/^bool rg_secret_eq/,/^}/p' '$SRC/server/util.c' | grep -q '|='"
cmp_bad=$(grep -nE '(strcmp|strncmp|memcmp|strcasecmp)\([^;)]*(api_key|->token|webhook_token)' \
  "$SRC"/server/*.c "$SRC"/sync/*.c "$SRC"/fuse/*.c "$SRC"/media/*.c 2>/dev/null |
  grep -v '"api_key"\|"webhook_token"\|k->name' || true)
check_eq "no key or token is compared with strcmp/memcmp" "" "$cmp_bad"
check "the API key and Basic password are checked with rg_secret_eq" eval \
  "[ \$(grep -c 'rg_secret_eq(.*api_key)' '$SRC/server/http.c') -ge 3 ]"
check "the webhook token is checked with rg_secret_eq" \
  grep -q 'rg_secret_eq(tok, pb->token)' "$SRC/server/playback.c"

finish
