#!/bin/sh
# swarm-stream.sh — streaming from a real loopback swarm.
#  * movie.mkv (~45 MiB H.264/AAC), trackerless: our seeder on 127.0.0.2 and
#    aria2c on 127.0.0.3, both given in the magnet (x.pe); head, middle, tail,
#    two concurrent readers, 50 random ranges, ffprobe, ffmpeg seek to 70 %.
#  * set/ (three files of odd sizes) through opentracker: our seeder on
#    127.0.0.4 and aria2c on 127.0.0.5 announce; the magnet names only the
#    tracker; once metadata is in, our seeder leaves and every file must come
#    from aria2c alone.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg ffprobe aria2c opentracker

MOVIE_SECS=36
mkdir -p "$T/src/set"
make_video "$T/src/movie.mkv" $MOVIE_SECS
MOVIE=$T/src/movie.mkv
MOVIE_SIZE=$(file_size "$MOVIE")
note "movie.mkv: $MOVIE_SIZE bytes"
make_random_bytes "$T/src/set/a.bin" 9999991
make_random_bytes "$T/src/set/b c.dat" 3333331
make_random_bytes "$T/src/set/c.txt" 12345
# An MP4 as ffmpeg writes it by default: the moov index at the end.
make_video "$T/src/set/d.mp4" 8 320x240 1M

# ---- swarm 1: trackerless
seed_ours movie-ours 127.0.0.2 "$MOVIE" --torrent-out "$T/movie.torrent"
MOVIE_HASH=$HASH
MOVIE_MAGNET=$MAGNET
check "seeder's magnet has x.pe=127.0.0.2:port" sh -c 'case "$1" in *x.pe=127.0.0.2:*|*x.pe=127.0.0.2%3[aA]*) exit 0;; esac; exit 1' _ "$MAGNET"
check "seeder wrote the .torrent" test -s "$T/movie.torrent"
mkdir -p "$T/aria-movie"
ln "$MOVIE" "$T/aria-movie/movie.mkv"
seed_aria2 127.0.0.3 "$T/movie.torrent" "$T/aria-movie" movie-aria2
MOVIE_MAGNET="$MOVIE_MAGNET&x.pe=$PEER"

# ---- swarm 2: tracker
start_tracker
make_torrent "$T/set.torrent" "$T/src/set" --tracker "$TRACKER" --piece-size 262144
SET_HASH=$THASH
tracker_allow "$SET_HASH"
seed_ours set-ours 127.0.0.4 "$T/src/set" --tracker "$TRACKER" --piece-size 262144
check_eq "reelgate seed and reelgate mktorrent agree on the info hash" "$SET_HASH" "$HASH"
mkdir -p "$T/aria-set/set"
for f in "$T/src/set/"*; do ln "$f" "$T/aria-set/set/"; done
seed_aria2 127.0.0.5 "$T/set.torrent" "$T/aria-set" set-aria2
SET_MAGNET="magnet:?xt=urn:btih:$SET_HASH&dn=set&tr=$(py quote "$TRACKER")"

start_daemon stream

# ---- movie
t0=$(now_ms)
add_link "$MOVIE_MAGNET"
check_status "add movie magnet → 201" 201
check "movie metadata within 30 s" wait_metadata "$MOVIE_HASH" 30
note "metadata after $(($(now_ms) - t0)) ms"
torrent "$MOVIE_HASH"
check_eq "movie size" "$MOVIE_SIZE" "$(jget size "$BODY")"
check_eq "movie file name" movie.mkv "$(jget files.0.path "$BODY")"
U=$(jget files.0.stream_url "$BODY")
note "stream url $U"

t0=$(now_ms)
check "head range (first 64 KiB)" range_eq "$MOVIE" "$U" 0 65535
note "first 64 KiB after $(($(now_ms) - t0)) ms"
MID=$((MOVIE_SIZE / 2 + 12345))
check "middle range (1 MiB)" range_eq "$MOVIE" "$U" $MID $((MID + 1048575))
check "tail range (last 100000 bytes)" range_eq "$MOVIE" "$U" $((MOVIE_SIZE - 100000)) $((MOVIE_SIZE - 1))
check "last byte" range_eq "$MOVIE" "$U" $((MOVIE_SIZE - 1)) $((MOVIE_SIZE - 1))

peers_ok() { [ "$(tfield "$MOVIE_HASH" peers)" -ge 2 ] 2>/dev/null; }
check "the daemon is connected to both movie seeders (x.pe)" wait_until 15 peers_ok

# Two readers at once, at different positions.
A0=1048576 A1=$((MOVIE_SIZE / 3))
B0=$((MOVIE_SIZE * 2 / 3)) B1=$((MOVIE_SIZE - 100001))
curl -sS -g --noproxy '*' --max-time 90 -r "$A0-$A1" -o "$T/ra.bin" "$U" 2>"$T/ra.err" &
pa=$!; track $pa reader-a
curl -sS -g --noproxy '*' --max-time 90 -r "$B0-$B1" -o "$T/rb.bin" "$U" 2>"$T/rb.err" &
pb=$!; track $pb reader-b
wait $pa; ra=$?; untrack $pa
wait $pb; rb=$?; untrack $pb
check_eq "concurrent reader A finished" 0 "$ra"
check_eq "concurrent reader B finished" 0 "$rb"
check "concurrent reader A bytes" cmp -s "$T/ra.bin" <(dd if="$MOVIE" iflag=skip_bytes,count_bytes skip=$A0 count=$((A1 - A0 + 1)) status=none)
check "concurrent reader B bytes" cmp -s "$T/rb.bin" <(dd if="$MOVIE" iflag=skip_bytes,count_bytes skip=$B0 count=$((B1 - B0 + 1)) status=none)
rm -f "$T/ra.bin" "$T/rb.bin"

