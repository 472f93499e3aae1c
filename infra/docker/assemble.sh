#!/bin/sh
# Assembles one service's runtime tree under /out/<service>, inside the image's build stage:
# the workspace layout (services/<service>, packages/common) with the compiled dist/, the
# migrations, and production dependencies installed from the lockfile. It is what
# `pnpm deploy --prod` does, kept by hand because pnpm 10's deploy follows the lockfile only
# with injected workspace packages, which would cost the live link to packages/common that
# development relies on (and `--legacy` resolves versions anew).
#   infra/docker/assemble.sh <service>     (cwd: the built workspace; PNPM_STORE set)
set -eu
service="$1"
out="/out/$service"
mkdir -p "$out"

# Every manifest, so that the lockfile matches the workspace; only this service's are installed.
find . -name package.json -not -path '*/node_modules/*' -not -path './.tools/*' -not -path './.stack/*' \
  | tar -cf - -T - package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc patches | tar -xf - -C "$out"
(cd "$out" && pnpm install --prod --frozen-lockfile --offline --ignore-scripts --store-dir "$PNPM_STORE" \
  --filter "@shortfeed/$service" --filter @shortfeed/common --config.confirmModulesPurge=false >/dev/null)

for package in "services/$service" packages/common; do
  mkdir -p "$out/$package/dist"
  cp -R "$package/dist/src" "$out/$package/dist/src"
  if [ -d "$package/migrations" ]; then cp -R "$package/migrations" "$out/$package/migrations"; fi
done
# The gateway serves the web UI's build (packages/web/dist) at /.
if [ "$service" = gateway ]; then
  mkdir -p "$out/packages/web"
  cp -R packages/web/dist "$out/packages/web/dist"
fi
# Workspace packages this service does not run (their manifests were only for the lockfile).
for dir in "$out"/services/* "$out"/infra "$out"/test "$out"/bench; do
  case "$dir" in "$out/services/$service") ;; *) rm -rf "$dir" ;; esac
done
rm -rf "$out/patches" "$out/pnpm-lock.yaml" "$out/pnpm-workspace.yaml" "$out/.npmrc"

# What is never run: type declarations, source maps, TypeScript sources, docs (~45 MB a service).
find "$out" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -iname '*.md' -o -iname 'CHANGELOG*' \) -delete
find "$out" -depth -type d -name '@types' -exec rm -rf {} +
