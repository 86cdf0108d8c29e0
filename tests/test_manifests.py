"""Manifests in: YAML text, dicts, lists; errors that say where."""
import pytest

from kubelab.api import kinds
from kubelab.errors import ManifestError, UnknownKindError, ValidationError
from kubelab.api.manifests import load_manifests


def test_multi_document_yaml_and_lists_flatten_in_order():
    """Do multi-document YAML, dicts, nested lists and `kind: List` all come out as one ordered list?"""
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"
    as_list = {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}}]}
    docs = load_manifests([text, [as_list]])
    assert [d["metadata"]["name"] for d in docs] == ["a", "b", "c"]


def test_callers_dicts_are_never_changed():
    """Does loading leave the learner's own dict untouched?"""
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
    docs = load_manifests(obj)
    docs[0]["metadata"]["labels"] = {"x": "y"}
    assert "labels" not in obj["metadata"]


def test_bad_yaml_names_the_line():
    """Does a tab in YAML give the line number and a hint about indentation?"""
    with pytest.raises(ManifestError) as err:
        load_manifests("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n")
    assert "line 4" in str(err.value) and "indentation" in str(err.value)


def test_missing_name_and_non_mapping():
    """Are a document without metadata.name and a bare string rejected with the field named?"""
    with pytest.raises(ValidationError) as err:
        load_manifests({"apiVersion": "v1", "kind": "Pod", "metadata": {}})
    assert err.value.field == "metadata.name"
    with pytest.raises(ManifestError):
        load_manifests("just a string")


def test_unknown_kind_suggests_the_right_one():
    """Does a misspelt kind get a 'did you mean' and a wrong apiVersion the right one?"""
    with pytest.raises(UnknownKindError) as err:
        kinds.for_manifest("v1", "Servce", "Servce default/x")
    assert "did you mean Service?" in str(err.value)
    with pytest.raises(UnknownKindError) as err:
        kinds.for_manifest("v1", "NetworkPolicy", "NetworkPolicy default/x")
    assert "networking.k8s.io/v1" in str(err.value)


@pytest.mark.parametrize("removed", sorted(kinds.REMOVED_API_VERSIONS), ids="{0[1]}-{0[0]}".format)
def test_every_removed_api_version_gets_the_same_message(removed):
    """Is each removed apiVersion of the one table refused on its apiVersion field with one wording: removed in
    which release, no longer served, and the apiVersion to use?"""
    api_version, kind = removed
    replacement, release = kinds.REMOVED_API_VERSIONS[removed]
    with pytest.raises(UnknownKindError) as err:
        kinds.for_manifest(api_version, kind, f"{kind} default/x")
    assert err.value.field == "apiVersion"
    assert f"{kind} {api_version} was removed in Kubernetes {release} and is no longer served" in str(err.value)
    assert f"use apiVersion: {replacement} (see the deprecated API migration guide)" in str(err.value)
    assert release.startswith("v1.") and replacement != api_version


def test_no_kind_is_served_at_a_removed_api_version():
    """Does the table never name an apiVersion a registered kind still serves (one source for both)?"""
    served = {(v, k.kind) for k in kinds.all_kinds() for v in k.api_versions}
    assert not served & set(kinds.REMOVED_API_VERSIONS)
    assert not hasattr(kinds.Kind("X", ("v1",), "xs", True), "removed")


def test_kind_lookup_accepts_kubectl_names():
    """Do plural, short and grouped names find their kind, as kubectl does?"""
    assert kinds.lookup("svc").kind == "Service"
    assert kinds.lookup("pods").kind == "Pod"
    assert kinds.lookup("networkpolicies.networking.k8s.io").kind == "NetworkPolicy"
    assert kinds.lookup("EndpointSlice").kind == "EndpointSlice"
