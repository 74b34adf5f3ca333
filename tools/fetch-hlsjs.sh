#!/bin/sh
# tools/fetch-hlsjs.sh SRCDIR OUT — puts hls.js, pinned by SRCDIR's
# package.json and package-lock.json, at OUT (the web UI's player page uses
# it; tools/embed.sh then compiles it into the binary).
#
# `npm ci` runs in a scratch folder next to OUT (npm's own cache makes later
# builds offline). Without npm or a registry the build goes on: OUT is left
# empty (embed.sh skips empty files) and the player falls back to the
# browser's native HLS, then to the plain /stream URL. Set
# RG_REQUIRE_HLSJS=1 to make that an error instead.
set -u
src=$1 out=$2
work=$out.npm
fallback() {
  echo "fetch-hlsjs: $* — the web UI is built without hls.js" >&2
  [ -n "${RG_REQUIRE_HLSJS:-}" ] && exit 1
  rm -rf "$work"
  : >"$out"
  exit 0
}
command -v npm >/dev/null 2>&1 || fallback "npm is not installed (apt-get install npm)"
rm -rf "$work" && mkdir -p "$work" || fallback "cannot create $work"
cp "$src/package.json" "$src/package-lock.json" "$work/" || fallback "cannot copy the package files"
tmo=
command -v timeout >/dev/null 2>&1 && tmo="timeout 180"
if ! (cd "$work" && $tmo npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
  --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 >npm.out 2>&1); then
  fallback "npm ci failed: $(tail -n 2 "$work/npm.out" | tr '\n' ' ')"
fi
[ -s "$work/node_modules/hls.js/dist/hls.min.js" ] || fallback "hls.js/dist/hls.min.js is missing after npm ci"
cp "$work/node_modules/hls.js/dist/hls.min.js" "$out.tmp" && mv "$out.tmp" "$out" || fallback "cannot write $out"
rm -rf "$work"
