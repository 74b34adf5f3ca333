#!/bin/sh
# torrserver.sh — the TorrServer-compatible API replayed as its clients use
# it, against a multi-file torrent seeded on loopback:
#   Lampa:            GET /echo → POST /torrents add (Basic auth) → get until
#                     file_stats → GET /stream/{name}?link=HASH&index=N&play
#   TorrServer app:   POST /torrents list → /settings get/set → /viewed →
#                     /playlist, /stream?…&m3u, /stream?…&stat → /play/HASH/ID
#                     → /torrent/upload → rem → wipe
# Ranges through /stream?link=…&play and /play/… equal the source; file ids
# are 1-based in natural path order; M3U lines carry the key and #EXTINF
# durations from the probe.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg

mkdir -p "$T/src/pack"
make_video "$T/src/pack/Show S01E10.mp4" 4 320x240 1M
make_random_bytes "$T/src/pack/Show S01E2.mkv" 2097171
make_random_bytes "$T/src/pack/notes.txt" 555
seed_ours seeder 127.0.0.2 "$T/src/pack"
start_daemon ts
BASIC=(-u "lampa:$API_KEY")
ts_post() { # PATH JSON [curl args]
  local p=$1 j=$2; shift 2
  http POST "$URL$p" -H 'Content-Type: application/json' --data-binary "$j" "$@"
}

# ---- Lampa
http GET "$URL/echo"
check_status "/echo answers without a key" 200
check "/echo says MatriX" grep -q MatriX "$T/body"
ts_post /torrents '{"action":"list"}'
check_status "POST /torrents without a key → 401" 401
check_eq "401 asks for Basic auth" 'Basic realm="reelgate"' "$(hdr WWW-Authenticate)"
ts_post /torrents '{"action":"list"}' -u "lampa:wrong"
check_status "wrong Basic password → 401" 401
ts_post /torrents "{\"action\":\"add\",\"link\":\"$MAGNET\",\"title\":\"Show S01\",\"poster\":\"http://img/p.jpg\",\"data\":\"{\\\"lampa\\\":true}\",\"save_to_db\":true}" "${BASIC[@]}"
check_status "add (Basic auth, any user) → 200" 200
check_eq "add: hash" "$HASH" "$(jget hash "$BODY")"
check_eq "add: title" "Show S01" "$(jget title "$BODY")"
check_eq "add: poster" "http://img/p.jpg" "$(jget poster "$BODY")"
check "add: stat is a TorrServer stat (0-5)" test "$(jget stat "$BODY")" -le 5
has_files() {
  ts_post /torrents "{\"action\":\"get\",\"hash\":\"$HASH\"}" "${BASIC[@]}"
  [ "$(jget 'len(j.get("file_stats",[]))' "$BODY" 2>/dev/null)" = 3 ]
}
check "get: file_stats appear once the metadata arrives" wait_until 30 has_files
check_eq "get: stat_string" "Torrent working" "$(jget stat_string "$BODY")"
check_eq "file_stats ids are 1-based in natural path order" \
  "1:pack/Show S01E2.mkv 2:pack/Show S01E10.mp4 3:pack/notes.txt" \
  "$(jget '" ".join("%d:%s" % (f["id"], f["path"]) for f in j["file_stats"])' "$BODY")"
check_eq "file_stats length" 2097171 "$(jget file_stats.0.length "$BODY")"
check_eq "get: data kept" '{"lampa":true}' "$(jget data "$BODY")"
for f in timestamp torrent_size download_speed upload_speed total_peers connected_seeders loaded_size name; do
  check "status has '$f'" sh -c 'printf "%s" "$1" | python3 -c "import json,sys; sys.exit(0 if sys.argv[1] in json.load(sys.stdin) else 1)" "$2"' _ "$BODY" "$f"
