"""Logins: native (4.3 auth API and legacy 703/704), PAM, proxy users, bad credentials.

Error codes are those real iRODS 4.3 returns, as PRC's own tests expect them:
* wrong password: CAT_INVALID_AUTHENTICATION (-826000);
* no password row for the user (unknown user, or a user without a password): CAT_INVALID_USER
  (-827000), from chlCheckAuth (PRC's login_auth_test expects it for a user with no password);
* wrong PAM password: PAM_AUTH_PASSWORD_FAILED (-993000), from the pam_password plugin;
* proxy login by a non-admin: SYS_PROXYUSER_NO_PRIV (-39000); unknown client user:
  CAT_INVALID_CLIENT_USER (-832000).
"""

from __future__ import annotations

import pytest
from irods import client_configuration
from irods.access import iRODSAccess
from irods.auth.pam_password import ENSURE_SSL_IS_ACTIVE
from irods.exception import (
    CAT_INVALID_AUTHENTICATION,
    CAT_INVALID_CLIENT_USER,
    CAT_INVALID_USER,
    CAT_NO_ACCESS_PERMISSION,
    PAM_AUTH_PASSWORD_FAILED,
    SYS_PROXYUSER_NO_PRIV,
    DoesNotExist,
)

from tests.helpers.prc_io import ZONE, read_object, write_object


@pytest.fixture
def legacy_auth():
    """Makes PRC use the pre-4.3 challenge/response APIs (703/704); restored afterwards."""
    saved = client_configuration.legacy_auth.force_legacy_auth
    client_configuration.legacy_auth.force_legacy_auth = True
    yield
    client_configuration.legacy_auth.force_legacy_auth = saved


@pytest.fixture
def pam_login(sessions):
    """Opens a pam_password session over plain TCP.

    PRC refuses pam_password unless the socket is TLS (auth/pam_password.py checks
    `ensure_ssl_is_active`, default on); the zone speaks no TLS, so the test waives the check
    through the per-scheme auth option PRC offers for exactly that.
    """

    def open_pam(user: str, password: str):
        session = sessions(user=user, password=password, authentication_scheme="pam_password")
        session.set_auth_option_for_scheme("pam_password", ENSURE_SSL_IS_ACTIVE, False)
        return session

    return open_pam


# --- native ----------------------------------------------------------------------------------


def test_native_login_as_rods_reports_a_4_3_server(rods):
    assert rods.server_version[:2] == (4, 3)
    assert rods.collections.get(f"/{ZONE}/home/rods").path == f"/{ZONE}/home/rods"


def test_native_login_with_user_password(alice, login):
    session = login(alice)

    assert session.username == alice.name
    assert session.collections.get(alice.home).owner_name == alice.name


def test_wrong_password_raises_invalid_authentication(alice, sessions):
    session = sessions(user=alice.name, password="not-" + alice.password)

    with pytest.raises(CAT_INVALID_AUTHENTICATION):
        session.collections.get(alice.home)


def test_wrong_rods_password_raises_invalid_authentication(sessions):
    with pytest.raises(CAT_INVALID_AUTHENTICATION):
        sessions(password="wrong").collections.get(f"/{ZONE}/home/rods")


def test_unknown_user_raises_invalid_user(sessions, unique):
    with pytest.raises(CAT_INVALID_USER):
        sessions(user=unique("nobody"), password="whatever").collections.get(f"/{ZONE}/home")


def test_user_without_password_cannot_log_in(rods, sessions, unique):
    name = unique("nopass")
    rods.users.create(name, "rodsuser")

    with pytest.raises(CAT_INVALID_USER):
        sessions(user=name, password="anything").collections.get(f"/{ZONE}/home/{name}")


def test_anonymous_account_logs_in_with_empty_password(rods, sessions):
    try:
        rods.users.get("anonymous")
    except DoesNotExist:
        rods.users.create("anonymous", "rodsuser")

    session = sessions(user="anonymous", password="")

    assert session.collections.get(f"/{ZONE}/home").name == "home"


def test_failed_login_does_not_disturb_other_sessions(alice, login, sessions):
    good = login(alice)
    good.collections.get(alice.home)

    with pytest.raises(CAT_INVALID_AUTHENTICATION):
        sessions(user=alice.name, password="bad").collections.get(alice.home)

    assert good.collections.get(alice.home).path == alice.home


def test_server_version_without_auth_needs_no_password(sessions):
    session = sessions(password="not-the-password")

    assert session.server_version_without_auth()[:2] == (4, 3)


def test_login_with_client_server_negotiation_uses_plain_tcp(alice, sessions):
    session = sessions(
        user=alice.name,
        password=alice.password,
        client_server_negotiation="request_server_negotiation",
        client_server_policy="CS_NEG_REFUSE",
    )

    assert session.collections.get(alice.home).path == alice.home


# --- legacy native ---------------------------------------------------------------------------


def test_legacy_auth_logs_in(alice, login, legacy_auth):
    session = login(alice)

    assert session.collections.get(alice.home).path == alice.home
    write_object(session, f"{alice.home}/legacy.txt", b"old school")
    assert read_object(session, f"{alice.home}/legacy.txt") == b"old school"


def test_legacy_auth_with_wrong_password_raises_invalid_authentication(
    alice, sessions, legacy_auth
):
    with pytest.raises(CAT_INVALID_AUTHENTICATION):
        sessions(user=alice.name, password="bad").collections.get(alice.home)


# --- PAM -------------------------------------------------------------------------------------


