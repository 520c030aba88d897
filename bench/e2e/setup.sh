#!/usr/bin/env bash
# Install what LunaRoute's end-to-end benchmark needs (Debian 12, root):
#   nginx + wrk from Debian (always), matplotlib for the report's plots (pip, current Python),
#   and with --with-litellm the LiteLLM proxy 1.110.2 in $LITELLM_VENV (default /tmp/litellm-venv).
# Usage: bash bench/e2e/setup.sh [--with-litellm]
# Never installs LiteLLM 1.107.0 (a compromised release): the version is pinned and checked.
set -euo pipefail
VENV=${LITELLM_VENV:-/tmp/litellm-venv}
LITELLM_VERSION=1.110.2
WITH_LITELLM=0
for arg in "$@"; do
  case "$arg" in
    --with-litellm) WITH_LITELLM=1 ;;
    *) echo "setup.sh: unknown argument $arg (usage: setup.sh [--with-litellm])" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk
fi
# The distro nginx service (port 80), if it runs, does not collide with the bench ports.

# Plots in the report (the harness still writes report.md and results.json without it).
if ! "$PY" -c 'import matplotlib' 2>/dev/null; then
  "$PY" -m pip install -q matplotlib
fi

if [ "$WITH_LITELLM" = 0 ]; then
  echo "ready: $(nginx -v 2>&1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), matplotlib $("$PY" -c 'import matplotlib; print(matplotlib.__version__)')"
  exit 0
fi

if [ ! -x "$VENV/bin/litellm" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip packaging
  if ! "$VENV/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION"; then
    # The [proxy] extra of 1.110.2 pins three companions that the package index may lack
    # (litellm-proxy==1.110.2, litellm-proxy-extras==0.4.114.post1,
    # litellm-enterprise==0.1.83.post1; none of them is imported on the request path without
    # a database). Install litellm plus the rest of the extra, with those pins relaxed to the
    # newest release at or below them, and litellm-proxy (imported by nothing) left out.
    echo "setup.sh: 'litellm[proxy]==$LITELLM_VERSION' is not installable as pinned; relaxing its companion pins" >&2
    tmp=$(mktemp -d)
    "$VENV/bin/pip" download -q --no-deps "litellm==$LITELLM_VERSION" -d "$tmp"
    "$VENV/bin/python" - "$tmp" "$LITELLM_VERSION" > "$tmp/reqs.txt" <<'EOF'
import glob, sys, zipfile
from email.parser import Parser
from packaging.requirements import Requirement
tmp, ver = sys.argv[1], sys.argv[2]
whl = glob.glob(f"{tmp}/litellm-{ver}-*.whl")[0]
meta = Parser().parsestr(zipfile.ZipFile(whl).read(f"litellm-{ver}.dist-info/METADATA").decode())
out = [f"litellm=={ver}"]
for line in meta.get_all("Requires-Dist"):
    req = Requirement(line)
    if not (req.marker and req.marker.evaluate({"extra": "proxy"}) and not req.marker.evaluate({"extra": ""})):
        continue
    if req.name == "litellm-proxy":
        continue
    if req.name in ("litellm-proxy-extras", "litellm-enterprise"):
        pin = str(req.specifier).lstrip("=")
        req.specifier = type(req.specifier)(f"<={pin}")
    req.marker = None
    out.append(str(req))
print("\n".join(out))
EOF
    cat "$tmp/reqs.txt" >&2
    "$VENV/bin/pip" install -q -r "$tmp/reqs.txt"
  fi
fi

got=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')
if [ "$got" != "$LITELLM_VERSION" ]; then
  echo "setup.sh: expected litellm $LITELLM_VERSION in $VENV, found $got" >&2
  exit 1
fi
echo "ready: $(nginx -v 2>&1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), litellm $got in $VENV"
