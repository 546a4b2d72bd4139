"""Study files: a YAML definition of one analysis, validated with pydantic.

A study names its input layers and networks, the accessibility blocks (modes, time
budgets in minutes, decays), transit, borrowed-size and candidate settings, and where
outputs go. Relative paths resolve against ``root`` (itself relative to the study file's
folder; default: that folder). Unknown keys are errors with a "did you mean" suggestion.

Examples
--------
>>> from ruimtekit import study
>>> s = study.load_study()          # the bundled demo study
>>> s.name
'demo'
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from ruimtekit import _crs, _io
from ruimtekit._config import Section
from ruimtekit._errors import InputError, StudyError
from ruimtekit.analysis import accessibility, borrowed_size, candidates, transit_access
from ruimtekit.io import layers
from ruimtekit.network import networks
from ruimtekit.report.maps import MapsConfig

# Module-level aliases: inside Study the fields `layers`, `networks`, ... shadow the modules.
LayerSpec = layers.LayerSpec
NetworkSpec = networks.NetworkSpec
AccessibilityConfig = accessibility.AccessibilityConfig
TransitConfig = transit_access.TransitConfig
BorrowedSizeConfig = borrowed_size.BorrowedSizeConfig
CandidatesConfig = candidates.CandidatesConfig

DEMO_STUDY_NAME = "demo.yaml"


class Study(Section):
    """A validated study definition.

    Attributes
    ----------
    name : str
        Short name (letters, digits, ``_``, ``-``); outputs go to
        ``<output_dir>/<name>/`` and ``<maps_dir>/<name>/``.
    title, region, description : str
        Shown on maps and in provenance.
    root : Path
        Folder relative paths resolve against (relative to the study file's folder).
    output_dir, maps_dir : Path
        Output folders (relative to ``root``).
    layers : dict
        Input layers by name (:class:`ruimtekit.io.layers.LayerSpec`).
    networks : dict
        Networks by name (:class:`ruimtekit.network.networks.NetworkSpec`).
    accessibility : list
        Accessibility blocks (:class:`ruimtekit.analysis.accessibility.AccessibilityConfig`).
    transit : list
        Transit accessibility blocks (:class:`ruimtekit.analysis.transit_access.TransitConfig`).
    borrowed_size : BorrowedSizeConfig or None
    candidates : CandidatesConfig or None
    maps : MapsConfig
    attribution : list of str
        Source attributions shown on every map (e.g. "Bron: CBS").
    scheduler : str, optional
        Run accessibility and transit searches on Dask: ``local:N`` (N local worker
        processes) or a scheduler address such as ``tcp://host:8786`` (see
        ``docs/distributed.md``); ``ruimtekit run --scheduler`` overrides it.
    crs : str
        Working CRS (:mod:`ruimtekit._crs`): ``EPSG:28992`` (default), any projected CRS
        in metres (e.g. ``EPSG:31982`` for Porto Alegre) or ``auto`` (the UTM zone of
        the first layer read). Inputs are reprojected to it and GeoPackages written in
        it; web maps are EPSG:4326.
    """

    name: str
    title: str = ""
    region: str = ""
    description: str = ""
    root: Path = Path(".")
    output_dir: Path = Path("data/processed")
    maps_dir: Path = Path("maps")
    crs: str = "EPSG:28992"
    layers: dict[str, LayerSpec] = Field(default_factory=dict)
    networks: dict[str, NetworkSpec] = Field(default_factory=dict)
    accessibility: list[AccessibilityConfig] = Field(default_factory=list)
    transit: list[TransitConfig] = Field(default_factory=list)
    borrowed_size: BorrowedSizeConfig | None = None
    candidates: CandidatesConfig | None = None
    maps: MapsConfig = Field(default_factory=MapsConfig)
    attribution: list[str] = Field(default_factory=list)
    scheduler: str | None = Field(
        None, pattern=r"^(local(:[1-9][0-9]*)?|(tcp|tls|ws|wss|ucx|inproc)://\S+|[\w.\-]+:[0-9]+)$")

    @field_validator("crs")
    @classmethod
    def _crs_ok(cls, v: str) -> str:

        try:
            return _crs.validate(v)
        except InputError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("accessibility", "transit")
    @classmethod
    def _unique_names(cls, v: list[Any]) -> list[Any]:
        names = [getattr(b, "name", None) for b in v]
        dup = sorted({n for n in names if n is not None and names.count(n) > 1})
        if dup:
            raise ValueError(f"block name(s) {dup} are used twice; each block writes its own "
                             "result layer, so only the last would survive: give every block "
                             "its own name")
        return v

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", v):
            raise ValueError("use 1-64 letters, digits, '_' or '-' (it names output folders)")
        return v


def demo_study_path() -> Path:
    """Path of the bundled demo study (``studies/demo.yaml`` in the source tree).

    Raises
    ------
    StudyError
        When the demo study cannot be found (e.g. a wheel install without the data).
    """
    candidates_ = [
        Path.cwd() / "studies" / DEMO_STUDY_NAME,
        Path(__file__).resolve().parents[2] / "studies" / DEMO_STUDY_NAME,
    ]
    for p in candidates_:
        if p.is_file():
            return p
    raise StudyError(
        None,
        "no study file was given and the bundled demo study (studies/demo.yaml) was not found",
        "run from the ruimtekit source folder (where `make demo` works) or pass a study "
        "file: `ruimtekit run my_study.yaml`",
    )


def load_study(path: str | Path | None = None) -> tuple[Study, Path]:
    """Read and validate a study file.

    Parameters
    ----------
    path : str or Path, optional
        YAML study file; the bundled demo study when omitted.

    Returns
    -------
    (Study, Path)
        The validated study and the resolved root folder for relative paths.

    Raises
    ------
    StudyError
        Unreadable file, invalid YAML, unknown keys (with a suggestion) or invalid values.
    """
    p = demo_study_path() if path is None else Path(path)
    if not p.is_file():
        raise StudyError(p, "study file not found", "check the path, or omit it to run the demo")
    try:
        if p.stat().st_size > _io.MAX_YAML_BYTES:
            raise StudyError(p, f"the file is {p.stat().st_size:,} bytes, above the limit of "
                             f"{_io.MAX_YAML_BYTES:,} for a study file",
                             "keep data in separate files and reference them by path")
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(p, f"cannot read the study file ({exc})", "save it as UTF-8 text") from None
    data = _io.load_yaml(text, p)
    if not isinstance(data, dict):
        raise StudyError(p, "the study file is not a YAML mapping", "start with `name: my_study`")
    study = validate_study(data, p)
    root = (p.parent / study.root).resolve()
    return study, root


def validate_study(data: dict[str, Any], path: Path | None = None) -> Study:
    """Validate a study mapping; turn pydantic errors into one clear :class:`StudyError`."""
    try:
        return Study.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(err) for err in exc.errors()]
        raise StudyError(
            path,
            "invalid study file:\n    " + "\n    ".join(lines),
            "correct the keys and values listed above (see docs/study.md for every key)",
        ) from None


def _describe(err: dict[str, Any]) -> str:
    loc = ".".join(str(x) for x in err["loc"])
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        allowed = _allowed_keys(err["loc"][:-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        known = f" (known keys: {', '.join(sorted(allowed))})" if allowed and not close else ""
        return f"{loc}: unknown key '{key}'{hint}{known}"
    return f"{loc}: {err['msg']}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc`` inside :class:`Study` (best effort)."""
    import typing

    from pydantic import BaseModel

    model: Any = Study
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            # a dict key such as a layer name: stay on the value type
            continue
        model = _inner_model(field.annotation, typing)
    if isinstance(model, type) and issubclass(model, BaseModel):
        names = set(model.model_fields)
        names |= {f.alias for f in model.model_fields.values() if f.alias}
        return sorted(names)
    return []


