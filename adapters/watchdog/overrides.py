"""Transfer settings given for one session: platform, tags, e-mail, name and destination.

clabe's settings are rig-wide; a launcher that hands over sessions of several platforms or
experimenters needs them per session. They come from `WatchdogService.transfer(session, ...)` or
the flags of `labledger transfer`, are checked as the same settings of the file are, and reach
the manifest through `TransferOptions`, as the settings do. The transfer intent records the
manifest they made, so `sync` writes it as planned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PureWindowsPath
from typing import Any, Self

from pydantic import PrivateAttr, ValidationError

from ...domain.errors import InvalidSettings, LabledgerError
from ...domain.manifest import Manifest, TransferOptions, data_name
from ..validation_words import plain_problem
from .settings import WatchdogSettings

SETTING_KEYS = ("platform", "data_description_tags", "user_email", "destination")
"""The overrides that replace a setting of the same name."""


class OverrideNotApplied(LabledgerError):
    """The planned manifest does not carry an override as it was given."""


@dataclass(frozen=True)
class TransferOverrides:
    """What one session's transfer sets differently from the `watchdog:` settings (None: as
    the settings say)."""

    platform: str | None = None
    data_description_tags: tuple[str, ...] | None = None
    """Replace the settings' tags (not added to them)."""
    user_email: str | None = None
    name: str | None = None
    """The manifest's name as given, e.g. clabe's `<subject>_<YYYY-MM-DDTHHMMSS>`."""
    destination: str | None = None
    """The manifest's destination itself: no `<subject>` folder is added below it."""

    @classmethod
    def checked(
        cls,
        spelt: Callable[[str], str],
        platform: str | None = None,
        data_description_tags: str | Sequence[str] | None = None,
        user_email: str | None = None,
        name: str | None = None,
        destination: str | None = None,
    ) -> Self:
        """The overrides, each checked as the setting of that name is; a bad one raises one line
        naming it as `spelt(key)` spells it (`--platform`, `platform=`)."""
        given: dict[str, Any] = {
            "platform": platform,
            "data_description_tags": data_description_tags,
            "user_email": user_email,
        }
        values = {key: value for key, value in given.items() if value is not None}
        try:
            parsed = WatchdogSettings.model_validate(values)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            key = str(first["loc"][0])
            raise InvalidSettings(f"{spelt(key)} {plain_problem(first)}; correct it") from None
        for key, text in (("name", name), ("destination", destination)):
            if text is not None and not text.strip():
                raise InvalidSettings(f"{spelt(key)} is empty; give a value or leave it out")
        tags = parsed.data_description_tags
        return cls(
            platform=parsed.platform if platform is not None else None,
            data_description_tags=tuple(tags) if tags is not None else None,
            user_email=parsed.user_email if user_email is not None else None,
            name=name,
            destination=destination,
        )

    def recorded(self) -> dict[str, Any]:
        """The overrides given, by key, as JSON values (what the intent's `overrides` holds)."""
        values: dict[str, Any] = {
            "platform": self.platform,
            "data_description_tags": (
                list(self.data_description_tags) if self.data_description_tags is not None else None
            ),
            "user_email": self.user_email,
            "name": self.name,
            "destination": self.destination,
        }
        return {key: value for key, value in values.items() if value is not None}

    def notes(self, manifest: Manifest, key: str) -> list[str]:
        """Check that `manifest` carries the name and destination given (raises otherwise), and
        warn when a given name is not the AIND data name the transfer service gives the asset."""
        document = manifest.document
        if self.name is not None and manifest.name != self.name:
            raise OverrideNotApplied(
                f"{key}: the manifest is named {manifest.name}, not {self.name} as given; "
                "leave the name out or report this bug"
            )
        if self.destination is not None and str(document["destination"]) != _posix(
            self.destination
        ):
            raise OverrideNotApplied(
                f"{key}: the manifest's destination is {document['destination']}, not "
                f"{self.destination} as given; leave the destination out or report this bug"
            )
        if self.name is None:
            return []
        acquired = datetime.fromisoformat(str(document["acquisition_datetime"]))
        aind = data_name(str(document["subject_id"]), acquired, document.get("platform"))
        if self.name == aind:
            return []
        return [
            f"{key}: manifest name {self.name} is not the AIND data name {aind}: the staging "
            f"folder is {self.name} but the transfer service names the cloud asset {aind} "
            "(leave the name out to use the AIND name for both)"
        ]


def _posix(path: str) -> str:
    """A destination as the manifest writes it: POSIX separators."""
    return PureWindowsPath(path).as_posix() if "\\" in path else path


class SessionSettings(WatchdogSettings):
    """The `watchdog:` settings as they apply to one session: the rig's, with the overrides.

    Everything that reads the settings (the plan, its checks, the executor) reads these, so the
    overrides go exactly where the settings of the same names go."""

    _overrides: TransferOverrides = PrivateAttr(default_factory=TransferOverrides)

    @classmethod
    def applying(cls, settings: WatchdogSettings, overrides: TransferOverrides) -> SessionSettings:
        """`settings` (already checked) with `overrides` (already checked) in force."""
        changed = {
            key: value for key in SETTING_KEYS if (value := getattr(overrides, key)) is not None
        }
        if "data_description_tags" in changed:
            changed["data_description_tags"] = list(changed["data_description_tags"])
        applied = cls.model_construct(
            _fields_set={*settings.model_fields_set, *changed}, **{**dict(settings), **changed}
        )
        applied._overrides = overrides
        return applied

    def transfer_options(self) -> TransferOptions:
        overrides = self._overrides
        return replace(
            super().transfer_options(),
            name=overrides.name,
            destination_as_given=overrides.destination is not None,
        )
