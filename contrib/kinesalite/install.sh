#!/bin/sh
# Installs kinesalite (pinned in package.json / package-lock.json) into
# <repo>/.deps/kinesalite, which git ignores. Called by `make deps`.
# Needs node and npm (Debian: nodejs, npm). Idempotent.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dest=${KINESALITE_DIR:-$repo/.deps/kinesalite}

mkdir -p "$dest"
cp "$here/package.json" "$dest/package.json"
if [ -f "$here/package-lock.json" ]; then
	cp "$here/package-lock.json" "$dest/package-lock.json"
	# leveldown is kinesalite's optional on-disk store (a native build); tests
	# use the in-memory store, so it is left out.
	(cd "$dest" && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
else
	(cd "$dest" && npm install --omit=optional --no-audit --no-fund --loglevel=error)
fi
test -f "$dest/node_modules/kinesalite/index.js"
echo "kinesalite installed in $dest"
