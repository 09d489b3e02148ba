#!/bin/sh
# Download the Debian Reference (English HTML, package debian-reference-en, GPL-2+) and extract
# its HTML chapters into the folder given as argument, ready for `ragis ingest FOLDER`.
# Needs apt-get and dpkg-deb (Debian, Ubuntu); downloads one .deb of about 1.7 MB, no root needed.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 FOLDER   (created if missing; keep it out of the repository)" >&2
    exit 2
fi
dest=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download debian-reference-en >/dev/null)
dpkg-deb -x "$work"/debian-reference-en_*_all.deb "$work/root"
mkdir -p "$dest"
# Only the HTML: the PDF and the plain text are the same book again and would triple every hit.
cp "$work"/root/usr/share/debian-reference/*.en.html "$dest"/
cp "$work"/root/usr/share/doc/debian-reference-en/copyright "$dest"/copyright  # no extension: ingest skips it
version=$(dpkg-deb -f "$work"/debian-reference-en_*_all.deb Version)
echo "debian-reference-en $version: $(ls "$dest"/*.en.html | wc -l) HTML files in $dest"
