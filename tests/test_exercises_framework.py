"""The exercise registry and check(): sub-checks, partial credit, errors, hidden checks, discovery."""
import subprocess
import sys
import textwrap

import pytest

import kubelab
import kubelab.course.exercises as ex
from kubelab.errors import ValidationError
from kubelab.course.exercises import CheckResult, UnknownExerciseError, check, exercise


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Each test registers into its own copy of the registry."""
    monkeypatch.setattr(ex, "_REGISTRY", dict(ex._REGISTRY))
    monkeypatch.setattr(ex, "_LOADED_MODULES", set(ex._LOADED_MODULES))
    monkeypatch.delenv("KUBELAB_GRADING", raising=False)
    monkeypatch.delenv("KUBELAB_EXERCISE_PATH", raising=False)


def register_double():
    @exercise("97-double", title="Double a number", lesson="97-test")
    def double(answer, ctx):
        ctx.expect("double(2) is 4", answer(2) == 4, "what is twice 2?")
        ctx.expect("double(-3) is -6", answer(-3) == -6, "negative numbers double too")
        ctx.mistake("adds 2 instead of doubling", answer(3) == 5, "x + 2 equals 2 * x only when x is 2")
        ctx.expect("double(0.5) is 1.0", answer(0.5) == 1.0, "fractions double too", hidden=True)


def test_every_sub_check_is_reported_in_order_with_partial_credit():
    """Does a check list every sub-check in order, with a summary and partial credit?"""
    register_double()
    result = check("97-double", lambda x: x + 2)
    assert str(result) == (
        "[PASS] double(2) is 4\n"
        "[FAIL] double(-3) is -6 — hint: negative numbers double too\n"
        "[MISTAKE] adds 2 instead of doubling — hint: x + 2 equals 2 * x only when x is 2\n"
        "97-double: 1/2 checks passed")
    assert (result.passed, result.total, result.score) == (1, 2, 0.5)
    assert not result


def test_a_correct_answer_passes_without_hints():
    """Does a correct answer pass every sub-check and show no hint?"""
    register_double()
    result = check("97-double", lambda x: 2 * x)
    assert str(result) == "[PASS] double(2) is 4\n[PASS] double(-3) is -6\n97-double: 2/2 checks passed"
    assert result and result.score == 1.0


def test_repr_is_the_same_text_as_str():
    """Does the plain repr (outside a notebook) print the same stable lines as str()?"""
    register_double()
    result = check("97-double", lambda x: 2 * x)
    assert repr(result) == str(result) == str(check("97-double", lambda x: 2 * x))


def test_html_view_has_a_row_per_sub_check_and_escapes_text():
    """Does the notebook view show one table row per sub-check, with names escaped?"""
    @exercise("97-html", title="<b>tags</b>", lesson="97-test")
    def html_check(answer, ctx):
        ctx.expect("a < b", True, "")
        ctx.expect("c & d", False, "use <this>")

    html = check("97-html", None)._repr_html_()
    assert html.count("<tr><td") == 2
    assert "a &lt; b" in html and "use &lt;this&gt;" in html and "&lt;b&gt;tags&lt;/b&gt;" in html
    assert "97-html: 1/2 checks passed" in html


def test_an_answer_raising_a_kubelab_error_fails_with_one_line_naming_it():
    """Does an answer that raises a KubelabError fail with a one-line explanation, not a traceback?"""
    @exercise("97-apply", title="Apply a Service", lesson="97-test")
    def apply_check(answer, ctx):
        answer()
        ctx.expect("never reached", True, "")

    def answer():
        raise ValidationError("Service default/web", "spec.ports[0].port", "must be between 1 and 65535",
                              "use the port clients connect to")

    result = check("97-apply", answer)
    assert str(result) == (
        "[FAIL] your answer could not be checked: ValidationError: Service default/web: spec.ports[0].port: "
        "must be between 1 and 65535 (use the port clients connect to) — hint: fix the error above and run "
        "this check again\n"
        "97-apply: 0/1 checks passed")
    assert "Traceback" not in str(result)


@pytest.mark.parametrize("error", [ZeroDivisionError("division by zero"), SystemExit(3), KeyError("x")])
def test_any_exception_from_an_answer_gives_a_failed_result(error):
    """Does any exception (even sys.exit) from an answer become a failed sub-check naming it?"""
    register_double()

    def answer(x):
        raise error

    result = check("97-double", answer)
    assert result.score == 0.0
    assert result.checks[-1].kind == "error"
    assert type(error).__name__ in str(result).splitlines()[0]


def test_the_exercise_stub_is_named_as_such():
    """Does an answer that is still the `raise NotImplementedError()` stub say so?"""
    register_double()

    def answer(x):
        raise NotImplementedError()

    assert "still the exercise's stub" in str(check("97-double", answer))


def test_sub_checks_recorded_before_an_error_still_count():
    """Do sub-checks that passed before the answer raised keep their credit?"""
    register_double()
    result = check("97-double", lambda x: 4 if x == 2 else 1 / 0)
    assert [c.ok for c in result.checks] == [True, False]
    assert (result.passed, result.total) == (1, 2)


def test_a_mistake_explains_but_does_not_score():
    """Is a recognised classic mistake shown with its hint without changing the score?"""
    register_double()
    result = check("97-double", lambda x: x + 2)
    mistakes = [c for c in result.checks if c.kind == "mistake"]
    assert [c.name for c in mistakes] == ["adds 2 instead of doubling"]
    assert result.total == 2


def test_hidden_sub_checks_run_only_while_grading(monkeypatch):
    """Do hidden sub-checks run only when KUBELAB_GRADING=1, and show as hidden?"""
    register_double()
    assert check("97-double", lambda x: x + 2).total == 2
    monkeypatch.setenv("KUBELAB_GRADING", "1")
    result = check("97-double", lambda x: x + 2)
    assert result.total == 3
    assert "[FAIL] (hidden) double(0.5) is 1.0 — hint: fractions double too" in str(result).splitlines()


@pytest.mark.parametrize("answer", ["kind: Service\n", {"kind": "Service"}, [{"kind": "Service"}], len])
def test_answers_of_every_shape_reach_the_check_unchanged(answer):
    """Do YAML text, dicts, lists and callables reach the check function as given?"""
    seen = []

    @exercise("97-shape", title="Any shape", lesson="97-test")
    def shape_check(answer, ctx):
        seen.append(answer)
        ctx.expect("received", True, "")

    check("97-shape", answer)
    assert seen == [answer]


def test_a_lab_is_built_only_when_a_check_asks_and_fresh_each_time():
    """Does ctx.lab() call the Lab factory lazily, once per call, with the check's options?"""
    calls = []

    @exercise("97-lab", title="Uses a Lab", lesson="97-test")
    def lab_check(answer, ctx):
        if answer:
            first, second = ctx.lab(nodes=2), ctx.lab()
            ctx.expect("two fresh labs", first is not second, "")

    def factory(**kwargs):
        calls.append(kwargs)
        return object()

    check("97-lab", False, lab_factory=factory)
    assert calls == []
    assert check("97-lab", True, lab_factory=factory)
    assert calls == [{"nodes": 2}, {}]


