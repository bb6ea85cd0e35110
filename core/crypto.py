"""Authenticated encryption of personal data at rest, and the key ring it uses.

A value is stored as ``v1:<key id>:<base64url(nonce + ciphertext)>``: AES-256-GCM with a
random 96-bit nonce. The version, the key id and the column the value belongs to are
authenticated too, so a value cannot be altered, relabelled or moved to another column
unnoticed. New values are encrypted with the ring's first key; any key in the ring decrypts.

The ring comes from HOMEWARD_ENCRYPTION_KEYS or, when that is unset, from the file
``<data dir>/encryption-keys``, generated on first start. Every process (API, runner, flow
runs, CLI) uses one ring, installed lazily from the settings on first use; a ring read
from the file is re-read when the file changes, so `homeward keys rotate` reaches running
processes without a restart.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.settings import ENCRYPTION_KEY_FILE, Settings

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEYS_VARIABLE = "HOMEWARD_ENCRYPTION_KEYS"
# A ring read from a file looks at the file for changes at most this often.
RELOAD_CHECK_SECONDS = 1.0
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
logger = logging.getLogger("homeward.crypto")


class EncryptionError(RuntimeError):
    """A key ring or an encrypted value cannot be used. Messages never hold secrets."""


class KeyringError(EncryptionError):
    """The key ring is missing, malformed or cannot be written."""


class UnknownKeyError(EncryptionError):
    """A value was encrypted with a key that is not in the ring."""

    def __init__(self, detail: str, *, key_id: str) -> None:
        super().__init__(detail)
        self.key_id = key_id


class DecryptionError(EncryptionError):
    """A value is not an encrypted value, or fails authentication (altered, wrong key)."""

    def __init__(self, detail: str, *, key_id: str | None) -> None:
        super().__init__(detail)
        self.key_id = key_id


@dataclass(frozen=True, repr=False)
class Key:
    id: str
    secret: bytes

    def __repr__(self) -> str:
        return f"Key(id={self.id!r})"


def token_prefix(key_id: str) -> str:
    """How every value encrypted with this key starts; lets SQL count values per key."""
    return f"{VERSION}:{key_id}:"


def key_id_of(token: str) -> str:
    """The id of the key a stored value was encrypted with."""
    return _split(token, context=None)[1]


def new_key(taken: Iterable[str] = ()) -> Key:
    """A fresh random key whose id says when it was made and differs from `taken`."""
    taken = set(taken)
    while True:
        key_id = f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
        if key_id not in taken:
            return Key(key_id, secrets.token_bytes(KEY_BYTES))


Stamp = tuple[int, int, int]


class Keyring:
    """Keys by id; the first one encrypts.

    `path` is the file the ring was read from, if any, and `stamp` that file's identity
    (inode, mtime, size) when it was read: a process notices a rotation by comparing it.
    `generated` says this process made the file just now, on first start.
    """

    def __init__(
        self,
        keys: Sequence[Key],
        *,
        source: str,
        path: Path | None = None,
        stamp: Stamp | None = None,
        generated: bool = False,
    ) -> None:
        if not keys:
            raise KeyringError(f"{source} holds no encryption key")
        ids = [key.id for key in keys]
        duplicates = sorted({key_id for key_id in ids if ids.count(key_id) > 1})
        if duplicates:
            raise KeyringError(f"{source} names key {duplicates[0]!r} more than once")
        self.keys = tuple(keys)
        self.source = source
        self.path = path
        self.stamp = stamp
        self.generated = generated
        self._ciphers = {key.id: AESGCM(key.secret) for key in keys}

    def __repr__(self) -> str:
        return f"Keyring(ids={self.ids!r}, source={self.source!r})"

    @property
    def current(self) -> Key:
        return self.keys[0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.id for key in self.keys)

    @classmethod
    def generate(cls, *, source: str = "a generated key ring") -> Keyring:
        return cls([new_key()], source=source)

    @classmethod
    def parse(
        cls, text: str, *, source: str, path: Path | None = None, stamp: Stamp | None = None
    ) -> Keyring:
        """Read `id:base64key` entries separated by commas (or lines); the first is current."""
        entries = [entry.strip() for entry in re.split(r"[,\n]", text) if entry.strip()]
        keys = []
        for number, entry in enumerate(entries, start=1):
            key_id, colon, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not colon or not _KEY_ID.fullmatch(key_id):
                raise KeyringError(
                    f"entry {number} of {source} is not `id:base64key` with an id of letters, "
                    "digits, '-' or '_' (at most 40)"
                )
            keys.append(Key(key_id, _decode_key(encoded.strip(), key_id=key_id, source=source)))
        return cls(keys, source=source, path=path, stamp=stamp)

    def serialize(self) -> str:
        """The ring in the form `parse` reads and HOMEWARD_ENCRYPTION_KEYS takes. Secret."""
        return ",".join(
            f"{key.id}:{base64.urlsafe_b64encode(key.secret).decode()}" for key in self.keys
        )

    def with_new_key(self) -> Keyring:
        """This ring with a fresh key in front: it encrypts from now on, the others decrypt."""
        return Keyring([new_key(self.ids), *self.keys], source=self.source, path=self.path)

    def with_decrypting_key(self, key: Key) -> Keyring:
        """This ring with `key` added last: it decrypts, but does not encrypt yet."""
        return Keyring([*self.keys, key], source=self.source, path=self.path)

    def without(self, key_id: str) -> Keyring:
        return Keyring(
            [key for key in self.keys if key.id != key_id], source=self.source, path=self.path
        )

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt with the current key; `context` (e.g. "survivor.given_name") is bound in."""
        key = self.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[key.id].encrypt(
            nonce, plaintext.encode("utf-8"), _associated_data(key.id, context)
        )
        return token_prefix(key.id) + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, *, context: str) -> str:
        _, key_id, sealed = _split(token, context=context)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"a value of {context} is encrypted with key {key_id!r}, which is not in the "
                f"key ring from {self.source} (it holds {', '.join(self.ids)})",
                key_id=key_id,
            )
        try:
            plaintext = cipher.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _associated_data(key_id, context)
            )
        except InvalidTag:
            raise DecryptionError(
                f"a value of {context} fails authentication under key {key_id!r}: it was "
                f"altered or moved from another column, or {self.source} holds a different "
                f"key under the id {key_id!r}",
                key_id=key_id,
            ) from None
        return plaintext.decode("utf-8")


