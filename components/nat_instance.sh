#!/bin/bash
# User data of webstack's NAT instance (Amazon Linux 2023, one network interface, source/
# destination check off). It follows the VPC user guide's "NAT instances" (IPv4 forwarding and
# masquerading out of the primary interface) with what AL2023 needs: it ships no iptables, so
# nftables; a swap file first, as dnf can run out of memory on a 512 MiB t4g.nano; the
# interface named from the default route (ens5 on Nitro, never eth0); and the rule re-applied by a
# systemd unit at every boot, forwarding switched on only once masquerading is in place (so a
# recovered or rebooted instance never forwards untranslated traffic). It runs once per instance:
# webstack replaces the instance when this script changes (user_data_replace_on_change).
set -uo pipefail
log() { echo "nat-instance: $*" | tee /dev/console; }

if ! swapon --show=NAME --noheadings | grep -qx /swapfile; then
    dd if=/dev/zero of=/swapfile bs=1M count=1024 status=none && chmod 600 /swapfile \
        && mkswap /swapfile > /dev/null && swapon /swapfile \
        && echo '/swapfile none swap defaults 0 0' >> /etc/fstab
fi
# The Elastic IP is attached just after launch: retry until dnf reaches its repositories.
for attempt in $(seq 1 30); do
    command -v nft > /dev/null && break
    dnf install -y -q nftables || { log "dnf failed (attempt $attempt), retrying"; sleep 20; }
done
command -v nft > /dev/null || { log "FATAL: nftables is not installed"; exit 1; }

cat > /usr/local/sbin/nat-instance-up <<'SCRIPT'
#!/bin/bash
set -uo pipefail
for _ in $(seq 1 90); do
    IFACE="$(ip -o -4 route show to default | awk '{print $5; exit}')"
    [ -n "$IFACE" ] && break
    sleep 2
done
if [ -z "${IFACE:-}" ]; then
    sysctl -q -w net.ipv4.ip_forward=0
    echo "nat-instance-up: no default route: not forwarding" >&2
    exit 1
fi
nft -f - <<NFT
table ip nat_instance
delete table ip nat_instance
table ip nat_instance {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "$IFACE" masquerade
    }
}
NFT
if ! nft list chain ip nat_instance postrouting | grep -q masquerade; then
    sysctl -q -w net.ipv4.ip_forward=0
    echo "nat-instance-up: masquerading is not in place: not forwarding" >&2
    exit 1
fi
# Replies leave by the interface they came in on: no ICMP redirects to the private hosts.
sysctl -q -w net.ipv4.conf.all.send_redirects=0 "net.ipv4.conf.$IFACE.send_redirects=0"
sysctl -q -w net.ipv4.ip_forward=1
echo "nat-instance-up: masquerading out of $IFACE"
SCRIPT
chmod 0755 /usr/local/sbin/nat-instance-up

cat > /etc/systemd/system/nat-instance.service <<'UNIT'
[Unit]
Description=NAT instance: masquerading and IPv4 forwarding
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/nat-instance-up

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now nat-instance.service || { log "FATAL: nat-instance.service failed"; exit 1; }
log "ready: $(nft list table ip nat_instance | tr -s ' \n' ' ')"
