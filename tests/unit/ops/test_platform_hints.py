"""Fix texts match the learner's platform: sudo and createdb on Debian/Ubuntu, Homebrew's role on macOS, WSL."""

from __future__ import annotations

import pytest

from course_lib.ops.services.platform_hints import (
    Platform,
    current_platform,
    postgres_fix,
    rabbitmq_plugins_enable,
    rabbitmq_server_start,
    rabbitmq_start_fix,
)

DEBIAN_USER = Platform("linux", debian_like=True, systemd=True, user="ada")
DEBIAN_ROOT_NO_SYSTEMD = Platform("linux", debian_like=True, root=True, user="root")
MAC = Platform("darwin", homebrew=True, user="ada")
WINDOWS = Platform("win32", user="ada")
URL = "postgresql://postgres@127.0.0.1:5432/test"

# psycopg's own wording for each failure
REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'
NO_DATABASE = 'connection failed: FATAL:  database "test" does not exist'
NO_ROLE = 'connection failed: FATAL:  role "postgres" does not exist'
BAD_PASSWORD = 'connection failed: FATAL:  password authentication failed for user "postgres"'
NO_PASSWORD = "connection failed: fe_sendauth: no password supplied"


def test_debian_missing_database_is_created_as_the_postgres_user() -> None:
    assert postgres_fix(NO_DATABASE, URL, DEBIAN_USER) == "sudo -u postgres createdb --owner=postgres test"
    assert postgres_fix(NO_DATABASE, URL, DEBIAN_ROOT_NO_SYSTEMD) == 'su postgres -c "createdb --owner=postgres test"'


@pytest.mark.parametrize("detail", [BAD_PASSWORD, NO_PASSWORD])
def test_debian_scram_on_loopback_gets_a_password_in_the_url_or_a_pg_hba_line(detail: str) -> None:
    fix = postgres_fix(detail, URL, DEBIAN_USER)
    assert "sudo -u postgres psql -c '\\password postgres'" in fix
    assert "COURSE_POSTGRES_URL=postgresql://postgres:PASSWORD@127.0.0.1:5432/test" in fix
    assert "pg_hba.conf" in fix


def test_debian_server_not_running_names_apt_systemctl_and_createdb() -> None:
    fix = postgres_fix(REFUSED, URL, DEBIAN_USER)
    assert fix.startswith("sudo apt-get install -y postgresql && sudo systemctl start postgresql")
    assert "sudo -u postgres createdb test" in fix and "docker compose --profile postgres" in fix
    without_systemd = postgres_fix(REFUSED, URL, DEBIAN_ROOT_NO_SYSTEMD)
    assert "sudo" not in without_systemd and "pg_ctlcluster" in without_systemd


def test_homebrew_role_is_the_users_name() -> None:
    fix = postgres_fix(NO_ROLE, URL, MAC)
    assert "COURSE_POSTGRES_URL=postgresql://ada@127.0.0.1:5432/test" in fix and "createuser -s postgres" in fix
    assert postgres_fix(NO_DATABASE, URL, MAC) == "createdb test"
    assert "brew services start postgresql@17" in postgres_fix(REFUSED, URL, MAC)
    assert "sudo" not in postgres_fix(REFUSED, URL, MAC)


def test_another_database_name_in_the_url_is_the_one_created() -> None:
    assert postgres_fix(NO_DATABASE, "postgresql://course@127.0.0.1:5432/shop", MAC) == "createdb shop"


def test_native_windows_is_pointed_at_wsl_or_the_devcontainer() -> None:
    for fix in (postgres_fix(REFUSED, URL, WINDOWS), rabbitmq_start_fix(WINDOWS)):
        assert "WSL2" in fix and "devcontainer" in fix and "not supported" in fix


def test_rabbitmq_commands_need_sudo_only_on_debian_as_a_normal_user() -> None:
    assert rabbitmq_server_start(DEBIAN_USER) == "sudo systemctl start rabbitmq-server"
    assert rabbitmq_server_start(DEBIAN_ROOT_NO_SYSTEMD) == "rabbitmq-server -detached"
    assert rabbitmq_server_start(MAC) == "brew services start rabbitmq"
    assert rabbitmq_plugins_enable(DEBIAN_USER) == "sudo rabbitmq-plugins enable rabbitmq_management"
    assert rabbitmq_plugins_enable(MAC) == "rabbitmq-plugins enable rabbitmq_management"
    assert "sudo apt-get install -y rabbitmq-server" in rabbitmq_start_fix(DEBIAN_USER)
    assert "brew install rabbitmq" in rabbitmq_start_fix(MAC)


def test_this_machine_is_read_without_error() -> None:
    here = current_platform()
    assert here.system in {"linux", "darwin", "win32"} and here.user