def test_pam_login_with_zone_pam_password(irods_zone, rods, unique, pam_login):
    carol = unique("carol")
    rods.users.create(carol, "rodsuser")
    irods_zone.set_pam_password(carol, "pampw")

    session = pam_login(carol, "pampw")

    assert session.username == carol
    write_object(session, f"/{ZONE}/home/{carol}/via-pam.txt", b"pam")
    assert read_object(session, f"/{ZONE}/home/{carol}/via-pam.txt") == b"pam"


def test_pam_login_with_wrong_password_raises_pam_password_failed(
    irods_zone, rods, unique, pam_login
):
    carol = unique("carol")
    rods.users.create(carol, "rodsuser")
    irods_zone.set_pam_password(carol, "pampw")

    with pytest.raises(PAM_AUTH_PASSWORD_FAILED):
        pam_login(carol, "not-pampw").collections.get(f"/{ZONE}/home/{carol}")


def test_pam_login_answers_temporary_native_password(irods_zone, rods, unique, pam_login, sessions):
    carol = unique("carol")
    rods.users.create(carol, "rodsuser")
    irods_zone.set_pam_password(carol, "pampw")

    negotiated = pam_login(carol, "pampw").pam_pw_negotiated

    assert len(negotiated) == 1 and negotiated[0]
    assert negotiated[0] != "pampw"
    native = sessions(user=carol, password=negotiated[0])
    assert native.collections.get(f"/{ZONE}/home/{carol}").owner_name == carol


def test_pam_password_is_not_a_native_password(irods_zone, rods, unique, sessions):
    carol = unique("carol")
    rods.users.create(carol, "rodsuser")
    rods.users.modify(carol, "password", "native-pw")
    irods_zone.set_pam_password(carol, "pampw")

    with pytest.raises(CAT_INVALID_AUTHENTICATION):
        sessions(user=carol, password="pampw").collections.get(f"/{ZONE}/home/{carol}")
    assert sessions(user=carol, password="native-pw").collections.get(f"/{ZONE}/home/{carol}")


# --- proxy -----------------------------------------------------------------------------------


@pytest.fixture
def proxy_for_alice(alice, sessions):
    """rods (rodsadmin) authenticates with its own password and acts as alice."""
    return sessions(user="rods", password="rods", client_user=alice.name)


def test_proxy_session_acts_as_client_user(alice, proxy_for_alice):
    assert proxy_for_alice.username == alice.name
    assert proxy_for_alice.collections.get(alice.home).path == alice.home


def test_proxy_session_creates_objects_owned_by_client_user(alice, login, proxy_for_alice):
    path = f"{alice.home}/by-proxy.txt"

    write_object(proxy_for_alice, path, b"written for alice")

    alice_s = login(alice)
    obj = alice_s.data_objects.get(path)
    assert obj.owner_name == alice.name
    assert alice_s.acls.get(obj) == [iRODSAccess("own", path, alice.name, ZONE)]
    assert read_object(alice_s, path) == b"written for alice"


def test_proxy_session_creates_collections_owned_by_client_user(alice, login, proxy_for_alice):
    proxy_for_alice.collections.create(f"{alice.home}/proxy-coll")

    assert login(alice).collections.get(f"{alice.home}/proxy-coll").owner_name == alice.name


def test_proxy_session_cannot_read_other_users_private_data(bob, login, proxy_for_alice):
    path = f"{bob.home}/bob-private.txt"
    write_object(login(bob), path, b"bob only")

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        proxy_for_alice.data_objects.open(path, "r")
    with pytest.raises(DoesNotExist):
        proxy_for_alice.data_objects.get(path)


def test_proxy_session_cannot_write_into_other_users_home(bob, login, proxy_for_alice):
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        proxy_for_alice.data_objects.create(f"{bob.home}/planted.txt")
    assert login(bob).collections.get(bob.home).data_objects == []


def test_proxy_session_reads_what_client_user_was_granted(alice, bob, login, proxy_for_alice):
    path = f"{bob.home}/for-alice.txt"
    bob_s = login(bob)
    write_object(bob_s, path, b"shared with alice")
    bob_s.acls.set(iRODSAccess("read", path, alice.name, ZONE))

    assert read_object(proxy_for_alice, path) == b"shared with alice"


def test_proxy_login_by_non_admin_raises_proxyuser_no_priv(alice, bob, sessions):
    session = sessions(user=alice.name, password=alice.password, client_user=bob.name)

    with pytest.raises(SYS_PROXYUSER_NO_PRIV):
        session.collections.get(bob.home)


def test_proxy_login_for_unknown_client_user_raises_invalid_client_user(sessions, unique):
    session = sessions(user="rods", password="rods", client_user=unique("ghost"))

    with pytest.raises(CAT_INVALID_CLIENT_USER):
        session.collections.get(f"/{ZONE}/home")


def test_proxy_login_with_wrong_proxy_password_raises_invalid_authentication(alice, sessions):
    session = sessions(user="rods", password="wrong", client_user=alice.name)

    with pytest.raises(CAT_INVALID_AUTHENTICATION):
        session.collections.get(alice.home)


def test_promoted_rodsadmin_may_proxy(alice, bob, rods, login, sessions):
    rods.users.modify(alice.name, "type", "rodsadmin")

    session = sessions(user=alice.name, password=alice.password, client_user=bob.name)

    session.data_objects.create(f"{bob.home}/via-alice.txt")
    assert login(bob).data_objects.get(f"{bob.home}/via-alice.txt").owner_name == bob.name
