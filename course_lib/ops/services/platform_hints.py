"""Fix texts that match the learner's machine: Debian/Ubuntu needs ``sudo``, Homebrew does not, Windows needs WSL.

A generic "start your PostgreSQL" helps nobody: a stock Debian PostgreSQL uses scram passwords on 127.0.0.1 and
has no ``test`` database, and Homebrew's superuser is the learner's own name, not ``postgres``. These functions
read the platform once (:func:`current_platform`) and return the commands for it; tests pass a ``Platform``.
"""

from __future__ import annotations

import getpass
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DOCKER_POSTGRES = "docker compose --profile postgres up -d --wait postgres"
DOCKER_RABBITMQ = "docker compose up -d --wait rabbitmq"


@dataclass(frozen=True)
class Platform:
    """What decides which commands a learner must type."""

    system: str  # "linux", "darwin" or "win32", as in sys.platform
    debian_like: bool = False  # Debian, Ubuntu and derivatives: packaged services need root
    homebrew: bool = False
    wsl: bool = False
    systemd: bool = False  # Debian services are started with systemctl when systemd runs
    root: bool = False
    user: str = "you"

    @property
    def sudo(self) -> str:
        """The prefix for a command that needs root: empty when we already are root."""
        return "" if self.root else "sudo "

    def as_postgres(self, command: str) -> str:
        """``command`` run as Debian's ``postgres`` system user (root may have no sudo)."""
        return f'su postgres -c "{command}"' if self.root else f"sudo -u postgres {command}"


def _os_release() -> dict[str, str]:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return {}
    pairs = (line.partition("=") for line in text.splitlines() if "=" in line)
    return {key: value.strip().strip('"') for key, _, value in pairs}


def current_platform() -> Platform:
    """The platform this process runs on."""
    release = _os_release()
    family = f"{release.get('ID', '')} {release.get('ID_LIKE', '')}".lower()
    try:
        wsl = "microsoft" in Path("/proc/version").read_text().lower()
    except OSError:
        wsl = False
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "you"
    return Platform(
        system=sys.platform,
        debian_like=Path("/etc/debian_version").exists() or "debian" in family or "ubuntu" in family,
        homebrew=shutil.which("brew") is not None,
        wsl=wsl,
        systemd=Path("/run/systemd/system").is_dir(),
        root=hasattr(os, "geteuid") and os.geteuid() == 0,
        user=user,
    )


WINDOWS = (
    "native Windows is not supported (the embedded Kafka broker ships no Windows build, and the course's "
    "commands use Unix paths). Use WSL2 (clone the course inside the Linux file system, e.g. ~/course) or the "
    "devcontainer (.devcontainer/, VS Code or GitHub Codespaces)"
)


def rabbitmq_start_fix(platform: Platform | None = None) -> str:
    """How to install and start RabbitMQ with its management API on this platform."""
    p = platform or current_platform()
    if p.system == "win32":
        return WINDOWS
    if p.system == "darwin":
        return ("brew install rabbitmq && brew services start rabbitmq "
                f"&& $(brew --prefix)/sbin/rabbitmq-plugins enable rabbitmq_management   (or: {DOCKER_RABBITMQ})")
    if p.debian_like:
        start = f"{p.sudo}systemctl start rabbitmq-server" if p.systemd else f"{p.sudo}rabbitmq-server -detached"
        return (f"{p.sudo}apt-get install -y rabbitmq-server && {start} "
                f"&& {p.sudo}rabbitmq-plugins enable rabbitmq_management   (or: {DOCKER_RABBITMQ})")
    return f"{DOCKER_RABBITMQ}   (or install RabbitMQ from your system's packages and start it)"


def rabbitmq_server_start(platform: Platform | None = None) -> str:
    """The command that starts an installed RabbitMQ (Debian's packaging refuses it without root)."""
    p = platform or current_platform()
    if p.system == "darwin" and p.homebrew:
        return "brew services start rabbitmq"
    if p.debian_like:
        return f"{p.sudo}systemctl start rabbitmq-server" if p.systemd else f"{p.sudo}rabbitmq-server -detached"
    return "rabbitmq-server -detached"


