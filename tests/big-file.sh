#!/bin/sh
# big-file.sh — a file over 4 GiB (sparse, with random 1 MiB islands at
# 0, ~1 GiB, across 2 GiB, across 4 GiB, past 4 GiB and at the end) seeded
# with 4 MiB pieces: ranges past 2^32 are byte-exact and the 64-bit sizes in
# Content-Length / Content-Range are right.
. "$(dirname "$0")/lib/common.sh"

avail=$(df --output=avail -B1 "$T" | tail -1 | tr -d ' ')
[ "${avail:-0}" -ge $((15 * 1024 * 1024 * 1024)) ] ||
  skip_all "needs 15 GiB free under ${TMPDIR:-/tmp} (has $((${avail:-0} / 1048576)) MiB)"

G=1073741824
SIZE=$((4 * G + G / 5 + 12345)) # ~4.2 GiB, not piece-aligned
F=$T/big.bin
truncate -s "$SIZE" "$F" || skip_all "cannot make a sparse $SIZE-byte file"
MIB=1048576
CHUNKS="0 $((G + 12345)) $((2 * G - MIB / 2)) $((4 * G - MIB / 2)) $((4 * G + 100 * MIB + 3)) $((SIZE - MIB))"
for off in $CHUNKS; do py chunk "$F" "$off" "$MIB" "chunk-$off" || die "cannot write chunk at $off"; done
check_eq "source is $SIZE bytes" "$SIZE" "$(file_size "$F")"

t0=$(now_ms)
SEED_WAIT=300 seed_ours seeder 127.0.0.2 "$F" --piece-size 4194304
note "seeder hashed $SIZE bytes in $(($(now_ms) - t0)) ms"
H=$HASH

start_daemon big readahead_mb=4
add_link "$MAGNET"
check_status "add magnet → 201" 201
check "metadata arrives" wait_metadata "$H" 60
torrent "$H"
check_eq "torrent size > 4 GiB" "$SIZE" "$(jget size "$BODY")"
check_eq "file size > 4 GiB" "$SIZE" "$(jget files.0.size "$BODY")"
U=$(jget files.0.stream_url "$BODY")

http HEAD "$U"
check_status "HEAD → 200" 200
check_eq "HEAD Content-Length is 64-bit" "$SIZE" "$(hdr Content-Length)"

for off in $CHUNKS; do
  check "1 MiB island at $off" range_eq "$F" "$U" "$off" $((off + MIB - 1))
done

X=$((4 * G - 1000))
http GET "$U" -r "$X-$((X + 1999))"
check_status "range across 4 GiB → 206" 206
check_eq "Content-Range across 4 GiB" "bytes $X-$((X + 1999))/$SIZE" "$(hdr Content-Range)"
check_eq "Content-Length across 4 GiB" 2000 "$(hdr Content-Length)"
check "bytes across 4 GiB" cmp -s "$T/body" <(dd if="$F" iflag=skip_bytes,count_bytes skip=$X count=2000 status=none)

X=$((2 * G - 700))
check "bytes across 2 GiB" range_eq "$F" "$U" "$X" $((X + 1399))

X=4400000000
http GET "$U" -r "$X-$((X + 99))"
check_eq "Content-Range past 4 GiB" "bytes $X-$((X + 99))/$SIZE" "$(hdr Content-Range)"
check_eq "Content-Length past 4 GiB" 100 "$(hdr Content-Length)"
check "bytes past 4 GiB" cmp -s "$T/body" <(dd if="$F" iflag=skip_bytes,count_bytes skip=$X count=100 status=none)

http GET "$U" -H 'Range: bytes=-1000'
check_eq "suffix Content-Range" "bytes $((SIZE - 1000))-$((SIZE - 1))/$SIZE" "$(hdr Content-Range)"
check "suffix bytes" cmp -s "$T/body" <(tail -c 1000 "$F")

X=$((SIZE - 2 * MIB))
http GET "$U" -H "Range: bytes=$X-"
check_status "open-ended near the end → 206" 206
check_eq "open-ended Content-Length" $((2 * MIB)) "$(hdr Content-Length)"
check_eq "open-ended Content-Range" "bytes $X-$((SIZE - 1))/$SIZE" "$(hdr Content-Range)"
check "open-ended bytes" cmp -s "$T/body" <(tail -c $((2 * MIB)) "$F")

http GET "$U" -H "Range: bytes=$SIZE-"
check_status "range at the size → 416" 416
check_eq "416 Content-Range is 64-bit" "bytes */$SIZE" "$(hdr Content-Range)"

check "10 random ranges anywhere in the file" random_ranges_eq "$F" "$U" 10 65536 big
stop_daemon
finish
