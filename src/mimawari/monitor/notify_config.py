"""The notifiers an operator configures under ``alerts: notifiers:``, and the error a failed send raises.

YAML form (a list; ``kind`` says which notifier each entry is)::

    alerts:
      notifiers:
        - kind: email
          name: soc-mail
          host: smtp.example.org
          port: 587                     # default 25
          security: starttls            # none | starttls (default) | tls (implicit TLS, RFC 8314)
          username: mimawari            # optional; AUTH only ever happens inside TLS
          password_env: MIMAWARI_SMTP_PASSWORD   # the variable that holds the password, never the password
          sender: mimawari@example.org
          recipients: [soc@example.org]
          helo: monitor.example.org     # default: the sender's domain
          ca_file: /etc/mimawari/private-ca.pem  # optional: trust this CA instead of the system's
          timeout: 30                   # seconds each step may take
          lang: ja                      # en (default) | ja
        - kind: webhook
          name: siem
          url: https://siem.example.org/hooks/mimawari
          headers: {Authorization: "Bearer ${SIEM_TOKEN}"}   # ${NAME} is read from the environment
        - kind: slack                   # Slack incoming webhook; Mattermost and Rocket.Chat accept it too
          name: ops-channel
          url: https://hooks.slack.com/services/T000/B000/XXXX

Models reject unknown keys and hide input values in their errors (a mistyped key may hold a secret).
The notification URLs are the operator's own, not scan targets, so no scan scope applies to them.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from mimawari.errors import OperationalError
from mimawari.model import Lang


class NotifyError(OperationalError):
    """A notifier could not deliver an alert; the message is one line naming the notifier, no secrets."""


ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ENV_REFERENCE = re.compile(r"\$\{(" + ENV_NAME + r")\}")
_HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
"""RFC 9110 §5.6.2 ``token``."""
_ADDRESS = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$"
"""A plain ASCII ``local@domain``: without SMTPUTF8 (RFC 6531) that is what every server takes."""
_HOST = r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^[0-9A-Fa-f:.]+$"
"""A host name, an IPv4 address or an IPv6 address (without brackets)."""

Address = Annotated[str, Field(pattern=_ADDRESS, max_length=254)]
OneLine = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\r\n\x00]+$")]


class _Notifier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    name: OneLine
    """Names the notifier in errors and logs."""
    timeout: float = Field(default=30.0, gt=0, le=600)
    lang: Lang = "en"


class EmailNotifierConfig(_Notifier):
    kind: Literal["email"]
    host: Annotated[str, Field(pattern=_HOST, max_length=253)]
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: OneLine | None = None
    password_env: Annotated[str, Field(pattern=f"^{ENV_NAME}$")] | None = None
    sender: Address
    recipients: tuple[Address, ...] = Field(min_length=1)
    helo: Annotated[str, Field(pattern=_HOST, max_length=253)] | None = None
    """The name to greet the server with (EHLO); default: the sender's domain."""
    ca_file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_password_in_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "'password' is not read from the file: put it in an environment variable "
                "and name that variable in 'password_env'"
            )
        return data

    @model_validator(mode="after")
    def _auth_needs_tls_and_password(self) -> EmailNotifierConfig:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("'username' and 'password_env' go together: give both or neither")
        if self.username is not None and self.security == "none":
            # RFC 8314 §3: credentials never cross the network in clear text.
            raise ValueError("'username' needs security 'starttls' or 'tls': AUTH is only done inside TLS")
        return self

    @property
    def greeting_name(self) -> str:
        return self.helo or self.sender.rpartition("@")[2]


class _HttpNotifier(_Notifier):
    url: HttpUrl = Field(repr=False)
    """Slack-style webhook URLs carry their token in the path: only the origin is ever shown."""
    ca_file: str | None = None

    @property
    def origin(self) -> str:
        default = 443 if self.url.scheme == "https" else 80
        port = f":{self.url.port}" if self.url.port not in (None, default) else ""
        return f"{self.url.scheme}://{self.url.host}{port}"


class WebhookNotifierConfig(_HttpNotifier):
    kind: Literal["webhook"]
    headers: dict[
        Annotated[str, Field(pattern=_HEADER_NAME)], Annotated[str, Field(pattern=r"^[^\r\n\x00]*$")]
    ] = Field(default_factory=dict, repr=False)
    """Extra request headers; ``${NAME}`` in a value is replaced by the environment variable NAME."""

    def header_values(self) -> dict[str, str]:
        """The headers with ``${NAME}`` read from the environment; ``NotifyError`` naming a missing one."""

        def value(match: re.Match[str]) -> str:
            found = os.environ.get(match[1])
            if found is None:
                raise NotifyError(
                    f"notifier {self.name!r}: environment variable {match[1]} (used in a header) is not set"
                )
            return found

        headers = {name: _ENV_REFERENCE.sub(value, template) for name, template in self.headers.items()}
        for name, given in headers.items():
            # RFC 9110 §5.5: one line of visible ASCII; the value itself is never shown.
            if not given.isascii() or any(char in given for char in "\r\n\x00"):
                raise NotifyError(
                    f"notifier {self.name!r}: header {name} must be one line of ASCII once the "
                    "environment is read in"
                )
        return headers


class SlackNotifierConfig(_HttpNotifier):
    kind: Literal["slack"]


NotifierConfig = Annotated[
    EmailNotifierConfig | WebhookNotifierConfig | SlackNotifierConfig, Field(discriminator="kind")
]
