#!/bin/sh
# cluster.sh up|down|status: a demo Helios cluster on one Docker engine (`make cluster`).
#   three etcd members and three masters: containers on a user-defined network with fixed
#   addresses (etcd listens on IPs, not names); three agents: containers on the host network
#   with the Docker socket, so health checks and port probes see the host's ports.
# Secured by default, laid out as a real install would be (docs/operations.md, "A local
# multi-node cluster"): a CA and certificates made here (helios-cluster-certs); etcd serves
# clients and peers over TLS with authentication on (JWT tokens signed with one key pair,
# so any member accepts a token another issued and clients fail over without logging in
# again), masters log in as helios-master and each agent as its own helios-agent-<host>
# (helios-master etcd-auth); masters serve HTTPS with bearer tokens, and an admin token is
# made for the operator. Every secret lives in
# CLUSTER_DIR (0700; keys, passwords and tokens 0600), and each container mounts only the
# files its role needs. CLUSTER_INSECURE=1 starts the plain layout instead: etcd in clear
# text without authentication, masters with --insecure (no TLS, no authentication).
# Every container and the network carry the label helios.cluster=$CLUSTER: `down` removes
# exactly those, the containers of jobs the cluster's agents started, and CLUSTER_DIR
# (only if it is the directory `up` made for this cluster).
# Environment: CLUSTER (name, default helios-cluster), CLUSTER_IMAGE (built by `make
# cluster`), CLUSTER_NET (first three octets of the /24, default 10.213.77),
# CLUSTER_METRICS_BASE (agents' /metrics on 127.0.0.1:BASE+N, default 15800), CLUSTER_DIR
# (certificates, passwords, tokens; default ./$CLUSTER), CLUSTER_CERTS (the
# helios-cluster-certs binary), CLUSTER_INSECURE.
set -eu
CLUSTER=${CLUSTER:-helios-cluster}
IMAGE=${CLUSTER_IMAGE:-helios-cluster:dev}
NET=${CLUSTER_NET:-10.213.77}
METRICS_BASE=${CLUSTER_METRICS_BASE:-15800}
DIR=${CLUSTER_DIR:-$CLUSTER}
CERTS=${CLUSTER_CERTS:-helios-cluster-certs}
INSECURE=${CLUSTER_INSECURE:-}
LABEL="helios.cluster=$CLUSTER"
MARKER=.helios-cluster # in DIR: the name of the cluster it was made for
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac # docker -v wants an absolute path

etcd_ip() { echo "$NET.1$1"; }
master_ip() { echo "$NET.2$1"; }
agent_name() { echo "$CLUSTER-agent-$1"; }
secured() { [ -z "$INSECURE" ]; }
scheme() { if secured; then echo https; else echo http; fi; }
endpoints() { echo "$(scheme)://$(etcd_ip 1):2379,$(scheme)://$(etcd_ip 2):2379,$(scheme)://$(etcd_ip 3):2379"; }
masters() { echo "$(scheme)://$(master_ip 1):5801,$(scheme)://$(master_ip 2):5801,$(scheme)://$(master_ip 3):5801"; }
etcd_flags() { for i in 1 2 3; do printf ' --etcd %s://%s:2379' "$(scheme)" "$(etcd_ip $i)"; done; }

