"""Lesson 03's checks: a Service for the api Deployment, sticky sessions, endpoints a connection can reach."""
import pytest

from kubelab.course.exercises import check

from .helpers import blocked, failed, mistakes


@pytest.fixture
def grading(monkeypatch):
    """Hidden sub-checks count while grading."""
    monkeypatch.setenv("KUBELAB_GRADING", "1")


# ---------------------------------------------------------------- 03-api-service
API = """
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  selector:
    app: api
  ports:
  - port: 80
    targetPort: http
"""


def test_api_reference_passes_hidden_checks_too(grading):
    """Does port 80 -> targetPort http with selector app=api in namespace shop pass every sub-check?"""
    result = check("03-api-service", API)
    assert bool(result) and result.total == 5 and mistakes(result) == []


def test_api_numeric_target_port_passes():
    """Is targetPort 8080 (the number behind the name http) accepted too?"""
    assert check("03-api-service", API.replace("targetPort: http", "targetPort: 8080"))


@pytest.mark.parametrize("answer", [API.replace("targetPort: http", "targetPort: 80"),
                                    API.replace("    targetPort: http\n", "")])
def test_api_target_port_80_is_named(answer):
    """Is a targetPort of 80 (written or defaulted from port) recognised as the port/targetPort mistake?"""
    result = check("03-api-service", answer)
    assert "shop/client connects to http://api (port 80)" in failed(result)
    assert mistakes(result) == ["targetPort is 80"]


def test_api_selector_typo_is_named():
    """Is a selector that matches no pod recognised?"""
    result = check("03-api-service", API.replace("app: api", "app: apis"))
    assert mistakes(result) == ["the selector matches no pod"]
    assert "new connections can land on both api pods, and only on them" in failed(result)


def test_api_selector_too_wide_is_named():
    """Is a selector that also picks the worker pod recognised, although the connection succeeds?"""
    result = check("03-api-service", API.replace("app: api", "tier: backend"))
    assert failed(result) == ["new connections can land on both api pods, and only on them",
                              "a third api pod started later gets connections too; a new tier=backend pod does not"]
    assert mistakes(result) == ["the selector also matches the worker pod"]


def test_api_wrong_namespace_is_named():
    """Is a Service created in default (no metadata.namespace) recognised as the wrong namespace?"""
    result = check("03-api-service", API.replace("  namespace: shop\n", ""))
    assert "a Service named api exists in namespace shop" in failed(result)
    assert mistakes(result) == ["Service created in another namespace"]


def test_api_service_port_8080_is_named():
    """Is a Service whose port is 8080 (not the 80 clients dial) recognised?"""
    result = check("03-api-service", API.replace("port: 80\n", "port: 8080\n"))
    assert mistakes(result) == ["the Service listens on 8080, not 80"]


@pytest.mark.parametrize("answer", [API.replace("  - port: 80", "- port: 80"),
                                    "apiVersion: v1\nkind: Service\n# YOUR CODE HERE\n", ""])
def test_api_bad_yaml_fails_with_the_error(answer):
    """Does broken YAML, the released stub or an empty answer fail one sub-check that names the problem?"""
    result = check("03-api-service", answer)
    assert blocked(result) == ["your Service applies cleanly"] and result.passed == 0 and not result
    assert result.checks[0].hint


# ---------------------------------------------------------------- 03-sticky-sessions
WEB = """
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
"""
STICKY = WEB + """  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 600
"""


def test_sticky_reference_passes():
    """Does ClientIP affinity with a 600 s timeout pass every sub-check?"""
    result = check("03-sticky-sessions", STICKY)
    assert bool(result) and result.total == 5 and mistakes(result) == []


def test_sticky_plain_service_fails_the_stickiness_checks():
    """Does a Service without affinity (the starter Service) fail every scored check, the 'expired' one included?"""
    result = check("03-sticky-sessions", WEB)
    assert result.passed == 0 and result.total == 5


