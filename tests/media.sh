#!/bin/sh
# media.sh — media probing through the daemon: a release-named folder with
# an MKV (H.264 + AAC + two SRT subtitles, language tags, default/forced
# flags), an MP4 (moov at the end) and an .nfo, and a 10-bit HEVC HDR10
# title, each seeded by our own seeder on loopback. After metadata the
# daemon probes every video file in the background (libavformat over the
# reader core): GET /api/torrents/{hash} shows files[].media with the
# codecs, resolution, duration, languages, flags, HDR and the tail spans.
# A title nobody seeds gets its failure recorded; a probe in flight does not
# hold the shutdown. The probe happens once: after a restart and a read that
# wakes the torrent, no new probe (same probed_at, one log line).
. "$(dirname "$0")/lib/common.sh"
need ffmpeg

REL=Some.Movie.2019.1080p.BluRay.x264-GRP
SRC=$T/src/$REL
mkdir -p "$SRC"
ffmpeg -nostdin -v error -y \
  -f lavfi -i "testsrc=size=320x180:rate=25" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 8 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 25 -c:a aac -b:a 96k -ac 2 \
  "$T/av.mkv" >"$T/ffmpeg.out" 2>&1 || die "ffmpeg: $(tail -3 "$T/ffmpeg.out")"
printf '1\n00:00:01,000 --> 00:00:03,000\nBonjour\n\n2\n00:00:04,000 --> 00:00:06,000\nAu revoir\n' >"$T/fr.srt"
printf '1\n00:00:01,000 --> 00:00:03,000\nSIGN: EXIT\n' >"$T/en.srt"
ffmpeg -nostdin -v error -y -i "$T/av.mkv" -i "$T/fr.srt" -i "$T/en.srt" \
  -map 0:v -map 0:a -map 1 -map 2 -c:v copy -c:a copy -c:s srt \
  -metadata:s:a:0 language=eng -metadata:s:s:0 language=fre \
  -metadata:s:s:1 language=eng -metadata:s:s:1 title=Signs \
  -disposition:a:0 default -disposition:s:0 default -disposition:s:1 forced \
  "$SRC/$REL.mkv" >>"$T/ffmpeg.out" 2>&1 || die "ffmpeg (mkv): $(tail -3 "$T/ffmpeg.out")"
ffmpeg -nostdin -v error -y -i "$T/av.mkv" -c copy "$SRC/sample.mp4" \
  >>"$T/ffmpeg.out" 2>&1 || die "ffmpeg (mp4): $(tail -3 "$T/ffmpeg.out")"
echo "not a video" >"$SRC/$REL.nfo"

HDR=''
HDRREL=Other.Title.2020.2160p.UHD.BluRay.x265.10bit.HDR-GRP.mkv
if ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=320x180:rate=24" -t 4 \
  -c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -color_trc smpte2084 \
  -color_primaries bt2020 -colorspace bt2020nc -x265-params log-level=error \
  "$T/src/$HDRREL" >>"$T/ffmpeg.out" 2>&1; then
  HDR=1
else
  note "no libx265: the HDR10 title is skipped"
fi

seed_ours rel 127.0.0.2 "$SRC"
REL_HASH=$HASH REL_MAGNET=$MAGNET
if [ -n "$HDR" ]; then
  seed_ours hdr 127.0.0.3 "$T/src/$HDRREL"
  HDR_HASH=$HASH HDR_MAGNET=$MAGNET
fi

# titles nobody seeds (sparse files: only their .torrent is ever used)
mkdir -p "$T/orphan"
truncate -s 20M "$T/orphan/Orphan.Film.2018.720p.WEB-DL.x264-GRP.mkv"
make_torrent "$T/orphan1.torrent" "$T/orphan/Orphan.Film.2018.720p.WEB-DL.x264-GRP.mkv"
ORPHAN1=$THASH
truncate -s 20M "$T/orphan/Lost.Film.2017.720p.WEB-DL.x264-GRP.mkv"
make_torrent "$T/orphan2.torrent" "$T/orphan/Lost.Film.2017.720p.WEB-DL.x264-GRP.mkv"
ORPHAN2=$THASH
upload() {
  api POST /api/torrents -H 'Content-Type: application/x-bittorrent' \
    --data-binary "@$1" >/dev/null
}

