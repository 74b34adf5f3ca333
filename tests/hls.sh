#!/bin/sh
# hls.sh — GET /hls/{info_hash}/{file}/… against a loopback swarm.
#  * h264.mkv: H.264 + AAC (36 s) with an SRT track muxed in: `ffmpeg -i
#    index.m3u8` has the right duration and decodes without errors, the
#    subtitle rendition is listed and its .vtt carries the cue text, segment
#    N alone works and reads only about its own bytes, wrong key → 401;
#  * hevc.mkv: HEVC + 5.1 E-AC3 → fMP4 HLS (version 7, EXT-X-MAP, .m4s,
#    hvc1, CODECS hvc1.…) whose audio is AAC stereo; init.mp4 + a middle
#    segment alone decode and sit where the playlist says; ?fmp4=0 → TS;
#  * h264.mkv again with ?fmp4=1: fMP4 that ffmpeg reads whole;
#  * av1.mkv (when ffmpeg has libsvtav1): AV1 + Opus → fMP4 with AAC;
#  * clip.mp4: H.264 + AAC, moov at the end (the MP4 sample table as index);
#  * notes.txt → 415, a missing file → 404, a file no peer has → 504.
. "$(dirname "$0")/lib/common.sh"
need ffmpeg ffprobe

ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libx265 || skip_all "ffmpeg lacks libx265"
ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' eac3 ' || skip_all "ffmpeg lacks the eac3 encoder"

SRC=$T/src/hls
mkdir -p "$SRC"
LEN=36
ff() { ffmpeg -nostdin -v error -y "$@" >>"$T/ffmpeg.out" 2>&1 || die "ffmpeg $*: $(tail -3 "$T/ffmpeg.out")"; }
ff -f lavfi -i "testsrc=size=320x180:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" \
  -t $LEN -c:v libx264 -preset veryfast -b:v 400k -g 50 -pix_fmt yuv420p -c:a aac -b:a 96k "$T/a.mkv"
printf '1\n00:00:01,000 --> 00:00:03,500\nHello from reelgate\n\n2\n00:00:20,000 --> 00:00:22,000\nSecond <i>cue</i> here\n' >"$T/s.srt"
ff -i "$T/a.mkv" -i "$T/s.srt" -map 0 -map 1 -c copy -c:s srt -metadata:s:s:0 language=eng "$SRC/h264.mkv"
ff -f lavfi -i "testsrc=size=320x180:rate=25" -f lavfi -i "sine=frequency=300:sample_rate=48000" \
  -t 14 -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=50:open-gop=0:repeat-headers=1 \
  -pix_fmt yuv420p -c:a eac3 -ac 6 -b:a 192k "$SRC/hevc.mkv"
ff -f lavfi -i "testsrc=size=320x180:rate=25" -f lavfi -i "sine=frequency=500:sample_rate=44100" \
  -t 10 -c:v libx264 -preset veryfast -b:v 300k -g 50 -pix_fmt yuv420p -c:a aac -b:a 96k "$SRC/clip.mp4"
AV1=''
if ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libsvtav1 &&
  ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libopus; then
  ff -f lavfi -i "testsrc=size=320x180:rate=25" -f lavfi -i "sine=frequency=500:sample_rate=48000" \
    -t 8 -c:v libsvtav1 -preset 12 -g 50 -pix_fmt yuv420p -c:a libopus -b:a 64k "$SRC/av1.mkv"
  AV1=1
fi
echo "not a video" >"$SRC/notes.txt"

seed_ours seed 127.0.0.2 "$SRC" --piece-size 262144
make_torrent "$T/lone.torrent" "$T/a.mkv" # nobody seeds this one
start_daemon hls read_timeout_s=3
add_link "$MAGNET"
check_status "add the torrent → 201" 201
check "metadata within 30 s" wait_metadata "$HASH" 30

