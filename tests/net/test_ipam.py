"""Allocators: ClusterIP and NodePort bands, node podCIDRs, host-local pod IPs, LoadBalancer pools."""
import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelab.errors import ConflictError, ValidationError
from kubelab.net.ipam import (LoadBalancerPool, NodeIPAM, PodCIDRAllocator, PortAllocator, ServiceIPAllocator,
                              parse_port_range, range_offset)


# --- ServiceIPAllocator ---------------------------------------------------------------------------

def test_static_band_of_a_slash_24_matches_the_documented_example():
    """Does 10.96.0.0/24 have a 16-address static band 10.96.0.1-10.96.0.16 and end at .254 (docs example)?"""
    a = ServiceIPAllocator("10.96.0.0/24")
    assert (a.first, a.static_band_last, a.last) == ("10.96.0.1", "10.96.0.16", "10.96.0.254")
    assert a.size == 254


def test_static_band_is_capped_at_256_addresses():
    """Is the static band of a /16 min(max(16, 65536/16), 256) = 256 addresses, ending at 10.96.1.0?"""
    a = ServiceIPAllocator("10.96.0.0/16")
    assert a.static_band == 256 and a.static_band_last == "10.96.1.0"


def test_small_ranges_have_no_static_band():
    """Does a /28 (16 addresses, 14 usable) get no static band, so dynamic allocation uses all of it?"""
    a = ServiceIPAllocator("10.0.0.0/28")
    assert a.static_band == 0
    got = {a.allocate(random.Random(1)) for _ in range(14)}
    assert len(got) == 14


def test_ipv4_network_and_broadcast_are_never_assignable():
    """Are 10.96.0.0 and 10.96.255.255 outside the assignable range of 10.96.0.0/16?"""
    a = ServiceIPAllocator("10.96.0.0/16")
    assert not a.contains("10.96.0.0") and not a.contains("10.96.255.255")
    with pytest.raises(ValidationError, match="provided IP is not in the valid range"):
        a.allocate_specific("10.96.0.0")


def test_ipv6_keeps_the_last_address_but_not_the_subnet_router_anycast():
    """Does an IPv6 range exclude only its first (subnet-router anycast) address?"""
    a = ServiceIPAllocator("fd00:10:96::/112")
    assert not a.contains("fd00:10:96::")
    assert a.contains("fd00:10:96::ffff") and a.last == "fd00:10:96::ffff"


def test_ipv6_service_cidr_shorter_than_64_is_refused():
    """Is a /48 IPv6 service range refused (shortest allowed prefix is /64)?"""
    with pytest.raises(ValidationError, match="shortest allowed prefix length"):
        ServiceIPAllocator("fd00::/48")


def test_dynamic_allocation_prefers_the_upper_band():
    """Do dynamically allocated ClusterIPs avoid the static band while the upper band has room?"""
    a = ServiceIPAllocator("10.96.0.0/24")
    rng = random.Random(7)
    for _ in range(254 - 16):
        ip = a.allocate(rng)
        assert int(ipaddress.ip_address(ip)) > int(ipaddress.ip_address("10.96.0.16"))
    # Upper band full: the next one comes from the static band.
    ip = a.allocate(rng)
    assert ipaddress.ip_address("10.96.0.1") <= ipaddress.ip_address(ip) <= ipaddress.ip_address("10.96.0.16")


def test_full_range_says_range_is_full():
    """Does a full range raise 'range is full'?"""
    a = ServiceIPAllocator("10.0.0.0/30")
    rng = random.Random(0)
    a.allocate(rng), a.allocate(rng)
    with pytest.raises(ConflictError, match="range is full"):
        a.allocate(rng)


def test_same_seed_same_addresses():
    """Do two allocators driven by equal seeds hand out the same sequence?"""
    a, b = ServiceIPAllocator("10.96.0.0/16"), ServiceIPAllocator("10.96.0.0/16")
    ra, rb = random.Random(42), random.Random(42)
    assert [a.allocate(ra) for _ in range(20)] == [b.allocate(rb) for _ in range(20)]


