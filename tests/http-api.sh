#!/bin/sh
# http-api.sh — the REST API and the /stream endpoint over real HTTP:
# authentication, every way to add a torrent, duplicates and garbage, list,
# get, delete (with and without data), 404s, HEAD, and the Range/conditional
# request rules of RFC 9110 on a small multi-file torrent seeded on loopback.
. "$(dirname "$0")/lib/common.sh"

# ---- data: a small multi-file torrent, seeded by our seeder on 127.0.0.2
mkdir -p "$T/src/pack"
make_random_bytes "$T/src/pack/clip one.mkv" 3146123
make_random_bytes "$T/src/pack/b.mp4" 1048583
make_random_bytes "$T/src/pack/notes.txt" 777
seed_ours seeder 127.0.0.2 "$T/src/pack"
PACK_MAGNET=$MAGNET PACK_HASH=$HASH

# Three single-file torrents nobody seeds: only their .torrent is needed.
for n in up raw url; do
  make_random_bytes "$T/src/$n.bin" 65537
  make_torrent "$T/$n.torrent" "$T/src/$n.bin"
  eval "H_$n=\$THASH"
done

start_daemon api

# ---- auth
http GET "$URL/api/status"
check_status "no key on /api → 401" 401
check "401 has a JSON error" test -n "$(jget error "$BODY")"
http GET "$URL/api/status" -H "X-Api-Key: wrong"
check_status "wrong key on /api → 401" 401
http GET "$URL/api/status?api_key=wrong"
check_status "wrong query key on /api → 401" 401
http GET "$URL/api/status" -H "X-Api-Key: $API_KEY"
check_status "key in X-Api-Key → 200" 200
http GET "$URL/api/status?api_key=$API_KEY"
check_status "key in ?api_key → 200" 200
for f in version uptime_s torrents active metadata_fetches cache_bytes cache_budget; do
  check "status has '$f'" sh -c 'printf "%s" "$1" | python3 -c "import json,sys; sys.exit(0 if sys.argv[1] in json.load(sys.stdin) else 1)" "$2"' _ "$BODY" "$f"
done

# ---- add: magnet (the seeded pack), whose dn= is an indexer's label, not
# the info dict's name
LABEL_MAGNET="magnet:?xt=urn:btih:$PACK_HASH&dn=Indexer.Label.1080p"
for pe in $(py magnetpart "$PACK_MAGNET" x.pe); do LABEL_MAGNET="$LABEL_MAGNET&x.pe=$pe"; done
add_link "$LABEL_MAGNET" "Pack Title"
check_status "add magnet → 201" 201
check_eq "add magnet returns its info_hash" "$PACK_HASH" "$HASH"
check_eq "add magnet keeps the title" "Pack Title" "$(jget title "$BODY")"
check_eq "before the metadata, the name is the magnet's dn=" Indexer.Label.1080p "$(jget name "$BODY")"
check "pack metadata arrives from the seeder" wait_metadata "$PACK_HASH" 30
torrent "$PACK_HASH"
check_eq "with the metadata, the name is the info dict's; the title stays" \
  "pack Pack Title" "$(jget name "$BODY") $(jget title "$BODY")"
if command -v sqlite3 >/dev/null 2>&1; then
  check_eq "the info dict's name is stored" pack \
    "$(sqlite3 "file:$DATA/reelgate.db?mode=ro" "SELECT name FROM torrents WHERE hash='$PACK_HASH'")"
fi
add_link "$PACK_MAGNET"
check_status "adding the same magnet again → 200" 200

# ---- add: multipart .torrent upload
api POST /api/torrents -F "torrent=@$T/up.torrent;type=application/x-bittorrent" >/dev/null
check_status "add multipart .torrent → 201" 201
check_eq "multipart add returns its hash" "$H_up" "$(jget info_hash "$BODY")"
check_eq "multipart add: metadata known at once" true "$(jget has_metadata "$BODY")"
check_eq "multipart add: file list" "up.bin 65537" "$(jget 'j["files"][0]["path"].split("/")[-1]+" "+str(j["files"][0]["size"])' "$BODY")"
check_eq "torrent objects list their readers (none open)" 0 "$(jget 'len(j["readers"])' "$BODY")"
api POST /api/torrents -F "torrent=@$T/up.torrent;type=application/x-bittorrent" >/dev/null
check_status "multipart duplicate → 200" 200