# file index by name
torrent "$HASH"
fidx() { jget "[i for i, f in enumerate(j['files']) if f['path'].endswith('/$1')][0]" "$BODY"; }
I264=$(fidx h264.mkv) IHEVC=$(fidx hevc.mkv) IMP4=$(fidx clip.mp4) ITXT=$(fidx notes.txt)
note "files: h264=$I264 hevc=$IHEVC mp4=$IMP4 txt=$ITXT"
H=$URL/hls/$HASH
K=api_key=$API_KEY

# ---- H.264 + AAC + SRT
http GET "$H/$I264/index.m3u8?$K"
check_status "master playlist → 200" 200
MASTER=$BODY
check "master is an M3U8 with a variant" grep -q '^#EXT-X-STREAM-INF:' "$T/body"
check_eq "Content-Type of a playlist" application/vnd.apple.mpegurl "$(hdr Content-Type)"
check "the subtitle rendition is listed (TYPE=SUBTITLES, eng)" \
  grep -q '^#EXT-X-MEDIA:TYPE=SUBTITLES.*LANGUAGE="eng".*URI="subs-0.m3u8?key=' "$T/body"
check "every URI in the master carries the key" \
  sh -c '! grep -v "^#" "$1" | grep -v "key=" | grep -q . && ! grep -o "URI=\"[^\"]*\"" "$1" | grep -vq key=' _ "$T/body"
VARIANT=$(grep -v '^#' "$T/body" | head -1)
http GET "$H/$I264/$VARIANT"
check_status "media playlist → 200" 200
cp "$T/body" "$T/video.m3u8"
check "VOD playlist with ENDLIST" sh -c 'grep -q "^#EXT-X-PLAYLIST-TYPE:VOD" "$1" && grep -q "^#EXT-X-ENDLIST" "$1"' _ "$T/video.m3u8"
NSEG=$(grep -c '^#EXTINF' "$T/video.m3u8")
TD=$(sed -n 's/^#EXT-X-TARGETDURATION://p' "$T/video.m3u8")
MAXD=$(sed -n 's/^#EXTINF:\([0-9.]*\),.*/\1/p' "$T/video.m3u8" | sort -g | tail -1)
SUMD=$(sed -n 's/^#EXTINF:\([0-9.]*\),.*/\1/p' "$T/video.m3u8" | paste -sd+ | bc)
note "$NSEG segments, target $TD s, longest $MAXD s, total $SUMD s"
check "5 to 7 segments of ~6 s for $LEN s" test "$NSEG" -ge 5 -a "$NSEG" -le 7
check "TARGETDURATION ($TD) >= longest segment ($MAXD)" awk -v a="$TD" -v b="$MAXD" 'BEGIN { exit !(a >= b) }'
check "segment durations add up to $LEN s ± 1" awk -v s="$SUMD" -v l=$LEN 'BEGIN { exit !(s > l - 1 && s < l + 1) }'
check "segment URIs carry the key" sh -c '! grep -v "^#" "$1" | grep -vq "key="' _ "$T/video.m3u8"

# ffmpeg reads the whole HLS stream: duration, no decode errors
ffmpeg -nostdin -v error -i "$H/$I264/index.m3u8?$K" -map 0:v -map 0:a -c copy -f mpegts -y "$T/all.ts" 2>"$T/remux.err"
check "ffmpeg copies the HLS stream to a file without errors" test ! -s "$T/remux.err" -a -s "$T/all.ts"
[ -s "$T/remux.err" ] && note "$(head -5 "$T/remux.err")"
D=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$T/all.ts")
note "duration of the remuxed stream: $D s (source $LEN s)"
check "duration $LEN s ± 1" awk -v d="$D" -v l=$LEN 'BEGIN { exit !(d > l - 1 && d < l + 1) }'
ffmpeg -nostdin -v error -i "$H/$I264/index.m3u8?$K" -f null - 2>"$T/decode.err"
check "ffmpeg decodes the HLS stream without errors" test ! -s "$T/decode.err"
[ -s "$T/decode.err" ] && note "$(head -5 "$T/decode.err")"
NF=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of default=nw=1:nk=1 "$T/all.ts" | head -1)
check_eq "every video frame arrives once ($((LEN * 25)))" $((LEN * 25)) "$NF"

