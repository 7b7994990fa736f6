#!/bin/bash
# Fetches the pinned uPlot release (MIT) from the npm registry with npm,
# checks the tarball against the pinned integrity, and puts its minified
# script and stylesheet where web/ embeds them (web/static/vendor/).
set -euo pipefail
VERSION=1.6.32
INTEGRITY=sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../web/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$VERSION" >/dev/null)
tgz=$tmp/uplot-$VERSION.tgz
got=sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)
if [ "$got" != "$INTEGRITY" ]; then
	echo "uplot-$VERSION.tgz: integrity $got, want $INTEGRITY" >&2
	exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE
mkdir -p "$out"
cp "$tmp/package/dist/uPlot.iife.min.js" "$out/uplot.js"
cp "$tmp/package/dist/uPlot.min.css" "$out/uplot.css"
cp "$tmp/package/LICENSE" "$out/uplot-LICENSE"
echo "$VERSION $INTEGRITY" >"$out/uplot.version"