def test_specific_ip_twice_is_a_conflict():
    """Does requesting a held address raise 'provided IP is already allocated'?"""
    a = ServiceIPAllocator("10.96.0.0/16")
    a.allocate_specific("10.96.0.10")
    with pytest.raises(ConflictError, match="provided IP is already allocated"):
        a.allocate_specific("10.96.0.10")
    a.release("10.96.0.10")
    a.allocate_specific("10.96.0.10")


def test_other_family_is_not_in_range():
    """Is an IPv6 address outside an IPv4 range?"""
    a = ServiceIPAllocator("10.96.0.0/16")
    with pytest.raises(ValidationError, match="not in the valid range"):
        a.allocate_specific("fd00::1")


@settings(max_examples=40, deadline=None)
@given(prefix=st.integers(min_value=24, max_value=30), seed=st.integers(0, 2**32),
       ops=st.lists(st.booleans(), min_size=1, max_size=80))
def test_service_ips_are_unique_in_range_and_reusable(prefix, seed, ops):
    """Does the ClusterIP allocator never hand out a held address, stay in range, and reuse released ones?"""
    a = ServiceIPAllocator(f"10.96.0.0/{prefix}")
    rng, held = random.Random(seed), []
    for allocate in ops:
        if allocate and a.free():
            ip = a.allocate(rng)
            assert ip not in held and a.contains(ip)
            held.append(ip)
        elif held:
            ip = held.pop(rng.randrange(len(held)))
            a.release(ip)
            assert not a.has(ip)
            a.allocate_specific(ip)  # released means available again
            a.release(ip)
    assert a.used() == sorted(held, key=lambda s: int(ipaddress.ip_address(s)))


# --- PortAllocator ----------------------------------------------------------------------------------

def test_node_port_static_band_is_30000_to_30085():
    """Is the default range's static band 30000-30085 (min(max(16, 2768/32), 128) = 86 ports)?"""
    p = PortAllocator("30000-32767")
    assert p.static_band == 86 and range_offset(2768, 16, 128, 32) == 86


def test_dynamic_node_ports_avoid_the_static_band():
    """Are dynamically allocated NodePorts all >= 30086 while the upper band has room?"""
    p, rng = PortAllocator(), random.Random(3)
    assert all(p.allocate(rng) >= 30086 for _ in range(500))


def test_node_port_errors_use_the_api_server_wording():
    """Do out-of-range and taken NodePorts give the API server's messages?"""
    p = PortAllocator("30000-32767")
    with pytest.raises(ValidationError, match="provided port is not in the valid range. The range of valid ports is "
                                              "30000-32767"):
        p.allocate_specific(80)
    p.allocate_specific(30080)
    with pytest.raises(ConflictError, match="provided port is already allocated"):
        p.allocate_specific(30080)


def test_port_range_syntax():
    """Are "a-b", "a+n" and a single port parsed like net.ParsePortRange, and nonsense refused?"""
    assert parse_port_range("30000-32767") == (30000, 32767)
    assert parse_port_range("30000+2767") == (30000, 32767)
    assert parse_port_range("31000") == (31000, 31000)
    with pytest.raises(ValidationError):
        parse_port_range("high-low")


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 300), seed=st.integers(0, 2**32), ops=st.lists(st.booleans(), min_size=1, max_size=120))
def test_node_ports_are_unique_in_range_and_reusable(size, seed, ops):
    """Does the NodePort allocator never hand out a held port, stay in range, and reuse released ones?"""
    p = PortAllocator(f"30000-{30000 + size - 1}")
    rng, held = random.Random(seed), set()
    for allocate in ops:
        if allocate and p.free():
            port = p.allocate(rng)
            assert port not in held and p.contains(port)
            held.add(port)
        elif held:
            port = sorted(held)[0]
            held.discard(port)
            p.release(port)
            p.allocate_specific(port)
            held.add(port)
    assert p.used() == sorted(held)


# --- PodCIDRAllocator --------------------------------------------------------------------------------