# ---- add: raw body
api POST /api/torrents -H 'Content-Type: application/x-bittorrent' --data-binary "@$T/raw.torrent" >/dev/null
check_status "add raw application/x-bittorrent → 201" 201
check_eq "raw add returns its hash" "$H_raw" "$(jget info_hash "$BODY")"
api POST /api/torrents -H 'Content-Type: application/x-bittorrent' --data-binary "@$T/raw.torrent" >/dev/null
check_status "raw duplicate → 200" 200

# ---- add: URLs (a .torrent served over HTTP; a redirect to a magnet)
mkdir -p "$T/www"
cp "$T/url.torrent" "$T/www/url.torrent"
start_httpd "$T/www"
add_link "$HTTPD_URL/url.torrent"
check_status "add http URL of a .torrent → 201" 201
check_eq "URL add returns its hash" "$H_url" "$HASH"
check_eq "URL add: metadata known at once" true "$(jget has_metadata "$BODY")"

rand_hex() { python3 -c 'import random,sys; print(random.Random(sys.argv[1]).randbytes(20).hex())' "$1"; }
H_redir=$(rand_hex redirect)
add_link "$HTTPD_URL/redirect?to=$(py quote "magnet:?xt=urn:btih:$H_redir&dn=redirected")"
check_status "add URL that 302s to a magnet → 201" 201
check_eq "redirect add returns the magnet's hash" "$H_redir" "$HASH"

# ---- add: bare hex and base32
H_hex=$(rand_hex hex)
add_link "$H_hex"
check_status "add bare 40-hex hash → 201" 201
check_eq "hex add returns the hash" "$H_hex" "$HASH"
check_eq "hex add: no metadata yet, empty files" "false []" "$(jget has_metadata "$BODY") $(jget files "$BODY")"
add_link "$(echo "$H_hex" | tr a-f A-F)"
check_status "upper-case hex of a known hash → 200" 200
H_b32=$(rand_hex b32)
add_link "$(py b32 "$H_b32")"
check_status "add 32-char base32 hash → 201" 201
check_eq "base32 add returns the hex hash" "$H_b32" "$HASH"

# ---- add: garbage
garbage() { # description curl-args...
  local d=$1; shift
  api POST /api/torrents "$@" >/dev/null
  check_status "$d → 400" 400
  check "$d: JSON error message" test -n "$(jget error "$BODY")"
}
garbage "link that is not a link" -H 'Content-Type: application/json' --data-binary '{"link":"not a link"}'
garbage "39-hex hash" -H 'Content-Type: application/json' --data-binary "{\"link\":\"${H_hex:1}\"}"
garbage "magnet without xt" -H 'Content-Type: application/json' --data-binary '{"link":"magnet:?dn=nothing"}'
garbage "unparsable JSON" -H 'Content-Type: application/json' --data-binary '{"link": "magnet:?xt='
garbage "JSON without link" -H 'Content-Type: application/json' --data-binary '{"title":"x"}'
head -c 3000 /dev/urandom >"$T/garbage.torrent"
garbage "garbage raw .torrent" -H 'Content-Type: application/x-bittorrent' --data-binary "@$T/garbage.torrent"
garbage "garbage multipart .torrent" -F "torrent=@$T/garbage.torrent;type=application/x-bittorrent"
head -c 200 "$T/up.torrent" >"$T/truncated.torrent"
garbage "truncated .torrent" -H 'Content-Type: application/x-bittorrent' --data-binary "@$T/truncated.torrent"
http GET "$URL/api/status" -H "X-Api-Key: $API_KEY"
check_status "daemon still answers after the garbage" 200

