#!/bin/sh
# Installs kinesalite (pinned in package.json / package-lock.json) into
# <repo>/.deps/kinesalite (or $KINESALITE_DIR). Called by `make deps`.
set -eu
exec "$(dirname "$0")/../npm-install.sh" kinesalite kinesalite/index.js ${KINESALITE_DIR:-}
