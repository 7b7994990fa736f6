#!/bin/sh
# Installs etsy statsd (pinned in package.json / package-lock.json) into
# <repo>/.deps/statsd (or $STATSD_DIR). Called by `make deps`.
set -eu
exec "$(dirname "$0")/../npm-install.sh" statsd statsd/stats.js ${STATSD_DIR:-}