check "50 random ranges equal the source" random_ranges_eq "$MOVIE" "$U" 50 2000000
check "whole movie equals the source" whole_eq "$MOVIE" "$U"

timeout 60 ffprobe -v error -show_entries format=duration:stream=codec_name \
  -of default=nw=1 "$U" >"$T/probe.txt" 2>&1
rc=$?
check_eq "ffprobe on the stream URL exits 0" 0 "$rc"
check "ffprobe sees h264" grep -q codec_name=h264 "$T/probe.txt"
check "ffprobe sees aac" grep -q codec_name=aac "$T/probe.txt"
dur=$(sed -n 's/^duration=//p' "$T/probe.txt")
check "ffprobe duration ≈ $MOVIE_SECS s (got $dur)" python3 -c "import sys; sys.exit(0 if abs(float('$dur' or 0) - $MOVIE_SECS) < 1.5 else 1)"

# Jellyfin's probe: large probe/analyze windows, JSON output.
timeout 60 ffprobe -analyzeduration 200M -probesize 1G -i "$U" -threads 0 -v warning \
  -print_format json -show_streams -show_chapters -show_format >"$T/jprobe.json" 2>"$T/jprobe.err"
check_eq "ffprobe with Jellyfin's flags exits 0" 0 "$?"
check_eq "Jellyfin probe: 2 streams (h264, aac)" "h264 aac" \
  "$(jget '" ".join(s["codec_name"] for s in j["streams"])' "$(cat "$T/jprobe.json")")"

SEEK=$((MOVIE_SECS * 7 / 10))
t0=$(now_ms)
timeout 60 ffmpeg -nostdin -v error -ss "$SEEK" -i "$U" -frames:v 1 -y "$T/frame.png" >"$T/seek.txt" 2>&1
rc=$?
note "ffmpeg -ss $SEEK: $(($(now_ms) - t0)) ms: $(head -c 300 "$T/seek.txt")"
check_eq "ffmpeg -ss to 70 % exits 0" 0 "$rc"
check "ffmpeg -ss to 70 % decoded a frame" test -s "$T/frame.png"
# Jellyfin-style transcode start at 70 %: 2 s remuxed to nothing.
timeout 60 ffmpeg -nostdin -v error -ss "00:00:$SEEK.000" -noaccurate_seek -i "$U" \
  -map 0:v:0 -map 0:a:0 -c:v copy -c:a copy -t 2 -f null - >"$T/jseek.txt" 2>&1
check_eq "ffmpeg -noaccurate_seek to 70 % (Jellyfin style) exits 0" 0 "$?"

# ---- the multi-file torrent, through the tracker
add_link "$SET_MAGNET"
check_status "add tracker-only magnet → 201" 201
check_eq "tracker magnet hash" "$SET_HASH" "$HASH"
check "set metadata within 40 s (peers from the tracker)" wait_metadata "$SET_HASH" 40
set_peers_ok() { [ "$(tfield "$SET_HASH" peers)" -ge 2 ] 2>/dev/null; }
check "the tracker gave the daemon both set seeders" wait_until 20 set_peers_ok
torrent "$SET_HASH"
check_eq "set has 4 files" 4 "$(jget 'len(j["files"])' "$BODY")"
check_eq "set size" $((9999991 + 3333331 + 12345 + $(file_size "$T/src/set/d.mp4"))) "$(jget size "$BODY")"
SET_JSON=$BODY
# Our seeder leaves: every byte must now come from aria2c.
stop_proc set-ours
got=$(tfield "$SET_HASH" downloaded)
check "nothing of the set was read yet (downloaded ${got:-?} bytes)" test "${got:-0}" -lt $((9999991 + 3333331))
MP4_URL=$(jget "[f['stream_url'] for f in j['files'] if f['path'].endswith('d.mp4')][0]" "$SET_JSON")
timeout 60 ffprobe -v error -show_entries format=duration:stream=codec_name \
  -of default=nw=1 "$MP4_URL" >"$T/probe-mp4.txt" 2>&1
check_eq "ffprobe of the moov-at-end MP4 (from aria2c) exits 0" 0 "$?"
check "the MP4 has h264 and aac" sh -c 'grep -q codec_name=h264 "$1" && grep -q codec_name=aac "$1"' _ "$T/probe-mp4.txt"
timeout 60 ffmpeg -nostdin -v error -ss 5 -i "$MP4_URL" -frames:v 1 -y "$T/frame-mp4.png" >"$T/seek-mp4.txt" 2>&1
check "ffmpeg -ss 5 into the MP4 decodes a frame" test -s "$T/frame-mp4.png"
for name in a.bin "b c.dat" c.txt d.mp4; do
  u=$(jget "[f['stream_url'] for f in j['files'] if f['path'].endswith('$name')][0]" "$SET_JSON")
  s=$(file_size "$T/src/set/$name")
  check "set/$name: head" range_eq "$T/src/set/$name" "$u" 0 $((s < 4096 ? s - 1 : 4095))
  check "set/$name: whole file from aria2c" whole_eq "$T/src/set/$name" "$u"
  check "set/$name: 10 random ranges" random_ranges_eq "$T/src/set/$name" "$u" 10 300000 "$name"
done

api GET /api/status >/dev/null
check_eq "status counts 2 torrents" 2 "$(jget torrents "$BODY")"
check "status counts 2 metadata fetches" test "$(jget metadata_fetches "$BODY")" -ge 2

stop_daemon
finish
