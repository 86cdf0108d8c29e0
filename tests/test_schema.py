"""Structural validation against the real Kubernetes schemas."""
import pytest

from kubelab.errors import ValidationError
from kubelab.api.schema import check_structure


def _pod(**spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}


def test_valid_pod_passes():
    """Does a well-formed Pod pass without complaint?"""
    check_structure(_pod(hostNetwork=True), "Pod default/p")


def test_unknown_field_is_named_with_its_path():
    """Is a misspelt field reported at its full path, with a fix?"""
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80}], "selectr": {"app": "x"}}}
    with pytest.raises(ValidationError) as err:
        check_structure(svc, "Service default/s")
    assert err.value.field == "spec.selectr"
    assert "unknown field" in str(err.value) and "Service default/s" in str(err.value)


def test_wrong_type_names_expected_and_actual():
    """Is a quoted number where an integer belongs reported as a type error at that field?"""
    pod = _pod()
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": "80"}]
    with pytest.raises(ValidationError) as err:
        check_structure(pod, "Pod default/p")
    assert err.value.field == "spec.containers[0].ports[0].containerPort"
    assert "expected integer" in str(err.value)


def test_int_or_string_accepts_both_and_rejects_lists():
    """Does targetPort accept 8080 and "http" but not a list?"""
    for target in (8080, "http"):
        check_structure({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                         "spec": {"ports": [{"port": 80, "targetPort": target}]}}, "Service default/s")
    with pytest.raises(ValidationError) as err:
        check_structure({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                         "spec": {"ports": [{"port": 80, "targetPort": [1]}]}}, "Service default/s")
    assert err.value.field == "spec.ports[0].targetPort"


def test_missing_required_field():
    """Is a container without a name reported as a required value?"""
    with pytest.raises(ValidationError) as err:
        check_structure({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                         "spec": {"containers": [{"image": "nginx"}]}}, "Pod default/p")
    assert err.value.field == "spec.containers[0].name" and "Required value" in str(err.value)


def test_networkpolicy_peer_typo():
    """Is `podselector` (wrong case) inside a NetworkPolicy peer caught?"""
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np"},
              "spec": {"podSelector": {}, "ingress": [{"from": [{"podselector": {}}]}]}}
    with pytest.raises(ValidationError) as err:
        check_structure(policy, "NetworkPolicy default/np")
    assert err.value.field == "spec.ingress[0].from[0].podselector"


def test_every_registered_kind_has_a_schema():
    """Is every kind the Lab serves checked structurally (no kind slips through without a schema)?"""
    from kubelab.api import kinds
    from kubelab.api.schema import kind_schema

    for kind in kinds.all_kinds():
        for api_version in kind.api_versions:
            if kind.openapi_schema:
                assert kind_schema(kind.kind, api_version) is not None, (kind.kind, api_version)


def test_a_kind_without_a_schema_is_not_passed_silently():
    """Does check_structure refuse to wave through a kind it has no schema for?"""
    from kubelab.api.schema import SchemaMissingError

    with pytest.raises(SchemaMissingError):
        check_structure({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
                        "Widget default/w")
    check_structure({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
                    "Widget default/w", schema_required=False)


def test_the_shipped_schemas_are_kubernetes_validates_unchanged():
    """Is the vendored schema file exactly what tools/vendor_schemas.py makes from kubernetes-validate?"""
    import importlib.util
    import runpy
    import shutil
    from pathlib import Path

    if importlib.util.find_spec("kubernetes_validate") is None:
        pytest.skip("needs kubernetes-validate to compare against: pip install kubernetes-validate==1.37.0")
    from kubelab.api.schema import SCHEMA_FILE, SCHEMA_VERSION

    tool = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tools" / "vendor_schemas.py"))
    shipped = SCHEMA_FILE.read_bytes()
    try:
        assert tool["main"](SCHEMA_VERSION).read_bytes() == shipped
    finally:
        SCHEMA_FILE.write_bytes(shipped)