def _inner_model(annotation: Any, typing: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation) or ():
        found = _inner_model(arg, typing)
        if found is not None:
            return found
    return None


def reference_markdown() -> str:
    """The study-file reference (``docs/study.md``), generated from the pydantic models.

    A test checks that ``docs/study.md`` equals this text, so the documentation cannot
    drift from the code.
    """
    import typing

    from pydantic import BaseModel

    seen: list[type[BaseModel]] = []

    def collect(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for f in model.model_fields.values():
            for sub in _models_in(f.annotation, typing):
                collect(sub)

    collect(Study)
    out = [
        "# Study file reference",
        "",
        "A study is a YAML file (loaded safely by `ruimtekit._io.load_yaml`) validated by ruimtekit;",
        "unknown keys are errors with a suggestion, a key given twice (e.g. a layer defined twice)",
        "is an error naming both lines, and accessibility or transit blocks need unique names.",
        "Study files are limited to 5 MB and to 200,000 values after expanding YAML aliases",
        "(`*name`), so an alias bomb fails at once. Relative paths resolve against `root`, which is",
        "itself relative to the study file's folder. The bundled demo is `studies/demo.yaml`.",
        "",
        "This page is generated from the code (`ruimtekit.study.reference_markdown()`).",
        "",
    ]
    for model in seen:
        out.append(f"## `{model.__name__}`")
        out.append("")
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        if doc:
            out += [doc, ""]
        out += ["| key | type | default |", "|---|---|---|"]
        for name, f in model.model_fields.items():
            key = f.alias or name
            typ = _type_name(f.annotation).replace("|", "\\|")
            if f.is_required():
                default = "**required**"
            elif f.default_factory is not None:
                default = "`" + repr(f.default_factory()).replace("|", "\\|") + "`"
            else:
                default = "`" + repr(f.default).replace("|", "\\|") + "`"
            if len(default) > 60:
                default = default[:57] + "…`"
            out.append(f"| `{key}` | {typ} | {default} |")
        out.append("")
    return "\n".join(out)


def _models_in(annotation: Any, typing: Any) -> list[Any]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation) or ():
        found += _models_in(arg, typing)
    return found


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation)
    return re.sub(r"(typing\.|ruimtekit\.[a-z_]+\.|pathlib\.|datetime\.)", "", text)
