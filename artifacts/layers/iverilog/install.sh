#!/usr/bin/env bash
# Icarus Verilog ${IVERILOG_VERSION} (a tag such as v12_0) from source.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "$0")/../../lib/common.sh"

require_var IVERILOG_VERSION
tag=$IVERILOG_VERSION
[[ "$tag" =~ ^[A-Za-z0-9._-]+$ ]] || die "IVERILOG_VERSION='$tag' is not a release tag (e.g. v12_0)"

make_workdir
fetch "https://github.com/steveicarus/iverilog/archive/refs/tags/${tag}.tar.gz" "$WORK/iverilog.tar.gz" "${IVERILOG_SHA256:-}"
mkdir -p "$WORK/src"
tar -xzf "$WORK/iverilog.tar.gz" -C "$WORK/src" --strip-components=1 --no-same-owner

apt_build_deps build-essential autoconf gperf flex bison libreadline-dev zlib1g-dev libbz2-dev

(
    cd "$WORK/src"
    sh autoconf.sh
    ./configure --prefix=/usr/local
    make -j"$(nproc)"
    make check
    make install
)

# Keep the runtime libraries of what was just installed (e.g. readline for vvp).
mapfile -t built < <(find /usr/local/bin/iverilog /usr/local/bin/vvp /usr/local/lib/ivl -type f 2>/dev/null)
[ "${#built[@]}" -gt 0 ] || die "make install put no iverilog files in /usr/local"
apt_purge_build_deps "${built[@]}"

iverilog -V 2>&1 | head -n 1 || true
cat >"$WORK/t.v" <<'VERILOG'
module t;
  initial begin
    $display("iverilog ok");
    $finish;
  end
endmodule
VERILOG
iverilog -o "$WORK/t.vvp" "$WORK/t.v"
vvp "$WORK/t.vvp"
