"""Field types and the base model shared by the identity request bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

Name = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=255,
                                        strip_whitespace=False)]
Id = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(strict=True, max_length=10000)]
Tag = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=255,
                                       pattern=r"^[^,/]*$")]


class Strict(BaseModel):
    """Unknown fields refused, no type coercion (a string is not a boolean)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Open(BaseModel):
    """Unknown fields kept (Keystone stores them as the resource's extras)."""

    model_config = ConfigDict(extra="allow", strict=True)


def changes(model: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body set (extras included)."""
    return model.model_dump(exclude_unset=True)
