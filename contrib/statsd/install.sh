#!/bin/sh
# Installs etsy statsd (pinned in package.json / package-lock.json) into
# <repo>/.deps/statsd, which git ignores. Called by `make deps`.
# Needs node and npm (Debian: nodejs, npm). Idempotent.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dest=${STATSD_DIR:-$repo/.deps/statsd}

mkdir -p "$dest"
cp "$here/package.json" "$dest/package.json"
if [ -f "$here/package-lock.json" ]; then
	cp "$here/package-lock.json" "$dest/package-lock.json"
	(cd "$dest" && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
else
	(cd "$dest" && npm install --omit=optional --no-audit --no-fund --loglevel=error)
fi
test -f "$dest/node_modules/statsd/stats.js"
echo "statsd installed in $dest"