def test_pod_cidrs_are_carved_in_order():
    """Do nodes get 10.244.0.0/24, 10.244.1.0/24, ... in order from 10.244.0.0/16?"""
    a = PodCIDRAllocator("10.244.0.0/16")
    assert [a.allocate() for _ in range(3)] == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]


def test_released_pod_cidr_is_reused_only_after_wrapping():
    """Is a released podCIDR handed out again only once the allocator wraps around?"""
    a = PodCIDRAllocator("10.244.0.0/22")
    first = [a.allocate() for _ in range(2)]
    a.release(first[0])
    assert a.allocate() == "10.244.2.0/24"
    assert a.allocate() == "10.244.3.0/24"
    assert a.allocate() == "10.244.0.0/24"
    with pytest.raises(ConflictError, match="no remaining CIDRs"):
        a.allocate()


def test_ipv6_pod_cidrs_default_to_slash_64():
    """Does an IPv6 cluster CIDR give /64 node blocks by default?"""
    a = PodCIDRAllocator("fd00:10:244::/56")
    assert a.allocate() == "fd00:10:244::/64"
    assert a.allocate() == "fd00:10:244:1::/64"


def test_node_mask_must_fit():
    """Is a node mask shorter than the cluster CIDR refused?"""
    with pytest.raises(ValidationError):
        PodCIDRAllocator("10.244.0.0/16", node_mask=8)


# --- NodeIPAM ------------------------------------------------------------------------------------------

def test_first_pod_ip_skips_network_and_gateway():
    """Does host-local hand out .2 first (network .0 and gateway .1 are skipped)?"""
    n = NodeIPAM("10.244.1.0/24")
    assert n.gateway == "10.244.1.1"
    assert [n.allocate(), n.allocate()] == ["10.244.1.2", "10.244.1.3"]


def test_replaced_pod_gets_a_new_ip():
    """Does a pod replacing a deleted one get a new address, not the released one?"""
    n = NodeIPAM("10.244.1.0/24")
    old = n.allocate()
    n.release(old)
    assert n.allocate() != old


def test_broadcast_is_not_a_pod_ip_and_exhaustion_is_reported():
    """Does a /29 give 5 pod IPs (.2-.6) and then say no addresses are available?"""
    n = NodeIPAM("10.244.1.0/29")
    got = [n.allocate() for _ in range(5)]
    assert got == [f"10.244.1.{i}" for i in range(2, 7)]
    with pytest.raises(ConflictError, match="no IP addresses available in range set: 10.244.1.1-10.244.1.6"):
        n.allocate()


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(st.booleans(), min_size=1, max_size=100))
def test_pod_ips_unique_and_in_range(ops):
    """Does NodeIPAM never hand out a held address, never the gateway, and always inside the podCIDR?"""
    n, held = NodeIPAM("10.244.3.0/27"), []
    for allocate in ops:
        if allocate and len(held) < 29:
            ip = n.allocate()
            assert ip not in held and n.contains(ip) and ip != n.gateway
            held.append(ip)
        elif held:
            n.release(held.pop(0))
    assert n.used() == sorted(held, key=lambda s: int(ipaddress.ip_address(s)))


# --- LoadBalancerPool ------------------------------------------------------------------------------------

def test_load_balancer_pool_hands_out_lowest_free_first():
    """Does the pool give 172.18.255.200, .201, ... and reuse a released address?"""
    pool = LoadBalancerPool("172.18.255.200/29")
    assert [pool.allocate(), pool.allocate()] == ["172.18.255.200", "172.18.255.201"]
    pool.release("172.18.255.200")
    assert pool.allocate() == "172.18.255.200"


def test_load_balancer_pool_range_form_and_exhaustion():
    """Does a two-address range pool run out after two Services?"""
    pool = LoadBalancerPool("172.18.255.200-172.18.255.201")
    pool.allocate(), pool.allocate()
    with pytest.raises(ConflictError, match="no available IPs"):
        pool.allocate()
    with pytest.raises(ValidationError, match="not in the pool"):
        pool.allocate_specific("10.0.0.1")