up() {
	if secured; then
		if [ -e "$DIR" ]; then
			echo "$0: $DIR exists (a cluster's certificates and secrets): run '$0 down' (make cluster-down) first, it removes it" >&2
			exit 1
		fi
		secrets
	fi
	docker network create --label "$LABEL" --subnet "$NET.0/24" "$CLUSTER" >/dev/null
	initial=""
	for i in 1 2 3; do initial="$initial${initial:+,}etcd-$i=$(scheme)://$(etcd_ip $i):2380"; done
	for i in 1 2 3; do
		set -- --name "etcd-$i" --data-dir /var/lib/helios/etcd --initial-cluster "$initial" \
			--client-url "$(scheme)://$(etcd_ip $i):2379" --peer-url "$(scheme)://$(etcd_ip $i):2380"
		if secured; then
			docker run -d --label "$LABEL" --name "$CLUSTER-etcd-$i" --network "$CLUSTER" --ip "$(etcd_ip $i)" \
				-v "$DIR/pki/ca.pem:/etc/helios/ca.pem:ro" \
				-v "$DIR/pki/etcd-$i.pem:/etc/helios/etcd.pem:ro" -v "$DIR/pki/etcd-$i-key.pem:/etc/helios/etcd-key.pem:ro" \
				-v "$DIR/pki/jwt.pem:/etc/helios/jwt.pem:ro" -v "$DIR/pki/jwt-key.pem:/etc/helios/jwt-key.pem:ro" \
				--entrypoint helios-etcd "$IMAGE" "$@" \
				--cert /etc/helios/etcd.pem --key /etc/helios/etcd-key.pem --cacert /etc/helios/ca.pem \
				--jwt-private-key /etc/helios/jwt-key.pem --jwt-public-key /etc/helios/jwt.pem >/dev/null
		else
			docker run -d --label "$LABEL" --name "$CLUSTER-etcd-$i" --network "$CLUSTER" --ip "$(etcd_ip $i)" \
				--entrypoint helios-etcd "$IMAGE" "$@" >/dev/null
		fi
	done
	if secured; then etcd_users; fi
	for i in 1 2 3; do
		# shellcheck disable=SC2046
		set -- $(etcd_flags) --cluster-id "$CLUSTER" --name "master-$i" --http 0.0.0.0:5801
		if secured; then
			docker run -d --label "$LABEL" --name "$CLUSTER-master-$i" --network "$CLUSTER" --ip "$(master_ip $i)" \
				-v "$DIR/pki/ca.pem:/etc/helios/ca.pem:ro" -v "$DIR/etcd-auth/helios-master.password:/etc/helios/etcd.password:ro" \
				-v "$DIR/pki/master-$i.pem:/etc/helios/master.pem:ro" -v "$DIR/pki/master-$i-key.pem:/etc/helios/master-key.pem:ro" \
				-v "$DIR/tokens:/etc/helios/tokens:ro" \
				--entrypoint helios-master "$IMAGE" "$@" \
				--etcd-cacert /etc/helios/ca.pem --etcd-username helios-master --etcd-password-file /etc/helios/etcd.password \
				--tls-cert /etc/helios/master.pem --tls-key /etc/helios/master-key.pem --auth-token-file /etc/helios/tokens >/dev/null
		else
			docker run -d --label "$LABEL" --name "$CLUSTER-master-$i" --network "$CLUSTER" --ip "$(master_ip $i)" \
				--entrypoint helios-master "$IMAGE" "$@" --insecure >/dev/null
		fi
	done
	for i in 1 2 3; do
		# shellcheck disable=SC2046
		set -- $(etcd_flags) --cluster-id "$CLUSTER" --name "$(agent_name $i)" --state-dir "/var/lib/helios/agent-$i" \
			--metrics "127.0.0.1:$((METRICS_BASE + i))" --labels "cluster=$CLUSTER,node=$i"
		if secured; then
			docker run -d --label "$LABEL" --name "$(agent_name $i)" --network host \
				-v /var/run/docker.sock:/var/run/docker.sock -v "$DIR/pki/ca.pem:/etc/helios/ca.pem:ro" \
				-v "$DIR/etcd-auth/helios-agent-$(agent_name $i).password:/etc/helios/etcd.password:ro" \
				--entrypoint helios-agent "$IMAGE" "$@" \
				--etcd-cacert /etc/helios/ca.pem --etcd-username "helios-agent-$(agent_name $i)" \
				--etcd-password-file /etc/helios/etcd.password >/dev/null
		else
			docker run -d --label "$LABEL" --name "$(agent_name $i)" --network host \
				-v /var/run/docker.sock:/var/run/docker.sock --entrypoint helios-agent "$IMAGE" "$@" >/dev/null
		fi
	done
	status
}