def test_the_default_lab_is_a_seeded_simulated_cluster(monkeypatch):
    """Does ctx.lab() default to kubelab.connect("simulated", seed=0, ...)?"""
    calls = []
    monkeypatch.setattr(kubelab, "connect", lambda *a, **k: calls.append((a, k)), raising=False)

    @exercise("97-default-lab", title="Default Lab", lesson="97-test")
    def lab_check(answer, ctx):
        ctx.lab(cni="flannel")
        ctx.expect("built", True, "")

    check("97-default-lab", None)
    assert calls == [(("simulated",), {"seed": 0, "cni": "flannel"})]


def test_an_unknown_id_lists_the_known_ids_of_its_chapter():
    """Does a mistyped exercise id raise an error that lists the chapter's exercises?"""
    register_double()

    @exercise("97-another", title="Another", lesson="97-test")
    def another(answer, ctx):
        ctx.expect("ok", True, "")

    with pytest.raises(UnknownExerciseError) as err:
        check("97-doubel", lambda x: x)
    assert str(err.value) == "no exercise '97-doubel'; lesson 97-test has: 97-another, 97-double"


def test_an_id_of_a_chapter_without_exercises_says_where_modules_go():
    """Does an id from a chapter with no exercise module say where such a module belongs?"""
    with pytest.raises(UnknownExerciseError, match="no module ch95_\\*.py in kubelab/exercises/"):
        check("95-anything", None)


