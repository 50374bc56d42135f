"""skflow.save / skflow.load: round trips, and files that must be refused."""

import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skflow
from skflow import LipschitzParticleSampler


@pytest.fixture(scope="module")
def fitted():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skflow.datasets import make_gaussian_mixture

    X, _ = make_gaussian_mixture(120, 3, 2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sampler = LipschitzParticleSampler(
            max_iter=3,
            n_particles=50,
            hidden_layer_sizes=(8,),
            device="cpu",
            random_state=0,
        ).fit(X)
    return sampler, X


def _rewrite(path, name, transform, *, fix_checksums=False):
    """Rewrite the archive at ``path``, member ``name`` through ``transform``.

    With ``fix_checksums`` the checksums are recomputed, as a deliberate
    tamperer would.
    """
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[name] = transform(members[name])
    if fix_checksums:
        members["checksums.json"] = json.dumps(
            {
                n: hashlib.sha256(d).hexdigest()
                for n, d in members.items()
                if n != "checksums.json"
            }
        ).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for n, data in members.items():
            archive.writestr(n, data)


def _members(path):
    """The members of the archive at ``path``, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(pairs, *, declared=None, crc=None):
    """Zip bytes of the (name, bytes) ``pairs``, names repeated or not.

    ``declared`` and ``crc`` (name -> int) overwrite what the central directory
    says of a member's uncompressed size and CRC-32, the way a crafted file
    lies; the data written stays the same.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in pairs:
            archive.writestr(name, data)
            info = archive.filelist[-1]
            info.file_size = (declared or {}).get(name, info.file_size)
            info.CRC = (crc or {}).get(name, info.CRC)
    return buffer.getvalue()


def _write_archive(path, members, *, extra=(), declared=None, crc=None):
    """Write ``members`` (name -> bytes) as a zip with matching checksums.json.

    ``checksums.json`` is recomputed over every member, as a tamperer who knows
    the format would; ``extra`` (name, bytes) pairs are written after it, names
    repeated or not; ``declared`` and ``crc`` as in :func:`_zip`.
    """
    members = {n: d for n, d in members.items() if n != "checksums.json"}
    checksums = {n: hashlib.sha256(d).hexdigest() for n, d in members.items()}
    pairs = [*members.items(), ("checksums.json", json.dumps(checksums).encode())]
    Path(path).write_bytes(_zip([*pairs, *extra], declared=declared, crc=crc))


def _with_class(members, spec):
    """``members`` with the top estimator's class replaced by ``spec``."""
    manifest = json.loads(members["manifest.json"])
    manifest["estimator"]["__estimator__"] = spec
    return {**members, "manifest.json": json.dumps(manifest).encode()}


@pytest.fixture
def saved(fitted, tmp_path):
    """The members of a file that skflow.save wrote for the fitted sampler."""
    path = tmp_path / "saved.skflow"
    skflow.save(fitted[0], path)
    return _members(path)


def test_sklearn_pipeline_and_dataframe_state_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    frame["a"] = frame["a"].astype("float32")
    pipe = make_pipeline(StandardScaler(), PCA(n_components=2)).fit(frame)
    skflow.save(pipe, tmp_path / "pipe.skflow")
    restored = skflow.load(tmp_path / "pipe.skflow")
    np.testing.assert_array_equal(restored.transform(frame), pipe.transform(frame))
    np.testing.assert_array_equal(restored.feature_names_in_, ["a", "b", "c"])

    sampler = LipschitzParticleSampler(
        max_iter=2,
        n_particles=40,
        hidden_layer_sizes=(4,),
        device="cpu",
        random_state=1,
    ).fit(frame)
    skflow.save(sampler, tmp_path / "frame.skflow")
    again = skflow.load(tmp_path / "frame.skflow")
    out = again.sample(5, random_state=0)
    assert list(out.columns) == ["a", "b", "c"] and out["a"].dtype == np.float32
    pd.testing.assert_frame_equal(out, sampler.sample(5, random_state=0))


def test_unfitted_estimator_round_trip(tmp_path):
    est = LipschitzParticleSampler(divergence="alpha", hidden_layer_sizes=(3, 2))
    skflow.save(est, tmp_path / "e.skflow")
    assert skflow.load(tmp_path / "e.skflow").get_params() == est.get_params()


def test_truncated_file_is_refused(fitted, tmp_path):
    sampler, _ = fitted
    path = tmp_path / "m.skflow"
    skflow.save(sampler, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        skflow.load(path)


def test_altered_arrays_are_refused(fitted, tmp_path):
    sampler, _ = fitted
    path = tmp_path / "m.skflow"
    skflow.save(sampler, path)
    _rewrite(path, "tensors.pt", lambda data: data[:-10] + b"0123456789")
    with pytest.raises(ValueError, match="altered"):
        skflow.load(path)


@pytest.mark.parametrize(
    "spec",
    [
        "os:system",
        "subprocess:Popen",
        "builtins:eval",
        "skflow.__main__:main",
        "skflow.cli:main",
        "skflow.metrics:energy_distance",
        "skflow._persistence:load",
        "sklearn.utils:all_estimators",
        "sklearn:NotAClass",
        "skflow.__main__:LipschitzParticleSampler",
        ["os", "system"],
    ],
)
def test_foreign_class_is_never_built(saved, tmp_path, spec):
    # Checksums recomputed as an attacker would: the class check still holds.
    before = set(sys.modules)
    path = tmp_path / "m.skflow"
    _write_archive(path, _with_class(saved, spec))
    with pytest.raises(ValueError, match="refusing to load class .*skflow and scikit"):
        skflow.load(path)
    # skflow.__main__ runs the command line on import: nothing was imported.
    assert {"skflow.__main__", "skflow.cli"} & (set(sys.modules) - before) == set()


def test_nested_foreign_class_is_never_built(tmp_path):
    pipe = make_pipeline(StandardScaler()).fit(np.ones((4, 2)))
    skflow.save(pipe, tmp_path / "p.skflow")
    members = _members(tmp_path / "p.skflow")
    manifest = members["manifest.json"].replace(
        b"sklearn.preprocessing._data:StandardScaler", b"os:system"
    )
    assert manifest != members["manifest.json"]
    _write_archive(tmp_path / "p.skflow", {**members, "manifest.json": manifest})
    with pytest.raises(ValueError, match="refusing to load class 'os:system'"):
        skflow.load(tmp_path / "p.skflow")


@pytest.mark.parametrize("where", ["sys.path", "skflow.__path__"])
def test_module_named_in_the_file_is_never_imported(
    saved, tmp_path, monkeypatch, where
):
    # A module with an import-time side effect, importable under the name the
    # file gives: under skflow's own package path the old loader imported it.
    marker = tmp_path / "imported"
    folder = tmp_path / "modules"
    folder.mkdir()
    name = "skflow_planted"
    (folder / f"{name}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "from sklearn.base import BaseEstimator\n"
        "class Planted(BaseEstimator):\n    pass\n"
    )
    if where == "sys.path":
        monkeypatch.syspath_prepend(str(folder))
        module = name
    else:
        monkeypatch.setattr(skflow, "__path__", [*skflow.__path__, str(folder)])
        module = f"skflow.{name}"
    assert module not in sys.modules
    path = tmp_path / "m.skflow"
    _write_archive(path, _with_class(saved, f"{module}:Planted"))
    with pytest.raises(ValueError, match="refusing to load class"):
        skflow.load(path)
    assert module not in sys.modules and not marker.exists()


@pytest.mark.parametrize(
    "spec",
    [
        "sklearn.preprocessing._data:StandardScaler",
        "sklearn.preprocessing:StandardScaler",
        "sklearn.preprocessing._moved_since:StandardScaler",
    ],
)
def test_class_found_under_its_public_or_moved_name(tmp_path, spec):
    scaler = StandardScaler().fit(np.arange(8.0).reshape(4, 2))
    skflow.save(scaler, tmp_path / "s.skflow")
    path = tmp_path / "s.skflow"
    _write_archive(path, _with_class(_members(path), spec))
    restored = skflow.load(path)
    assert type(restored) is StandardScaler
    np.testing.assert_array_equal(restored.mean_, scaler.mean_)


def test_public_alias_of_an_skflow_class(saved, fitted, tmp_path):
    path = tmp_path / "m.skflow"
    _write_archive(path, _with_class(saved, "skflow:LipschitzParticleSampler"))
    restored = skflow.load(path)
    np.testing.assert_array_equal(
        restored.sample(3, random_state=0), fitted[0].sample(3, random_state=0)
    )


# ------------------------------------------------- archives that are refused
def _refuse(path, match):
    """load refuses ``path`` with a ValueError matching ``match``."""
    with pytest.raises(ValueError, match=match):
        skflow.load(path)


def test_member_declaring_more_than_the_limit_is_refused_unread(
    saved, tmp_path, monkeypatch
):
    # A few hundred bytes that declare 6 GiB: refused from the header alone.
    path = tmp_path / "bomb.skflow"
    _write_archive(path, saved, declared={"tensors.pt": 6 * 2**30})
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("tensors.pt").file_size == 6 * 2**30
    assert path.stat().st_size < 100_000

    def never(*args, **kwargs):
        raise AssertionError("a member was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    _refuse(path, r"member 'tensors.pt' of 6 GiB, over the 4 GiB.*zip bomb")


def test_real_member_over_a_lowered_limit_is_refused(saved, tmp_path, monkeypatch):
    path = tmp_path / "m.skflow"
    _write_archive(path, saved)
    monkeypatch.setattr(skflow._persistence, "_MAX_MEMBER_BYTES", 1024)
    assert max(len(data) for data in saved.values()) > 1024
    _refuse(path, "over the 1024 bytes that skflow.load reads")
    monkeypatch.setattr(skflow._persistence, "_MAX_MEMBER_BYTES", 2**30)
    monkeypatch.setattr(skflow._persistence, "_MAX_TOTAL_BYTES", 2048)
    _refuse(path, "of members, over the 2048 bytes")


def test_save_refuses_what_load_would_refuse(fitted, tmp_path, monkeypatch):
    monkeypatch.setattr(skflow._persistence, "_MAX_MEMBER_BYTES", 1024)
    with pytest.raises(ValueError, match="too large for skflow.save.*joblib.dump"):
        skflow.save(fitted[0], tmp_path / "m.skflow")
    assert not (tmp_path / "m.skflow").exists()


def test_inner_archive_declaring_more_than_the_limit_is_refused(saved, tmp_path):
    with zipfile.ZipFile(io.BytesIO(saved["arrays.npz"])) as npz:
        inner = {name: npz.read(name) for name in npz.namelist()}
    name = next(iter(inner))
    bomb = _zip(inner.items(), declared={name: 6 * 2**30})
    path = tmp_path / "m.skflow"
    _write_archive(path, {**saved, "arrays.npz": bomb})
    _refuse(path, f"arrays.npz declares a member '{name}' of 6 GiB")


@pytest.mark.parametrize("crc", ["stale", "matching"])
def test_member_longer_than_declared_is_refused(saved, tmp_path, crc):
    # The header declares ten bytes less than the member holds; with a CRC-32
    # of the shortened data, zipfile reads it without complaint.
    import zlib

    data = saved["manifest.json"]
    short = len(data) - 10
    path = tmp_path / "m.skflow"
    _write_archive(
        path,
        saved,
        declared={"manifest.json": short},
        crc={"manifest.json": zlib.crc32(data[:short])} if crc == "matching" else None,
    )
    _refuse(path, "not a complete skflow file|altered or corrupted")


def test_duplicate_member_is_refused(saved, fitted, tmp_path):
    # zipfile reads the last of two same-named members.
    manifest = _with_class(saved, "skflow:GaussianMixtureSampler")["manifest.json"]
    path = tmp_path / "m.skflow"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _write_archive(path, saved, extra=[("manifest.json", manifest)])
    _refuse(path, "several members named 'manifest.json'")


@pytest.mark.parametrize(
    "name", ["../x", "../../etc/cron.d/x", "/tmp/x", "archive/../x", "notes.txt"]
)
def test_unexpected_or_traversing_member_is_refused(saved, tmp_path, name):
    path = tmp_path / "m.skflow"
    _write_archive(path, saved, extra=[(name, b"x")])
    with zipfile.ZipFile(path) as archive:
        assert name in archive.namelist()
    _refuse(path, f"holds a member {name!r} that skflow.save never writes")
    assert not (tmp_path.parent / "x").exists()


def test_missing_member_is_refused(saved, tmp_path):
    path = tmp_path / "m.skflow"
    _write_archive(path, {n: d for n, d in saved.items() if n != "tensors.pt"})
    _refuse(path, "not a complete skflow file .no member 'tensors.pt'")


class _Payload:
    """Creates a file when unpickled: a stand-in for any code a pickle runs."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def test_pickled_object_in_the_tensor_file_is_refused(saved, tmp_path):
    marker = tmp_path / "ran"
    payload = io.BytesIO()
    torch = pytest.importorskip("torch")
    torch.save({"t0": _Payload(marker)}, payload)
    path = tmp_path / "m.skflow"
    _write_archive(path, {**saved, "tensors.pt": payload.getvalue()})
    _refuse(path, "tensors.pt holds objects other than tensors")
    assert not marker.exists()
    # The payload is live: an unrestricted unpickler runs it.
    torch.load(io.BytesIO(payload.getvalue()), weights_only=False)
    assert marker.exists()


def test_pickled_object_array_is_refused(saved, tmp_path):
    marker = tmp_path / "ran"
    arrays = io.BytesIO()
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    np.savez(arrays, a0=payload)
    path = tmp_path / "m.skflow"
    _write_archive(path, {**saved, "arrays.npz": arrays.getvalue()})
    _refuse(path, "allow_pickle=False")
    assert not marker.exists()


def test_checksums_catch_corruption_not_tampering(saved, tmp_path):
    # Without a key, a file edited by someone who recomputes the checksums
    # loads: the checksums are for corruption (documented in skflow.load).
    edited = json.loads(saved["manifest.json"])
    edited["estimator"]["state"]["__dict__"]["n_particles"] = 7
    path = tmp_path / "m.skflow"
    _write_archive(path, {**saved, "manifest.json": json.dumps(edited).encode()})
    assert skflow.load(path).n_particles == 7


def test_not_an_archive(tmp_path):
    path = tmp_path / "x.skflow"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not a complete skflow file"):
        skflow.load(path)


def test_unsupported_content_names_the_place(tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    with pytest.raises(TypeError, match="joblib.dump"):
        skflow.save(FunctionTransformer(np.log1p).fit(np.ones((3, 2))), tmp_path / "f")


def test_tensor_file_loads_without_pickle(fitted, tmp_path):
    sampler, _ = fitted
    path = tmp_path / "m.skflow"
    skflow.save(sampler, path)
    with zipfile.ZipFile(path) as archive:
        np.load(io.BytesIO(archive.read("arrays.npz")), allow_pickle=False)
        assert json.loads(archive.read("manifest.json"))["format"] == "skflow-estimator"


def test_mixed_type_pipeline_with_autoencoder_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    from skflow import (
        AutoencoderTransformer,
        TabularEncoder,
        make_generative_pipeline,
    )

    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=80),
            "k": rng.poisson(3, 80).astype(np.int64),
            "c": pd.Categorical(rng.choice(["u", "v", "w"], 80)),
            "b": rng.rand(80) > 0.5,
        }
    )
    encoder = TabularEncoder().fit(frame)
    codes = AutoencoderTransformer(
        n_components=2, hidden_layer_sizes=(8,), max_iter=3, random_state=0
    ).fit(encoder.transform(frame))
    for est in (encoder, codes):
        skflow.save(est, tmp_path / "e.skflow")
        restored = skflow.load(tmp_path / "e.skflow")
        data = frame if est is encoder else encoder.transform(frame)
        np.testing.assert_array_equal(restored.transform(data), est.transform(data))

    pipe = make_generative_pipeline(
        TabularEncoder(),
        LipschitzParticleSampler(
            max_iter=2, n_particles=40, hidden_layer_sizes=(4,), random_state=0
        ),
    ).fit(frame)
    skflow.save(pipe, tmp_path / "p.skflow")
    again = skflow.load(tmp_path / "p.skflow")
    pd.testing.assert_frame_equal(
        again.sample(20, random_state=0), pipe.sample(20, random_state=0)
    )


def test_dates_and_durations_round_trip_with_unit_and_time_zone(tmp_path):
    # Parameters may hold pandas and numpy times (the bounds of a
    # TabularEncoder's domains): they come back of the same type, value, unit
    # and time zone.
    import pandas as pd
    from sklearn.preprocessing import FunctionTransformer

    values = [
        pd.Timestamp("2020-03-04 05:06:07.123456789"),
        pd.Timestamp("2020-01-01").as_unit("s"),
        pd.Timestamp("2020-03-29 03:30", tz="Europe/Oslo"),
        pd.Timestamp("2020-01-01 10:00", tz="+05:30"),
        pd.Timedelta("1 days 3ns"),
        pd.Timedelta("2h").as_unit("s"),
        np.datetime64("2020-01-01", "D"),
        np.datetime64("NaT"),
        np.timedelta64(5, "ms"),
    ]
    est = FunctionTransformer(kw_args={"times": tuple(values)})
    skflow.save(est, tmp_path / "t.skflow")
    restored = skflow.load(tmp_path / "t.skflow").kw_args["times"]
    for value, back in zip(values, restored, strict=True):
        assert type(back) is type(value)
        assert back == value or (pd.isna(value) and pd.isna(back))
        assert getattr(back, "unit", None) == getattr(value, "unit", None)
        assert str(getattr(back, "tz", None)) == str(getattr(value, "tz", None))
        assert getattr(back, "dtype", None) == getattr(value, "dtype", None)


# Files written by skflow 0.1.0.dev0 (tests/data/legacy/make_files.py), whose
# fitted models were flat ``parameter_{i}`` dicts with side tuples.
LEGACY = Path(__file__).parent / "data" / "legacy"
LEGACY_SAMPLERS = sorted(LEGACY.glob("sampler_*.skflow"))


def _assert_same_rows(actual, expected):
    # The stored rows were drawn on another machine: float32 networks round
    # differently on other CPUs' vector units (a few units in the last place
    # seen between an Intel and an AMD machine), so "the same rows" is float32
    # precision; a file loaded into the wrong model is off by far more.
    np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=1e-6)


def test_every_legacy_estimator_has_a_file():
    # A new sampler in fast_samplers() is either in the legacy set or newer than
    # the layout change; the set must not shrink silently.
    assert len(LEGACY_SAMPLERS) == 8


@pytest.mark.parametrize("path", LEGACY_SAMPLERS, ids=lambda path: path.stem)
def test_legacy_sampler_file_loads_and_draws_the_same_rows(path, tmp_path):
    sampler = skflow.load(path)
    expected = np.load(path.with_suffix(".npz"))["rows"]
    _assert_same_rows(sampler.sample(7, random_state=3), expected)
    # Upgraded state is the current layout: it saves and loads as such.
    assert not any(name.startswith("parameter_") for name in sampler._tensors)
    skflow.save(sampler, tmp_path / "again.skflow")
    again = skflow.load(tmp_path / "again.skflow")
    _assert_same_rows(again.sample(7, random_state=3), expected)


@pytest.mark.parametrize("path", LEGACY_SAMPLERS, ids=lambda path: path.stem)
def test_legacy_sampler_continues_training(path, recwarn):
    # warm_start reads the fitted model through the upgraded state.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3)) @ np.array([[1.0, 0.5, 0.0], [0, 1, 0.3], [0, 0, 2]])
    sampler = skflow.load(path)
    n_before = sampler.n_iter_
    sampler.set_params(warm_start=True).fit(X)
    assert sampler.n_iter_ > n_before
    assert np.isfinite(sampler.sample(20, random_state=0)).all()


def test_legacy_autoencoder_and_pipeline_files():
    encoder = skflow.load(LEGACY / "autoencoder.skflow")
    stored = np.load(LEGACY / "autoencoder.npz")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3)) @ np.array([[1.0, 0.5, 0.0], [0, 1, 0.3], [0, 0, 2]])
    codes = encoder.transform(X[:7])
    _assert_same_rows(codes, stored["codes"])
    _assert_same_rows(encoder.inverse_transform(codes), stored["rows"])
    pipeline = skflow.load(LEGACY / "pipeline.skflow")
    _assert_same_rows(
        pipeline.sample(7, random_state=3), np.load(LEGACY / "pipeline.npz")["rows"]
    )


def test_newer_state_layout_is_refused_with_the_version(fitted, tmp_path):
    sampler, _ = fitted
    state = sampler.__getstate__()
    state["_state_layout"] = 99
    state["_skflow_version"] = "9.0"
    clone = type(sampler).__new__(type(sampler))
    with pytest.raises(ValueError, match=r"skflow 9\.0.*layout 99.*upgrade skflow"):
        with pytest.warns(UserWarning, match="saved with skflow 9.0"):
            clone.__setstate__(state)


# ------------------------------------------------------------ signed files
KEY = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def signed(fitted, tmp_path):
    """The members of the fitted sampler's file, signed with ``KEY``."""
    path = tmp_path / "signed.skflow"
    skflow.save(fitted[0], path, key=KEY)
    return _members(path)


@pytest.mark.parametrize("key", [KEY, KEY.decode(), bytearray(KEY)])
def test_signed_file_round_trip(fitted, tmp_path, key):
    path = tmp_path / "m.skflow"
    skflow.save(fitted[0], path, key=key)
    assert "signature.json" in _members(path)
    for load_key in (KEY, KEY.decode(), None):
        restored = skflow.load(path, key=load_key)
        np.testing.assert_array_equal(
            restored.sample(3, random_state=0), fitted[0].sample(3, random_state=0)
        )


@pytest.mark.parametrize("member", ["manifest.json", "arrays.npz", "tensors.pt"])
def test_signed_file_tampered_with_is_refused(signed, tmp_path, member):
    # The tamperer recomputes the checksums but cannot recompute the signature.
    data = signed[member]
    if member == "manifest.json":
        edited = json.loads(data)
        edited["estimator"]["state"]["__dict__"]["n_particles"] = 7
        data = json.dumps(edited).encode()
    else:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            pairs = [(name, inner.read(name)) for name in inner.namelist()]
        name, payload = pairs[-1]
        pairs[-1] = (name, payload[:-1] + bytes([payload[-1] ^ 1]))
        data = _zip(pairs)
    path = tmp_path / "m.skflow"
    _write_archive(path, {**signed, member: data})
    with pytest.raises(ValueError, match="does not match its signature under this"):
        skflow.load(path, key=KEY)


def test_wrong_key_is_refused(signed, tmp_path):
    path = tmp_path / "m.skflow"
    _write_archive(path, signed)
    with pytest.raises(ValueError, match="changed after it was signed, or signed"):
        skflow.load(path, key=b"another key entirely")


@pytest.mark.parametrize("how", ["unsigned", "signature removed"])
def test_missing_signature_is_refused_when_a_key_is_given(saved, signed, tmp_path, how):
    path = tmp_path / "m.skflow"
    members = saved if how == "unsigned" else signed
    _write_archive(path, {n: d for n, d in members.items() if n != "signature.json"})
    with pytest.raises(ValueError, match=r"is not signed.*key=key"):
        skflow.load(path, key=KEY)
    skflow.load(path)


@pytest.mark.parametrize(
    "signature",
    [b"not json", b"[]", b'{"hmac-sha256": 7}', '{"hmac-sha256": "é"}'.encode()],
)
def test_malformed_signature_is_refused(signed, tmp_path, signature):
    path = tmp_path / "m.skflow"
    _write_archive(path, {**signed, "signature.json": signature})
    with pytest.raises(ValueError, match="does not match its signature"):
        skflow.load(path, key=KEY)


def test_legacy_file_loads_without_a_key_and_is_unsigned_with_one():
    assert skflow.load(LEGACY / "pipeline.skflow") is not None
    with pytest.raises(ValueError, match="is not signed"):
        skflow.load(LEGACY / "pipeline.skflow", key=KEY)


@pytest.mark.parametrize(
    ("key", "error", "match"),
    [(b"", ValueError, "key is empty"), (7, TypeError, "bytes or str, got int")],
)
def test_bad_key_is_refused(fitted, tmp_path, key, error, match):
    path = tmp_path / "m.skflow"
    with pytest.raises(error, match=match):
        skflow.save(fitted[0], path, key=key)
    assert not path.exists()
    skflow.save(fitted[0], path)
    with pytest.raises(error, match=match):
        skflow.load(path, key=key)