start_daemon media read_timeout_s=3
add_link "$REL_MAGNET"
check_status "add the release" 201
[ -n "$HDR" ] && { add_link "$HDR_MAGNET"; check_status "add the HDR title" 201; }
check "release metadata" wait_metadata "$REL_HASH" 30

# index of a file by name suffix
fidx() { tfield "$1" "[f['index'] for f in j['files'] if f['path'].endswith('$2')][0]"; }
MKV=$(fidx "$REL_HASH" .mkv)
MP4=$(fidx "$REL_HASH" sample.mp4)
NFO=$(fidx "$REL_HASH" .nfo)

# m HASH INDEX EXPR — an expression over the file's media object (as m)
m() {
  torrent "$1"
  jget "(lambda m: $3)([f for f in j['files'] if f['index'] == $2][0]['media'])" "$BODY" 2>/dev/null
}
probed() { [ "$(m "$1" "$2" "m is not None and 'streams' in m")" = true ]; }

check "the MKV is probed in the background" wait_until 60 probed "$REL_HASH" "$MKV"
check "the MP4 is probed" wait_until 30 probed "$REL_HASH" "$MP4"

check_eq "mkv: container" "matroska,webm" "$(m "$REL_HASH" "$MKV" "m['container']")"
check_eq "mkv: duration" 8.0 "$(m "$REL_HASH" "$MKV" "round(m['duration'], 1)")"
check "mkv: bitrate" test "$(m "$REL_HASH" "$MKV" "m['bitrate']")" -gt 0
check_eq "mkv: stream types" "video audio subtitle subtitle" \
  "$(m "$REL_HASH" "$MKV" "' '.join(s['type'] for s in m['streams'])")"
check_eq "mkv: codecs" "h264 aac subrip subrip" \
  "$(m "$REL_HASH" "$MKV" "' '.join(s['codec'] for s in m['streams'])")"
check_eq "mkv: video profile, resolution, frame rate, pixel format, no HDR" \
  "High 320x180 25 yuv420p None" \
  "$(m "$REL_HASH" "$MKV" "'%s %dx%d %g %s %s' % (m['streams'][0]['profile'], m['streams'][0]['width'], m['streams'][0]['height'], m['streams'][0]['frame_rate'], m['streams'][0]['pix_fmt'], m['streams'][0]['hdr'])")"
check_eq "mkv: audio language, channels, layout, rate, default" \
  "eng 2 stereo 48000 True" \
  "$(m "$REL_HASH" "$MKV" "'%s %d %s %d %s' % (m['streams'][1]['language'], m['streams'][1]['channels'], m['streams'][1]['channel_layout'], m['streams'][1]['sample_rate'], m['streams'][1]['default'])")"
check_eq "mkv: subtitle languages" "fre eng" \
  "$(m "$REL_HASH" "$MKV" "' '.join(s['language'] for s in m['streams'][2:])")"
check_eq "mkv: subtitle flags (default, forced)" "True False False True" \
  "$(m "$REL_HASH" "$MKV" "' '.join(str(x) for s in m['streams'][2:] for x in (s['default'], s['forced']))")"
check_eq "mkv: subtitle title" Signs "$(m "$REL_HASH" "$MKV" "m['streams'][3]['title']")"
check_eq "mkv: one tail span (Cues)" 1 "$(m "$REL_HASH" "$MKV" "len(m['tail'])")"
MKV_SIZE=$(file_size "$SRC/$REL.mkv")
check_eq "mkv: the tail span ends inside the file, past its middle" true \
  "$(m "$REL_HASH" "$MKV" "m['tail'][0][0] > $MKV_SIZE // 2 and m['tail'][0][0] + m['tail'][0][1] <= $MKV_SIZE")"
