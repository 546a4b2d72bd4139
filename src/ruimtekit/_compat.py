"""Old import paths of the flat 0.1 layout, kept working for one release.

Before the subpackages (``io``, ``network``, ``engine``, ``analysis``, ``report``) every
module sat directly under ``ruimtekit``. ``import ruimtekit.accessibility`` and
``from ruimtekit.transit import TransitParams`` still work: they return a stand-in module
whose attributes are looked up in the new module(s) and emit a :class:`DeprecationWarning`
naming the new path. The stand-ins are removed in the release after next.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

MOVED: dict[str, tuple[str, ...]] = {
    # io
    "sources": ("io.sources",), "regions": ("io.regions",), "fetch": ("io.fetch",),
    "_download": ("io._download",), "gtfs": ("io.gtfs",), "layers": ("io.layers",),
    "places": ("io.places",), "synthetic": ("io.synthetic",),
    # network
    "graph": ("network.graph",), "profiles": ("network.profiles",),
    "networks": ("network.networks",), "_osm": ("network._osm",),
    "_linking": ("network._linking",), "connectors": ("network.connectors",),
    "ferries": ("network.ferries",),
    # engine
    "_kernels": ("engine._kernels",), "_raptor": ("engine._raptor",),
    "impedance": ("engine.impedance",), "rail": ("engine.rail",),
    "transit": ("analysis.transit_access", "engine.transit"),
    "distributed": ("engine.batches", "engine.search", "engine.transit"),
    # analysis
    "accessibility": ("analysis.accessibility", "engine.measures", "engine.search",
                      "io.places"),
    "catchments": ("analysis.catchments",), "agglomeration": ("analysis.agglomeration",),
    "borrowed_size": ("analysis.borrowed_size",), "candidates": ("analysis.candidates",),
    "shadow": ("analysis.shadow",), "gravity": ("analysis.gravity",),
    "inequality": ("analysis.inequality",), "spatial": ("analysis.spatial",),
    "_ownzone": ("analysis._ownzone",),
    # report
    "maps": ("report.maps",), "figures": ("report.figures",), "_styles": ("report._styles",),
    "export": ("report.export",), "_offline": ("report._offline",),
    "_browser": ("report._browser",),
}
"""Old module (under ``ruimtekit``) → new module(s), searched in order for a name."""


def _stand_in(old: str, targets: tuple[str, ...]) -> types.ModuleType:
    full_old = f"ruimtekit.{old}"
    news = [f"ruimtekit.{t}" for t in targets]
    mod = types.ModuleType(full_old, f"Deprecated alias of {', '.join(news)}.")

    def __getattr__(name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        modules = [(new, importlib.import_module(new)) for new in news]
        found = [(new, getattr(m, name)) for new, m in modules if hasattr(m, name)]
        # prefer the module that defines the name over one that merely imports it
        home = [(n, v) for n, v in found if getattr(v, "__module__", None) == n]
        for new, value in home or found:
            warnings.warn(f"{full_old} is deprecated: use {new}.{name} (moved in "
                          "ruimtekit 0.2; the old path goes in the release after next)",
                          DeprecationWarning, stacklevel=2)
            return value
        raise AttributeError(f"module {full_old!r} has no attribute {name!r} "
                             f"(it moved to {', '.join(news)})")

    def __dir__() -> list[str]:
        return sorted({n for new in news for n in dir(importlib.import_module(new))})

    mod.__getattr__ = __getattr__  # type: ignore[method-assign]
    mod.__dir__ = __dir__  # type: ignore[method-assign]
    mod.__path__ = []  # lets ``import ruimtekit.old.sub`` fail cleanly rather than oddly
    return mod


class _Loader(importlib.abc.Loader):
    def __init__(self, old: str) -> None:
        self.old = old

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _stand_in(self.old, MOVED[self.old])

    def exec_module(self, module: types.ModuleType) -> None:
        warnings.warn(f"ruimtekit.{self.old} is deprecated: import "
                      f"ruimtekit.{MOVED[self.old][0]} instead (moved in ruimtekit 0.2)",
                      DeprecationWarning, stacklevel=2)


class OldPathFinder(importlib.abc.MetaPathFinder):
    """Finds ``ruimtekit.<old module>`` and serves the deprecated stand-in."""

    def find_spec(self, fullname: str, path: object, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        prefix, _, old = fullname.partition(".")
        if prefix != "ruimtekit" or "." in old or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader(old))


def install() -> None:
    """Put :class:`OldPathFinder` on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, OldPathFinder) for f in sys.meta_path):
        sys.meta_path.append(OldPathFinder())


def renamed_parameters(**old_to_new: str):
    """Accept a parameter's old name for one release, with a :class:`DeprecationWarning`.

    ``@renamed_parameters(cutoffs_min="cutoffs")`` lets ``f(cutoffs_min=[30])`` keep working
    as ``f(cutoffs=[30])``; giving both names is a :class:`TypeError`.
    """
    import functools

    def wrap(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}() got both {old!r} (deprecated) "
                                        f"and {new!r}")
                    warnings.warn(f"{func.__name__}({old}=...) is deprecated: use {new}=... "
                                  "(renamed in ruimtekit 0.2)", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        inner.__renamed_parameters__ = dict(old_to_new)  # type: ignore[attr-defined]
        return inner

    return wrap
