"""Ingress semantics as pure functions: validation, class resolution, the compiled route table."""
from __future__ import annotations

import pytest

from kubelab.errors import ValidationError
from kubelab.net.http.ingress import (backend_of, class_of, compile_routes, default_class_for, ingress_errors,
                                      validate_ingress, validate_ingress_class)


def ing(name, rules=None, default=None, created="2026-01-01T00:00:01Z", ns="default", annotations=None, cls=None):
    spec = {}
    if rules is not None:
        spec["rules"] = rules
    if default is not None:
        spec["defaultBackend"] = default
    if cls:
        spec["ingressClassName"] = cls
    meta = {"name": name, "namespace": ns, "creationTimestamp": created}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def svc(name, port=80):
    key = "number" if isinstance(port, int) else "name"
    return {"service": {"name": name, "port": {key: port}}}


def rule(host, *paths):
    r = {"http": {"paths": [{"path": p, "pathType": t, "backend": svc(b)} for p, t, b in paths]}}
    if host:
        r["host"] = host
    return r


# ---------------------------------------------------------------- validation
def test_every_error_is_reported_with_its_field_path():
    """Does one Ingress with two mistakes report both, the first leading?"""
    bad = ing("x", [{"host": "10.0.0.1", "http": {"paths": [{"path": "/", "backend": svc("web")}]}}])
    fields = [f for f, _, _ in ingress_errors(bad)]
    assert fields == ["spec.rules[0].host", "spec.rules[0].http.paths[0].pathType"]
    with pytest.raises(ValidationError) as err:
        validate_ingress(bad)
    assert err.value.field == "spec.rules[0].host" and "pathType must be specified" in str(err.value)


def test_unsupported_path_type():
    """Is an unknown pathType rejected with the supported values named?"""
    bad = ing("x", [rule("a.com", ("/", "Regex", "web"))])
    with pytest.raises(ValidationError, match='Unsupported value.*"Exact", "ImplementationSpecific", "Prefix"'):
        validate_ingress(bad)


def test_percent_encoded_slash_is_rejected_for_prefix():
    """Is %2F refused in an Exact/Prefix path but allowed in ImplementationSpecific?"""
    assert ingress_errors(ing("x", [rule("", ("/a%2Fb", "Prefix", "web"))]))
    assert not ingress_errors(ing("x", [rule("", ("/a%2Fb", "ImplementationSpecific", "web"))]))


def test_resource_backend_needs_kind_and_name():
    """Is a resource backend without kind rejected at its field?"""
    errs = ingress_errors(ing("x", default={"resource": {"name": "bucket"}}))
    assert errs[0][0] == "spec.defaultBackend.resource.kind"


def test_bad_port_name_and_tls_host():
    """Are an invalid port name and an invalid TLS host each reported at their own field?"""
    errs = ingress_errors({"kind": "Ingress", "metadata": {"name": "x", "namespace": "d"},
                           "spec": {"defaultBackend": svc("web", "HTTP_port"),
                                    "tls": [{"hosts": ["*.*.com"], "secretName": "s"}]}})
    assert {f for f, _, _ in errs} == {"spec.defaultBackend.service.port.name", "spec.tls[0].hosts[0]"}


def test_ingress_class_validation():
    """Does an IngressClass need a domain-prefixed controller that never changes?"""
    cls = {"kind": "IngressClass", "metadata": {"name": "c"}, "spec": {"controller": "nginx"}}
    with pytest.raises(ValidationError, match="domain-prefixed"):
        validate_ingress_class(cls)
    with pytest.raises(ValidationError, match="Required"):
        validate_ingress_class({"kind": "IngressClass", "metadata": {"name": "c"}, "spec": {}})
    good = {"kind": "IngressClass", "metadata": {"name": "c"}, "spec": {"controller": "example.com/a"}}
    validate_ingress_class(good)
    with pytest.raises(ValidationError, match="immutable"):
        validate_ingress_class(good, {"spec": {"controller": "example.com/b"}})


