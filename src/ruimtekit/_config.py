"""Base class for study-file sections (pydantic), shared by every module's config model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A study-file section: unknown keys are errors (reported with a suggestion)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