def test_sticky_default_timeout_is_named():
    """Is ClientIP with the default 3-hour timeout recognised (the 10-minute expiry check fails)?"""
    result = check("03-sticky-sessions", WEB + "  sessionAffinity: ClientIP\n")
    assert failed(result) == ["after more than 600 s without traffic client-a's affinity has expired",
                              "the affinity timeout is exactly 10 minutes"]
    assert mistakes(result) == ["the default timeout"]
    assert "lasts 10800 s" in next(c.hint for c in result.checks if not c.ok and c.scored)


def test_sticky_config_without_affinity_is_named():
    """Is sessionAffinityConfig without sessionAffinity (dropped by defaulting) recognised?"""
    result = check("03-sticky-sessions", WEB + "  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 600\n")
    assert mistakes(result) == ["sessionAffinityConfig without sessionAffinity"]
    assert not result


def test_sticky_short_timeout_fails():
    """Does a 60 s timeout fail the 599 s check?"""
    result = check("03-sticky-sessions", STICKY.replace("600", "60"))
    assert "after 599 s without traffic client-a still lands on its pod" in failed(result)


def test_sticky_misspelled_affinity_names_the_validation_error():
    """Does sessionAffinity: ClientIp fail with the API server's message?"""
    result = check("03-sticky-sessions", STICKY.replace("ClientIP\n", "ClientIp\n"))
    assert blocked(result) == ["your Service applies cleanly"] and result.passed == 0 and result.total == 5
    assert 'Unsupported value: "ClientIp"' in result.checks[0].hint


# ---------------------------------------------------------------- 03-ready-endpoints
def _slices(lab, service, namespace):
    return lab.list("EndpointSlice", namespace, selector=f"kubernetes.io/service-name={service}")


def landing(lab, service, namespace="default"):
    found = []
    for s in _slices(lab, service, namespace):
        for e in s["endpoints"]:
            if e["conditions"].get("ready"):
                found += [f"{ip}:{s['ports'][0]['port']}" for ip in e["addresses"]]
    return sorted(found)


def with_not_ready(lab, service, namespace="default"):
    return sorted(f"{ip}:{s['ports'][0]['port']}" for s in _slices(lab, service, namespace)
                  for e in s["endpoints"] for ip in e["addresses"])


def first_slice_only(lab, service, namespace="default"):
    s = _slices(lab, service, namespace)[0]
    return sorted(f"{e['addresses'][0]}:{s['ports'][0]['port']}" for e in s["endpoints"] if e["conditions"]["ready"])


def service_port(lab, service, namespace="default"):
    return [ep.rsplit(":", 1)[0] + ":80" for ep in landing(lab, service, namespace)]


def test_landing_reference_passes_hidden_checks_too(grading):
    """Do the ready endpoints of every slice labelled with the Service's name pass every sub-check?"""
    result = check("03-ready-endpoints", landing)
    assert bool(result) and result.total == 5 and mistakes(result) == []


def test_landing_not_ready_counted_is_named():
    """Is counting NotReady endpoints recognised?"""
    result = check("03-ready-endpoints", with_not_ready)
    assert mistakes(result) == ["NotReady pods counted"]
    assert result.passed == 1 and "beside a Service also named web in namespace other" not in " ".join(failed(result))


def test_landing_first_slice_only_is_named():
    """Is reading only the first EndpointSlice recognised when a Service has several?"""
    result = check("03-ready-endpoints", first_slice_only)
    assert failed(result) == ["web: 5 pods in 3 EndpointSlices of at most 2, 1 NotReady: 4 endpoints"]
    assert mistakes(result) == ["only one EndpointSlice read"]


def test_landing_service_port_is_named():
    """Is using the Service's port 80 instead of the endpoints' 8080 recognised?"""
    result = check("03-ready-endpoints", service_port)
    assert result.passed == 0 and mistakes(result) == ["the Service's port instead of the endpoint's"]


