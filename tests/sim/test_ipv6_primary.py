"""An IPv6-primary dual-stack cluster (service ranges IPv6 first), as kubeadm builds it with an IPv6 range
listed first in --service-cluster-ip-range."""
import ipaddress

import kubelab
from kubelab.course.exercises._support import client_pod, web_deployment, web_service

def _web() -> list[dict]:
    """web (one nginx pod behind a PreferDualStack Service) and a client pod."""
    service = web_service(target=80)
    service["spec"]["ipFamilyPolicy"] = "PreferDualStack"
    return [web_deployment(replicas=1, port=80), service, client_pod()]


def test_the_kubernetes_service_and_its_endpoint_are_of_the_primary_family():
    """The `kubernetes` Service is single-stack of the primary family, and so is its EndpointSlice's address."""
    lab = kubelab.connect(ip_families=("IPv6", "IPv4"))
    service = lab.get("Service", "kubernetes", "default")
    assert service["spec"]["ipFamilies"] == ["IPv6"]
    slice_ = lab.get("EndpointSlice", "kubernetes", "default")
    assert slice_["addressType"] == "IPv6"
    assert all(ipaddress.ip_address(a).version == 6 for e in slice_["endpoints"] for a in e["addresses"])


def test_pods_and_services_work_in_both_families_ipv6_first():
    lab = kubelab.connect(ip_families=("IPv6", "IPv4"))
    lab.apply(_web())
    service = lab.get("Service", "web", "default")
    assert service["spec"]["ipFamilies"] == ["IPv6", "IPv4"]
    assert ipaddress.ip_address(service["spec"]["clusterIP"]).version == 6
    for ip in service["spec"]["clusterIPs"]:
        assert lab.reach("default/client", ip, 80).allowed