# secrets makes DIR: the CA and the certificates of the etcd members and masters (each for
# its own address), the key pair all etcd members sign their JWT authentication tokens
# with, the masters' token file and the operator's admin token.
secrets() {
	mkdir -p "$DIR"
	chmod 700 "$DIR"
	echo "$CLUSTER" >"$DIR/$MARKER"
	set --
	for i in 1 2 3; do set -- "$@" --cert "etcd-$i=$(etcd_ip $i)" --cert "master-$i=$(master_ip $i)"; done
	"$CERTS" --dir "$DIR/pki" --ca-name "$CLUSTER CA" --jwt "$@" >/dev/null
	token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	(
		umask 077
		printf '%s,admin,admin\n' "$token" >"$DIR/tokens"
		printf '%s\n' "$token" >"$DIR/admin.token"
		printf 'export HELIOS_CACERT=%s HELIOS_AUTH_TOKEN=%s\nZ=%s\n' "'$DIR/pki/ca.pem'" "$token" "$(masters)" >"$DIR/env"
	)
}

# etcd_users turns etcd authentication on and gives each agent its user, with
# helios-master etcd-auth in a container on the cluster's network, as the calling user so
# the password files in DIR/etcd-auth are the operator's. The first call waits for the
# members to elect a leader.
etcd_users() {
	try=1
	until out=$(etcd_auth init 2>&1); do
		try=$((try + 1))
		if [ "$try" -gt 60 ]; then
			echo "$0: helios-master etcd-auth init failed:" >&2
			echo "$out" >&2
			exit 1
		fi
		sleep 1
	done
	for i in 1 2 3; do etcd_auth add-agent "$(agent_name $i)" >/dev/null; done
}

etcd_auth() {
	cmd=$1
	shift
	# shellcheck disable=SC2046
	docker run --rm --network "$CLUSTER" --user "$(id -u):$(id -g)" -v "$DIR:/cluster" \
		--entrypoint helios-master "$IMAGE" etcd-auth "$cmd" $(etcd_flags) \
		--etcd-cacert /cluster/pki/ca.pem --dir /cluster/etcd-auth "$@"
}

status() {
	# The layout is the one up chose: secured exactly when it made DIR.
	if [ -f "$DIR/$MARKER" ]; then INSECURE=; else INSECURE=1; fi
	docker ps -a --filter "label=$LABEL" --format '{{.Names}}\t{{.Status}}'
	echo "etcd:    $(endpoints)"
	echo "masters: -z $(masters)"
	if ! secured; then return; fi
	echo "secrets: $DIR (CA pki/ca.pem; etcd passwords etcd-auth/; masters' tokens file tokens)"
	echo "admin token in $DIR/admin.token; use the CLI with"
	echo "  helios -z $(masters) --cacert '$DIR/pki/ca.pem' --auth-token \"\$(cat '$DIR/admin.token')\" hosts"
	echo "or: . '$DIR/env' && helios -z \"\$Z\" hosts"
}

down() {
	# The cluster's own containers, then the jobs' containers its agents started (labelled
	# with the agent's host name), then the network, then the secrets.
	ids=$(docker ps -aq --filter "label=$LABEL")
	for i in 1 2 3; do ids="$ids $(docker ps -aq --filter "label=helios.host=$(agent_name $i)")"; done
	ids=$(echo $ids)
	if [ -n "$ids" ]; then docker rm -f $ids >/dev/null; fi
	nets=$(docker network ls -q --filter "label=$LABEL")
	if [ -n "$nets" ]; then docker network rm $nets >/dev/null; fi
	# Only the directory up made for this cluster: a CLUSTER_DIR pointing elsewhere by
	# mistake is left alone.
	if [ -f "$DIR/$MARKER" ] && [ "$(cat "$DIR/$MARKER")" = "$CLUSTER" ]; then
		rm -rf "$DIR"
		echo "cluster $CLUSTER removed, with its secrets in $DIR"
	else
		echo "cluster $CLUSTER removed"
	fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
