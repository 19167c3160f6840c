#!/usr/bin/env bash
# package.sh: build dist/SA-Eventgen-<version>.spl, the Splunk app, and leave the binary it
# packages beside it as dist/eventgen (what deploy/Containerfile puts in the container image).
#
# The app is assembled in a staging folder from
#   app/       metadata/, README/, static/ icons, README.md
#   default/   app.conf, inputs.conf, server.conf, props.conf, eventgen.conf, and
#              data/ui/views/eventgen_metrics.xml (the metrics dashboard)
#   samples/   sample files
#   bin/       modinput_eventgen, an sh launcher for splunkd's platform-neutral bin/ folder
#   the release binary, as linux_x86_64/bin/modinput_eventgen (the one binary serves as the
#              modular input and as the eventgen CLI)
#   README/eventgen.conf.spec, written by the binary itself (`eventgen spec`)
# and written as a gzipped tar with one top folder, no ./ prefixes, no dot files, 0644 files,
# 0755 folders and executables, owner 0:0 and a fixed mtime (the last commit's time).
#
# The binary: splunkd starts it with its own environment, including LD_LIBRARY_PATH and
# LD_PRELOAD pointing at Splunk's bundled libraries, so it must not load any shared library at
# all. It is built with -C target-feature=+crt-static and -C relocation-model=static: a fully
# static, non-PIE executable with no dynamic section, no interpreter and no DT_NEEDED, which
# ldd reports as "not a dynamic executable". TLS (for HEC) uses rustls, never OpenSSL.
# Trade-offs of non-PIE: no ASLR for the executable image, and AppInspect's opt-in
# aarch64_compatibility check (not part of the cloud or private tags) fails non-PIE ELF files.
#
# Two ways to get there, chosen before anything is built:
#   musl (preferred, used for releases): x86_64-unknown-linux-musl, when a musl C compiler is
#     present (musl-gcc from musl-tools, x86_64-linux-musl-gcc, or CC_x86_64_unknown_linux_musl;
#     ring, rustls's crypto, compiles C for the target) and rustup has or can add the target.
#   gnu (fallback, no extra packages): x86_64-unknown-linux-gnu with the same flags, linked
#     against glibc's static libc.a (part of libc6-dev, which any C toolchain has). Caveats of
#     a static glibc: functions that go through NSS (getaddrinfo for host names, getpwnam)
#     dlopen glibc's shared NSS modules at run time and need the very glibc version the binary
#     was linked with, so resolving a HEC or syslog server given by host name may fail or
#     misbehave on another system; numeric addresses and everything else work. Fine for tests
#     and for a package used on the build machine; release packages are built with musl.
#
# Environment:
#   EVENTGEN_BIN=path    package this binary instead of building one (for testing the app
#                        shell; a dynamic binary is then allowed, with a warning)
#   EVENTGEN_LIBC=musl|gnu  force one of the two ways above (the default picks musl if it can)
#   EVENTGEN_SKIP_SPEC=1 if `<binary> spec` fails, ship a placeholder eventgen.conf.spec and
#                        skip the `--scheme` smoke test (only for binaries without the CLI)
#   DIST_DIR=dir         where to write the .spl and the binary (default: dist)
#   CARGO_TARGET_DIR and cargo's other settings are honoured: cargo says where it builds.
set -euo pipefail

cd "$(dirname "$0")"
app_id=SA-Eventgen
scheme=modinput_eventgen
dist=${DIST_DIR:-dist}

die() { echo "package.sh: ERROR $*" >&2; exit 1; }
note() { echo "package.sh: $*" >&2; }

version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || die "cannot read the version from Cargo.toml"
# app.conf carries the version twice ([launcher] and [id]); both must match the crate.
n=$(grep -cE "^version *= *${version//./\\.} *$" default/app.conf || true)
[ "$n" = 2 ] || die "default/app.conf must say 'version = $version' in [launcher] and [id]"

# Prerequisites first, so that a missing tool is reported in a second, not after a build.
need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on PATH (needed to $why)"
  done
}
why="assemble the package" need tar gzip find sed mktemp
[ -n "${EVENTGEN_BIN:-}" ] || why="build the binary" need cargo rustup file ldd

# musl needs its C compiler and the rust target; gnu needs a C compiler with a static libc.
musl_cc() {
  [ -n "${CC_x86_64_unknown_linux_musl:-}" ] || command -v x86_64-linux-musl-gcc >/dev/null 2>&1 \
    || command -v musl-gcc >/dev/null 2>&1
}
musl_target() {
  rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl >&2
}
gnu_static() {
  command -v cc >/dev/null 2>&1 || return 1
  libc_a=$(cc -print-file-name=libc.a 2>/dev/null) && [ -f "$libc_a" ]
}
pick_libc() {
  case "${EVENTGEN_LIBC:-}" in
    musl)
      musl_cc || die "EVENTGEN_LIBC=musl: no musl C compiler (apt-get install musl-tools, or set CC_x86_64_unknown_linux_musl)"
      musl_target || die "EVENTGEN_LIBC=musl: rustup cannot add x86_64-unknown-linux-musl"
      echo musl ;;
    gnu)
      gnu_static || die "EVENTGEN_LIBC=gnu: no C compiler with a static libc.a (install libc6-dev)"
      echo gnu ;;
    "")
      if musl_cc && musl_target; then
        echo musl
      elif gnu_static; then
        note "no musl C compiler (musl-gcc): building a static binary with glibc instead (see the caveats at the top of package.sh; release packages use musl)"
        echo gnu
      else
        die "cannot build a static binary: install musl-tools (musl-gcc), or a C compiler with glibc's static libc.a (libc6-dev)"
      fi ;;
    *) die "EVENTGEN_LIBC must be musl or gnu, not '$EVENTGEN_LIBC'" ;;
  esac
}

