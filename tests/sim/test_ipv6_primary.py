"""An IPv6-primary dual-stack cluster (service ranges IPv6 first), as kubeadm builds it with an IPv6 range
listed first in --service-cluster-ip-range."""
import ipaddress

import kubelab

WEB = """
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: busybox, command: [sleep, infinity]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ipFamilyPolicy: PreferDualStack, ports: [{port: 80}]}
"""


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
    lab.apply(WEB)
    service = lab.get("Service", "web", "default")
    assert service["spec"]["ipFamilies"] == ["IPv6", "IPv4"]
    assert ipaddress.ip_address(service["spec"]["clusterIP"]).version == 6
    for ip in service["spec"]["clusterIPs"]:
        assert lab.reach("default/client", ip, 80).allowed
