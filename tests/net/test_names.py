"""Object names and metadata: DNS-1123/1035 rules and the API server's messages."""
import pytest

from kubelab.errors import ValidationError
from kubelab.net.names import (dns1035_label_errors, dns1123_label_errors, dns1123_subdomain_errors,
                               port_name_errors, qualified_name_errors, validate_object_meta)


def obj(name=None, namespace="default", **meta):
    m = dict(meta)
    if name is not None:
        m["name"] = name
    if namespace is not None:
        m["namespace"] = namespace
    return {"metadata": m}


@pytest.mark.parametrize("name", ["web", "web-1", "a", "a" * 63, "w3b"])
def test_valid_service_names(name):
    """Are short lower-case names starting with a letter valid DNS-1035 labels?"""
    assert dns1035_label_errors(name) == []


@pytest.mark.parametrize("name", ["1web", "Web", "web-", "web_1", "web.app", "a" * 64, ""])
def test_invalid_service_names(name):
    """Are names with a leading digit, upper case, '_', '.', a trailing '-' or >63 chars refused as DNS-1035?"""
    assert dns1035_label_errors(name)


def test_dns1035_message_is_the_api_servers():
    """Does the DNS-1035 message quote the examples and regex exactly as apimachinery does?"""
    assert dns1035_label_errors("1web") == [
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]


def test_dns1123_label_allows_a_leading_digit_but_not_dots():
    """May a DNS-1123 label start with a digit, and is a dotted name told 'must not contain dots'?"""
    assert dns1123_label_errors("123-abc") == []
    assert dns1123_label_errors("a.b") == ["must not contain dots"]


def test_dns1123_subdomain_length_and_dots():
    """Is a dotted name a valid subdomain, and are names over 253 characters refused?"""
    assert dns1123_subdomain_errors("web.v2.example") == []
    assert dns1123_subdomain_errors("a" * 254)[0] == "must be no more than 253 characters"


@pytest.mark.parametrize("name,expected", [
    ("http", []),
    ("http-web-svc", []),
    ("a-very-long-port-name", ["must be no more than 15 characters"]),
    ("8080", ["must contain at least one letter (a-z)"]),
    ("http--x", ["must not contain consecutive hyphens"]),
    ("-http", ["must not begin or end with a hyphen"]),
    ("HTTP", ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
              "must contain at least one letter (a-z)"]),
])
def test_port_names(name, expected):
    """Do IANA_SVC_NAME port names follow IsValidPortName's rules and messages?"""
    assert port_name_errors(name) == expected


def test_qualified_names():
    """Are 'example.com/key' and 'key' qualified names while '/key' and 'a/b/c' are not?"""
    assert qualified_name_errors("example.com/key") == []
    assert qualified_name_errors("key") == []
    assert qualified_name_errors("/key")
    assert qualified_name_errors("a/b/c")


def test_service_name_error_names_the_field():
    """Is a Service named '1web' rejected at metadata.name with the DNS-1035 message?"""
    with pytest.raises(ValidationError) as e:
        validate_object_meta(obj("1web"), "Service", True, "dns1035-label")
    assert e.value.field == "metadata.name" and "DNS-1035" in str(e.value)
    assert str(e.value).startswith("Service default/1web: metadata.name: Invalid value")


def test_pod_names_may_contain_dots():
    """Is 'web.v2' a valid Pod name (DNS-1123 subdomain) but not a valid Service name?"""
    validate_object_meta(obj("web.v2"), "Pod", True, "dns1123-subdomain")
    with pytest.raises(ValidationError):
        validate_object_meta(obj("web.v2"), "Service", True, "dns1035-label")


def test_name_is_required_unless_generate_name():
    """Is a missing name refused, but a generateName ending in '-' accepted?"""
    with pytest.raises(ValidationError, match="name or generateName is required"):
        validate_object_meta(obj(), "Pod", True, "dns1123-subdomain")
    validate_object_meta(obj(generateName="web-"), "Pod", True, "dns1123-subdomain")


def test_namespace_rules():
    """Must namespaced kinds have a DNS-1123-label namespace, and cluster-scoped ones none?"""
    with pytest.raises(ValidationError, match="metadata.namespace: Required value"):
        validate_object_meta(obj("web", namespace=None), "Pod", True, "dns1123-subdomain")
    with pytest.raises(ValidationError, match="metadata.namespace"):
        validate_object_meta(obj("web", namespace="My_NS"), "Pod", True, "dns1123-subdomain")
    with pytest.raises(ValidationError, match="not allowed on this type"):
        validate_object_meta(obj("node-a", namespace="default"), "Node", False, "dns1123-subdomain")
    validate_object_meta(obj("node-a", namespace=None), "Node", False, "dns1123-subdomain")


def test_labels_and_annotations_are_checked():
    """Are a bad label value and a bad annotation key refused under metadata?"""
    with pytest.raises(ValidationError, match="metadata.labels"):
        validate_object_meta(obj("web", labels={"app": "web server"}), "Pod", True, "dns1123-subdomain")
    with pytest.raises(ValidationError, match="metadata.annotations"):
        validate_object_meta(obj("web", annotations={"bad key!": "x"}), "Pod", True, "dns1123-subdomain")


def test_unknown_rule_is_a_programming_error():
    """Is an unknown name rule a ValueError (a kubelab bug), not a learner error?"""
    with pytest.raises(ValueError):
        validate_object_meta(obj("web"), "Pod", True, "dns-whatever")
