#!/bin/sh
# Unpacks Debian's rsyslog into <repo>/.deps/rsyslog (git-ignored) without
# installing it: the rsyslog package conflicts with syslog-ng-core, which
# the project needs. Used by contrib/contrib_test.go to check the configs
# here with the real rsyslogd. Called by `make deps`. Idempotent.
#
# Run it as: .deps/rsyslog/rsyslogd.sh ARGS (a wrapper that points rsyslogd
# at its modules and at any library unpacked beside it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
debs=$repo/.deps
dest=${RSYSLOG_DIR:-$debs/rsyslog}
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)

wrapper() {
	cat >"$dest/rsyslogd.sh" <<WRAP
#!/bin/sh
d=\$(cd "\$(dirname "\$0")" && pwd)
LD_LIBRARY_PATH=\$d/usr/lib/$multiarch:\$d/lib/$multiarch\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} \\
	exec "\$d/usr/sbin/rsyslogd" -M "\$d/usr/lib/$multiarch/rsyslog" "\$@"
WRAP
	chmod 755 "$dest/rsyslogd.sh"
}

if [ -x "$dest/rsyslogd.sh" ] && "$dest/rsyslogd.sh" -v >/dev/null 2>&1; then
	echo "rsyslog already unpacked in $dest"
	exit 0
fi

# download PACKAGE: its .deb into $debs (apt-get download needs the package
# lists; update them once if it fails).
download() {
	set -- "$1" "$(ls "$debs/$1"_*_"$arch".deb "$debs/$1"_*_all.deb 2>/dev/null | head -n1)"
	if [ -n "$2" ]; then
		echo "$2"
		return
	fi
	(cd "$debs" && { apt-get download "$1" >/dev/null 2>&1 || { apt-get update -qq >&2 && apt-get download "$1" >/dev/null; }; })
	ls "$debs/$1"_*_"$arch".deb "$debs/$1"_*_all.deb 2>/dev/null | head -n1
}

mkdir -p "$debs"
rm -rf "$dest"
mkdir -p "$dest"
deb=$(download rsyslog)
dpkg -x "$deb" "$dest"

# Libraries rsyslogd or its modules need and the system lacks: unpack the
# packages rsyslog depends on that are not installed.
missing=$(for f in "$dest/usr/sbin/rsyslogd" "$dest/usr/lib/$multiarch/rsyslog/"*.so; do ldd "$f"; done | grep -c 'not found' || true)
if [ "$missing" -gt 0 ]; then
	for pkg in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[(|].*//; s/ //g'); do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' && continue
		echo "unpacking $pkg beside rsyslog"
		dpkg -x "$(download "$pkg")" "$dest"
	done
fi
wrapper
"$dest/rsyslogd.sh" -v | head -n1
echo "rsyslog unpacked in $dest"