done
E2="$T/src/pack/Show S01E2.mkv"
E10="$T/src/pack/Show S01E10.mp4"
LAMPA_URL="$URL/stream/Show%20S01E2.mkv?link=$HASH&index=1&play"
code=$(curl -sS -g --noproxy '*' --max-time 60 "${BASIC[@]}" -o "$T/lampa.bin" -w '%{http_code}' "$LAMPA_URL")
check_eq "Lampa play (Basic auth) → 200" 200 "$code"
check "Lampa play: the whole file equals the source" cmp "$E2" "$T/lampa.bin"
code=$(curl -sS -g --noproxy '*' --max-time 60 "${BASIC[@]}" -r 1000-70000 -o "$T/lampa.r" -w '%{http_code}' "$LAMPA_URL")
check_eq "Lampa play with Range → 206" 206 "$code"
check "Lampa range equals the source" sh -c 'dd if="$1" iflag=skip_bytes,count_bytes skip=1000 count=69001 status=none | cmp -s - "$2"' _ "$E2" "$T/lampa.r"
check "random ranges via /stream?link=…&index=2&play equal the source" \
  random_ranges_eq "$E10" "$URL/stream?link=$HASH&index=2&play" 6 300000
http HEAD "$URL/stream?link=$HASH&index=2&play" -H "X-Api-Key: $API_KEY"
check_status "HEAD /stream?…&play → 200" 200
check_eq "HEAD: Content-Length" "$(file_size "$E10")" "$(hdr Content-Length)"
http GET "$URL/stream?link=$HASH&index=9&play&api_key=$API_KEY"
check_status "play of a file id that does not exist → 404" 404
http GET "$URL/stream?link=$HASH&play&api_key=$API_KEY"
check_status "play without index= of a torrent with two files → 400" 400
check "the error says index= is needed" sh -c 'printf "%s" "$1" | grep -q "index=N"' _ "$(jget error "$BODY")"
http GET "$URL/stream?link=$HASH&index=1&play" -H "X-Api-Key: wrong"
check_status "/stream?link= with a wrong key → 401" 401

# ---- TorrServer app
ts_post /torrents '{"action":"list"}' "${BASIC[@]}"
check_status "list → 200" 200
check_eq "list: one torrent, ours" "$HASH" "$(jget 0.hash "$BODY")"
ts_post /settings '{"action":"get"}' "${BASIC[@]}"
check_status "settings get → 200" 200
for k in CacheSize PreloadCache ReaderReadAHead DisableDHT DisableUPNP ConnectionsLimit DownloadRateLimit TorrentDisconnectTimeout PeersListenPort; do
  check "settings has $k" sh -c 'printf "%s" "$1" | python3 -c "import json,sys; sys.exit(0 if sys.argv[1] in json.load(sys.stdin) else 1)" "$2"' _ "$BODY" "$k"
done
check_eq "settings: DisableDHT mirrors dht=false" true "$(jget DisableDHT "$BODY")"
ts_post /settings '{"action":"set","sets":{"DownloadRateLimit":5000,"UploadRateLimit":0}}' "${BASIC[@]}"
check_status "settings set → 200" 200
ts_post /settings '{"action":"get"}' "${BASIC[@]}"
check_eq "settings set is applied" 5000 "$(jget DownloadRateLimit "$BODY")"
ts_post /settings '{"action":"set","sets":{"DownloadRateLimit":0}}' "${BASIC[@]}"
viewed() { jget '" ".join("%s %d" % (v["hash"], v["file_index"]) for v in j)' "$BODY"; }
ts_post /viewed "{\"action\":\"list\",\"hash\":\"$HASH\"}" "${BASIC[@]}"
check_eq "playing marked ids 1 and 2 viewed (as TorrServer does)" "$HASH 1 $HASH 2" "$(viewed)"
ts_post /viewed "{\"action\":\"rem\",\"hash\":\"$HASH\"}" "${BASIC[@]}"
ts_post /viewed "{\"action\":\"list\",\"hash\":\"$HASH\"}" "${BASIC[@]}"
check_eq "viewed rem without file_index forgets the torrent" "[]" "$BODY"
ts_post /viewed "{\"action\":\"set\",\"hash\":\"$HASH\",\"file_index\":2}" "${BASIC[@]}"
check_status "viewed set → 200" 200
ts_post /viewed "{\"action\":\"list\",\"hash\":\"$HASH\"}" "${BASIC[@]}"
check_eq "viewed list" "$HASH 2" "$(viewed)"
ts_post /viewed "{\"action\":\"rem\",\"hash\":\"$HASH\",\"file_index\":2}" "${BASIC[@]}"
ts_post /viewed '{"action":"list"}' "${BASIC[@]}"
check_eq "viewed rem" "[]" "$BODY"