check_eq "mkv: the span starts with the Cues ID" 1c53bb6b \
  "$(dd if="$SRC/$REL.mkv" bs=1 skip="$(m "$REL_HASH" "$MKV" "m['tail'][0][0]")" count=4 status=none | od -An -tx1 | tr -d ' \n')"

check_eq "mp4: container" "mov,mp4,m4a,3gp,3g2,mj2" "$(m "$REL_HASH" "$MP4" "m['container']")"
check_eq "mp4: codecs" "h264 aac" "$(m "$REL_HASH" "$MP4" "' '.join(s['codec'] for s in m['streams'])")"
check_eq "mp4: duration" 8.0 "$(m "$REL_HASH" "$MP4" "round(m['duration'], 1)")"
check_eq "mp4: the tail is the moov box" moov \
  "$(dd if="$SRC/sample.mp4" bs=1 skip="$(($(m "$REL_HASH" "$MP4" "m['tail'][0][0]") + 4))" count=4 status=none)"
check_eq "nfo: not probed (media null)" true "$(m "$REL_HASH" "$NFO" "m is None")"

if [ -n "$HDR" ]; then
  check "HDR title metadata" wait_metadata "$HDR_HASH" 30
  check "the HDR title is probed" wait_until 60 probed "$HDR_HASH" 0
  check_eq "hdr: hevc Main 10, 10-bit, HDR10" "hevc Main 10 10 HDR10 smpte2084" \
    "$(m "$HDR_HASH" 0 "'%s %s %d %s %s' % (m['streams'][0]['codec'], m['streams'][0]['profile'], m['streams'][0]['bit_depth'], m['streams'][0]['hdr'], m['streams'][0]['color_transfer'])")"
fi

# ---- a title without seeders: the failure is recorded, not retried at once
upload "$T/orphan1.torrent"
check_status "upload a .torrent nobody seeds" 201
failed() { [ "$(m "$ORPHAN1" 0 "m is not None and 'error' in m")" = true ]; }
check "its probe fails within the read timeout" wait_until 20 failed
check "… with the cause" sh -c 'case "$1" in *"timed out"*) exit 0;; esac; exit 1' _ \
  "$(m "$ORPHAN1" 0 "m['error']")"
check_eq "… and no streams" false "$(m "$ORPHAN1" 0 "'streams' in m")"

# ---- once per file
AT=$(m "$REL_HASH" "$MKV" "m['probed_at']")
nprobes() { grep -c "$REL_HASH file $MKV: media probed" "$DATA/reelgate.log"; }
check_eq "one probe of the MKV logged" 1 "$(nprobes)"
# a probe still waiting on the swarm does not hold the shutdown (stop_daemon
# fails past 10 s), and is not recorded as a failure
upload "$T/orphan2.torrent"
check_status "upload a second .torrent nobody seeds" 201
sleep 1
restart_daemon
check_eq "the abandoned probe left no row" true "$(m "$ORPHAN2" 0 "m is None")"
# a read wakes the torrent; the sweep 5 s after start sees it active
U=$(stream_url "$REL_HASH" "$MKV")
check "a range of the MKV after the restart" range_eq "$SRC/$REL.mkv" "$U" 0 65535
check_eq "the torrent is active" true "$(tfield "$REL_HASH" active)"
sleep 7
check_eq "no new probe after the restart (probed_at)" "$AT" "$(m "$REL_HASH" "$MKV" "m['probed_at']")"
check_eq "no new probe after the restart (log)" 1 "$(nprobes)"
check_eq "the media survives the restart" h264 "$(m "$REL_HASH" "$MKV" "m['streams'][0]['codec']")"

stop_daemon
finish