# ---- list / get / 404
api GET /api/torrents >/dev/null
check_status "GET /api/torrents → 200" 200
list=$(jget 'sorted(t["info_hash"] for t in j["torrents"])' "$BODY")
for h in "$PACK_HASH" "$H_up" "$H_raw" "$H_url" "$H_redir" "$H_hex" "$H_b32"; do
  check "list holds $h" sh -c 'case "$1" in *"$2"*) exit 0;; esac; exit 1' _ "$list" "$h"
done
check_eq "list has exactly 7 torrents" 7 "$(jget 'len(j["torrents"])' "$BODY")"
torrent "$PACK_HASH"
check_status "GET /api/torrents/{hash} → 200" 200
for f in info_hash name title has_metadata size state active peers seeds download_rate upload_rate downloaded files; do
  check "torrent object has '$f'" sh -c 'printf "%s" "$1" | python3 -c "import json,sys; sys.exit(0 if sys.argv[1] in json.load(sys.stdin) else 1)" "$2"' _ "$BODY" "$f"
done
check_eq "pack name" pack "$(jget name "$BODY")"
check_eq "pack size" $((3146123 + 1048583 + 777)) "$(jget size "$BODY")"
check_eq "pack has 3 files" 3 "$(jget 'len(j["files"])' "$BODY")"

# Files by name (the order is the torrent's).
idx_of() { jget "[f['index'] for f in j['files'] if f['path'].endswith('$1')][0]" "$BODY"; }
I_MKV=$(idx_of "clip one.mkv"); I_MP4=$(idx_of b.mp4); I_TXT=$(idx_of notes.txt)
MKV_URL=$(jget "[f['stream_url'] for f in j['files'] if f['index']==$I_MKV][0]" "$BODY")
HLS_URL=$(jget "[f['hls_url'] for f in j['files'] if f['index']==$I_MKV][0]" "$BODY")
MP4_URL=$(jget "[f['stream_url'] for f in j['files'] if f['index']==$I_MP4][0]" "$BODY")
TXT_URL=$(jget "[f['stream_url'] for f in j['files'] if f['index']==$I_TXT][0]" "$BODY")
MKV=$T/src/pack/clip\ one.mkv
MKV_SIZE=3146123
note "stream url: $MKV_URL"
check "stream_url is absolute on our host" sh -c 'case "$1" in "$2/stream/$3/$4/"*) exit 0;; esac; exit 1' _ "$MKV_URL" "$URL" "$PACK_HASH" "$I_MKV"
check "stream_url url-encodes the basename" sh -c 'case "$1" in */clip%20one.mkv\?*) exit 0;; esac; exit 1' _ "$MKV_URL"
check "stream_url carries the stream key, not the API key" \
  sh -c 'case "$1" in *"?key=$2") exit 0;; esac; exit 1' _ "$MKV_URL" "$STREAM_KEY"
check_eq "hls_url is the file's master playlist with the stream key" \
  "$URL/hls/$PACK_HASH/$I_MKV/index.m3u8?key=$STREAM_KEY" "$HLS_URL"
BARE_MKV=${MKV_URL%%\?*}

api GET /api/torrents/0000000000000000000000000000000000000000 >/dev/null
check_status "GET unknown hash → 404" 404
api DELETE /api/torrents/0000000000000000000000000000000000000000 >/dev/null
check_status "DELETE unknown hash → 404" 404
http GET "$URL/stream/0000000000000000000000000000000000000000/0/x.mkv" -H "X-Api-Key: $API_KEY"
check_status "stream of unknown hash → 404" 404
http GET "$URL/stream/$PACK_HASH/7/x.mkv" -H "X-Api-Key: $API_KEY"
check_status "stream of unknown file index → 404" 404

# ---- /stream auth
http GET "$BARE_MKV" -r 0-99
check_status "stream without key → 401" 401
http GET "$BARE_MKV?api_key=wrong" -r 0-99
check_status "stream with wrong key → 401" 401
http GET "$BARE_MKV" -r 0-99 -H "X-Api-Key: $API_KEY"
check_status "stream with X-Api-Key → 206" 206
http GET "$MKV_URL" -r 0-99
check_status "stream_url as given → 206" 206