if [ -n "${EVENTGEN_BIN:-}" ]; then
  bin=$EVENTGEN_BIN
  [ -x "$bin" ] || die "EVENTGEN_BIN=$bin is not an executable file"
  if ldd "$bin" >/dev/null 2>&1; then
    note "WARN $bin is dynamically linked; fine for testing the app shell, not for release"
  fi
else
  libc=$(pick_libc)
  target=x86_64-unknown-linux-$libc
  # Where cargo builds (CARGO_TARGET_DIR, .cargo/config.toml's build.target-dir, or ./target).
  meta=$(cargo metadata --format-version 1 --no-deps) || die "cargo metadata failed"
  target_dir=$(printf '%s' "$meta" | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  [ -n "$target_dir" ] || die "cargo metadata did not say where the target folder is"
  note "building a static $target binary in $target_dir (the first build takes minutes)"
  flags="-C target-feature=+crt-static -C relocation-model=static"
  env "CARGO_TARGET_X86_64_UNKNOWN_LINUX_${libc^^}_RUSTFLAGS=$flags" \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --release --locked --target "$target" --bin eventgen
  bin=$target_dir/$target/release/eventgen
  info=$(file -b "$bin")
  case "$info" in
    *ELF\ 64-bit*x86-64*statically\ linked*) ;;
    *) die "$bin is not a static x86-64 executable: $info" ;;
  esac
  ldd_out=$(ldd "$bin" 2>&1 || true)
  case "$ldd_out" in
    *"not a dynamic executable"*) ;;
    *) die "ldd finds a dynamic section in $bin: $ldd_out" ;;
  esac
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/$app_id
mkdir -p "$root/default" "$root/README" "$root/bin" "$root/linux_x86_64/bin"

cp -R app/. "$root/"
cp -R default/. "$root/default/"
[ -d samples ] && cp -R samples "$root/samples"
cp bin/$scheme "$root/bin/$scheme"
cp "$bin" "$root/linux_x86_64/bin/$scheme"

# Run the binary in an empty folder with an empty environment, as a check that it needs
# nothing from the build machine, and let it write its own spec file.
empty=$stage/empty
mkdir "$empty"
spec=$root/README/eventgen.conf.spec
if (cd "$empty" && env -i "$bin" spec) >"$spec" 2>"$stage/spec.err" && [ -s "$spec" ]; then
  scheme_xml=$(cd "$empty" && env -i "$bin" --scheme) || die "'$bin --scheme' failed"
  case "$scheme_xml" in
    *"<scheme>"*"</scheme>"*) ;;
    *) die "'$bin --scheme' printed no <scheme> document" ;;
  esac
elif [ "${EVENTGEN_SKIP_SPEC:-}" = 1 ]; then
  note "WARN '$bin spec' failed; EVENTGEN_SKIP_SPEC=1, so shipping a placeholder eventgen.conf.spec"
  cat >"$spec" <<'SPEC'
# Placeholder written by package.sh with EVENTGEN_SKIP_SPEC=1: this package was built from a
# binary that cannot print the real specification. Do not release it.
[<sample file name or regular expression>]
disabled = <boolean>
SPEC
else
  cat "$stage/spec.err" >&2
  die "'$bin spec' failed or printed nothing, so README/eventgen.conf.spec cannot be written (EVENTGEN_SKIP_SPEC=1 ships a placeholder)"
fi

# Nothing AppInspect rejects: dot files, local settings, spaces in names.
find "$root" -name '.*' -prune -exec rm -rf {} +
[ ! -e "$root/local" ] && [ ! -e "$root/metadata/local.meta" ] || die "local settings must not be packaged"
bad=$(find "$root" -name '* *')
[ -z "$bad" ] || die "file names with spaces: $bad"

find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/bin/$scheme" "$root/linux_x86_64/bin/$scheme"

mtime=$(git log -1 --format=%ct 2>/dev/null || date +%s)
mkdir -p "$dist"
out=$dist/$app_id-$version.spl
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
  -C "$stage" -cf - "$app_id" | gzip -n -9 >"$out.tmp"
mv "$out.tmp" "$out"
note "wrote $out ($(du -h "$out" | cut -f1))"
# The same binary on its own, for the container image (deploy/Containerfile).
cp "$bin" "$dist/eventgen.tmp"
chmod 0755 "$dist/eventgen.tmp"
mv "$dist/eventgen.tmp" "$dist/eventgen"
note "wrote $dist/eventgen"
