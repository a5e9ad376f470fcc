#!/usr/bin/env bash
# Two hosts on one machine: two network namespaces joined by a veth pair, each with its own host
# name, OpenMPI's daemons started in them through an rsh agent that enters the namespace, TCP
# only. Trains a GPT at tp 2 × dp 2 across them (one data-parallel replica per host, tensor
# parallelism inside a host) and evaluates it at tp 2 × dp 2; both must equal the in-process
# engine's, bit for bit. Then a host that lacks the data file, and one that sees another file under the same
# path, must fail the job at start-up naming that host and path. Needs root (namespaces); on a
# machine that does not allow them it says so and exits 0. Leaves no namespace, link or process.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build-flags.sh
megatron="$(swift build -c release "${SWIFT_FLAGS[@]}" --show-bin-path)/megatron"

skip() { echo "test-multinode: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root (run as root, or in CI)"
for tool in ip unshare mpirun; do command -v "$tool" > /dev/null || skip "no $tool on this machine"; done

tag="mgt$$"
hosts=("$tag-a" "$tag-b")
scratch="$(mktemp -d)"
cleanup() {
    for h in "${hosts[@]}"; do
        pids=$(ip netns pids "$h" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
        ip netns del "$h" 2>/dev/null || true
    done
    ip link del "${tag}a" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "${hosts[0]}" 2> "$scratch/netns.err" || skip "this machine does not allow network namespaces ($(head -1 "$scratch/netns.err"))"
ip netns add "${hosts[1]}"
ip link add "${tag}a" type veth peer name "${tag}b" || skip "this machine does not allow veth links"
for i in 0 1; do
    side=$([ $i -eq 0 ] && echo a || echo b)
    ip link set "$tag$side" netns "${hosts[$i]}"
    ip -n "${hosts[$i]}" addr add "10.213.$(( $$ % 250 )).$(( i + 1 ))/24" dev "$tag$side"
    ip -n "${hosts[$i]}" link set lo up
    ip -n "${hosts[$i]}" link set "$tag$side" up
done
subnet="10.213.$(( $$ % 250 )).0/24"

# The rsh agent: `agent HOST COMMAND…` runs COMMAND in HOST's network namespace under HOST's own
# host name (a UTS namespace), as ssh would on another machine. A file mounts-HOST beside it
# (lines SOURCE:TARGET) bind-mounts files in that host's private mount namespace: a host that
# lacks a file, or sees a different one under the same path.
cat > "$scratch/agent" <<AGENT
#!/bin/sh
host=\$1; shift
exec ip netns exec "\$host" unshare --uts --mount sh -c '
    hostname "\$0"
    [ -f "$scratch/mounts-\$0" ] && while IFS=: read -r source target; do mount --bind "\$source" "\$target"; done < "$scratch/mounts-\$0"
    eval "\$*"' "\$host" "\$@"
AGENT
chmod +x "$scratch/agent"

# The README's hostfile form: one line per host, slots a multiple of tp.
printf '%s slots=2\n' "${hosts[@]}" > "$scratch/hostfile"

cd "$scratch"
"$megatron" prepare tiny --out data > prepare.log
cat > train.json <<'JSON'
{
  "model": {"family": "gpt", "layers": 2, "hidden": 64, "heads": 4, "sequence_length": 32, "max_positions": 32,
            "vocab_size": 657, "gelu": "tanh"},
  "training": {"steps": 20, "micro_batch": 2, "global_batch": 4, "lr": 3e-3, "warmup_steps": 2, "tp": 2, "dp": 2,
               "log_interval": 5, "train_data": "../data/tiny-gpt2-train.h5",
               "checkpoint_interval": 20, "checkpoint_dir": "checkpoint"}
}
JSON

# mpirun runs on the first host, as a login node would; the second host's daemon is started
# through the agent. TCP only, on the veth subnet; five minutes at most.
multinode() {
    timeout 300 ip netns exec "${hosts[0]}" unshare --uts sh -c 'hostname "$0"; exec "$@"' "${hosts[0]}" \
        mpirun --allow-run-as-root --hostfile "$scratch/hostfile" --mca plm_rsh_agent "$scratch/agent" \
        --mca plm_rsh_no_tree_spawn 1 --mca btl tcp,self --mca oob_tcp_if_include "$subnet" \
        --mca btl_tcp_if_include "$subnet" "$@"
}

echo "test-multinode: megatron train at tp 2 × dp 2: in-process, on one host over TCP, across ${hosts[*]}"
mkdir inprocess onehost multinode roundrobin fail
(cd inprocess && "$megatron" train --config ../train.json > train.log)
(cd onehost && timeout 300 mpirun --allow-run-as-root --oversubscribe --mca btl tcp,self -np 4 "$megatron" train \
    --backend mpi --config ../train.json > train.log 2>&1) || { cat onehost/train.log; exit 1; }
(cd multinode && multinode -np 4 "$megatron" train --backend mpi --config ../train.json > train.log 2>&1) \
    || { cat multinode/train.log; exit 1; }
grep -q "4 ranks on 2 hosts (${hosts[0]}: 2, ${hosts[1]}: 2)" multinode/train.log \
    || { cat multinode/train.log; echo "test-multinode: the run did not span both hosts"; exit 1; }
if grep -q "warning: .*tensor-parallel groups span hosts" multinode/train.log; then
    echo "test-multinode: a tensor-parallel group spans hosts under --map-by slot"; exit 1
fi
for reference in inprocess onehost; do
    "$megatron" verify checkpoints "$reference/checkpoint/checkpoint-00000020.h5" multinode/checkpoint/checkpoint-00000020.h5 \
        > "verify-$reference.log" || { cat "verify-$reference.log"; echo "test-multinode: the checkpoint across hosts differs from the $reference run's"; exit 1; }
done
echo "test-multinode: the checkpoint across hosts equals the in-process and the one-host runs', bit for bit"

echo "test-multinode: megatron eval at tp 2 × dp 2 across the hosts"
metrics() { tail -n 1 | sed -n -e 's/.*"metrics":\({[^}]*}\).*/\1/p'; }
eval_args=(eval --checkpoint inprocess/checkpoint --task wikitext103 --data data/tiny-gpt2-test.h5 --stride 16 --tp 2 --dp 2 --json)
expected=$("$megatron" "${eval_args[@]}" | metrics)
got=$(multinode -np 4 "$megatron" "${eval_args[@]}" --backend mpi | metrics)
[ -n "$expected" ] && [ "$got" = "$expected" ] \
    || { echo "test-multinode: eval across hosts gave '$got', in-process '$expected'"; exit 1; }
echo "test-multinode: eval across hosts matches the in-process engine: $got"

echo "test-multinode: ranks placed round-robin across hosts are warned about"
(cd roundrobin && multinode -np 4 --map-by node "$megatron" train --backend mpi --config ../train.json \
    --set training.steps=2 --set training.warmup_steps=0 > train.log 2>&1) || { cat roundrobin/train.log; exit 1; }
grep -q "warning: 2 of 2 tensor-parallel groups span hosts" roundrobin/train.log \
    || { cat roundrobin/train.log; echo "test-multinode: no placement warning"; exit 1; }

# A host that lacks the data file, then one that reads another file under the same path: the
# job fails before its first step, naming the host and the path.
expect_startup_failure() {
    local what=$1 pattern=$2
    if (cd fail && multinode -np 4 "$megatron" train --backend mpi --config ../train.json) > fail.log 2>&1; then
        cat fail.log; echo "test-multinode: $what did not fail the job"; exit 1
    fi
    grep -q "$pattern" fail.log || { cat fail.log; echo "test-multinode: $what failed without naming host and path"; exit 1; }
    ! grep -q "step " fail.log || { cat fail.log; echo "test-multinode: $what failed only after training began"; exit 1; }
    echo "test-multinode: $what fails at start-up: $(grep -m1 -o "data/tiny-gpt2-train.h5: rank [0-9]* on host [^ ]*" fail.log)"
}
touch empty
echo "$scratch/empty:$scratch/data/tiny-gpt2-train.h5" > "mounts-${hosts[1]}"
expect_startup_failure "another file under the same path" "data/tiny-gpt2-train.h5: rank 2 on host ${hosts[1]} reads another file"
mkdir -p elsewhere && cp -r data elsewhere/ && rm elsewhere/data/tiny-gpt2-train.h5
echo "$scratch/elsewhere/data:$scratch/data" > "mounts-${hosts[1]}"
expect_startup_failure "a missing data file" "data/tiny-gpt2-train.h5: rank 2 on host ${hosts[1]} cannot read it"
echo "test-multinode: passed"