def rabbitmq_plugins_enable(platform: Platform | None = None) -> str:
    """The command that enables the management API (root on Debian, like the server itself)."""
    p = platform or current_platform()
    prefix = p.sudo if p.debian_like else ""
    return f"{prefix}rabbitmq-plugins enable rabbitmq_management"


def _with_url(url: str, user: str, password: str | None = None) -> str:
    parts = urlsplit(url)
    auth = f"{user}:{password}" if password else user
    host = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
    return parts._replace(netloc=f"{auth}@{host}").geturl()


def postgres_fix(detail: str, url: str = "postgresql://postgres@127.0.0.1:5432/test",
                 platform: Platform | None = None) -> str:
    """What to run for a PostgreSQL failure, given the error text ``detail`` and the URL that failed.

    Recognises a server that is not running, a missing database, a missing role and a refused password, and
    answers with the commands of this platform (apt and ``sudo -u postgres`` on Debian/Ubuntu, Homebrew on macOS).
    """
    p = platform or current_platform()
    if p.system == "win32":
        return WINDOWS
    parts = urlsplit(url)
    database = (parts.path or "/test").lstrip("/") or "test"
    role = parts.username or "postgres"
    text = detail.lower()
    if "database" in text and "does not exist" in text:
        return _missing_database(p, database, role)
    if "role" in text and "does not exist" in text:
        return _missing_role(p, url, role)
    if "password" in text or "authentication failed" in text:
        return _refused_password(p, url, role)
    return _not_running(p)


def _not_running(p: Platform) -> str:
    if p.system == "darwin":
        return ("brew install postgresql@17 && brew services start postgresql@17 && createdb test   "
                f"(or: {DOCKER_POSTGRES})")
    if p.debian_like:
        start = (f"{p.sudo}systemctl start postgresql" if p.systemd
                 else f"{p.sudo}pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
        return (f"{p.sudo}apt-get install -y postgresql && {start} && {p.as_postgres('createdb test')}   "
                f"(or: {DOCKER_POSTGRES})")
    return f"{DOCKER_POSTGRES}   (or install PostgreSQL from your system's packages, start it, and createdb test)"


def _missing_database(p: Platform, database: str, role: str) -> str:
    if p.debian_like and p.system == "linux":
        return p.as_postgres(f"createdb --owner={role} {database}")
    return f"createdb {database}"


def _missing_role(p: Platform, url: str, role: str) -> str:
    if p.system == "darwin":
        # Homebrew's initdb makes the installing user the superuser; there is no "postgres" role.
        return (f"Homebrew's PostgreSQL has no {role!r} role: its superuser is you. Either set "
                f"COURSE_POSTGRES_URL={_with_url(url, p.user)} (in .env), or run: createuser -s {role}")
    if p.debian_like:
        return p.as_postgres(f"createuser --superuser {role}")
    return f"createuser -s {role}   (as PostgreSQL's superuser)"


def _refused_password(p: Platform, url: str, role: str) -> str:
    if p.debian_like and p.system == "linux":
        # Stock Debian/Ubuntu: "host ... scram-sha-256" in pg_hba.conf, so 127.0.0.1 needs a password.
        set_password = p.as_postgres(f"psql -c '\\password {role}'")
        return (f"Debian/Ubuntu's PostgreSQL asks for a password on 127.0.0.1. Give {role} one ({set_password}) "
                f"and put it in the URL: COURSE_POSTGRES_URL={_with_url(url, role, 'PASSWORD')} (in .env); or "
                "allow local connections without one: a 'host all all 127.0.0.1/32 trust' line in pg_hba.conf, "
                "then reload PostgreSQL")
    return f"put the role's password in COURSE_POSTGRES_URL (postgresql://{role}:PASSWORD@host:port/db, in .env)"
