"""Study files: validation, suggestions for unknown keys, defaults, generated reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from ruimtekit import study
from ruimtekit._errors import StudyError

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path, text):
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_study_is_default_and_valid():
    s, root = study.load_study()
    assert s.name == "demo"
    assert root == ROOT
    for spec in s.layers.values():
        assert (root / spec.path).exists(), spec.path


def test_unknown_top_level_key_suggests(tmp_path):
    p = _write(tmp_path, "name: x\noutput_dri: out\n")
    with pytest.raises(StudyError) as e:
        study.load_study(p)
    msg = str(e.value)
    assert "unknown key 'output_dri'" in msg and "did you mean 'output_dir'" in msg
    assert str(p) in msg


def test_unknown_nested_key_suggests(tmp_path):
    p = _write(tmp_path, "name: x\nlayers:\n  pc4:\n    path: a.parquet\n    kind: zones\n    colums: {}\n")
    with pytest.raises(StudyError, match="did you mean 'columns'"):
        study.load_study(p)


def test_bad_yaml_and_bad_name(tmp_path):
    with pytest.raises(StudyError, match="invalid YAML at line 2"):
        study.load_study(_write(tmp_path, "name: x\n  bad: [1\n"))
    with pytest.raises(StudyError, match="names output folders"):
        study.load_study(_write(tmp_path, "name: ../evil\n"))
    with pytest.raises(StudyError, match="not a YAML mapping"):
        study.load_study(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(StudyError, match="not found"):
        study.load_study(tmp_path / "missing.yaml")


def test_yaml_is_loaded_safely(tmp_path):
    p = _write(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(StudyError, match="invalid YAML"):
        study.load_study(p)


def test_root_is_relative_to_study_file(tmp_path):
    sub = tmp_path / "studies"
    sub.mkdir()
    p = sub / "s.yaml"
    p.write_text("name: x\nroot: ..\n")
    s, root = study.load_study(p)
    assert root == tmp_path.resolve()


def test_docs_study_reference_is_current():
    text = (ROOT / "docs" / "study.md").read_text(encoding="utf-8")
    assert text == study.reference_markdown() + "\n", (
        "docs/study.md is out of date: regenerate with "
        "python -c 'from ruimtekit import study; print(study.reference_markdown())' > docs/study.md"
    )
