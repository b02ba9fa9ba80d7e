#!/bin/sh
# Fetch BearSSL 0.6 from Debian's source package, verify it, unpack it.
#
#   third_party/bearssl/fetch.sh DESTDIR
#
# Leaves the pristine upstream tree at DESTDIR/bearssl-0.6. Uses a private
# sources list and lists directory (passed to apt as -o options), so the
# machine's apt configuration is never touched. The deb-src line is derived
# from the Debian archive the machine is already configured with; no mirror
# host is written into this repository.
set -eu

VERSION=0.6+dfsg.1-3
ORIG=bearssl_0.6+dfsg.1.orig.tar.xz
SHA256=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004

dest=${1:?usage: fetch.sh DESTDIR}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

if [ -f "$dest/bearssl-0.6/inc/bearssl.h" ]; then
	exit 0
fi

work="$dest/apt"
mkdir -p "$work/lists/partial" "$work/archives/partial"

# Find Debian's own archive (not a third-party repository, not security or
# updates) among what this machine already uses. First from apt's own view
# of its package files (`apt-cache policy`: the Release file says
# o=Debian,l=Debian and its codename has no "-suffix"); the choice is the
# first URI in sort order, so the same machine always picks the same one.
# Else from the sources files: only entries signed by Debian's archive
# keyring, or in a one-line sources.list.
uri=
suite=
set -- $(apt-cache policy 2>/dev/null | awk '
	$1 ~ /^[0-9]+$/ && $NF == "Packages" && $3 ~ /\/main$/ { u = $2; next }
	u != "" && $1 == "release" {
		if ($2 ~ /(^|,)o=Debian(,|$)/ && $2 ~ /(^|,)l=Debian(,|$)/ && match($2, /(^|,)n=[^,]*/)) {
			n = substr($2, RSTART, RLENGTH); sub(/^,?n=/, "", n)
			if (n != "" && n !~ /-/) print u, n
		}
		u = ""
	}' | sort -u | head -n 1)
if [ $# -ge 2 ]; then uri=$1; suite=$2; fi
if [ -z "$uri" ]; then
	for f in $(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | sort); do
		set -- $(awk '
			function emit() { if (!d && u != "" && s != "" && t ~ /deb/ && k ~ /debian-archive-keyring/) { print u, s; d = 1; exit } }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { emit(); u = s = t = k = ""; next }
			$1 == "Types:" { t = $0 }
			$1 == "URIs:" { u = $2 }
			$1 == "Suites:" { s = $2 }
			$1 == "Signed-By:" { k = $0 }
			END { emit() }' "$f" |
			grep -v -e security -e updates -e backports | head -n 1)
		if [ $# -ge 2 ]; then uri=$1; suite=$2; break; fi
	done
fi
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
	set -- $(awk '$1 == "deb" || $1 == "deb-src" {
		i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
		print $i, $(i + 1) }' /etc/apt/sources.list |
		grep -v -e security -e updates -e backports | head -n 1)
	if [ $# -ge 2 ]; then uri=$1; suite=$2; fi
fi
if [ -z "$uri" ]; then
	echo "fetch.sh: no Debian archive found in /etc/apt; set BEARSSL_SRC=DIR to a BearSSL 0.6 tree" >&2
	exit 1
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
opt=
[ -f "$keyring" ] && opt="[signed-by=$keyring] "
echo "deb-src ${opt}$uri $suite main" >"$work/sources.list"

set -- -o "Dir::Etc::SourceList=$work/sources.list" \
	-o "Dir::Etc::SourceParts=$work/nonexistent" \
	-o "Dir::State::Lists=$work/lists" \
	-o "Dir::Cache::Archives=$work/archives" \
	-o "APT::Sandbox::User=root" -q
apt-get "$@" update >"$work/update.log" 2>&1 || {
	cat "$work/update.log" >&2
	echo "fetch.sh: apt-get update for the private source list failed" >&2
	exit 1
}
(cd "$work" && apt-get "$@" source --download-only "bearssl=$VERSION") >"$work/source.log" 2>&1 || {
	cat "$work/source.log" >&2
	echo "fetch.sh: apt-get source bearssl=$VERSION failed" >&2
	exit 1
}

got=$(sha256sum "$work/$ORIG" | cut -d' ' -f1)
if [ "$got" != "$SHA256" ]; then
	echo "fetch.sh: checksum mismatch for $ORIG: got $got, want $SHA256" >&2
	exit 1
fi
tar -C "$dest" -xJf "$work/$ORIG"
test -f "$dest/bearssl-0.6/inc/bearssl.h"
echo "fetch.sh: BearSSL $VERSION verified ($SHA256)"
