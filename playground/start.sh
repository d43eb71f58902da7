#!/usr/bin/env bash
# Microsoft 365 Agents Playground next to a running Forumbot: Teams' chat, cards and channels in a
# browser tab, without a tenant or a tunnel. Its users, team and channel come from
# .m365agentsplayground.yml beside this script.
#
#   playground/start.sh [BOT_PORT]        install the playground if needed, start it, print the address
#   playground/start.sh --install         only install it (tests/playground needs it)
#   playground/start.sh --aad-object-id   print the Entra object id of the playground's user, for
#                                         FORUMBOT_ADMIN_IDS
#
# BOT_PORT defaults to FORUMBOT_PORT or 3978. PLAYGROUND_PORT (56150) is the port to serve on; when
# it is taken the playground picks another and the address printed says which. The browser is not
# opened unless TEAMSAPPTESTER_BROWSER is set to something other than "none".
set -euo pipefail

PLAYGROUND_VERSION=0.2.28
PACKAGE=@microsoft/m365agentsplayground

here=$(cd "$(dirname "$0")" && pwd)
prefix="$(dirname "$here")/.tools/playground"
binary="$prefix/node_modules/.bin/agentsplayground"

install() {
  if grep -qs "\"version\": \"$PLAYGROUND_VERSION\"" "$prefix/node_modules/$PACKAGE/package.json" \
    && [ -x "$binary" ]; then
    return
  fi
  if ! command -v npm >/dev/null; then
    echo "playground: npm is missing; install Node.js 20 or later" >&2
    exit 1
  fi
  echo "Installing $PACKAGE@$PLAYGROUND_VERSION into .tools/playground" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$prefix" \
    "$PACKAGE@$PLAYGROUND_VERSION" >/dev/null
}

case "${1:-}" in
  --install)
    install
    exit 0
    ;;
  --aad-object-id)
    awk '/^currentUser:/ { inside = 1; next } inside && /^[^ #]/ { exit }
      inside && $1 == "aadObjectId:" { print $2; exit }' "$here/.m365agentsplayground.yml"
    exit 0
    ;;
  -h | --help)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac

bot_port=${1:-${FORUMBOT_PORT:-3978}}
install
for attempt in $(seq 50); do  # the bot may be starting beside us
  if (exec 3<>"/dev/tcp/127.0.0.1/$bot_port") 2>/dev/null; then
    break
  elif [ "$attempt" = 50 ]; then
    echo "playground: nothing answers on port $bot_port; start the bot (./dev run --bot-only)" >&2
  fi
  sleep 0.2
done

export TEAMSAPPTESTER_BROWSER=${TEAMSAPPTESTER_BROWSER:-none}
cd "$here"  # the playground reads its config from, and writes devTools/ into, its working folder
log="$here/devTools/m365agentsplayground.log"
# The playground becomes this process (a signal to it stops the playground); its output goes
# through a filter that turns "Listening on PORT" into the address and, when it ends, shows the
# errors of its log, where a bad config file is reported.
exec "$binary" -e "http://127.0.0.1:$bot_port/api/messages" -c msteams -p "${PLAYGROUND_PORT:-56150}" \
  --disable-telemetry > >(
  while IFS= read -r line; do
    case "$line" in
      "Listening on "*) echo "Agents Playground for Forumbot: open http://localhost:${line#Listening on } (log: $log)" ;;
      *) echo "$line" ;;
    esac
  done
  grep -E '^error ' "$log" >&2 || true
)
