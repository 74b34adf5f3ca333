#!/bin/sh
# budget.sh — cache_budget_mb=64: reading a second 40 MiB torrent evicts the
# first (idle, least recently read); a 150 MiB file streams start to end
# while the cache (as reported, and as du sees the disk) stays within the
# budget plus slack; seeking back to the start re-fetches correct bytes.
. "$(dirname "$0")/lib/common.sh"

MIB=1048576
BUDGET_MB=64
SLACK_MB=16
LIMIT=$(((BUDGET_MB + SLACK_MB) * MIB))
make_random_bytes "$T/a.bin" $((40 * MIB + 111))
make_random_bytes "$T/b.bin" $((40 * MIB + 222))
make_random "$T/c.bin" 150
seed_ours seed-a 127.0.0.2 "$T/a.bin"; HA=$HASH MA=$MAGNET
seed_ours seed-b 127.0.0.3 "$T/b.bin"; HB=$HASH MB=$MAGNET
seed_ours seed-c 127.0.0.4 "$T/c.bin"; HC=$HASH MC=$MAGNET

start_daemon budget cache_budget_mb=$BUDGET_MB readahead_mb=8
cb=$(status_field cache_budget)
check "status reports the budget (got $cb)" sh -c '[ "$1" = $((64 * 1048576)) ] || [ "$1" = 64 ]' _ "$cb"

disk_bytes() { du -s -B1 --exclude="$DATA/warm" "$DATA" 2>/dev/null | cut -f1; }  # the cache; the warmup store has its own quota

# ---- two torrents, read one after the other
add_link "$MA"; check "A metadata" wait_metadata "$HA" 30
check "A reads whole" whole_eq "$T/a.bin" "$(stream_url "$HA" 0)"
da=$(tfield "$HA" downloaded)
check "A is fully downloaded after the read ($da)" test "${da:-0}" -ge $((40 * MIB))
sleep 1
add_link "$MB"; check "B metadata" wait_metadata "$HB" 30
check "B reads whole" whole_eq "$T/b.bin" "$(stream_url "$HB" 0)"
within_budget() {
  local c d
  c=$(status_field cache_bytes); d=$(disk_bytes)
  [ -n "$c" ] && [ "$c" -le "$LIMIT" ] && [ "$d" -le "$LIMIT" ]
}
a_evicted() { [ "$(tfield "$HA" downloaded)" -lt $((40 * MIB)) ] 2>/dev/null; }
check "cache_bytes and disk use come back within budget + slack" wait_until 20 within_budget
note "cache_bytes $(status_field cache_bytes), disk $(disk_bytes), limit $LIMIT"
check "A (least recently read) lost data" wait_until 20 a_evicted
note "A downloaded $(tfield "$HA" downloaded), B downloaded $(tfield "$HB" downloaded)"
check "B (just read) keeps its data" test "$(tfield "$HB" downloaded)" -ge $((40 * MIB))
check "A still reads correctly (re-fetched)" range_eq "$T/a.bin" "$(stream_url "$HA" 0)" 0 $((2 * MIB - 1))

# ---- one file bigger than the budget, streamed start to end
add_link "$MC"; check "C metadata" wait_metadata "$HC" 30
UC=$(stream_url "$HC" 0)
curl -sS -g --noproxy '*' --max-time 180 --limit-rate 40M -o "$T/c.out" "$UC" 2>"$T/c.err" &
pc=$!; track $pc reader-c
max_c=0 max_d=0 n=0
while alive $pc && [ $n -lt 720 ]; do
  c=$(status_field cache_bytes); d=$(disk_bytes)
  [ -n "$c" ] && [ "$c" -gt "$max_c" ] && max_c=$c
  [ -n "$d" ] && [ "$d" -gt "$max_d" ] && max_d=$d
  n=$((n + 1))
  sleep 0.25
done
wait $pc; rc=$?; untrack $pc
note "$n samples: max cache_bytes $max_c, max disk $max_d, limit $LIMIT"
check_eq "150 MiB stream with a 64 MiB budget completes" 0 "$rc"
check "150 MiB stream is byte-exact" cmp -s "$T/c.bin" "$T/c.out"
rm -f "$T/c.out"
check_le "cache_bytes stayed within budget + slack while streaming" "$max_c" "$LIMIT"
check_le "disk use stayed within budget + slack while streaming" "$max_d" "$LIMIT"
check "seek back to the start: first 1 MiB" range_eq "$T/c.bin" "$UC" 0 $((MIB - 1))
bad=0
while read -r s e; do range_eq "$T/c.bin" "$UC" "$s" "$e" || bad=$((bad + 1)); done \
  < <(py ranges $((16 * MIB)) 5 $MIB seekback)
check_eq "seek back: 5 random ranges in the first 16 MiB are exact" 0 "$bad"
check "cache within budget + slack at the end" wait_until 10 within_budget

stop_daemon
finish