def test_landing_every_slice_in_the_namespace_fails():
    """Does listing every slice of the namespace (the other Service's too) fail that case?"""
    def whole_namespace(lab, service, namespace="default"):
        return sorted(f"{ip}:{s['ports'][0]['port']}" for s in lab.list("EndpointSlice", namespace)
                      if s["metadata"]["name"] != "kubernetes"
                      for e in s["endpoints"] if e["conditions"]["ready"] for ip in e["addresses"])
    result = check("03-ready-endpoints", whole_namespace)
    assert failed(result) == ["web: 4 pods, 2 NotReady, beside another Service: 2 endpoints"]


def test_landing_stub_fails_with_a_hint():
    """Does the released stub fail each case with the stub hint instead of a traceback?"""
    def stub(lab, service, namespace="default"):
        raise NotImplementedError()
    result = check("03-ready-endpoints", stub)
    assert result.passed == 0 and all("still the stub" in c.hint for c in result.checks)


def test_reading_every_slice_of_the_namespace_is_named():
    """Does an answer that keeps the ready endpoints of every slice in the namespace (not only web's) get the
    'other Services' endpoints' mistake rather than 'NotReady pods counted'?"""
    def all_slices(lab, service, namespace="default"):
        return sorted(f"{e['addresses'][0]}:{s['ports'][0]['port']}" for s in lab.list("EndpointSlice", namespace)
                      if s.get("ports") for e in s["endpoints"] if e["conditions"].get("ready", True))
    result = check("03-ready-endpoints", all_slices)
    assert not result and mistakes(result) == ["other Services' endpoints included"]


# ---------------------------------------------------------------- 03-nft-endpoints
def _nft_chains(ruleset):
    chains, name = {}, None
    for line in ruleset.splitlines():
        text = line.strip()
        if text.startswith("chain ") and text.endswith("{"):
            name = text[len("chain "):-1].strip()
            chains[name] = []
        elif text == "}":
            name = None
        elif name:
            chains[name].append(text)
    return chains


def nft_endpoints(ruleset, cluster_ip, port):
    """A correct reader: service-ips element -> service chain -> numgen arms -> endpoint chains' dnat."""
    key = f"{cluster_ip} . tcp . {port} : goto "
    line = next((ln for ln in ruleset.splitlines() if key in ln), None)
    if line is None:
        return []
    service_chain = line.split(key)[1].split()[0].rstrip(",}")
    chains = _nft_chains(ruleset)
    arms = [r for r in chains[service_chain] if r.startswith("numgen")]
    targets = [part.split("goto ")[1].split()[0].rstrip(",}") for r in arms for part in r.split(", ")]
    return sorted(r.split("dnat to ")[1] for t in targets for r in chains[t] if "dnat to " in r)


def nft_every_dnat(ruleset, cluster_ip, port):
    return sorted(ln.split("dnat to ")[1].strip() for ln in ruleset.splitlines() if "dnat to " in ln)


def nft_service_port(ruleset, cluster_ip, port):
    return [e.rsplit(":", 1)[0] + f":{port}" for e in nft_endpoints(ruleset, cluster_ip, port)]


def test_nft_reader_passes_every_case(grading):
    """Does a reader that follows the map, the numgen arms and the dnat rules pass every case, hidden too?"""
    result = check("03-nft-endpoints", nft_endpoints)
    assert result and not failed(result) and not mistakes(result)


def test_every_dnat_in_the_table_is_named(grading):
    """Is collecting every dnat of the table (other Services' too) failed and named?"""
    result = check("03-nft-endpoints", nft_every_dnat)
    assert "every dnat in the table" in mistakes(result) and failed(result)


def test_service_port_instead_of_endpoint_port_is_named():
    """Is writing the Service's port 80 instead of the pods' 8080 named?"""
    result = check("03-nft-endpoints", nft_service_port)
    assert "the Service's port instead of the endpoint's" in mistakes(result) and failed(result)


def test_nft_stub_fails_cleanly():
    """Does the stub (NotImplementedError) fail with one clear message, no traceback?"""
    def stub(ruleset, cluster_ip, port):
        raise NotImplementedError()
    result = check("03-nft-endpoints", stub)
    assert not result
