"""Address and port allocators: Service ClusterIPs, NodePorts, node podCIDRs, pod IPs, LoadBalancer IPs.

Each allocator is a small stateful object owned by one simulated cluster (no global state) and
is deterministic: the random ones draw only from a ``random.Random`` the caller passes in.

Sources:
- ClusterIPs: https://kubernetes.io/docs/concepts/services-networking/cluster-ip-allocation/ and
  pkg/registry/core/service/ipallocator (bitmap.go, ipallocator.go: first/last usable address,
  calculateRangeOffset, upper band first).
- NodePorts: pkg/registry/core/service/portallocator/allocator.go (KEP-3668 static/dynamic bands).
- podCIDRs: kube-controller-manager's range allocator (pkg/controller/nodeipam/ipam/cidrset).
- pod IPs: CNI host-local IPAM (plugins/ipam/host-local/backend/allocator).
- LoadBalancer IPs: a MetalLB-style address pool (lowest free address first).
"""
from __future__ import annotations

import copy
import ipaddress
import random
import socket
from dataclasses import dataclass, field

from ..errors import ConflictError, ValidationError

__all__ = ["ServiceIPAllocator", "PortAllocator", "PodCIDRAllocator", "NodeIPAM", "LoadBalancerPool",
           "parse_port_range", "range_offset"]


