"""Is the public API exactly what was meant, and is importing it cheap?"""
import subprocess
import sys

import kubelab


def test_all_names_are_exported_and_exist():
    """Does every name in kubelab.__all__ exist, and is nothing public missing from it?"""
    for name in kubelab.__all__:
        assert hasattr(kubelab, name), name
    assert set(kubelab.__all__) >= {"connect", "check", "capstone", "Verdict", "Trace", "KubelabError",
                                    "ValidationError"}


def test_import_does_not_load_heavy_modules():
    """Does `import kubelab` leave matplotlib, the kubernetes client and ipywidgets unloaded?"""
    code = ("import sys, kubelab; heavy = [m for m in ('matplotlib', 'kubernetes', 'ipywidgets', 'networkx', "
            "'yaml', 'nbformat') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_every_error_is_a_kubelab_error():
    """Can a notebook catch every deliberate kubelab error with one except clause?"""
    for name in ("ManifestError", "ValidationError", "UnknownKindError", "ConflictError", "NotFoundError",
                 "ProbeError", "BackendError"):
        assert issubclass(getattr(kubelab, name), kubelab.KubelabError)


def test_unknown_and_unavailable_backends_say_what_to_use():
    """Do connect('live') without a kubeconfig and a misspelt backend raise BackendError pointing at the simulated cluster?"""
    import pytest
    for backend, options in (("live", {"kubeconfig": "/nonexistent/kubeconfig"}), ("simulted", {})):
        with pytest.raises(kubelab.BackendError) as err:
            kubelab.connect(backend, **options)
        assert "simulated" in str(err.value)


def test_unknown_connect_option_is_named():
    """Does a misspelt connect() option name the option and list the valid ones?"""
    import pytest
    with pytest.raises(kubelab.BackendError) as err:
        kubelab.connect(node=2)
    assert "'node'" in str(err.value) and "nodes" in str(err.value)
