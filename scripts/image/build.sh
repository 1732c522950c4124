#!/usr/bin/env bash
# Builds the OCI image localhost/latchkey:VERSION (and :latest) with
# Debian's buildah, FROM scratch: the static server binary, the PWA's files,
# an /etc/passwd and /etc/group naming one non-root user, the CA roots, an
# empty /tmp, and the state directory as a volume. Nothing is pulled from a registry.
# Also writes it as an OCI archive, OUT_DIR/latchkey-VERSION.oci.tar, for
# `podman load` / `docker load` elsewhere.
# Usage: scripts/image/build.sh STATIC_BINARY WEB_DIR OUT_DIR
set -euo pipefail
bin=$1 web=$2 out=$3

say() { printf '\033[1m[image]\033[0m %s\n' "$*" >&2; }

# The user the server runs as: not root, and no user of the host's either.
uid=10001
name=localhost/latchkey

if ldd "$bin" 2>/dev/null | grep -q '=>'; then
  say "$bin is dynamically linked: a FROM scratch image needs the static build"; exit 1
fi
[ -f "$web/index.html" ] || { say "$web/index.html is missing: build the PWA first"; exit 1; }
version=$("$bin" --version | awk '{ print $2 }')
mkdir -p "$out"

ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
root=$(buildah mount "$ctr")

install -D -m 0755 "$bin" "$root/usr/bin/latchkey"
mkdir -p "$root/usr/share/latchkey"
cp -R "$web" "$root/usr/share/latchkey/web"
chmod -R u=rwX,go=rX "$root/usr/share/latchkey"
mkdir -p "$root/etc"
printf 'root:x:0:0:root:/:/sbin/nologin\nlatchkey:x:%s:%s:Latchkey:/var/lib/latchkey:/sbin/nologin\n' "$uid" "$uid" > "$root/etc/passwd"
printf 'root:x:0:\nlatchkey:x:%s:\n' "$uid" > "$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
# Host names: /etc/hosts, then DNS (static glibc has both built in).
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
# The roots a directory's or a mail server's certificate is checked against
# when no ca_file is configured: the build machine's (Debian's
# ca-certificates), if it has them.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
else
  say "no /etc/ssl/certs/ca-certificates.crt here: the image has no CA roots (set ca_file)"
fi
# SQLite puts its temporary files in /tmp.
install -d -m 1777 "$root/tmp"
install -d -m 0700 -o "$uid" -g "$uid" "$root/var/lib/latchkey"
buildah umount "$ctr" >/dev/null

buildah config \
  --user "$uid:$uid" \
  --workingdir /var/lib/latchkey \
  --env SSPM_LISTEN=0.0.0.0:8080 \
  --env 'SSPM_DATABASE_URL=sqlite:///var/lib/latchkey/latchkey.db?mode=rwc' \
  --env SSPM_STATIC_DIR=/usr/share/latchkey/web \
  --volume /var/lib/latchkey \
  --port 8080/tcp \
  --entrypoint '["/usr/bin/latchkey"]' \
  --cmd '["serve"]' \
  --label org.opencontainers.image.title=Latchkey \
  --label org.opencontainers.image.description="Latchkey self-service password manager" \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.licenses=AGPL-3.0-or-later \
  "$ctr"

# A rebuild replaces the tag; the image it pointed at goes.
old=$(buildah images --quiet --no-trunc "$name:$version" 2>/dev/null || true)
buildah commit --quiet --format oci --rm "$ctr" "$name:$version" >/dev/null
trap - EXIT
buildah tag "$name:$version" "$name:latest"
new=$(buildah images --quiet --no-trunc "$name:$version")
if [ -n "$old" ] && [ "$old" != "$new" ]; then
  buildah rmi "$old" >/dev/null 2>&1 || true
fi

archive="$out/latchkey-$version.oci.tar"
rm -f "$archive"
buildah push --quiet "$name:$version" "oci-archive:$archive:$name:$version" >/dev/null
say "built $name:$version ($(buildah images --format '{{.Size}}' "$name:$version" | head -n 1)); archive $archive ($(du -h "$archive" | cut -f1))"