# segment N alone, without 0..N-1 (a fresh daemon-side request)
LAST=$((NSEG - 1)) MID=$((NSEG / 2))
SEGURI=$(grep -v '^#' "$T/video.m3u8" | sed -n "$((MID + 1))p")
http GET "$H/$I264/$SEGURI"
check_status "segment $MID alone → 200" 200
check_eq "segment Content-Type" video/mp2t "$(hdr Content-Type)"
cp "$T/body" "$T/seg.ts"
READ=$(hdr X-Hls-Bytes-Read)
SIZE=$(file_size "$SRC/h264.mkv")
note "segment $MID: $(file_size "$T/seg.ts") bytes out, $READ of $SIZE bytes read"
check_le "segment $MID reads about its own share of the file (+ header, index, buffers)" "$READ" $((SIZE / NSEG * 2 + 300000))
SD=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$T/seg.ts")
check "segment $MID lasts ~6 s ($SD)" awk -v d="$SD" 'BEGIN { exit !(d > 4 && d < 8.5) }'
ffmpeg -nostdin -v error -i "$T/seg.ts" -f null - 2>"$T/seg.err"
check "segment $MID decodes on its own" test ! -s "$T/seg.err"
FK=$(ffprobe -v error -select_streams v:0 -show_entries frame=key_frame -read_intervals '%+#1' -of default=nw=1:nk=1 "$T/seg.ts" | head -1)
check_eq "segment $MID starts with a keyframe" 1 "$FK"
http GET "$H/$I264/seg-$LAST.ts?$K"
check_status "the last segment → 200" 200
http GET "$H/$I264/seg-$NSEG.ts?$K"
check_status "a segment past the end → 404" 404

# subtitles
http GET "$H/$I264/subs-0.m3u8?$K"
check_status "subtitle playlist → 200" 200
check "subtitle playlist lists .vtt segments with the key" grep -q '^subs-0-0.vtt?key=' "$T/body"
http GET "$H/$I264/subs-0-0.vtt?$K"
check_status "subtitle segment 0 → 200" 200
check "WebVTT with X-TIMESTAMP-MAP" sh -c 'head -1 "$1" | grep -q "^WEBVTT" && grep -q "^X-TIMESTAMP-MAP=MPEGTS:[0-9]*,LOCAL:" "$1"' _ "$T/body"
check "segment 0's .vtt has the first cue" grep -q 'Hello from reelgate' "$T/body"
check "the cue's time is 00:00:01.000 --> 00:00:03.500" grep -q '^00:00:01.000 --> 00:00:03.500' "$T/body"
ALL=''
for ((k = 0; k < NSEG; k++)); do
  http GET "$H/$I264/subs-0-$k.vtt?$K"
  ALL+=$BODY
done
check "the second cue (20 s) is in one of the .vtt segments, with its markup" grep -q 'Second <i>cue</i> here' <<<"$ALL"

# auth and errors
http GET "$H/$I264/index.m3u8?api_key=wrong"
check_status "wrong key → 401" 401
http GET "$H/$I264/index.m3u8"
check_status "no key → 401" 401
http GET "$H/$I264/index.m3u8" -H "X-Api-Key: $API_KEY"
check_status "key as X-Api-Key header → 200" 200
check "playlists fetched with the header carry the stream key in URIs" grep -q "?key=$STREAM_KEY" "$T/body"
check "… and never the API key" sh -c '! grep -qF -- "$2" "$1"' _ "$T/body" "$API_KEY"
http GET "$H/$I264/index.m3u8?key=$STREAM_KEY"
check_status "the stream key as ?key= → 200" 200
http GET "$H/$I264/index.m3u8?key=x${STREAM_KEY#?}"
check_status "a wrong stream key → 401" 401
http GET "$H/$ITXT/index.m3u8?$K"
check_status "a text file → 415" 415
http GET "$URL/hls/0123456789abcdef0123456789abcdef01234567/0/index.m3u8?$K"
check_status "an unknown torrent → 404" 404
http GET "$H/99/index.m3u8?$K"
check_status "an unknown file → 404" 404
api POST /api/torrents -F "torrent=@$T/lone.torrent" >/dev/null
check_status "add a torrent nobody seeds → 201" 201
t0=$(now_ms)
http GET "$URL/hls/$THASH/0/index.m3u8?$K"
check_status "its playlist, data unavailable → 504 (read_timeout_s=3)" 504
check_le "the 504 came within 10 s" $(($(now_ms) - t0)) 10000

