"""The API server's Service handling: defaulting, allocation, validation, updates, release."""
import ipaddress
import random

import pytest

from kubelab.errors import ConflictError, ValidationError
from kubelab.net.services import ServiceAllocators, ServiceAPIConfig, admit_service, release_service

V4 = ServiceAPIConfig(("10.96.0.0/16",))
DUAL = ServiceAPIConfig(("10.96.0.0/16", "fd00:10:96::/112"))


def svc(name="web", namespace="default", **spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


class Cluster:
    """An API server's allocator state for one test."""

    def __init__(self, config=V4, seed=0):
        self.config, self.alloc, self.rng = config, ServiceAllocators.for_config(config), random.Random(seed)

    def create(self, obj):
        return admit_service(obj, None, self.config, self.alloc, self.rng)

    def update(self, obj, old):
        return admit_service(obj, old, self.config, self.alloc, self.rng)

    def reject(self, obj, old=None, error=ValidationError):
        with pytest.raises(error) as e:
            admit_service(obj, old, self.config, self.alloc, self.rng)
        return e.value


HTTP = [{"port": 80, "targetPort": 8080}]


# --- defaulting ------------------------------------------------------------------------------------

def test_clusterip_defaults():
    """Does a bare Service default to ClusterIP, TCP, sessionAffinity None, internalTrafficPolicy Cluster,
    SingleStack IPv4, and no externalTrafficPolicy?"""
    spec = Cluster().create(svc(selector={"app": "web"}, ports=[{"port": 80}]))["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["sessionAffinity"] == "None" and spec["internalTrafficPolicy"] == "Cluster"
    assert spec["ipFamilyPolicy"] == "SingleStack" and spec["ipFamilies"] == ["IPv4"]
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert "externalTrafficPolicy" not in spec


def test_returned_object_is_a_copy():
    """Is the submitted manifest left untouched?"""
    manifest = svc(ports=[{"port": 80}])
    Cluster().create(manifest)
    assert manifest["spec"] == {"ports": [{"port": 80}]}


def test_nodeport_defaults_external_traffic_policy_cluster():
    """Does a NodePort Service get externalTrafficPolicy Cluster and a nodePort in the dynamic band?"""
    spec = Cluster().create(svc(type="NodePort", ports=HTTP))["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert 30086 <= spec["ports"][0]["nodePort"] <= 32767


def test_client_ip_affinity_gets_three_hour_timeout():
    """Does sessionAffinity ClientIP default timeoutSeconds to 10800?"""
    spec = Cluster().create(svc(sessionAffinity="ClientIP", ports=HTTP))["spec"]
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_affinity_config_is_dropped_for_none():
    """Is sessionAffinityConfig cleared when sessionAffinity is None (v1 defaulting)?"""
    spec = Cluster().create(svc(sessionAffinityConfig={"clientIP": {"timeoutSeconds": 5}}, ports=HTTP))["spec"]
    assert "sessionAffinityConfig" not in spec


@pytest.mark.parametrize("timeout", [0, 86401, -5])
def test_affinity_timeout_range(timeout):
    """Is timeoutSeconds outside 1..86400 rejected at its field path?"""
    err = Cluster().reject(svc(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": timeout}},
                               ports=HTTP))
    assert err.field == "spec.sessionAffinityConfig.clientIP.timeoutSeconds"


def test_affinity_timeout_of_one_day_is_allowed():
    """Is 86400 seconds (exactly one day) accepted?"""
    Cluster().create(svc(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 86400}},
                         ports=HTTP))


def test_load_balancer_local_gets_health_check_node_port():
    """Does a LoadBalancer with externalTrafficPolicy Local get a healthCheckNodePort in the NodePort range?"""
    spec = Cluster().create(svc(type="LoadBalancer", externalTrafficPolicy="Local", ports=HTTP))["spec"]
    assert 30000 <= spec["healthCheckNodePort"] <= 32767
    assert spec["healthCheckNodePort"] != spec["ports"][0]["nodePort"]
    assert spec["allocateLoadBalancerNodePorts"] is True


def test_allocate_load_balancer_node_ports_false():
    """Does allocateLoadBalancerNodePorts: false leave ports without nodePort, but honour an explicit one?"""
    spec = Cluster().create(svc(type="LoadBalancer", allocateLoadBalancerNodePorts=False,
                                ports=[{"name": "a", "port": 80}, {"name": "b", "port": 81, "nodePort": 30081}]))["spec"]
    assert "nodePort" not in spec["ports"][0] and spec["ports"][1]["nodePort"] == 30081


def test_tcp_and_udp_of_one_port_share_a_node_port():
    """Do 53/TCP and 53/UDP get the same nodePort (initNodePorts keys by port number)?"""
    spec = Cluster().create(svc(type="NodePort", ports=[{"name": "dns", "port": 53, "protocol": "UDP"},
                                                         {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]))["spec"]
    assert spec["ports"][0]["nodePort"] == spec["ports"][1]["nodePort"]


# --- ports ----------------------------------------------------------------------------------------

def test_ports_are_required():
    """Is a selector Service without ports rejected at spec.ports?"""
    assert Cluster().reject(svc(selector={"app": "web"})).field == "spec.ports"


def test_two_ports_need_names():
    """Must every port be named when there is more than one?"""
    assert Cluster().reject(svc(ports=[{"name": "http", "port": 80}, {"port": 443}])).field == "spec.ports[1].name"


def test_port_names_must_be_unique():
    """Is a duplicated port name rejected as Duplicate value?"""
    err = Cluster().reject(svc(ports=[{"name": "http", "port": 80}, {"name": "http", "port": 8080}]))
    assert err.field == "spec.ports[1].name" and "Duplicate value" in err.problem


def test_same_port_and_protocol_twice_is_rejected():
    """Is port 80/TCP listed twice rejected at spec.ports[1]?"""
    err = Cluster().reject(svc(ports=[{"name": "a", "port": 80}, {"name": "b", "port": 80}]))
    assert err.field == "spec.ports[1]"


def test_same_port_with_two_protocols_is_fine():
    """Is 53/TCP beside 53/UDP accepted?"""
    Cluster().create(svc(ports=[{"name": "a", "port": 53, "protocol": "UDP"}, {"name": "b", "port": 53}]))


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_range(port):
    """Is a Service port outside 1..65535 rejected?"""
    assert Cluster().reject(svc(ports=[{"port": port, "targetPort": 80}])).field == "spec.ports[0].port"


def test_protocol_must_be_tcp_udp_or_sctp():
    """Is protocol HTTP rejected with the supported values listed?"""
    err = Cluster().reject(svc(ports=[{"port": 80, "protocol": "HTTP"}]))
    assert err.field == "spec.ports[0].protocol" and '"SCTP", "TCP", "UDP"' in err.problem


def test_quoted_number_target_port_is_a_bad_name():
    """Is targetPort "8080" (a string) treated as a port name and rejected for having no letter?"""
    err = Cluster().reject(svc(ports=[{"port": 80, "targetPort": "8080"}]))
    assert err.field == "spec.ports[0].targetPort" and "at least one letter" in err.problem


def test_named_target_port_is_accepted():
    """Is a named targetPort like http-web-svc accepted?"""
    spec = Cluster().create(svc(ports=[{"port": 80, "targetPort": "http-web-svc"}]))["spec"]
    assert spec["ports"][0]["targetPort"] == "http-web-svc"


def test_port_given_as_string_cannot_be_decoded():
    """Is port: "80" rejected as not an integer?"""
    assert Cluster().reject(svc(ports=[{"port": "80"}])).field == "spec.ports[0].port"


# --- nodePorts --------------------------------------------------------------------------------------

def test_node_port_outside_range():
    """Is nodePort 80 rejected with the API server's range message?"""
    err = Cluster().reject(svc(type="NodePort", ports=[{"port": 80, "nodePort": 80}]))
    assert err.field == "spec.ports[0].nodePort"
    assert "provided port is not in the valid range. The range of valid ports is 30000-32767" in err.problem


def test_node_port_taken():
    """Is a nodePort another Service holds a ConflictError 'provided port is already allocated'?"""
    c = Cluster()
    c.create(svc("a", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    err = c.reject(svc("b", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]), error=ConflictError)
    assert err.field == "spec.ports[0].nodePort" and "provided port is already allocated" in err.problem


def test_node_port_on_clusterip_is_forbidden():
    """May a ClusterIP Service not set nodePort?"""
    err = Cluster().reject(svc(ports=[{"port": 80, "nodePort": 30080}]))
    assert err.field == "spec.ports[0].nodePort" and "Forbidden" in err.problem


def test_custom_node_port_range():
    """Does --service-node-port-range change where nodePorts come from?"""
    c = Cluster(ServiceAPIConfig(("10.96.0.0/16",), node_port_range="31000-31099"))
    spec = c.create(svc(type="NodePort", ports=HTTP))["spec"]
    assert 31000 <= spec["ports"][0]["nodePort"] <= 31099


# --- cluster IPs ------------------------------------------------------------------------------------

def test_pinned_cluster_ip():
    """Is a free clusterIP inside the range kept as given?"""
    spec = Cluster().create(svc(clusterIP="10.96.0.50", ports=HTTP))["spec"]
    assert spec["clusterIP"] == "10.96.0.50" and spec["clusterIPs"] == ["10.96.0.50"]


def test_pinned_cluster_ip_outside_range():
    """Is a clusterIP outside --service-cluster-ip-range rejected at spec.clusterIPs[0]?"""
    err = Cluster().reject(svc(clusterIP="10.97.0.5", ports=HTTP))
    assert err.field == "spec.clusterIPs[0]" and "provided IP is not in the valid range" in err.problem


def test_pinned_cluster_ip_taken():
    """Is a clusterIP another Service holds a ConflictError?"""
    c = Cluster()
    c.create(svc("a", clusterIP="10.96.0.50", ports=HTTP))
    err = c.reject(svc("b", clusterIP="10.96.0.50", ports=HTTP), error=ConflictError)
    assert "provided IP is already allocated" in err.problem


def test_cluster_ip_must_be_an_ip():
    """Is clusterIP 'auto' rejected as not an IP address?"""
    assert Cluster().reject(svc(clusterIP="auto", ports=HTTP)).field == "spec.clusterIPs[0]"


def test_headless_gets_no_address():
    """Does clusterIP None allocate nothing and allow a Service without ports?"""
    c = Cluster()
    spec = c.create(svc(clusterIP="None", selector={"app": "web"}))["spec"]
    assert spec["clusterIPs"] == ["None"] and spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert c.alloc.cluster_ips["IPv4"].used() == []


def test_headless_selectorless_gets_both_families_on_single_stack():
    """Does a headless Service without selector get RequireDualStack and [IPv4, IPv6] even on IPv4-only?"""
    spec = Cluster().create(svc(clusterIP="None"))["spec"]
    assert spec["ipFamilyPolicy"] == "RequireDualStack" and spec["ipFamilies"] == ["IPv4", "IPv6"]


@pytest.mark.parametrize("kind", ["NodePort", "LoadBalancer"])
def test_headless_is_only_for_clusterip(kind):
    """Are NodePort and LoadBalancer Services refused clusterIP None?"""
    err = Cluster().reject(svc(type=kind, clusterIP="None", ports=HTTP))
    assert err.field == "spec.clusterIPs[0]"


def test_many_services_get_distinct_ips():
    """Do 200 Services get 200 distinct ClusterIPs, all inside the range?"""
    c = Cluster()
    ips = [c.create(svc(f"s{i}", ports=HTTP))["spec"]["clusterIP"] for i in range(200)]
    assert len(set(ips)) == 200
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/16") for ip in ips)


def test_same_seed_same_cluster_ips():
    """Does the same seed give the same ClusterIPs?"""
    a, b = Cluster(seed=5), Cluster(seed=5)
    assert [a.create(svc(f"s{i}", ports=HTTP))["spec"]["clusterIP"] for i in range(5)] == \
           [b.create(svc(f"s{i}", ports=HTTP))["spec"]["clusterIP"] for i in range(5)]


# --- dual-stack ----------------------------------------------------------------------------------------

def test_require_dual_stack_on_single_stack_cluster():
    """Is RequireDualStack rejected on a cluster with one service range?"""
    err = Cluster().reject(svc(ipFamilyPolicy="RequireDualStack", ports=HTTP))
    assert err.field == "spec.ipFamilyPolicy" and "not configured for dual-stack" in err.problem


def test_prefer_dual_stack_on_single_stack_cluster():
    """Does PreferDualStack on a single-stack cluster get one IPv4 address?"""
    spec = Cluster().create(svc(ipFamilyPolicy="PreferDualStack", ports=HTTP))["spec"]
    assert spec["ipFamilies"] == ["IPv4"] and len(spec["clusterIPs"]) == 1


def test_prefer_dual_stack_on_dual_stack_cluster():
    """Does PreferDualStack on a dual-stack cluster get an IPv4 and an IPv6 address, primary first?"""
    spec = Cluster(DUAL).create(svc(ipFamilyPolicy="PreferDualStack", ports=HTTP))["spec"]
    assert spec["ipFamilies"] == ["IPv4", "IPv6"]
    assert ipaddress.ip_address(spec["clusterIPs"][0]) in ipaddress.ip_network("10.96.0.0/16")
    assert ipaddress.ip_address(spec["clusterIPs"][1]) in ipaddress.ip_network("fd00:10:96::/112")


def test_ipv6_first_when_asked():
    """Does ipFamilies [IPv6, IPv4] make the IPv6 address the primary clusterIP?"""
    spec = Cluster(DUAL).create(svc(ipFamilyPolicy="RequireDualStack", ipFamilies=["IPv6", "IPv4"], ports=HTTP))["spec"]
    assert ipaddress.ip_address(spec["clusterIP"]).version == 6


def test_single_stack_default_on_dual_stack_cluster_is_primary_family():
    """Does a Service without policy on a dual-stack cluster get only the primary family?"""
    spec = Cluster(DUAL).create(svc(ports=HTTP))["spec"]
    assert spec["ipFamilyPolicy"] == "SingleStack" and spec["ipFamilies"] == ["IPv4"]


def test_family_follows_pinned_ip():
    """Does a pinned IPv6 clusterIP make the Service IPv6?"""
    spec = Cluster(DUAL).create(svc(clusterIP="fd00:10:96::50", ports=HTTP))["spec"]
    assert spec["ipFamilies"] == ["IPv6"]


def test_ipv6_family_not_configured():
    """Is ipFamilies [IPv6] rejected on an IPv4-only cluster?"""
    assert Cluster().reject(svc(ipFamilies=["IPv6"], ports=HTTP)).field == "spec.ipFamilies[0]"


def test_cluster_ips_first_must_match_cluster_ip():
    """Must clusterIPs[0] equal clusterIP?"""
    err = Cluster(DUAL).reject(svc(clusterIP="10.96.0.5", clusterIPs=["10.96.0.6"], ports=HTTP))
    assert err.field.startswith("spec.clusterIPs")


# --- ExternalName --------------------------------------------------------------------------------------

def test_external_name_gets_no_cluster_ip():
    """Does an ExternalName Service get no clusterIP, families or traffic policy?"""
    c = Cluster()
    spec = c.create(svc(type="ExternalName", externalName="my.database.example.com"))["spec"]
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
        assert key not in spec
    assert c.alloc.cluster_ips["IPv4"].used() == []


def test_external_name_required():
    """Must an ExternalName Service name its target?"""
    assert Cluster().reject(svc(type="ExternalName")).field == "spec.externalName"


def test_external_name_must_be_a_dns_name():
    """Is a URL as externalName rejected?"""
    assert Cluster().reject(svc(type="ExternalName", externalName="https://db.example.com")).field == "spec.externalName"


def test_external_name_with_cluster_ip_is_forbidden():
    """May an ExternalName Service not set clusterIP?"""
    err = Cluster().reject(svc(type="ExternalName", externalName="db.example.com", clusterIP="10.96.0.9"))
    assert err.field.startswith("spec.clusterIP")


# --- other validation ----------------------------------------------------------------------------------

def test_unknown_type():
    """Is type Ingress rejected listing the four types, with nothing left allocated?"""
    c = Cluster()
    err = c.reject(svc(type="Ingress", ports=HTTP))
    assert err.field == "spec.type" and '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"' in err.problem
    assert c.alloc.cluster_ips["IPv4"].used() == []


def test_external_traffic_policy_only_for_external_services():
    """Is externalTrafficPolicy Local on a ClusterIP Service rejected?"""
    assert Cluster().reject(svc(externalTrafficPolicy="Local", ports=HTTP)).field == "spec.externalTrafficPolicy"


def test_internal_traffic_policy_values():
    """Is internalTrafficPolicy Node rejected (only Cluster and Local)?"""
    assert Cluster().reject(svc(internalTrafficPolicy="Node", ports=HTTP)).field == "spec.internalTrafficPolicy"


def test_selector_values_are_label_values():
    """Is a selector value with a space rejected under spec.selector?"""
    assert Cluster().reject(svc(selector={"app": "my web"}, ports=HTTP)).field.startswith("spec.selector")


def test_service_name_must_start_with_a_letter():
    """Is a Service named 1web rejected at metadata.name?"""
    assert Cluster().reject(svc("1web", ports=HTTP)).field == "metadata.name"


def test_loopback_external_ip():
    """Is 127.0.0.1 refused as an externalIP?"""
    assert Cluster().reject(svc(externalIPs=["127.0.0.1"], ports=HTTP)).field == "spec.externalIPs[0]"


def test_failed_create_allocates_nothing():
    """When validation fails after allocation, are the ClusterIP and nodePorts released again?"""
    c = Cluster()
    c.reject(svc("Bad_Name", type="LoadBalancer", externalTrafficPolicy="Local", clusterIP="10.96.0.5", ports=HTTP))
    assert c.alloc.cluster_ips["IPv4"].used() == [] and c.alloc.node_ports.used() == []


def test_error_message_names_object_field_and_fix():
    """Does the error read 'Service ns/name: field: problem (fix)'?"""
    err = Cluster().reject(svc(type="NodePort", ports=[{"port": 80, "nodePort": 80}]))
    text = str(err)
    assert text.startswith("Service default/web: spec.ports[0].nodePort: Invalid value: 80: ")
    assert text.endswith(")") and err.fix


# --- updates and release --------------------------------------------------------------------------------

def test_resubmitting_keeps_allocated_values():
    """Does re-applying the same manifest keep the clusterIP and nodePort the server chose?"""
    c = Cluster()
    manifest = svc(type="NodePort", ports=[{"name": "http", "port": 80}])
    first = c.create(manifest)
    again = c.update(manifest, first)
    assert again["spec"]["clusterIP"] == first["spec"]["clusterIP"]
    assert again["spec"]["ports"][0]["nodePort"] == first["spec"]["ports"][0]["nodePort"]
    assert c.alloc.node_ports.used() == [first["spec"]["ports"][0]["nodePort"]]


def test_cluster_ip_is_immutable():
    """Is changing clusterIP on update rejected, leaving the old address held and the new one free?"""
    c = Cluster()
    first = c.create(svc(clusterIP="10.96.0.50", ports=HTTP))
    err = c.reject(svc(clusterIP="10.96.0.51", ports=HTTP), old=first)
    assert err.field.startswith("spec.clusterIP") and "may not change once set" in err.problem
    assert c.alloc.cluster_ips["IPv4"].used() == ["10.96.0.50"]


def test_switch_nodeport_to_clusterip_frees_node_ports():
    """Does changing NodePort to ClusterIP drop and release the nodePorts?"""
    c = Cluster()
    first = c.create(svc(type="NodePort", ports=[{"name": "http", "port": 80}]))
    second = c.update(first | {"spec": first["spec"] | {"type": "ClusterIP"}}, first)
    assert "nodePort" not in second["spec"]["ports"][0] and "externalTrafficPolicy" not in second["spec"]
    assert c.alloc.node_ports.used() == []


def test_switch_to_external_name_frees_cluster_ip():
    """Does changing to ExternalName release the ClusterIP?"""
    c = Cluster()
    first = c.create(svc(ports=HTTP))
    second = c.update(svc(type="ExternalName", externalName="db.example.com", ports=HTTP), first)
    assert "clusterIP" not in second["spec"] and c.alloc.cluster_ips["IPv4"].used() == []


def test_dual_stack_upgrade_allocates_secondary():
    """Does changing SingleStack to PreferDualStack on a dual-stack cluster add an IPv6 clusterIP?"""
    c = Cluster(DUAL)
    first = c.create(svc(ports=HTTP))
    second = c.update(svc(ipFamilyPolicy="PreferDualStack", ports=HTTP), first)
    assert second["spec"]["clusterIPs"][0] == first["spec"]["clusterIP"]
    assert second["spec"]["ipFamilies"] == ["IPv4", "IPv6"] and len(c.alloc.cluster_ips["IPv6"].used()) == 1


def test_health_check_node_port_is_immutable():
    """Is changing healthCheckNodePort of a Local LoadBalancer rejected?"""
    c = Cluster()
    first = c.create(svc(type="LoadBalancer", externalTrafficPolicy="Local", ports=HTTP))
    changed = first["spec"] | {"healthCheckNodePort": first["spec"]["healthCheckNodePort"] + 1}
    assert c.reject(first | {"spec": changed}, old=first).field == "spec.healthCheckNodePort"


def test_release_frees_everything():
    """Does release_service free the clusterIPs, nodePorts and healthCheckNodePort?"""
    c = Cluster(DUAL)
    stored = c.create(svc(type="LoadBalancer", externalTrafficPolicy="Local", ipFamilyPolicy="RequireDualStack",
                          ports=HTTP))
    release_service(stored, c.alloc)
    assert c.alloc.node_ports.used() == []
    assert c.alloc.cluster_ips["IPv4"].used() == [] and c.alloc.cluster_ips["IPv6"].used() == []


def test_config_rejects_two_ranges_of_one_family():
    """Is a 'dual-stack' config with two IPv4 ranges refused?"""
    with pytest.raises(ValidationError):
        ServiceAPIConfig(("10.96.0.0/16", "10.97.0.0/16"))