# ---- whole files, HEAD, headers
check "whole mkv equals the source" whole_eq "$MKV" "$MKV_URL"
check "whole mp4 equals the source" whole_eq "$T/src/pack/b.mp4" "$MP4_URL"
check "whole txt equals the source" whole_eq "$T/src/pack/notes.txt" "$TXT_URL"

http GET "$MKV_URL"
check_status "GET without Range → 200" 200
check_eq "200 Content-Length" "$MKV_SIZE" "$(hdr Content-Length)"
check_eq "Accept-Ranges: bytes" bytes "$(hdr Accept-Ranges)"
check_eq "Content-Type of .mkv" video/x-matroska "$(hdr Content-Type | cut -d';' -f1)"
ETAG=$(hdr ETag)
check "ETag is strong and quoted ($ETAG)" sh -c 'case "$1" in W/*) exit 1;; \"*\") exit 0;; esac; exit 1' _ "$ETAG"
http HEAD "$MKV_URL"
check_status "HEAD → 200" 200
check_eq "HEAD Content-Length" "$MKV_SIZE" "$(hdr Content-Length)"
check_eq "HEAD has no body (raw socket, Connection: close)" 0 "$(py headbody "$MKV_URL" "$API_KEY")"
check_eq "HEAD ETag equals GET ETag" "$ETAG" "$(hdr ETag)"
http HEAD "$MP4_URL"
check_eq "Content-Type of .mp4" video/mp4 "$(hdr Content-Type | cut -d';' -f1)"

# ---- ranges
S=$MKV_SIZE
http GET "$MKV_URL" -H 'Range: bytes=100-199'
check_status "single range → 206" 206
check_eq "single range Content-Range" "bytes 100-199/$S" "$(hdr Content-Range)"
check_eq "single range Content-Length" 100 "$(hdr Content-Length)"
check_eq "206 Accept-Ranges" bytes "$(hdr Accept-Ranges)"
check "single range bytes" range_eq "$MKV" "$MKV_URL" 100 199

http GET "$MKV_URL" -H 'Range: bytes=-500'
check_status "suffix range → 206" 206
check_eq "suffix Content-Range" "bytes $((S - 500))-$((S - 1))/$S" "$(hdr Content-Range)"
check "suffix bytes" cmp -s "$T/body" <(tail -c 500 "$MKV")

http GET "$MKV_URL" -H "Range: bytes=-$((S + 1000))"
check_status "suffix longer than the file → 206 whole" 206
check_eq "long suffix Content-Range" "bytes 0-$((S - 1))/$S" "$(hdr Content-Range)"

http GET "$MKV_URL" -H 'Range: bytes=3000000-'
check_status "open-ended range → 206" 206
check_eq "open-ended Content-Range" "bytes 3000000-$((S - 1))/$S" "$(hdr Content-Range)"
check_eq "open-ended Content-Length" $((S - 3000000)) "$(hdr Content-Length)"
check "open-ended bytes" cmp -s "$T/body" <(tail -c +3000001 "$MKV")

http GET "$MKV_URL" -H "Range: bytes=$((S - 10))-$((S + 5000))"
check_status "range past the end is clipped → 206" 206
check_eq "clipped Content-Range" "bytes $((S - 10))-$((S - 1))/$S" "$(hdr Content-Range)"

http GET "$MKV_URL" -H "Range: bytes=$S-"
check_status "range starting at the size → 416" 416
check_eq "416 Content-Range" "bytes */$S" "$(hdr Content-Range)"
http GET "$MKV_URL" -H "Range: bytes=$((S + 10))-$((S + 20))"
check_status "range past the end → 416" 416
check_eq "416 Content-Range again" "bytes */$S" "$(hdr Content-Range)"

http GET "$MKV_URL" -H 'Range: bytes=0-99,200-299'
check_status "multi-range → 206" 206
check_eq "multi-range answered with one covering range" "bytes 0-299/$S" "$(hdr Content-Range)"
check "multi-range is not multipart" sh -c 'case "$1" in multipart*) exit 1;; esac; exit 0' _ "$(hdr Content-Type)"
check "multi-range bytes" cmp -s "$T/body" <(head -c 300 "$MKV")