# ---- HEVC + E-AC3 5.1 → fMP4 (hvc1) with AAC stereo
# boxes FILE — the top-level MP4 boxes, one type a line
cat >"$T/mp4.py" <<'PYEOF'
import struct, sys
def boxes(b, off=0, end=None):
    end = len(b) if end is None else end
    while off + 8 <= end:
        n, t = struct.unpack('>I4s', b[off:off + 8])
        h = 8
        if n == 1:
            n, h = struct.unpack('>Q', b[off + 8:off + 16])[0], 16
        if n < h or off + n > end:
            yield ('BAD', off, 0, 0); return
        yield (t.decode('latin1'), off, n, h)
        off += n
b = open(sys.argv[2], 'rb').read()
if sys.argv[1] == 'top':
    print(' '.join(t for t, *_ in boxes(b)))
elif sys.argv[1] == 'moof':
    # "SEQ TRACK:TFDT ..." from the first moof
    for t, off, n, h in boxes(b):
        if t != 'moof':
            continue
        out = []
        for c, co, cn, ch in boxes(b, off + h, off + n):
            if c == 'mfhd':
                out.insert(0, str(struct.unpack('>I', b[co + ch + 4:co + ch + 8])[0]))
            if c == 'traf':
                tid = tdt = None
                for d, do, dn, dh in boxes(b, co + ch, co + cn):
                    if d == 'tfhd':
                        tid = struct.unpack('>I', b[do + dh + 4:do + dh + 8])[0]
                    if d == 'tfdt':
                        v = b[do + dh]
                        tdt = struct.unpack('>Q' if v == 1 else '>I', b[do + dh + 4:do + dh + (12 if v == 1 else 8)])[0]
                out.append('%s:%s' % (tid, tdt))
        print(' '.join(out))
        break
PYEOF
boxes() { python3 "$T/mp4.py" top "$1"; }
http GET "$H/$IHEVC/index.m3u8?$K"
check_status "HEVC master → 200" 200
cp "$T/body" "$T/hevc-master.m3u8"
note "HEVC variant: $(grep '^#EXT-X-STREAM-INF' "$T/hevc-master.m3u8")"
check "HEVC master: version 7, CODECS hvc1.…,mp4a.40.2" \
  sh -c 'grep -q "^#EXT-X-VERSION:7" "$1" && grep -Eq "^#EXT-X-STREAM-INF:.*CODECS=\"hvc1\.[ABC]?[0-9]+\.[0-9A-F]+\.[LH][0-9]+(\.[0-9A-F]+)*,mp4a\.40\.2\"" "$1"' _ "$T/hevc-master.m3u8"
http GET "$H/$IHEVC/$(grep -v '^#' "$T/hevc-master.m3u8" | head -1)"
check_status "HEVC media playlist → 200" 200
cp "$T/body" "$T/hevc.m3u8"
check "HEVC media playlist is fMP4: version 7, EXT-X-MAP init.mp4 with the key, .m4s segments" \
  sh -c 'grep -q "^#EXT-X-VERSION:7" "$1" && grep -q "^#EXT-X-MAP:URI=\"init.mp4?audio=0&key=" "$1" &&
    grep -v "^#" "$1" | grep -q "^seg-0.m4s?audio=0&key=" && ! grep -q "\.ts?" "$1"' _ "$T/hevc.m3u8"
