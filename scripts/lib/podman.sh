# podman as the lab runs it (rootful, no registry): the runc runtime (crun fails on hybrid
# cgroup layouts), cgroupfs (no systemd needed as PID 1), events in a file. The interop crate's
# `podman` module uses the same options; keep them in step.
PQ_PODMAN_GLOBAL=(--runtime runc --cgroup-manager cgroupfs --events-backend file)
# Per container: explicit rlimits (without them runc fails to set them), the capabilities and
# device charon with kernel-libipsec needs (routes, raw sockets, a TUN device), and the
# kernel's ping_group_range (podman's default would be written into the namespace it shares).
PQ_PODMAN_RUN=(--ulimit nofile=16384:16384 --ulimit nproc=16384:16384
    --cap-add NET_ADMIN,NET_RAW --device /dev/net/tun --sysctl "net.ipv4.ping_group_range=1 0")

pq_podman() { podman "${PQ_PODMAN_GLOBAL[@]}" "$@"; }