# ---- persistent connection: three ranges over one keep-alive connection
curl -sS -g --noproxy '*' --max-time 30 \
  -r 0-99999 -o "$T/ka1.bin" -w '%{num_connects}\n' "$MKV_URL" --next \
  -r 1000000-1065535 -o "$T/ka2.bin" -w '%{num_connects}\n' "$MKV_URL" --next \
  -r 3000000-3000099 -o "$T/ka3.bin" -w '%{num_connects}\n' "$MKV_URL" >"$T/ka.out" 2>&1
check_eq "keep-alive: one connection for three requests" "1 0 0" "$(tr '\n' ' ' <"$T/ka.out" | sed 's/ $//')"
check "keep-alive: first answer" cmp -s "$T/ka1.bin" <(head -c 100000 "$MKV")
check "keep-alive: second answer" cmp -s "$T/ka2.bin" <(dd if="$MKV" iflag=skip_bytes,count_bytes skip=1000000 count=65536 status=none)
check "keep-alive: third answer" cmp -s "$T/ka3.bin" <(dd if="$MKV" iflag=skip_bytes,count_bytes skip=3000000 count=100 status=none)

# ---- conditionals
http GET "$MKV_URL" -H 'Range: bytes=10-19' -H "If-Range: $ETAG"
check_status "If-Range with the ETag → 206" 206
http GET "$MKV_URL" -H 'Range: bytes=10-19' -H 'If-Range: "not-the-etag"'
check_status "If-Range mismatch → 200 full" 200
check_eq "If-Range mismatch sends the whole file" "$S" "$(file_size "$T/body")"
http GET "$MKV_URL" -H "If-None-Match: $ETAG"
check_status "If-None-Match with the ETag → 304" 304
check_eq "304 has no body" 0 "$(file_size "$T/body")"
http GET "$MKV_URL" -H 'If-None-Match: "other"' -r 0-9
check_status "If-None-Match other → 206" 206
http GET "$MKV_URL" -H 'If-Match: "not-the-etag"'
check_status "If-Match mismatch → 412" 412
http GET "$MKV_URL" -H "If-Match: $ETAG" -r 0-9
check_status "If-Match with the ETag → 206" 206
http GET "$MP4_URL" -r 0-9
check "ETags differ between files" test "$(hdr ETag)" != "$ETAG"

# ---- delete
cache_file() { find "$DATA" -path "*pack*" -name "$1" -type f 2>/dev/null | head -1; }
check "the read data is under the data dir" test -n "$(cache_file notes.txt)"
note "cached at: $(cache_file notes.txt)"
api DELETE "/api/torrents/$PACK_HASH?delete_data=false" >/dev/null
check_status "DELETE ?delete_data=false → 200" 200
torrent "$PACK_HASH"
check_status "deleted torrent → 404" 404
http GET "$MKV_URL" -r 0-9
check_status "stream of a deleted torrent → 404" 404
sleep 1
check "delete_data=false keeps the files" test -n "$(cache_file notes.txt)"

add_link "$PACK_MAGNET"
check_status "re-add after delete → 201" 201
check "metadata again" wait_metadata "$PACK_HASH" 30
MKV_URL=$(stream_url "$PACK_HASH" "$I_MKV")
check "reads after re-add" range_eq "$MKV" "$MKV_URL" 0 65535
api DELETE "/api/torrents/$PACK_HASH" >/dev/null
check_status "DELETE (default: with data) → 200" 200
no_cache_file() { [ -z "$(cache_file notes.txt)" ] && [ -z "$(cache_file 'clip one.mkv')" ]; }
check "DELETE with data removes the files" wait_until 10 no_cache_file
api DELETE "/api/torrents/$H_hex?delete_data=true" >/dev/null
check_status "DELETE ?delete_data=true of a metadata-less torrent → 200" 200
api GET /api/torrents >/dev/null
check_eq "list shrinks to 5" 5 "$(jget 'len(j["torrents"])' "$BODY")"

stop_daemon
finish