# playlists: wait for the probe's duration of the video
has_duration() {
  http GET "$URL/playlist?hash=$HASH" "${BASIC[@]}"
  grep -q '^#EXTINF:4,Show S01E10.mp4' "$T/body"
}
check "playlist: #EXTINF duration of the video from the probe" wait_until 30 has_duration
check_eq "playlist: Content-Type" "audio/x-mpegurl; charset=utf-8" "$(hdr Content-Type)"
check "playlist starts with #EXTM3U" sh -c 'head -1 "$1" | grep -q "^#EXTM3U"' _ "$T/body"
check_eq "playlist: only playable files, in id order" "Show S01E2.mkv Show S01E10.mp4" \
  "$(sed -n 's/^#EXTINF:[-0-9]*,//p' "$T/body" | tr '\n' ' ' | sed 's/ $//')"
check "playlist URLs carry the stream key, not the API key" \
  sh -c '[ "$(grep -c "?key=$2" "$1")" = 2 ] && ! grep -qF -- "$3" "$1"' _ "$T/body" "$STREAM_KEY" "$API_KEY"
U1=$(grep -m1 '^http' "$T/body")
check "a playlist URL plays without any header" sh -c 'curl -sS --noproxy "*" --max-time 60 -o "$2" "$1" && cmp -s "$2" "$3"' _ "$U1" "$T/pl.bin" "$E2"
http GET "$URL/stream?link=$HASH&index=1&m3u" "${BASIC[@]}"
check_status "/stream?…&m3u → 200" 200
check "/stream?…&m3u is a playlist" grep -q '^#EXTINF' "$T/body"
# fromlast: the playlist starts at the highest viewed id
names() { sed -n 's/^#EXTINF:[-0-9]*,//p' "$T/body" | tr '\n' ' ' | sed 's/ $//'; }
ts_post /viewed "{\"action\":\"set\",\"hash\":\"$HASH\",\"file_index\":2}" "${BASIC[@]}"
http GET "$URL/stream/x.m3u?link=$HASH&index=1&m3u&fromlast" "${BASIC[@]}"
check_status "/stream?…&m3u&fromlast → 200" 200
check_eq "/stream?…&m3u&fromlast starts at the last viewed file (id 2)" "Show S01E10.mp4" "$(names)"
http GET "$URL/playlist?hash=$HASH&fromlast" "${BASIC[@]}"
check_eq "/playlist?…&fromlast starts at the last viewed file" "Show S01E10.mp4" "$(names)"
http GET "$URL/playlist?hash=$HASH&index=2" "${BASIC[@]}"
check_eq "/playlist?…&index=2 starts at id 2" "Show S01E10.mp4" "$(names)"
ts_post /viewed "{\"action\":\"rem\",\"hash\":\"$HASH\"}" "${BASIC[@]}"
http GET "$URL/playlist?hash=$HASH&fromlast" "${BASIC[@]}"
check_eq "fromlast with nothing viewed lists every file" "Show S01E2.mkv Show S01E10.mp4" "$(names)"
http GET "$URL/playlistall/all.m3u?api_key=$API_KEY"
check_status "/playlistall/all.m3u → 200" 200
check_eq "all.m3u lists both videos" 2 "$(grep -c '^#EXTINF' "$T/body")"
http GET "$URL/stream?link=$HASH&stat" "${BASIC[@]}"
check_status "/stream?…&stat → 200" 200
check_eq "stat: hash" "$HASH" "$(jget hash "$BODY")"
http GET "$URL/stream?link=$HASH&index=2&preload" "${BASIC[@]}"
check_status "/stream?…&preload → 200 after preloading" 200
code=$(curl -sS -g --noproxy '*' --max-time 60 "${BASIC[@]}" -o "$T/play.bin" -w '%{http_code}' "$URL/play/$HASH/2")
check_eq "/play/HASH/2 → 200" 200 "$code"
check "/play/HASH/2 equals file id 2" cmp "$E10" "$T/play.bin"
ts_post /cache "{\"action\":\"get\",\"hash\":\"$HASH\"}" "${BASIC[@]}"
check_status "cache get → 200" 200
check "cache: pieces listed" test "$(jget 'len(j["Pieces"])' "$BODY")" -gt 0