ffmpeg -nostdin -v error -i "$H/$IHEVC/index.m3u8?$K" -map 0:v -map 0:a -c copy -f mpegts -y "$T/hevc.ts" 2>"$T/hevc.err"
check "ffmpeg copies the HEVC fMP4 stream without errors" test ! -s "$T/hevc.err"
[ -s "$T/hevc.err" ] && note "$(head -5 "$T/hevc.err")"
check_eq "HEVC video is copied" hevc "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of default=nw=1:nk=1 "$T/hevc.ts" | head -1)"
check_eq "E-AC3 audio became AAC stereo" "aac 2" "$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name,channels -of default=nw=1:nk=1 "$T/hevc.ts" | head -2 | paste -sd' ')"
D=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$T/hevc.ts")
check "HEVC stream lasts 14 s ± 1 ($D)" awk -v d="$D" 'BEGIN { exit !(d > 13 && d < 15) }'
ffmpeg -nostdin -v error -i "$H/$IHEVC/index.m3u8?$K" -f null - 2>"$T/hevc-dec.err"
check "ffmpeg decodes the HEVC + AAC fMP4 stream without errors" test ! -s "$T/hevc-dec.err"
[ -s "$T/hevc-dec.err" ] && note "$(head -5 "$T/hevc-dec.err")"
NF=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of default=nw=1:nk=1 "$T/hevc.ts" | head -1)
check_eq "every HEVC frame arrives once (350)" 350 "$NF"

# init.mp4 and a middle segment alone, as a player that jumps there
HN=$(grep -c '^#EXTINF' "$T/hevc.m3u8") HM=$((HN / 2))
check "the 14 s HEVC title has 2 or 3 segments ($HN)" test "$HN" -ge 2 -a "$HN" -le 3
http GET "$H/$IHEVC/init.mp4?audio=0&$K"
check_status "init.mp4 → 200" 200
check_eq "init.mp4 Content-Type" video/mp4 "$(hdr Content-Type)"
cp "$T/body" "$T/init.mp4"
check_eq "init.mp4 is ftyp + moov" "ftyp moov" "$(boxes "$T/init.mp4")"
http GET "$H/$IHEVC/$(grep -v '^#' "$T/hevc.m3u8" | sed -n "$((HM + 1))p")"
check_status "fMP4 segment $HM alone → 200" 200
cp "$T/body" "$T/mid.m4s"
check_eq "segment $HM is one moof + mdat" "moof mdat" "$(boxes "$T/mid.m4s")"
MOOF=$(python3 "$T/mp4.py" moof "$T/mid.m4s")
note "segment $HM moof: sequence and track:tfdt = $MOOF"
check_eq "segment $HM's fragment sequence number is $((HM + 1))" $((HM + 1)) "${MOOF%% *}"
cat "$T/init.mp4" "$T/mid.m4s" >"$T/mid.mp4"
ffmpeg -nostdin -v error -i "$T/mid.mp4" -f null - 2>"$T/mid.err"
check "init.mp4 + segment $HM decodes without errors" test ! -s "$T/mid.err"
[ -s "$T/mid.err" ] && note "$(head -5 "$T/mid.err")"
check_eq "the codec tag is hvc1" hvc1 "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_tag_string -of default=nw=1:nk=1 "$T/mid.mp4")"
# hevc.mkv repeats VPS/SPS/PPS in every keyframe (x265 repeat-headers); under
# hvc1 they belong in hvcC only
inband() { # parameter sets in the packets of $1 (not its extradata)
  ffmpeg -nostdin -i "$1" -map 0:v -c copy -bsf:v trace_headers -f null - 2>&1 |
    awk '/Packet:/ { p = 1 } p && /Parameter Set/ { n++ } END { print n + 0 }'
}
check "the source repeats parameter sets in its keyframes" test "$(inband "$SRC/hevc.mkv")" -gt 0
check_eq "init.mp4 + segment $HM: no parameter set in the packets (hvcC has them)" 0 "$(inband "$T/mid.mp4")"
FK=$(ffprobe -v error -select_streams v:0 -show_entries frame=key_frame -read_intervals '%+#1' -of default=nw=1:nk=1 "$T/mid.mp4" | head -1)
check_eq "segment $HM starts with a keyframe" 1 "$FK"
# its clock: output = file - start + 10 s, so segment M starts at 10 s plus
# the EXTINF durations before it
BEFORE=$(sed -n 's/^#EXTINF:\([0-9.]*\),.*/\1/p' "$T/hevc.m3u8" | head -$HM | paste -sd+ | bc)
VST=$(ffprobe -v error -select_streams v:0 -show_entries stream=start_time -of default=nw=1:nk=1 "$T/mid.mp4")
AST=$(ffprobe -v error -select_streams a:0 -show_entries stream=start_time -of default=nw=1:nk=1 "$T/mid.mp4")
MD=$(sed -n 's/^#EXTINF:\([0-9.]*\),.*/\1/p' "$T/hevc.m3u8" | sed -n "$((HM + 1))p")
# (a fragment's stream duration is its end on the clock: span the packets)
VD=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,duration_time -of csv=p=0 "$T/mid.mp4" |
  awk -F, 'NR == 1 || $1 < lo { lo = $1 } $1 + $2 > hi { hi = $1 + $2 } END { printf "%.3f", hi - lo }')
