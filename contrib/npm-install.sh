#!/bin/sh
# Installs a pinned npm package (package.json / package-lock.json in
# contrib/<name>) into <repo>/.deps/<name>, which git ignores:
#   contrib/npm-install.sh NAME FILE [DEST]
# FILE is checked under node_modules afterwards. Optional dependencies are
# left out (kinesalite's is leveldown, a native on-disk store the tests do
# not use). Needs node and npm (Debian: nodejs, npm). Idempotent.
set -eu
name=$1 check=$2
contrib=$(cd "$(dirname "$0")" && pwd)
here=$contrib/$name
dest=${3:-$(cd "$contrib/.." && pwd)/.deps/$name}

mkdir -p "$dest"
cp "$here/package.json" "$dest/package.json"
if [ -f "$here/package-lock.json" ]; then
	cp "$here/package-lock.json" "$dest/package-lock.json"
	(cd "$dest" && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
else
	(cd "$dest" && npm install --omit=optional --no-audit --no-fund --loglevel=error)
fi
test -f "$dest/node_modules/$check"
echo "$name installed in $dest"
