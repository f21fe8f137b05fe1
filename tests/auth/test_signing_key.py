"""Ingrain's own signing key: generated once and reused, or read from a configured PEM."""

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.auth.keys import GENERATED_KEY_NAME, SigningKey, jwk_thumbprint, load_signing_key
from service.settings import Settings


def test_generated_once_into_the_data_dir_and_reused(tmp_path: Path) -> None:
    settings = Settings(environment="development", data_dir=tmp_path)
    first = load_signing_key(settings)
    path = tmp_path / GENERATED_KEY_NAME
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signing_key(settings).kid == first.kid
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_test_settings_get_a_fresh_key_in_memory(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    assert load_signing_key(settings).kid != load_signing_key(settings).kid
    assert not (tmp_path / GENERATED_KEY_NAME).exists()


def test_configured_pem_is_used(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "key.pem"
    path.write_bytes(key.private_pem())
    loaded = load_signing_key(Settings(environment="test", signing_key_path=path))
    assert loaded.kid == key.kid


@pytest.mark.parametrize(
    "private_key",
    [ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(public_exponent=65537, key_size=2048)],
    ids=["P-384", "RSA"],
)
def test_keys_other_than_p256_are_refused(tmp_path: Path, private_key: ec.EllipticCurvePrivateKey) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ValueError):
        load_signing_key(Settings(environment="test", signing_key_path=path))


def test_kid_is_the_rfc_7638_thumbprint() -> None:
    key = SigningKey.generate()
    jwk = key.public_jwk()
    assert key.kid == jwk_thumbprint(jwk)
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
