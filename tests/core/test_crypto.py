"""Encryption of values at rest, the key ring, its file, and the ring of the process."""

from __future__ import annotations

import base64
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import crypto
from core.crypto import (
    DecryptionError,
    Keyring,
    KeyringError,
    UnknownKeyError,
    install_keyring,
    key_id_of,
    load_keyring,
    read_key_file,
    token_prefix,
    write_key_file,
)
from core.settings import Settings

NAME = "Rupali Khatun"
CONTEXT = "survivor.given_name"


@pytest.fixture(autouse=True)
def _restore_process_keyring() -> Iterator[None]:
    previous = install_keyring(None)
    yield
    install_keyring(previous)


def encoded(secret: bytes) -> str:
    return base64.b64encode(secret).decode()


@pytest.mark.parametrize("text", [NAME, "", "রুপালি খাতুন", "x" * 10_000, '{"notes": "ok"}'])
def test_a_value_round_trips(text: str) -> None:
    keyring = Keyring.generate()
    assert keyring.decrypt(keyring.encrypt(text, context=CONTEXT), context=CONTEXT) == text


def test_each_encryption_differs_and_names_its_key() -> None:
    keyring = Keyring.generate()
    first, second = (keyring.encrypt(NAME, context=CONTEXT) for _ in range(2))

    assert first != second
    assert first.startswith(token_prefix(keyring.current.id))
    assert key_id_of(first) == keyring.current.id
    assert NAME not in first


def test_an_altered_value_is_refused_naming_its_key_never_its_text() -> None:
    keyring = Keyring.generate()
    token = keyring.encrypt(NAME, context=CONTEXT)
    prefix, body = token[: len(token_prefix(keyring.current.id))], token[-24:]
    flipped = body[:5] + ("A" if body[5] != "A" else "B") + body[6:]
    altered = token[: -len(body)] + flipped
    assert altered.startswith(prefix) and altered != token

    with pytest.raises(DecryptionError, match="fails authentication") as raised:
        keyring.decrypt(altered, context=CONTEXT)

    assert raised.value.key_id == keyring.current.id
    assert keyring.current.id in str(raised.value)
    assert NAME not in str(raised.value)


def test_a_truncated_value_is_refused() -> None:
    keyring = Keyring.generate()
    token = keyring.encrypt(NAME, context=CONTEXT)

    with pytest.raises(DecryptionError, match=keyring.current.id):
        keyring.decrypt(token[:-8], context=CONTEXT)


def test_a_value_moved_to_another_column_is_refused() -> None:
    keyring = Keyring.generate()
    token = keyring.encrypt(NAME, context="survivor.given_name")

    with pytest.raises(DecryptionError, match=r"agency\.notify_urls"):
        keyring.decrypt(token, context="agency.notify_urls")


def test_a_value_relabelled_with_another_key_id_is_refused() -> None:
    keyring = Keyring.generate().with_new_key()
    old, new = keyring.ids[1], keyring.ids[0]
    token = keyring.encrypt(NAME, context=CONTEXT)

    with pytest.raises(DecryptionError, match=old):
        keyring.decrypt(token.replace(new, old, 1), context=CONTEXT)


def test_a_value_under_a_key_not_in_the_ring_names_that_key() -> None:
    writer, reader = Keyring.generate(), Keyring.generate()
    token = writer.encrypt(NAME, context=CONTEXT)

    with pytest.raises(UnknownKeyError) as raised:
        reader.decrypt(token, context=CONTEXT)

    assert raised.value.key_id == writer.current.id
    assert writer.current.id in str(raised.value) and reader.current.id in str(raised.value)
    assert NAME not in str(raised.value)


@pytest.mark.parametrize("stored", [NAME, "v1:", "v1:no key:abc", "v2:k:AAAA", "v1:k:%%%"])
def test_what_is_not_an_encrypted_value_is_refused_without_quoting_it(stored: str) -> None:
    with pytest.raises(DecryptionError) as raised:
        Keyring.generate().decrypt(stored, context=CONTEXT)

    assert NAME not in str(raised.value)


def test_every_key_of_the_ring_decrypts_and_the_first_encrypts() -> None:
    old = Keyring.generate()
    under_old = old.encrypt(NAME, context=CONTEXT)
    rotated = old.with_new_key()

    assert rotated.ids[1:] == old.ids
    assert rotated.decrypt(under_old, context=CONTEXT) == NAME
    assert key_id_of(rotated.encrypt(NAME, context=CONTEXT)) == rotated.ids[0]
    with pytest.raises(UnknownKeyError):
        old.decrypt(rotated.encrypt(NAME, context=CONTEXT), context=CONTEXT)


def test_a_ring_round_trips_through_its_text_form() -> None:
    keyring = Keyring.generate().with_new_key().with_new_key()
    parsed = Keyring.parse(keyring.serialize(), source="test")

    assert parsed.ids == keyring.ids
    assert parsed.decrypt(keyring.encrypt(NAME, context=CONTEXT), context=CONTEXT) == NAME