# ---------------------------------------------------------------- classes
def _class(name, default=False):
    meta = {"name": name}
    if default:
        meta["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    return {"metadata": meta, "spec": {"controller": f"example.com/{name}"}}


def test_default_class_admission():
    """Does a class-less Ingress get the single default class, and several defaults refuse it?"""
    assert default_class_for(ing("x", default=svc("a")), [_class("a", True), _class("b")]) == ("a", None)
    assert default_class_for(ing("x", default=svc("a")), [_class("a")]) == (None, None)
    name, problem = default_class_for(ing("x", default=svc("a")), [_class("a", True), _class("b", True)])
    assert name is None and "2 default IngressClasses" in problem
    annotated = ing("x", default=svc("a"), annotations={"kubernetes.io/ingress.class": "other"})
    assert default_class_for(annotated, [_class("a", True)]) == (None, None)


def test_class_of_prefers_the_field_over_the_annotation():
    """Is spec.ingressClassName read first, then the deprecated annotation?"""
    both = ing("x", default=svc("a"), cls="one", annotations={"kubernetes.io/ingress.class": "two"})
    assert class_of(both) == ("one", "spec.ingressClassName")
    assert class_of(ing("x", annotations={"kubernetes.io/ingress.class": "two"}))[0] == "two"
    assert class_of(ing("x")) == (None, "none")


def test_class_annotation_must_match_the_field_on_create():
    """ValidateIngressCreate: an annotation naming another class than spec.ingressClassName is refused on create
    (annotations.kubernetes.io/ingress.class), a matching one is fine, and updates are not checked."""
    mismatch = ing("x", default=svc("a"), cls="nginx", annotations={"kubernetes.io/ingress.class": "other"})
    with pytest.raises(ValidationError, match=r"annotations.kubernetes.io/ingress.class.*must match `ingressClassName`"):
        validate_ingress(mismatch, create=True)
    validate_ingress(mismatch)
    validate_ingress(ing("x", default=svc("a"), cls="nginx", annotations={"kubernetes.io/ingress.class": "nginx"}),
                     create=True)


# ---------------------------------------------------------------- routing
def test_backend_keeps_the_port_as_written():
    """Is a backend's port kept as the Ingress writes it: a number stays a number, a name a name?"""
    assert str(backend_of(svc("web", 8080), "ns")) == "ns/web:8080"
    assert str(backend_of(svc("web", "http"), "ns")) == "ns/web:http"
    assert backend_of({"resource": {"kind": "Bucket", "name": "b"}}, "ns") is None


def test_rules_of_several_ingresses_merge_per_host_and_longest_wins():
    """Do paths of two Ingresses on one host compete by length, whichever Ingress declares them?"""
    table = compile_routes([ing("a", [rule("h", ("/", "Prefix", "root"))]),
                            ing("b", [rule("h", ("/api", "Prefix", "api"))], created="2026-01-01T00:00:02Z")])
    assert table.lookup("h", "/api/v1").backend.service == "api"
    assert table.lookup("h", "/apiv1").backend.service == "root"


def test_equal_paths_go_to_the_oldest_ingress():
    """When two Ingresses declare the same host, path and type, does the older one win?"""
    table = compile_routes([ing("new", [rule("h", ("/", "Prefix", "new"))], created="2026-01-01T00:00:09Z"),
                            ing("old", [rule("h", ("/", "Prefix", "old"))], created="2026-01-01T00:00:01Z")])
    m = table.lookup("h", "/x")
    assert m.backend.service == "old" and "default/old" in m.why


def test_exact_before_prefix_and_why_names_the_rule():
    """Does Exact beat Prefix at equal length, and does the reason name the Ingress, rule and path?"""
    table = compile_routes([ing("a", [rule("h", ("/foo", "Prefix", "p"), ("/foo", "Exact", "e"))])])
    m = table.lookup("h", "/foo")
    assert m.backend.service == "e"
    assert "Ingress default/a spec.rules[0].http.paths[1]" in m.why and "Exact before Prefix" in m.why


def test_host_selection_precise_then_wildcard_then_no_host():
    """Is a precise host preferred to a wildcard, and a wildcard to rules without host?"""
    table = compile_routes([ing("a", [rule("*.foo.com", ("/", "Prefix", "wild")),
                                      rule("a.foo.com", ("/", "Prefix", "precise")),
                                      rule("", ("/", "Prefix", "any"))])])
    assert table.lookup("a.foo.com", "/").backend.service == "precise"
    assert table.lookup("b.foo.com", "/").backend.service == "wild"
    assert table.lookup("b.c.foo.com", "/").backend.service == "any"


def test_no_match_without_default_backend_says_why():
    """With no rule and no defaultBackend, is the answer no backend with a reason naming the host?"""
    m = compile_routes([ing("a", [rule("h", ("/a", "Exact", "x"))])]).lookup("other", "/")
    assert m.backend is None and "no rule matches host other" in m.why


def test_default_backend_of_the_hosts_ingress_first():
    """For a host's unmatched path, is that host's Ingress's defaultBackend used before another Ingress's?"""
    table = compile_routes([ing("catch", default=svc("catch-all")),
                            ing("h", [rule("h", ("/a", "Exact", "a"))], default=svc("h-default"),
                                created="2026-01-01T00:00:05Z")])
    assert table.lookup("h", "/zzz").backend.service == "h-default"
    assert table.lookup("nope", "/").backend.service == "catch-all"


def test_lookup_is_case_sensitive_on_paths():
    """Is path matching case-sensitive (Prefix /foo does not take /FOO)?"""
    assert compile_routes([ing("a", [rule("h", ("/foo", "Prefix", "x"))])]).lookup("h", "/FOO").backend is None


def test_malformed_shapes_never_crash_validation():
    """Do wrongly-typed fields give field errors (or none, leaving them to the schema), never a raw exception?"""
    import itertools

    junk = [None, 3, "x", [], {}, [1], {"a": 1}, True]
    for rules, paths, backend, tls in itertools.product(junk, junk, junk, junk):
        spec = {"rules": rules if rules is not None else [{"host": 7, "http": {"paths": paths}}],
                "defaultBackend": backend, "tls": tls}
        ingress_errors({"kind": "Ingress", "metadata": {"name": "x", "namespace": "d"}, "spec": spec})
        ingress_errors({"kind": "Ingress", "metadata": {"name": "x", "namespace": "d"},
                        "spec": {"rules": [{"http": {"paths": [{"path": paths, "pathType": "Prefix",
                                                                "backend": backend}]}}]}})