note "segment $HM: video starts at $VST s, audio at $AST s, video lasts $VD s; playlist: starts at 10 + $BEFORE s, lasts $MD s"
check "segment $HM's video starts where the playlist puts it (±0.05 s)" awk -v a="$VST" -v b="$BEFORE" 'BEGIN { d = a - 10 - b; exit !(d > -0.05 && d < 0.05) }'
check "segment $HM's audio starts there too (±0.05 s)" awk -v a="$AST" -v b="$BEFORE" 'BEGIN { d = a - 10 - b; exit !(d > -0.05 && d < 0.05) }'
check "segment $HM's video lasts its EXTINF (±0.05 s)" awk -v a="$VD" -v b="$MD" 'BEGIN { d = a - b; exit !(d > -0.05 && d < 0.05) }'
http GET "$H/$IHEVC/seg-$HN.m4s?audio=0&$K"
check_status "an fMP4 segment past the end → 404" 404
http GET "$H/$IHEVC/index.m3u8?fmp4=0&$K"
check "?fmp4=0 keeps HEVC in MPEG-TS (version 4, no hvc1 requirement)" grep -q '^video.m3u8?audio=0&fmp4=0&key=' "$T/body"
http GET "$H/$IHEVC/video.m3u8?audio=0&fmp4=0&$K"
check "… and its media playlist lists .ts segments, no EXT-X-MAP" sh -c 'grep -q "^seg-0.ts?" "$1" && ! grep -q EXT-X-MAP "$1"' _ "$T/body"
http GET "$H/$IHEVC/index.m3u8?fmp4=2&$K"
check_status "?fmp4=2 → 400" 400

# ---- H.264 as fMP4 on request (?fmp4=1)
http GET "$H/$I264/index.m3u8?fmp4=1&$K"
check_status "H.264 master with ?fmp4=1 → 200" 200
check "its variant asks for fMP4 and CODECS says avc1" \
  sh -c 'grep -q "^#EXT-X-VERSION:7" "$1" && grep -q "CODECS=\"avc1\.[0-9a-f]*,mp4a\.40\.2\"" "$1" && grep -q "^video.m3u8?audio=0&fmp4=1&key=" "$1"' _ "$T/body"