def test_a_ring_takes_standard_base64_and_one_entry_per_line() -> None:
    a, b = bytes(range(32)), bytes(range(100, 132))
    keyring = Keyring.parse(f"k-2:{encoded(a)}\n k_1 : {encoded(b)} \n", source="test")

    assert keyring.ids == ("k-2", "k_1")
    assert keyring.keys[0].secret == a and keyring.keys[1].secret == b


SECRET = encoded(b"s" * 32)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no encryption key"),
        (" , ", "holds no encryption key"),
        (SECRET, "entry 1"),
        (f"k1:{SECRET},bad id:{SECRET}", "entry 2"),
        (f"k1:{encoded(b's' * 16)}", "32 bytes"),
        ("k1:not base64!", "32 bytes"),
        (f"k1:{SECRET},k1:{SECRET}", "more than once"),
    ],
)
def test_a_malformed_ring_is_refused_without_quoting_a_key(text: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message) as raised:
        Keyring.parse(text, source="HOMEWARD_ENCRYPTION_KEYS")

    assert "HOMEWARD_ENCRYPTION_KEYS" in str(raised.value)
    assert SECRET not in str(raised.value) and "not base64" not in str(raised.value)


def test_keys_never_show_their_secret() -> None:
    keyring = Keyring.generate()
    secret = base64.urlsafe_b64encode(keyring.current.secret).decode()

    assert secret not in repr(keyring) + repr(keyring.current)
    assert secret in keyring.serialize()


def test_the_key_file_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_keyring(Settings(data_dir=tmp_path / "data"))
    again = load_keyring(Settings(data_dir=tmp_path / "data"))

    path = tmp_path / "data" / "encryption-keys"
    assert first.path == path and first.ids == again.ids
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert again.decrypt(first.encrypt(NAME, context=CONTEXT), context=CONTEXT) == NAME
    assert Keyring.parse(path.read_text(), source="file").ids == first.ids


def test_processes_starting_together_share_one_generated_ring(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    rings: list[Keyring] = []
    start = threading.Barrier(8)

    def load() -> None:
        start.wait()
        rings.append(load_keyring(settings))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(rings) == 8 and len({ring.ids for ring in rings}) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["encryption-keys"]


def test_configured_keys_win_and_no_file_is_written(tmp_path: Path) -> None:
    configured = Keyring.generate()
    settings = Settings(data_dir=tmp_path, encryption_keys=configured.serialize())  # type: ignore[arg-type]

    keyring = load_keyring(settings)

    assert keyring.ids == configured.ids and keyring.path is None
    assert keyring.source == "HOMEWARD_ENCRYPTION_KEYS"
    assert not (tmp_path / "encryption-keys").exists()


def test_a_bad_configured_ring_names_the_variable_not_the_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, encryption_keys="k1:c2hvcnQ=")  # type: ignore[arg-type]

    with pytest.raises(KeyringError, match="HOMEWARD_ENCRYPTION_KEYS") as raised:
        load_keyring(settings)

    assert "c2hvcnQ" not in str(raised.value)
    assert "c2hvcnQ" not in repr(settings)


def test_generating_keys_next_to_a_shared_database_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://db/homeward")

    load_keyring(settings)
    load_keyring(settings)

    warnings = [r.getMessage() for r in caplog.records if r.name == "homeward.crypto"]
    assert len(warnings) == 1 and "set HOMEWARD_ENCRYPTION_KEYS" in warnings[0]


def test_the_process_loads_its_ring_from_the_settings_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HOMEWARD_ENCRYPTION_KEYS", raising=False)

    token = crypto.encrypt(NAME, context=CONTEXT)

    from_file = read_key_file(tmp_path / "encryption-keys")
    assert key_id_of(token) == from_file.current.id
    assert crypto.decrypt(token, context=CONTEXT) == NAME


def test_an_installed_ring_is_used_and_the_previous_one_handed_back() -> None:
    first, second = Keyring.generate(), Keyring.generate()
    install_keyring(first)

    assert install_keyring(second) is first
    assert crypto.current_keyring() is second
    assert key_id_of(crypto.encrypt(NAME, context=CONTEXT)) == second.current.id


def test_a_running_process_follows_a_rotated_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = load_keyring(Settings(data_dir=tmp_path))
    install_keyring(before)
    rotated = before.with_new_key()
    write_key_file(tmp_path / "encryption-keys", rotated)
    under_new_key = rotated.encrypt(NAME, context=CONTEXT)

    # A value under a key it does not know yet makes the process read the file again...
    assert crypto.decrypt(under_new_key, context=CONTEXT) == NAME
    assert crypto.current_keyring().ids == rotated.ids
    # ...and the file is checked for changes before encrypting, at most once a second.
    write_key_file(tmp_path / "encryption-keys", rotated.with_new_key())
    monkeypatch.setattr(crypto, "RELOAD_CHECK_SECONDS", 0.0)
    newest = read_key_file(tmp_path / "encryption-keys").current.id
    assert key_id_of(crypto.encrypt(NAME, context=CONTEXT)) == newest


def test_a_ring_not_read_from_a_file_never_reloads(tmp_path: Path) -> None:
    install_keyring(Keyring.generate())
    stranger = Keyring.generate().encrypt(NAME, context=CONTEXT)

    with pytest.raises(UnknownKeyError):
        crypto.decrypt(stranger, context=CONTEXT)
