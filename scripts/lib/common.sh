# Shared settings for Dovetail's scripts. Source it; do not execute it.
# Every version that decides a cache key lives here, and nowhere else.

DOVETAIL_K8S_VERSION="1.34.4"          # kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
DOVETAIL_KWOK_VERSION="v0.8.0"         # kwok, kwokctl
DOVETAIL_AEMM_VERSION="v1.13.0"        # amazon-ec2-metadata-mock (IMDS for the interrupt listener's tests)
DOVETAIL_MOTO_VERSION="5.2.5"          # moto[server] (SQS and EC2 wire protocol for the AWS tests), in a Python venv
DOVETAIL_HELM_VERSION="v4.3.2"         # helm (lint and render charts/dovetail; scripts/generate-manifests), from the Go module proxy
DOVETAIL_PROMETHEUS_VERSION="2.42.0+ds-5+deb12u1"  # Debian's prometheus package (server and promtool), unpacked into a cache
# The container images' base (scripts/build-base-image): these Debian packages' shared libraries under a Java runtime
# jlinked from the building JDK with these modules (jdeps on the three jars, plus jdk.crypto.ec for TLS key exchange).
DOVETAIL_BASE_DEBS="libc6=2.36-9+deb12u14 libgcc-s1=12.2.0-14+deb12u1 libstdc++6=12.2.0-14+deb12u1 zlib1g=1:1.2.13.dfsg-1"
DOVETAIL_BASE_MODULES="java.base,java.compiler,java.desktop,java.naming,java.net.http,java.sql,jdk.crypto.ec,jdk.httpserver,jdk.jfr,jdk.management,jdk.unsupported"

DOVETAIL_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Caches live outside the repository and are keyed by version, so a fresh clone reuses them
# and a version bump rebuilds.
DOVETAIL_CACHE="${DOVETAIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dovetail}"
DOVETAIL_OS="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
  x86_64|amd64) DOVETAIL_ARCH=amd64 ;;
  aarch64|arm64) DOVETAIL_ARCH=arm64 ;;
  *) DOVETAIL_ARCH="$(uname -m)" ;;
esac
# The directory layout fabric8 kube-api-test expects: <dir>/k8s/<version>-<os>-<arch>/{etcd,kube-apiserver,kubectl}.
DOVETAIL_BIN="$DOVETAIL_CACHE/k8s/${DOVETAIL_K8S_VERSION}-${DOVETAIL_OS}-${DOVETAIL_ARCH}"
# Test tools outside the control plane, each keyed by its own version.
DOVETAIL_AEMM="$DOVETAIL_CACHE/tools/ec2-metadata-mock-${DOVETAIL_AEMM_VERSION}-${DOVETAIL_OS}-${DOVETAIL_ARCH}/ec2-metadata-mock"
DOVETAIL_MOTO="$DOVETAIL_CACHE/tools/moto-${DOVETAIL_MOTO_VERSION}/bin/moto_server"
DOVETAIL_HELM="$DOVETAIL_CACHE/tools/helm-${DOVETAIL_HELM_VERSION}-${DOVETAIL_OS}-${DOVETAIL_ARCH}/helm"
DOVETAIL_PROMETHEUS="$DOVETAIL_CACHE/tools/prometheus-${DOVETAIL_PROMETHEUS_VERSION}-${DOVETAIL_ARCH}/usr/bin/prometheus"
export DOVETAIL_CACHE DOVETAIL_BIN DOVETAIL_AEMM DOVETAIL_MOTO

log()  { printf '\033[1;34m[dovetail]\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m[dovetail]\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31m[dovetail] error:\033[0m %s\n' "$*" >&2; exit 1; }

need() { # need <command> <why>
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; it is needed to $2."
}

# build_jars <module>...: the shaded jars (<module>/target/dovetail-<module>.jar), rebuilt only when a
# source file or pom is newer than the jar.
build_jars() {
  local stale=() m jar
  for m in "$@"; do
    jar="$DOVETAIL_REPO/$m/target/dovetail-$m.jar"
    if [ ! -f "$jar" ] || [ -n "$(cd "$DOVETAIL_REPO" && find pom.xml api runtime state "$m" -path '*/target' -prune -o \
        -type f \( -path '*/src/main/*' -o -name 'pom.xml' \) -newer "$jar" -print -quit)" ]; then
      stale+=("$m")
    fi
  done
  [ ${#stale[@]} -eq 0 ] && return 0
  log "building ${stale[*]} (Maven; the first build downloads dependencies)"
  (cd "$DOVETAIL_REPO" && ./mvnw -B -q -ntp package -DskipTests -pl "$(IFS=,; echo "${stale[*]}")" -am) \
    || die "the build failed (run ./mvnw package -DskipTests to see why)"
}