# upload a .torrent (multipart, field "file")
make_random_bytes "$T/src/up.bin" 70001
make_torrent "$T/up.torrent" "$T/src/up.bin"
http POST "$URL/torrent/upload" "${BASIC[@]}" -F "file=@$T/up.torrent;type=application/x-bittorrent" -F "title=Uploaded"
check_status "upload → 200" 200
check_eq "upload: hash" "$THASH" "$(jget hash "$BODY")"
check_eq "upload: title" "Uploaded" "$(jget title "$BODY")"
check_eq "upload: file_stats at once" "1:up.bin" "$(jget '" ".join("%d:%s" % (f["id"], f["path"]) for f in j["file_stats"])' "$BODY")"
ts_post /torrents "{\"action\":\"set\",\"hash\":\"$THASH\",\"title\":\"Renamed\",\"poster\":\"p2\"}" "${BASIC[@]}"
check_eq "set: title" "Renamed" "$(jget title "$BODY")"
ts_post /torrents "{\"action\":\"rem\",\"hash\":\"$THASH\"}" "${BASIC[@]}"
check_status "rem → 200" 200
ts_post /torrents '{"action":"list"}' "${BASIC[@]}"
check_eq "rem: gone from list" 1 "$(jget 'len(j)' "$BODY")"
ts_post /torrents "{\"action\":\"get\",\"hash\":\"$THASH\"}" "${BASIC[@]}"
check_status "get of a removed torrent → 404" 404
# ---- .torrent URLs as link= (Lampa passes indexers' download links on)
# A server that accepts and never answers: the fetch must give up (20 s)
# without holding anything else up; it runs while the rest is checked.
spawn slowsrv python3 -c 'import socket,sys,time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
print(s.getsockname()[1], flush=True)
c = s.accept(); time.sleep(60)'
wait_until 10 test -s "$T/slowsrv.out" || die "slow server did not start"
SLOW_URL="http://127.0.0.1:$(head -1 "$T/slowsrv.out")/slow.torrent"
spawn slowcurl sh -c 'curl -sS --noproxy "*" --max-time 60 -u "lampa:$1" -o "$2" -w "%{http_code} %{time_total}" "$3" >"$4.tmp"; mv "$4.tmp" "$4"' \
  _ "$API_KEY" "$T/slow.body" "$URL/stream?link=$(py quote "$SLOW_URL")&index=1&play" "$T/slow.code"
PACK_HASH=$HASH
start_tracker
mkdir -p "$T/www" "$T/src/url"
make_random_bytes "$T/src/url/Film.mkv" 1500007
make_torrent "$T/www/film.torrent" "$T/src/url/Film.mkv" --tracker "$TRACKER" --piece-size 65536
FILM_HASH=$THASH
tracker_allow "$FILM_HASH"
seed_ours useeder 127.0.0.3 "$T/src/url/Film.mkv" --tracker "$TRACKER" --piece-size 65536
check_eq "the URL's torrent is the one seeded" "$FILM_HASH" "$HASH"
HASH=$PACK_HASH
make_random_bytes "$T/src/other.bin" 80001
make_torrent "$T/www/other.torrent" "$T/src/other.bin"
OTHER_HASH=$THASH
printf '<html>not a torrent</html>\n' >"$T/www/page.html"
start_httpd "$T/www"
FILM_URL=$(py quote "$HTTPD_URL/film.torrent")
http GET "$URL/echo"
check_eq "/echo answers while a fetch hangs" 200 "$STATUS"
code=$(curl -sS -g --noproxy '*' --max-time 90 "${BASIC[@]}" -o "$T/film.bin" -w '%{http_code}' \
  "$URL/stream/Film.mkv?link=$FILM_URL&index=1&play")
check_eq "/stream?link=.torrent URL&index=1&play → 200" 200 "$code"
check "play of a .torrent URL: the file equals the source" cmp "$T/src/url/Film.mkv" "$T/film.bin"
code=$(curl -sS -g --noproxy '*' --max-time 60 "${BASIC[@]}" -r 70000-200000 -o "$T/film.r" -w '%{http_code}' \
  "$URL/stream/Film.mkv?link=$FILM_URL&index=1&play")
