#!/bin/sh
# demo.sh — `reelgate demo` against a running daemon: it makes a video,
# seeds it, adds it and prints a stream URL that ffprobe reads as H.264 + AAC.
# The background seeder it leaves is found (printed pid / seed.pid) and
# stopped.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg ffprobe

start_daemon demo
spawn demo-cmd timeout 180 "$RG_BIN" demo --url "$URL" --api-key "$API_KEY" \
  --data-dir "$DATA" --seconds 5
DEMO=$LAST_PID
# The demo exits once it printed the URL (its seeder runs on in the
# background); give it a bounded time.
wait_gone "$DEMO" 180
rc=$?
untrack "$DEMO"
cat "$T/demo-cmd.out" | sed 's/^/# demo: /'

# The seeder it left behind: by the printed pid, else its pid file.
SPID=$(sed -n 's/.*(pid \([0-9][0-9]*\).*/\1/p' "$T/demo-cmd.out" | head -1)
[ -n "$SPID" ] || SPID=$(cat "$DATA/demo/seed.pid" 2>/dev/null)
is_our_seeder() { [ -n "$1" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "reelgate"; }
if is_our_seeder "$SPID"; then track "$SPID" demo-seeder; fi

check_eq "reelgate demo exits 0" 0 "$rc"
SURL=$(grep -o "http://[^ '\"]*/stream/[^ '\"]*" "$T/demo-cmd.out" | head -1)
check "demo prints a stream URL" test -n "$SURL"
note "stream URL: $SURL"
check "demo tells the seeder's pid ($SPID) and it runs" is_our_seeder "$SPID"

api GET /api/torrents >/dev/null
check_eq "the daemon lists the demo torrent" 1 "$(jget 'len(j["torrents"])' "$BODY")"
check_eq "the demo torrent has its metadata" true "$(jget torrents.0.has_metadata "$BODY")"

timeout 60 ffprobe -v error -show_entries stream=codec_name:format=duration \
  -of default=nw=1 "$SURL" >"$T/probe.txt" 2>&1
check_eq "ffprobe on the demo URL exits 0" 0 "$?"
sed 's/^/# ffprobe: /' "$T/probe.txt"
check "the demo stream has H.264" grep -q codec_name=h264 "$T/probe.txt"
check "the demo stream has AAC" grep -q codec_name=aac "$T/probe.txt"
dur=$(sed -n 's/^duration=//p' "$T/probe.txt")
check "the demo video lasts ~5 s (got $dur)" python3 -c "import sys; sys.exit(0 if abs(float('${dur:-0}') - 5) < 1 else 1)"
timeout 60 ffmpeg -nostdin -v error -i "$SURL" -f null - >"$T/decode.txt" 2>&1
check_eq "the whole demo stream decodes" 0 "$?"

if [ -n "$SPID" ] && alive "$SPID"; then
  if stop_pid "$SPID" 10; then pass "the demo seeder stops on SIGTERM"
  else fail "the demo seeder stops on SIGTERM within 10 s"; fi
fi
stop_daemon
finish