http GET "$H/$I264/video.m3u8?audio=0&fmp4=1&$K"
check "… whose media playlist is fMP4" sh -c 'grep -q "^#EXT-X-MAP:URI=\"init.mp4?audio=0&key=" "$1" && grep -q "^seg-0.m4s?" "$1"' _ "$T/body"
ffmpeg -nostdin -v error -i "$H/$I264/index.m3u8?fmp4=1&$K" -map 0:v -map 0:a -c copy -f mpegts -y "$T/h264f.ts" 2>"$T/h264f.err"
check "ffmpeg copies the H.264 fMP4 stream without errors" test ! -s "$T/h264f.err"
[ -s "$T/h264f.err" ] && note "$(head -5 "$T/h264f.err")"
D=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$T/h264f.ts")
check "H.264 fMP4 stream lasts $LEN s ± 1 ($D)" awk -v d="$D" -v l=$LEN 'BEGIN { exit !(d > l - 1 && d < l + 1) }'
NF=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of default=nw=1:nk=1 "$T/h264f.ts" | head -1)
check_eq "every H.264 frame arrives once over fMP4 ($((LEN * 25)))" $((LEN * 25)) "$NF"
ffmpeg -nostdin -v error -i "$H/$I264/index.m3u8?fmp4=1&$K" -f null - 2>"$T/h264f-dec.err"
check "ffmpeg decodes the H.264 fMP4 stream without errors" test ! -s "$T/h264f-dec.err"
[ -s "$T/h264f-dec.err" ] && note "$(head -5 "$T/h264f-dec.err")"

# ---- AV1 + Opus: fMP4 whatever is asked (MPEG-TS cannot carry AV1)
if [ -n "$AV1" ]; then
  torrent "$HASH"
  IAV1=$(fidx av1.mkv)
  http GET "$H/$IAV1/index.m3u8?$K"
  check "AV1 master: CODECS av01.0.LLM.08,mp4a.40.2 (Opus → AAC)" \
    grep -Eq '^#EXT-X-STREAM-INF:.*CODECS="av01\.0\.[0-9][0-9]M\.08,mp4a\.40\.2"' "$T/body"
  http GET "$H/$IAV1/video.m3u8?audio=0&fmp4=0&$K"
  check "AV1 stays fMP4 even with ?fmp4=0" sh -c 'grep -q "^#EXT-X-MAP:URI=\"init.mp4?" "$1" && grep -q "^seg-0.m4s?" "$1"' _ "$T/body"
  http GET "$H/$IAV1/seg-0.ts?audio=0&$K"
  check_status "an AV1 MPEG-TS segment → 415" 415
  ffmpeg -nostdin -v error -i "$H/$IAV1/index.m3u8?$K" -f null - 2>"$T/av1-dec.err"
  check "ffmpeg decodes the AV1 + AAC fMP4 stream without errors" test ! -s "$T/av1-dec.err"
  [ -s "$T/av1-dec.err" ] && note "$(head -5 "$T/av1-dec.err")"
  ffmpeg -nostdin -v error -i "$H/$IAV1/index.m3u8?$K" -map 0:v -c copy -f matroska -y "$T/av1.mkv" 2>/dev/null
  NF=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of default=nw=1:nk=1 "$T/av1.mkv" | head -1)
  check_eq "every AV1 frame arrives once (200)" 200 "$NF"
else
  note "ffmpeg lacks libsvtav1 or libopus: no AV1 checks"
fi

# ---- MP4, moov at the end
ffmpeg -nostdin -v error -i "$H/$IMP4/index.m3u8?$K" -map 0:v -map 0:a -c copy -f mpegts -y "$T/mp4.ts" 2>"$T/mp4.err"
check "ffmpeg copies the MP4's HLS stream without errors" test ! -s "$T/mp4.err"
[ -s "$T/mp4.err" ] && note "$(head -5 "$T/mp4.err")"
D=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$T/mp4.ts")
check "MP4 stream lasts 10 s ± 1 ($D)" awk -v d="$D" 'BEGIN { exit !(d > 9 && d < 11) }'

# shutting down while a worker waits for data that will not come
spawn waiting curl -s --noproxy '*' -o /dev/null "$URL/hls/$THASH/0/index.m3u8?$K"
sleep 0.5
stop_daemon
finish