def _network(cidr: str, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(cidr, strict=True)
    except (ValueError, TypeError) as exc:
        raise ValidationError(what, repr(cidr), f"is not a valid CIDR ({exc})",
                              "write it like 10.96.0.0/16 or fd00:10:96::/112") from None


def _address(ip, ref: str, what: str = "ip"):
    try:
        return ipaddress.ip_address(ip)
    except (ValueError, TypeError):
        raise ValidationError(ref, what, f"{ip!r} is not a valid IP address",
                              "write it like 10.96.0.10 or fd00::10") from None


def _family(net) -> str:
    return "IPv4" if net.version == 4 else "IPv6"


def range_offset(size: int, lo: int, hi: int, step: int) -> int:
    """KEP-3070/3668 calculateRangeOffset: ``min(max(lo, size/step), hi)``, or 0 for ranges of <= lo."""
    if size <= lo:
        return 0
    return min(max(lo, size // step), hi)


def _scan(start: int, count: int, taken) -> int | None:
    """First free offset in [0, count) scanning forward from ``start`` and wrapping (randomScanStrategy)."""
    for i in range(count):
        at = (start + i) % count
        if not taken(at):
            return at
    return None


def _pick_banded(rng: random.Random, size: int, offset: int, taken) -> int | None:
    """Dynamic allocation: a random start in the upper band [offset, size), then the lower band [0, offset)."""
    upper = size - offset
    if upper > 0:
        at = _scan(rng.randrange(upper), upper, lambda i: taken(offset + i))
        if at is not None:
            return offset + at
    if offset > 0:
        return _scan(rng.randrange(offset), offset, taken)
    return None


class _HeldSet:
    """An allocator's state is immutable values plus `_held`, a set of numbers: a deep copy (all-or-nothing
    apply snapshots every allocator) copies that set, not number by number through copy.deepcopy."""

    def __deepcopy__(self, memo):
        new = copy.copy(self)
        new._held = set(self._held)
        return new


class ServiceIPAllocator(_HeldSet):
    """ClusterIPs of one --service-cluster-ip-range: static band first, dynamic allocation prefers the rest."""

    def __init__(self, cidr: str):
        self.network = _network(cidr, "service CIDR")
        self.cidr = str(self.network)
        self.family = _family(self.network)
        self._ref = f"ServiceCIDR {self.cidr}"
        if self.network.version == 6 and self.network.prefixlen < 64:
            raise ValidationError(self._ref, "cidr", f"shortest allowed prefix length for service CIDR is 64, "
                                  f"got {self.network.prefixlen}")
        # The network address is never handed out; for IPv4 neither is the broadcast address.
        # (For IPv6 the first address is the subnet-router anycast address; the last one is usable.)
        self._first = int(self.network.network_address) + 1
        last = int(self.network.broadcast_address) - (1 if self.network.version == 4 else 0)
        self.size = max(0, last - self._first + 1)
        self.static_band = range_offset(self.network.num_addresses, lo=16, hi=256, step=16)
        self._held: set[int] = set()

    def _ip(self, offset: int) -> str:
        return str(ipaddress.ip_address(self._first + offset))

    def _offset(self, ip) -> int | None:
        addr = _address(ip, self._ref)
        if addr.version != self.network.version:
            return None
        off = int(addr) - self._first
        return off if 0 <= off < self.size else None

    @property
    def first(self) -> str:
        """The first assignable address (network address + 1)."""
        return self._ip(0)

    @property
    def last(self) -> str:
        """The last assignable address (broadcast - 1 for IPv4, the last address for IPv6)."""
        return self._ip(self.size - 1)

    @property
    def static_band_last(self) -> str | None:
        """Last address of the lower (static) band that dynamic allocation uses only when the rest is full."""
        return self._ip(self.static_band - 1) if self.static_band else None

    def contains(self, ip) -> bool:
        """Is ``ip`` an assignable address of this range?"""
        return self._offset(ip) is not None

    def has(self, ip) -> bool:
        """Is ``ip`` currently allocated?"""
        off = self._offset(ip)
        return off is not None and off in self._held

    def allocate(self, rng: random.Random) -> str:
        """AllocateNext: random start in the upper band, scanning forward; the static band only when that is full."""
        off = _pick_banded(rng, self.size, self.static_band, self._held.__contains__)
        if off is None:
            raise ConflictError(self._ref, "clusterIP", "range is full",
                                f"delete a Service or widen --service-cluster-ip-range ({self.cidr})")
        self._held.add(off)
        return self._ip(off)

    def allocate_specific(self, ip) -> None:
        """Allocate(ip): a requested address must be inside the range and not yet taken."""
        off = self._offset(ip)
        if off is None:
            raise ValidationError(self._ref, "clusterIP",
                                  f"provided IP is not in the valid range. The range of valid IPs is {self.cidr}",
                                  f"pick an address between {self.first} and {self.last}, or leave clusterIP "
                                  f"empty to get one assigned")
        if off in self._held:
            raise ConflictError(self._ref, "clusterIP", "provided IP is already allocated",
                                "another Service holds this address; pick another or leave clusterIP empty")
        self._held.add(off)

    def release(self, ip) -> None:
        """Release: returning an unallocated or out-of-range address is a no-op."""
        off = self._offset(ip)
        if off is not None:
            self._held.discard(off)

    def used(self) -> list[str]:
        """Allocated addresses in ascending order."""
        return [self._ip(o) for o in sorted(self._held)]

    def free(self) -> int:
        return self.size - len(self._held)

    def __repr__(self) -> str:
        return f"ServiceIPAllocator({self.cidr!r}, used={len(self._held)})"


def parse_port_range(text: str) -> tuple[int, int]:
    """net.ParsePortRange: "30000-32767", "30000+2767" (base+size-1) or a single port."""
    ref = "--service-node-port-range"
    try:
        s = str(text).strip()
        if "-" in s:
            lo, hi = (int(p) for p in s.split("-", 1))
        elif "+" in s:
            lo, extra = (int(p) for p in s.split("+", 1))
            hi = lo + extra
        else:
            lo = hi = int(s)
    except ValueError:
        raise ValidationError(ref, repr(text), "unable to parse port range",
                              'write it like "30000-32767"') from None
    if not (0 <= lo <= hi <= 65535):
        raise ValidationError(ref, repr(text), "invalid port range", "ports must be 0-65535 and low <= high")
    return lo, hi


class PortAllocator(_HeldSet):
    """NodePorts of --service-node-port-range, with the same static/dynamic bands as ClusterIPs (KEP-3668)."""

    def __init__(self, port_range: str = "30000-32767"):
        self.base, self.end = parse_port_range(port_range)
        self.range = f"{self.base}-{self.end}"
        self.size = self.end - self.base + 1
        self.static_band = range_offset(self.size, lo=16, hi=128, step=32)
        self._ref = f"NodePort range {self.range}"
        self._held: set[int] = set()

    def contains(self, port) -> bool:
        return isinstance(port, int) and self.base <= port <= self.end

    def has(self, port) -> bool:
        return port in self._held

    def allocate(self, rng: random.Random) -> int:
        """AllocateNext: random start in the upper band, then the static band [base, base+offset)."""
        off = _pick_banded(rng, self.size, self.static_band, lambda o: self.base + o in self._held)
        if off is None:
            raise ConflictError(self._ref, "nodePort", "range is full",
                                "delete a NodePort Service or widen --service-node-port-range")
        self._held.add(self.base + off)
        return self.base + off

    def allocate_specific(self, port: int) -> None:
        """Allocate(port): inside the range and free."""
        if not self.contains(port):
            raise ValidationError(self._ref, "nodePort",
                                  f"provided port is not in the valid range. The range of valid ports is {self.range}",
                                  f"pick a nodePort in {self.range}, or omit it to get one assigned")
        if port in self._held:
            raise ConflictError(self._ref, "nodePort", "provided port is already allocated",
                                "another Service uses this nodePort; pick another or omit it")
        self._held.add(port)

    def release(self, port) -> None:
        self._held.discard(port)

    def used(self) -> list[int]:
        return sorted(self._held)

    def free(self) -> int:
        return self.size - len(self._held)

    def __repr__(self) -> str:
        return f"PortAllocator({self.range!r}, used={len(self._held)})"


class PodCIDRAllocator(_HeldSet):
    """Node podCIDRs carved from --cluster-cidr in order (cidrset: round-robin from the next candidate)."""

    def __init__(self, cluster_cidr: str, node_mask: int | None = None):
        self.network = _network(cluster_cidr, "cluster CIDR")
        self.cidr = str(self.network)
        self.node_mask = node_mask if node_mask is not None else (24 if self.network.version == 4 else 64)
        self._ref = f"cluster CIDR {self.cidr}"
        if not (self.network.prefixlen <= self.node_mask <= self.network.max_prefixlen):
            raise ValidationError(self._ref, "node_mask", f"/{self.node_mask} does not fit in {self.cidr}",
                                  f"use a node mask between {self.network.prefixlen} and "
                                  f"{self.network.max_prefixlen}")
        self.count = 1 << (self.node_mask - self.network.prefixlen)
        self._step = 1 << (self.network.max_prefixlen - self.node_mask)
        self._held: set[int] = set()
        self._next = 0

    def _subnet(self, index: int) -> str:
        base = int(self.network.network_address) + index * self._step
        return f"{ipaddress.ip_address(base)}/{self.node_mask}"

    def _index(self, cidr: str) -> int | None:
        sub = _network(cidr, self._ref)
        if sub.prefixlen != self.node_mask or sub.version != self.network.version \
                or not sub.subnet_of(self.network):
            return None
        return (int(sub.network_address) - int(self.network.network_address)) // self._step

    def contains(self, cidr: str) -> bool:
        return self._index(cidr) is not None

    def allocate(self) -> str:
        """AllocateNext: the next unused block after the last one handed out, wrapping around."""
        at = _scan(self._next, self.count, self._held.__contains__)
        if at is None:
            raise ConflictError(self._ref, "podCIDR", "CIDR allocation failed; there are no remaining CIDRs "
                                "left to allocate in the accepted range",
                                "widen --cluster-cidr or use a longer --node-cidr-mask-size")
        self._held.add(at)
        self._next = (at + 1) % self.count
        return self._subnet(at)

    def allocate_specific(self, cidr: str) -> None:
        """Occupy a podCIDR a Node already carries (spec.podCIDR)."""
        at = self._index(cidr)
        if at is None:
            raise ValidationError(self._ref, "podCIDR", f"{cidr} is not a /{self.node_mask} inside {self.cidr}")
        if at in self._held:
            raise ConflictError(self._ref, "podCIDR", f"{cidr} is already allocated to another node")
        self._held.add(at)

    def release(self, cidr: str) -> None:
        at = self._index(cidr)
        if at is not None:
            self._held.discard(at)

    def used(self) -> list[str]:
        return [self._subnet(i) for i in sorted(self._held)]


class _AddressRange(_HeldSet):
    """A contiguous range of addresses held by offset from `_start`: what pod IPAM and the LB pool share."""

    _start: int
    size: int
    _version: int
    _ref: str
    _field: str            # the field a pinned address comes from, for error messages
    _held: set

    def _ip(self, off: int) -> str:
        if self._version == 4:   # inet_ntoa prints a dotted quad as ipaddress does, ten times faster (10,000 pods)
            return socket.inet_ntoa((self._start + off).to_bytes(4, "big"))
        return str(ipaddress.ip_address(self._start + off))

    def _offset(self, ip) -> int | None:
        addr = _address(ip, self._ref)
        off = int(addr) - self._start
        return off if addr.version == self._version and 0 <= off < self.size else None

    def _outside(self) -> str:
        raise NotImplementedError

    def contains(self, ip) -> bool:
        return self._offset(ip) is not None

    def allocate_specific(self, ip) -> None:
        """Reserve a pinned address: it must lie in the range and be free."""
        off = self._offset(ip)
        if off is None:
            raise ValidationError(self._ref, self._field, f"{ip} is not in {self._outside()}")
        if off in self._held:
            raise ConflictError(self._ref, self._field, f"{ip} is already in use")
        self._held.add(off)


class NodeIPAM(_AddressRange):
    """Pod IPs from one node's podCIDR, as CNI host-local hands them out.

    The range starts after the network address; the gateway (.1) is skipped; IPv4 also skips the
    broadcast address. Allocation continues after the last reserved address and wraps, so a
    released address is reused last and a replacement pod gets a new IP.
    """

    _field = "podIP"

    def __init__(self, pod_cidr: str):
        self.network = _network(pod_cidr, "podCIDR")
        self.cidr = str(self.network)
        self._ref = f"podCIDR {self.cidr}"
        self._version = self.network.version
        start = int(self.network.network_address) + 1
        end = int(self.network.broadcast_address) - (1 if self.network.version == 4 else 0)
        self.gateway = str(ipaddress.ip_address(start))
        self._start, self.size = start, max(0, end - start + 1)
        self._held: set[int] = {0}  # the gateway
        self._last = 0

    def _outside(self) -> str:
        return f"the range {self.range}"

    @property
    def range(self) -> str:
        return f"{self._ip(0)}-{self._ip(self.size - 1)}" if self.size else "<empty>"

    def allocate(self) -> str:
        """Next free address after the last reserved one (host-local's RangeIter); pinned addresses
        reserved with allocate_specific do not move that cursor."""
        at = self._last + 1   # the next address is nearly always free: no scan for it
        if at >= self.size or at in self._held:
            at = _scan(at, self.size, self._held.__contains__) if self.size else None
        if at is None:
            raise ConflictError(self._ref, "podIP", f"no IP addresses available in range set: {self.range}",
                                "delete pods on this node or give the node a larger podCIDR")
        self._held.add(at)
        self._last = at
        return self._ip(at)

    def release(self, ip) -> None:
        off = self._offset(ip)
        if off:  # offset 0 is the gateway and never released
            self._held.discard(off)

    def used(self) -> list[str]:
        return [self._ip(o) for o in sorted(self._held) if o != 0]


@dataclass
class LoadBalancerPool(_AddressRange):
    """External IPs for type=LoadBalancer in the simulated cloud: lowest free address of the pool first.

    ``cidr`` is a CIDR ("172.18.255.200/29") or an inclusive range ("172.18.255.200-172.18.255.250");
    every address in it is assignable, as in a MetalLB address pool.
    """

    cidr: str = "172.18.255.200/29"
    _held: set = field(default_factory=set, init=False, repr=False)
    _field = "loadBalancerIP"

    def __post_init__(self):
        ref = f"LoadBalancer pool {self.cidr}"
        if "-" in self.cidr:
            lo, hi = (_address(p.strip(), ref, "pool") for p in self.cidr.split("-", 1))
        else:
            net = _network(self.cidr, ref)
            lo, hi = net.network_address, net.broadcast_address
        if lo.version != hi.version or int(hi) < int(lo):
            raise ValidationError(ref, "pool", "must be a CIDR or a low-high address range")
        self._ref, self._start, self.size = ref, int(lo), int(hi) - int(lo) + 1
        self._version = lo.version

    def _outside(self) -> str:
        return f"the pool {self.cidr}"

    def allocate(self) -> str:
        at = _scan(0, self.size, self._held.__contains__)
        if at is None:
            raise ConflictError(self._ref, "loadBalancerIP", "no available IPs",
                                "delete a LoadBalancer Service or enlarge the pool")
        self._held.add(at)
        return self._ip(at)

    def release(self, ip) -> None:
        off = self._offset(ip)
        if off is not None:
            self._held.discard(off)

    def used(self) -> list[str]:
        return [self._ip(o) for o in sorted(self._held)]