@pytest.mark.parametrize("bad", ["clusterip", "3-x", "03_x", 42])
def test_a_malformed_id_says_what_ids_look_like(bad):
    """Does a malformed exercise id get an error showing the id format?"""
    with pytest.raises(UnknownExerciseError, match="ids look like '03-clusterip-selector'"):
        check(bad, None)


def test_registering_one_id_from_two_functions_fails():
    """Is registering the same exercise id from two different functions refused?"""
    register_double()
    with pytest.raises(ValueError, match="registered twice"):
        @exercise("97-double", title="Again", lesson="97-test")
        def other(answer, ctx):
            pass


def test_registering_a_malformed_id_fails():
    """Is an exercise id without its chapter number refused at registration?"""
    with pytest.raises(ValueError, match="NN-some-name"):
        exercise("double", title="x", lesson="y")


def test_chapter_modules_load_lazily_from_the_exercise_path(tmp_path, monkeypatch):
    """Is a chapter module on KUBELAB_EXERCISE_PATH imported only when check() asks for its chapter?"""
    (tmp_path / "ch96_lazy.py").write_text(textwrap.dedent("""
        from kubelab.course.exercises import exercise

        @exercise("96-lazy", title="Lazy", lesson="96-lazy")
        def lazy(answer, ctx):
            ctx.expect("answer is 42", answer == 42, "the answer to everything")
    """))
    monkeypatch.setenv("KUBELAB_EXERCISE_PATH", str(tmp_path))
    monkeypatch.delitem(sys.modules, "kubelab.course.exercises.ch96_lazy", raising=False)
    assert "kubelab.course.exercises.ch96_lazy" not in sys.modules
    assert check("96-lazy", 42).score == 1.0
    assert "kubelab.course.exercises.ch96_lazy" in sys.modules
    assert [e.id for e in ex.registered("96")] == ["96-lazy"]


def test_import_kubelab_stays_free_of_notebook_machinery():
    """Do `import kubelab` and its exercises, release, grading and cli modules avoid loading nbformat and IPython?"""
    code = ("import sys, kubelab, kubelab.course.exercises, kubelab.course.release, kubelab.course.grading, kubelab.cli; "
            "print(sorted(m for m in ('nbformat', 'nbclient', 'IPython', 'nbval') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_result_with_no_sub_checks_scores_zero():
    """Does a check that recorded nothing score 0 rather than divide by zero?"""
    result = CheckResult("97-empty", "Empty", ())
    assert (result.score, bool(result), str(result)) == (0.0, False, "97-empty: 0/0 checks passed")


def test_a_met_precondition_earns_nothing_and_a_failed_one_scores_zero():
    """Does ctx.require show a met precondition as [OK] without scoring it, and count a failed one as a failure?"""
    from kubelab.course.exercises import Context, SubCheck

    ctx = Context("99-test")
    assert ctx.require("the manifest applies", True, "")
    ctx.expect("the real task", False, "do the task")
    assert [str(c) for c in ctx.checks] == ["[OK] the manifest applies", "[FAIL] the real task — hint: do the task"]
    assert [c.scored for c in ctx.checks] == [False, True]
    failed = Context("99-test")
    assert not failed.require("the manifest applies", False, "fix the YAML")
    assert failed.checks == [SubCheck("the manifest applies", False, "fix the YAML")]