def _associated_data(key_id: str, context: str) -> bytes:
    return f"{VERSION}:{key_id}:{context}".encode()


def _split(token: str, *, context: str | None) -> tuple[str, str, bytes]:
    where = f"a value of {context}" if context else "a value"
    version, _, rest = token.partition(":")
    key_id, _, encoded = rest.partition(":")
    if version != VERSION or not _KEY_ID.fullmatch(key_id):
        # Never quote the value: it may be plaintext that was never encrypted.
        raise DecryptionError(
            f"{where} is not an encrypted value (expected '{VERSION}:<key id>:…')", key_id=None
        )
    try:
        sealed = base64.urlsafe_b64decode(encoded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        sealed = b""
    if len(sealed) < NONCE_BYTES + 16:
        raise DecryptionError(
            f"{where} under key {key_id!r} is truncated or not valid base64", key_id=key_id
        )
    return version, key_id, sealed


def _decode_key(encoded: str, *, key_id: str, source: str) -> bytes:
    try:
        # Standard or URL-safe alphabet, padding optional.
        normalized = encoded.replace("+", "-").replace("/", "_").rstrip("=")
        secret = base64.urlsafe_b64decode(normalized + "=" * (-len(normalized) % 4))
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != KEY_BYTES:
        raise KeyringError(
            f"key {key_id!r} in {source} is not the base64 encoding of {KEY_BYTES} bytes"
        )
    return secret


# -- The key file ----------------------------------------------------------------------


def key_file(settings: Settings) -> Path:
    return settings.data_dir / ENCRYPTION_KEY_FILE


def load_keyring(settings: Settings) -> Keyring:
    """The configured ring, or the one in the data directory (generated when absent)."""
    if settings.encryption_keys is not None:
        return Keyring.parse(settings.encryption_keys.get_secret_value(), source=KEYS_VARIABLE)
    path = key_file(settings)
    generated = not path.exists() and _create_key_file(path)
    if generated and not settings.resolved_database_url.startswith("sqlite"):
        # Processes on other machines share this database, not this directory.
        logger.warning(
            "generated encryption keys into %s; every process that uses this database "
            "must have the same keys: set %s on all of them",
            path,
            KEYS_VARIABLE,
        )
    keyring = read_key_file(path)
    keyring.generated = generated
    return keyring


def read_key_file(path: Path) -> Keyring:
    # Stamped before reading: a file replaced in between is then read again later, whereas
    # the other order could pair the old keys with the new stamp and miss the change.
    stamp = _stamp(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KeyringError(f"cannot read the key file {path}: {error.strerror}") from None
    return Keyring.parse(text, source=str(path), path=path, stamp=stamp)


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Replace the key file at once: a reader sees the old ring or the new, never half."""
    temporary = _private_temporary(path, keyring.serialize() + "\n")
    os.replace(temporary, path)


@contextmanager
def key_file_lock(path: Path) -> Iterator[None]:
    """Serialises the commands that rewrite the key file (rotate, retire)."""
    lock_path = path.with_name(path.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _create_key_file(path: Path) -> bool:
    """Write a new ring to `path` unless one is there; whether this call wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _private_temporary(path, Keyring.generate().serialize() + "\n")
    try:
        # Linking is exclusive like O_EXCL, and publishes the file complete: two processes
        # starting together keep one ring, and neither ever reads a half-written file.
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink()


def _private_temporary(path: Path, content: str) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.chmod(0o600)
    return temporary


# -- The ring of this process ----------------------------------------------------------


class _Installed:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keyring: Keyring | None = None
        self.checked_at = 0.0


_installed = _Installed()


def install_keyring(keyring: Keyring | None) -> Keyring | None:
    """Use `keyring` in this process (None: load it from the settings at the next use).

    Returns the ring installed before, so that a caller can put it back.
    """
    with _installed.lock:
        previous = _installed.keyring
        _installed.keyring = keyring
        _installed.checked_at = time.monotonic()
    return previous


def current_keyring() -> Keyring:
    """The ring of this process, loaded from `Settings()` on first use."""
    keyring = _installed.keyring
    if keyring is None:
        with _installed.lock:
            if _installed.keyring is None:
                _installed.keyring = load_keyring(Settings())
                _installed.checked_at = time.monotonic()
            return _installed.keyring
    if keyring.path is not None and (
        time.monotonic() - _installed.checked_at >= RELOAD_CHECK_SECONDS
    ):
        return _reload_if_changed()
    return keyring


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt with this process's current key."""
    return current_keyring().encrypt(plaintext, context=context)


def decrypt(token: str, *, context: str) -> str:
    """Decrypt with this process's ring; a key it does not know yet re-reads the key file."""
    keyring = current_keyring()
    try:
        return keyring.decrypt(token, context=context)
    except UnknownKeyError:
        if keyring.path is None:
            raise
        refreshed = _reload_if_changed()
        if refreshed is keyring:
            raise
        return refreshed.decrypt(token, context=context)


def _reload_if_changed() -> Keyring:
    with _installed.lock:
        keyring = _installed.keyring
        assert keyring is not None and keyring.path is not None
        _installed.checked_at = time.monotonic()
        stamp = _stamp(keyring.path)
        # A file that vanished leaves the ring in memory as it is.
        if stamp is not None and stamp != keyring.stamp:
            keyring = read_key_file(keyring.path)
            _installed.keyring = keyring
        return keyring


def _stamp(path: Path) -> Stamp | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size)