check_eq "a seek on the same URL → 206" 206 "$code"
check "the seek equals the source" sh -c 'dd if="$1" iflag=skip_bytes,count_bytes skip=70000 count=130001 status=none | cmp -s - "$2"' _ "$T/src/url/Film.mkv" "$T/film.r"
check_eq "the .torrent was fetched once for both requests" 1 "$(grep -c 'GET /film.torrent' "$T/httpd.out")"
code=$(curl -sS -g --noproxy '*' --max-time 60 "${BASIC[@]}" -r 0-65535 -o "$T/film.noidx" -w '%{http_code}' \
  "$URL/stream/Film.mkv?link=$FILM_HASH&play")
check_eq "play without index= of a single-file torrent → 206" 206 "$code"
check "and it is that file" sh -c 'head -c 65536 "$1" | cmp -s - "$2"' _ "$T/src/url/Film.mkv" "$T/film.noidx"
http GET "$URL/stream?link=$FILM_URL&stat" "${BASIC[@]}"
check_eq "/stream?link=URL&stat: the torrent's hash" "$FILM_HASH" "$(jget hash "$BODY")"
ts_post /torrents "{\"action\":\"add\",\"link\":\"$HTTPD_URL/other.torrent?apikey=SECRET\",\"title\":\"Other\",\"poster\":\"p3\"}" "${BASIC[@]}"
check_status "POST /torrents add with a .torrent URL → 200" 200
check_eq "URL add: hash" "$OTHER_HASH" "$(jget hash "$BODY")"
check_eq "URL add: title and poster" "Other p3" "$(jget title "$BODY") $(jget poster "$BODY")"
check_eq "URL add: file_stats at once" "1:other.bin" "$(jget '" ".join("%d:%s" % (f["id"], f["path"]) for f in j["file_stats"])' "$BODY")"
R_HASH=$(python3 -c 'import random; print(random.Random("ts-redirect").randbytes(20).hex())')
ts_post /torrents "{\"action\":\"add\",\"link\":\"$HTTPD_URL/redirect?to=$(py quote "magnet:?xt=urn:btih:$R_HASH&dn=r")\"}" "${BASIC[@]}"
check_status "add of a URL that redirects to a magnet → 200" 200
check_eq "redirect to a magnet: its hash" "$R_HASH" "$(jget hash "$BODY")"
http GET "$URL/stream?link=$(py quote "$HTTPD_URL/missing.torrent")&index=1&play" "${BASIC[@]}"
check_status "a .torrent URL that answers 404 → 502" 502
check "404: the error names the status" sh -c 'printf "%s" "$1" | grep -q "HTTP 404"' _ "$(jget error "$BODY")"
ts_post /torrents "{\"action\":\"add\",\"link\":\"$HTTPD_URL/page.html\"}" "${BASIC[@]}"
check_status "a URL that serves no .torrent → 400" 400
check "not a torrent: the error says so" sh -c 'printf "%s" "$1" | grep -q "did not serve a .torrent"' _ "$(jget error "$BODY")"
ts_post /torrents "{\"action\":\"add\",\"link\":\"http://127.0.0.1:$(free_port)/x.torrent\"}" "${BASIC[@]}"
check_status "a URL nobody listens on → 502" 502
check "the daemon log never shows the URL's query (keys live there)" sh -c '! grep -q SECRET "$1"' _ "$DATA/reelgate.log"
check "the hanging fetch ends within 30 s" wait_until 30 test -s "$T/slow.code"
check_eq "the hanging fetch → 504" 504 "$(cut -d' ' -f1 "$T/slow.code")"
check_le "… after about 20 s" "$(cut -d' ' -f2 "$T/slow.code" | cut -d. -f1)" 25
stop_proc slowsrv
ts_post /torrents '{"action":"wipe"}' "${BASIC[@]}"
ts_post /torrents '{"action":"list"}' "${BASIC[@]}"
check_eq "wipe empties the list" "[]" "$BODY"
http GET "$URL/stream/$HASH/0/x?api_key=$API_KEY"
check_status "native /stream/{hash}/… still native (404 after wipe)" 404
stop_daemon
finish
