"""CNI plugins as the simulator models them: how pod traffic crosses nodes and what it costs.

Facts from each project's documentation: flannel's VXLAN backend (VNI 1, UDP 8472, flannel.1,
MTU 1450 on a 1500 underlay), Calico (BGP-routed by default, IP-in-IP tunl0 MTU 1480, VXLAN
vxlan.calico UDP 4789 MTU 1450), Weave Net (fast datapath VXLAN on UDP 6784, weave bridge, MTU
1376), Cilium (VXLAN UDP 8472 by default, cilium_vxlan). Flannel alone does not enforce NetworkPolicy.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CniProfile", "cni_profile", "UNDERLAY_MTU"]

UNDERLAY_MTU = 1500


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
