#!/usr/bin/env bash
# A version of Forumbot into Azure, in the order that keeps it answering: the image is built in the
# registry (unless that version is there already), the database is migrated with it by the one-shot
# job, and only when that succeeded do the app's replicas move to it (Container Apps keeps the old
# revision serving until the new one is ready). Needs the Azure CLI, logged in (az login).
#
#   deployment/azure/rollout.sh [--image-only] RESOURCE_GROUP REGISTRY VERSION [NAME_PREFIX]
#
# --image-only builds the image and stops (the first deployment needs it before main.bicep).
# VERSION is the image tag, e.g. the Teams app's version (1.0.0); NAME_PREFIX is main.bicep's
# namePrefix (forumbot).
set -euo pipefail

image_only=0
if [ "${1:-}" = --image-only ]; then image_only=1; shift; fi
if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
group=$1 registry=$2 version=$3 prefix=${4:-forumbot}
cd "$(dirname "$0")/../.."

server=$(az acr show --name "$registry" --query loginServer --output tsv)
image="$server/forumbot:$version"
if az acr repository show --name "$registry" --image "forumbot:$version" --output none 2>/dev/null; then
  echo "rollout: $image is in the registry already" >&2
else
  echo "rollout: building $image" >&2
  az acr build --registry "$registry" --image "forumbot:$version" --file deployment/Dockerfile .
fi
[ "$image_only" = 1 ] && exit 0

job="$prefix-migrate"
echo "rollout: migrating the database with $image ($job)" >&2
az containerapp job update --resource-group "$group" --name "$job" --image "$image" --output none
execution=$(az containerapp job start --resource-group "$group" --name "$job" --query name --output tsv)
while :; do
  status=$(az containerapp job execution show --resource-group "$group" --name "$job" \
    --job-execution-name "$execution" --query properties.status --output tsv)
  case "$status" in
    Succeeded) break ;;
    Failed | Stopped | Degraded)
      echo "rollout: the migration $execution ended $status; the app still runs the version it ran." >&2
      echo "Its output is in the job's execution history (Azure portal) and in Log Analytics." >&2
      exit 1
      ;;
  esac
  sleep 5
done

echo "rollout: moving $prefix-app to $image" >&2
az containerapp update --resource-group "$group" --name "$prefix-app" --image "$image" --output none
echo "rollout: done; watch it with: az containerapp revision list -g $group -n $prefix-app -o table" >&2
