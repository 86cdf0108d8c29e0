"""CNI plugins as the simulator models them: how pod traffic crosses nodes and what it costs.

Facts from each project's documentation: flannel's VXLAN backend (VNI 1, UDP 8472, flannel.1,
MTU 1450 on a 1500 underlay), Calico (BGP-routed by default, IP-in-IP tunl0 MTU 1480, VXLAN
vxlan.calico UDP 4789 MTU 1450), Weave Net (fast datapath VXLAN on UDP 6784, weave bridge, MTU
1376), Cilium (VXLAN UDP 8472 by default, cilium_vxlan). Flannel alone does not enforce NetworkPolicy.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CniProfile", "cni_profile", "UNDERLAY_MTU", "configured_pod_mtu", "largest_packet", "mtu_black_hole",
           "TCP_IP_HEADERS"]

UNDERLAY_MTU = 1500
TCP_IP_HEADERS = 40        # IPv4 (20) + TCP (20) bytes around each segment's payload


@dataclass(frozen=True)
class CniProfile:
    """How one plugin (in one mode) wires pods and carries traffic between nodes."""

    name: str
    mode: str                       # "vxlan", "bgp", "ipip", "fastdp"
    enforces_network_policy: bool
    bridge: str | None              # same-node traffic crosses this bridge (None: routed per veth)
    veth_prefix: str                # host-side veth names
    tunnel_device: str | None       # None: routed without encapsulation
    encapsulation: str | None       # "VXLAN", "IP-in-IP"
    udp_port: int | None
    vni: int | None
    overhead: int                   # bytes of encapsulation per packet
    note: str

    @property
    def pod_mtu(self) -> int:
        return UNDERLAY_MTU - self.overhead

    def describe(self) -> str:
        how = f"{self.encapsulation} over {self.tunnel_device}" if self.encapsulation else "plain routing (no encapsulation)"
        policy = "enforces NetworkPolicy" if self.enforces_network_policy else "does NOT enforce NetworkPolicy"
        return f"{self.name} ({self.mode}): {how}, pod MTU {self.pod_mtu}, {policy}"


_PROFILES = {
    ("flannel", "vxlan"): CniProfile("flannel", "vxlan", False, "cni0", "veth", "flannel.1", "VXLAN", 8472, 1, 50,
                                     "overlay: each node's pod subnet is reached through a VXLAN tunnel"),
    ("calico", "bgp"): CniProfile("calico", "bgp", True, None, "cali", None, None, None, None, 0,
                                  "routed: BGP (BIRD) advertises each node's pod block; no encapsulation"),
    ("calico", "ipip"): CniProfile("calico", "ipip", True, None, "cali", "tunl0", "IP-in-IP", None, None, 20,
                                   "overlay: IP-in-IP between nodes when they are not on one L2 segment"),
    ("calico", "vxlan"): CniProfile("calico", "vxlan", True, None, "cali", "vxlan.calico", "VXLAN", 4789, 4096, 50,
                                    "overlay: VXLAN without BGP"),
    ("weave", "fastdp"): CniProfile("weave", "fastdp", True, "weave", "vethwe", "vxlan-6784", "VXLAN", 6784, None, 124,
                                    "overlay mesh: routers gossip topology; fast datapath uses kernel VXLAN"),
    ("cilium", "vxlan"): CniProfile("cilium", "vxlan", True, None, "lxc", "cilium_vxlan", "VXLAN", 8472, None, 50,
                                    "eBPF datapath; VXLAN tunnel mode by default"),
}


def cni_profile(cni: str, calico_mode: str = "bgp") -> CniProfile:
    """The profile for a CNI name (calico's mode chosen by calico_mode)."""
    mode = {"flannel": "vxlan", "calico": calico_mode, "weave": "fastdp", "cilium": "vxlan"}[cni]
    return _PROFILES[(cni, mode)]


def configured_pod_mtu(profile: CniProfile, calico_config: dict | None) -> int:
    """The MTU of the pods' veths (and tunnel device): Calico's manifest install reads it from ConfigMap
    kube-system/calico-config, key veth_mtu (Calico docs, "Configure MTU to maximize network performance");
    without it the plugin's own value, the underlay's MTU minus its encapsulation."""
    if profile.name == "calico" and calico_config:
        value = str((calico_config.get("data") or {}).get("veth_mtu", "")).strip()
        if value.isdigit() and 576 <= int(value) <= 9000:
            return int(value)
    return profile.pod_mtu


def largest_packet(payload_bytes: int, pod_mtu: int) -> int:
    """TCP sends segments of at most MSS = interface MTU - 40 bytes: the largest IP packet a payload makes."""
    return min(payload_bytes + TCP_IP_HEADERS, pod_mtu)


def mtu_black_hole(profile: CniProfile, packet_bytes: int) -> str | None:
    """Why an encapsulated packet is lost, or None: the underlay carries at most UNDERLAY_MTU bytes, the tunnel
    adds `overhead` (VXLAN 50: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14, as Calico's and Flannel's docs
    give), so a pod packet larger than UNDERLAY_MTU - overhead does not fit. TCP sets Don't Fragment; the ICMP
    "fragmentation needed" that would lower the sender's MSS (path MTU discovery) is filtered, so every
    retransmission of the full-size segment is dropped as well: the connection opens, small requests work, a
    large one hangs."""
    path_mtu = UNDERLAY_MTU - profile.overhead
    if not profile.encapsulation or packet_bytes <= path_mtu:
        return None
    return (f"dropped: a {packet_bytes}-byte packet (DF set) does not fit the {profile.encapsulation} path MTU "
            f"{path_mtu} (underlay {UNDERLAY_MTU} - {profile.overhead} bytes of {profile.encapsulation}); the ICMP "
            f"'fragmentation needed' is filtered, so path MTU discovery never shrinks the segments and the "
            f"request hangs until the client times out")
