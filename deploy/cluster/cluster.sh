#!/bin/sh
# cluster.sh up|down|status: a demo Helios cluster on one Docker engine (`make cluster`).
#   three etcd members and three masters: containers on a user-defined network with fixed
#   addresses (etcd listens on IPs, not names); three agents: containers on the host network
#   with the Docker socket, so health checks and port probes see the host's ports.
# Every container and the network carry the label helios.cluster=$CLUSTER: `down` removes
# exactly those, and the containers of jobs the cluster's agents started. The masters
# serve plain HTTP with --insecure (no TLS, no authentication): a local demo only;
# docs/operations.md says how TLS and tokens are set up.
# Environment: CLUSTER (name, default helios-cluster), CLUSTER_IMAGE (built by `make
# cluster`), CLUSTER_NET (first three octets of the /24, default 10.213.77),
# CLUSTER_METRICS_BASE (agents' /metrics on 127.0.0.1:BASE+N, default 15800).
set -eu
CLUSTER=${CLUSTER:-helios-cluster}
IMAGE=${CLUSTER_IMAGE:-helios-cluster:dev}
NET=${CLUSTER_NET:-10.213.77}
METRICS_BASE=${CLUSTER_METRICS_BASE:-15800}
LABEL="helios.cluster=$CLUSTER"

etcd_ip() { echo "$NET.1$1"; }
master_ip() { echo "$NET.2$1"; }
endpoints() { echo "http://$(etcd_ip 1):2379,http://$(etcd_ip 2):2379,http://$(etcd_ip 3):2379"; }
etcd_flags() { for i in 1 2 3; do printf ' --etcd http://%s:2379' "$(etcd_ip $i)"; done; }

up() {
	docker network create --label "$LABEL" --subnet "$NET.0/24" "$CLUSTER" >/dev/null
	initial=""
	for i in 1 2 3; do initial="$initial${initial:+,}etcd-$i=http://$(etcd_ip $i):2380"; done
	for i in 1 2 3; do
		docker run -d --label "$LABEL" --name "$CLUSTER-etcd-$i" --network "$CLUSTER" --ip "$(etcd_ip $i)" \
			--entrypoint helios-etcd "$IMAGE" --name "etcd-$i" --data-dir /var/lib/helios/etcd \
			--client-url "http://$(etcd_ip $i):2379" --peer-url "http://$(etcd_ip $i):2380" \
			--initial-cluster "$initial" >/dev/null
	done
	for i in 1 2 3; do
		# shellcheck disable=SC2046
		docker run -d --label "$LABEL" --name "$CLUSTER-master-$i" --network "$CLUSTER" --ip "$(master_ip $i)" \
			--entrypoint helios-master "$IMAGE" $(etcd_flags) --cluster-id "$CLUSTER" \
			--name "master-$i" --http 0.0.0.0:5801 --insecure >/dev/null
	done
	for i in 1 2 3; do
		# shellcheck disable=SC2046
		docker run -d --label "$LABEL" --name "$CLUSTER-agent-$i" --network host \
			-v /var/run/docker.sock:/var/run/docker.sock \
			--entrypoint helios-agent "$IMAGE" $(etcd_flags) --cluster-id "$CLUSTER" \
			--name "$CLUSTER-agent-$i" --state-dir "/var/lib/helios/agent-$i" \
			--metrics "127.0.0.1:$((METRICS_BASE + i))" --labels "cluster=$CLUSTER,node=$i" >/dev/null
	done
	status
}

status() {
	docker ps -a --filter "label=$LABEL" --format '{{.Names}}\t{{.Status}}'
	echo "masters: -z http://$(master_ip 1):5801,http://$(master_ip 2):5801,http://$(master_ip 3):5801"
	echo "etcd:    $(endpoints)"
}

down() {
	# The cluster's own containers, then the jobs' containers its agents started (labelled
	# with the agent's host name), then the network.
	ids=$(docker ps -aq --filter "label=$LABEL")
	for i in 1 2 3; do ids="$ids $(docker ps -aq --filter "label=helios.host=$CLUSTER-agent-$i")"; done
	ids=$(echo $ids)
	if [ -n "$ids" ]; then docker rm -f $ids >/dev/null; fi
	nets=$(docker network ls -q --filter "label=$LABEL")
	if [ -n "$nets" ]; then docker network rm $nets >/dev/null; fi
	echo "cluster $CLUSTER removed"
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
