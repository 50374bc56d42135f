"""The command line: fit-sample end to end, its errors, and the help."""

import os
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from skflow.cli import main  # noqa: E402

# Tiny settings so a fit takes a fraction of a second (of the particle sampler:
# the default method, auto, races several samplers; it has tests of its own).
FAST = [
    "-m",
    "lipschitz",
    "-p",
    "max_iter=3",
    "-p",
    "n_particles=50",
    "-p",
    "hidden_layer_sizes=(8,)",
]


@pytest.fixture
def mixed_csv(tmp_path):
    rng = np.random.RandomState(0)
    n = 60
    frame = pd.DataFrame(
        {
            "height": rng.normal(170.0, 10.0, n),
            "visits": rng.poisson(3, n).astype(np.int64),
            "colour": rng.choice(["red", "green", "blue"], n),
            "member": rng.rand(n) > 0.5,
            "label": rng.choice(["a", "b"], n, p=[0.7, 0.3]),
        }
    )
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_fit_sample_writes_same_header_and_types(mixed_csv, tmp_path, capsys):
    path, frame = mixed_csv
    out = tmp_path / "synthetic.csv"
    status = main(
        ["fit-sample", str(path), "-o", str(out), "-n", "40", "--device", "cpu", *FAST]
    )
    assert status == 0
    synthetic = pd.read_csv(out)
    assert list(synthetic.columns) == list(frame.columns)
    assert len(synthetic) == 40
    assert synthetic["visits"].dtype.kind == "i"
    assert synthetic["member"].dtype == bool
    assert set(synthetic["colour"]) <= set(frame["colour"])
    assert set(synthetic["label"]) <= set(frame["label"])
    printed = capsys.readouterr().out
    assert "energy_distance" in printed and "12 rows held out" in printed
    assert "0 of the 40 synthetic rows (0%) equal an input row." in printed


def test_codes_keep_their_zeros_and_identifiers_are_flagged(tmp_path, capsys):
    # "00042" is a label, not the number 42: it comes back as one of the seen
    # codes, zeros included. A text column of distinct values is a key, given
    # fresh unique values; one that is mostly distinct is flagged: as a
    # category it can only be copied. A column of dates is read as dates and
    # written back in its own format.
    rng = np.random.RandomState(0)
    n = 40
    codes = [f"{value:05d}" for value in rng.choice([42, 1234, 75001], n)]
    frame = pd.DataFrame(
        {
            "postcode": codes,
            "ref": [f"R-{i * 7919 % 1000:03d}x" for i in range(n)],
            "name": [f"N{i % 30}" for i in range(n)],
            "day": pd.date_range("2020-01-01", periods=n).strftime("%d/%m/%Y"),
            "amount": rng.normal(size=n),
        }
    )
    path = tmp_path / "codes.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "synthetic.csv"
    assert main(["fit-sample", str(path), "-o", str(out), "-n", "30", *FAST]) == 0
    synthetic = pd.read_csv(out, dtype={"postcode": str})
    assert set(synthetic["postcode"]) <= {"00042", "01234", "75001"}
    days = pd.to_datetime(synthetic["day"], format="%d/%m/%Y")
    assert days.between("2020-01-01", "2020-02-09").all()
    assert synthetic["ref"].is_unique
    assert not set(synthetic["ref"]) & set(frame["ref"])
    printed = capsys.readouterr().out
    assert "warning: column 'name' has 30 distinct values" in printed
    assert "'ref'" not in printed
    assert "Read as dates: 'day' (%d/%m/%Y)" in printed
    assert "'postcode'" not in printed and "'amount'" not in printed


def test_fit_sample_models_missing_values(tmp_path, capsys):
    # A table with gaps runs as it is: the gaps come back at about their rate,
    # and the summary reports the missing-rate and category fidelity.
    rng = np.random.RandomState(1)
    n = 200
    frame = pd.DataFrame(
        {
            "x": np.where(rng.rand(n) < 0.3, np.nan, rng.normal(size=n).round(2)),
            "colour": np.where(rng.rand(n) < 0.1, None, rng.choice(["r", "g"], n)),
        }
    )
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "synthetic.csv"
    assert main(["fit-sample", str(path), "-o", str(out), "-n", "400", *FAST]) == 0
    synthetic = pd.read_csv(out)
    assert abs(synthetic["x"].isna().mean() - 0.3) < 0.1
    assert synthetic["colour"].dropna().isin(["r", "g"]).all()
    printed = capsys.readouterr().out
    assert "missing_rate_error" in printed and "category_tv" in printed
    # The membership and near-copy risks of privacy_report, explained.
    for key in ("mia_distance_auc", "mia_density_auc", "near_copy_share"):
        assert key in printed
    assert "skflow.metrics.privacy_report" in printed


def test_fit_sample_with_target_keeps_classes(mixed_csv, tmp_path):
    path, frame = mixed_csv
    out = tmp_path / "synthetic.csv"
    args = ["fit-sample", str(path), "-o", str(out), "--target", "label", "-n", "100"]
    assert main([*args, "--device", "cpu", *FAST]) == 0
    synthetic = pd.read_csv(out)
    assert list(synthetic.columns) == list(frame.columns)
    counts = synthetic["label"].value_counts()
    assert set(counts.index) == {"a", "b"}
    # Proportions of the training rows, up to rounding and the stratified split.
    share = frame["label"].value_counts(normalize=True)["a"]
    assert abs(counts["a"] / 100 - share) <= 0.05


def test_fit_sample_saves_a_model_that_samples(mixed_csv, tmp_path):
    path, frame = mixed_csv
    model_path = tmp_path / "model.joblib"
    args = ["fit-sample", str(path), "-o", str(tmp_path / "s.csv"), "--holdout", "0"]
    assert main([*args, "--save-model", str(model_path), *FAST]) == 0
    model = joblib.load(model_path)
    rows = model.sample(5, random_state=0)
    assert list(rows.columns) == list(frame.columns)


def test_fit_sample_to_standard_output(mixed_csv, capsys):
    path, frame = mixed_csv
    assert main(["fit-sample", str(path), "-o", "-", "-n", "7", *FAST]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0] == ",".join(frame.columns) and len(lines) == 8
    assert "Wrote 7 synthetic rows" in captured.err


def _write(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda p: ["fit-sample", str(p / "missing.csv")], "no such file"),
        (lambda p: ["fit-sample", str(p)], "is a directory"),
        (lambda p: ["fit-sample", _write(p, "")], "is empty"),
        (lambda p: ["fit-sample", _write(p, "x,x\n1,2\n")], "repeats the column"),
        (lambda p: ["fit-sample", _write(p, "a,b\n")], "0 rows"),
        (lambda p: ["fit-sample", _write(p, "a,b\n1,2\n3,4,5\n")], "line 3: 3 fields"),
        (lambda p: ["fit-sample", _write(p, "a,b\n1,2\n3\n")], "line 3: 1 fields"),
        (
            lambda p: ["fit-sample", _write(p, "a,b\n1,2\n3,4\n"), "-m", "magic"],
            "unknown method 'magic'",
        ),
        (
            lambda p: ["fit-sample", _write(p, "a,b\n1,2\n3,4\n"), "-p", "speed=3"],
            "unknown parameter 'speed'",
        ),
        (
            lambda p: ["fit-sample", _write(p, "a,b\n1,2\n3,4\n"), "-p", "max_iter"],
            "key=value",
        ),
        (
            lambda p: ["fit-sample", _write(p, "a,b\n1,2\n3,4\n"), "-p", "max_iter=-1"],
            "max_iter",
        ),
        (
            lambda p: ["fit-sample", _write(p, "a,b\n1,2\n3,4\n"), "--target", "c"],
            "not a column",
        ),
        (
            lambda p: ["fit-sample", _write(p, "a,b\n1,2\n3,4\n"), "-n", "0"],
            "--n-samples",
        ),
        (
            lambda p: [
                "fit-sample",
                _write(p, "a,t\n1,0.5\n2,0.7\n3,0.9\n4,1.1\n"),
                "--target",
                "t",
            ],
            "continuous values",
        ),
        (
            lambda p: [
                "fit-sample",
                _write(p, "a,t\n1,x\n2,x\n3,y\n4,x\n"),
                "--target",
                "t",
            ],
            "classes ['y'] of the target column 't' have a single row",
        ),
    ],
    ids=[
        "missing",
        "directory",
        "empty",
        "duplicate-names",
        "header-only",
        "long-row",
        "short-row",
        "method",
        "parameter",
        "no-equals",
        "bad-value",
        "target",
        "n-samples",
        "continuous-target",
        "single-row-class",
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, make_args, message):
    status = main([*make_args(tmp_path), "-o", str(tmp_path / "out.csv")])
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out.csv").exists()


def test_module_help_and_errors_in_a_subprocess(tmp_path):
    help_run = subprocess.run(
        [sys.executable, "-m", "skflow", "--help"], capture_output=True, text=True
    )
    assert help_run.returncode == 0
    assert "fit-sample" in help_run.stdout and "demo" in help_run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "skflow", "fit-sample", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("skflow fit-sample: error: no such file")
    assert "Traceback" not in bad.stderr


def test_fit_sample_reads_parquet(mixed_csv, tmp_path):
    pytest.importorskip("pyarrow")
    _, frame = mixed_csv
    path = tmp_path / "table.parquet"
    frame.to_parquet(path)
    out = tmp_path / "synthetic.csv"
    assert main(["fit-sample", str(path), "-o", str(out), "-n", "9", *FAST]) == 0
    synthetic = pd.read_csv(out)
    assert list(synthetic.columns) == list(frame.columns) and len(synthetic) == 9


def test_fit_sample_races_samplers_by_default(mixed_csv, tmp_path, capsys):
    # The default method is auto: a short race, its leaderboard, the winner's rows.
    path, frame = mixed_csv
    out = tmp_path / "synthetic.csv"
    args = ["fit-sample", str(path), "-o", str(out), "-n", "25", "--device", "cpu"]
    assert main([*args, "--time-budget", "1", "-p", "cv=2"]) == 0
    synthetic = pd.read_csv(out)
    assert list(synthetic.columns) == list(frame.columns) and len(synthetic) == 25
    printed = capsys.readouterr().out
    assert "skflow fit-sample: AutoSampler on" in printed
    # The incumbent and the cheap candidates run first; the budget cuts the rest.
    chosen = re.search(r"AutoSampler chose (\S+) in", printed).group(1)
    assert chosen in ("gaussian_mixture", "lipschitz", "lipschitz_alpha")
    assert "not run (time budget)" in printed
    assert f"AutoSampler ({chosen})" in printed  # the report names the winner


def test_fit_sample_auto_with_a_target_keeps_classes(mixed_csv, tmp_path):
    path, frame = mixed_csv
    out = tmp_path / "synthetic.csv"
    args = ["fit-sample", str(path), "-o", str(out), "--target", "label", "-n", "50"]
    assert main([*args, "--device", "cpu", "--time-budget", "1", "-p", "cv=2"]) == 0
    synthetic = pd.read_csv(out)
    assert set(synthetic["label"]) == {"a", "b"}


def _one_error_line(capsys) -> str:
    """The error: one line, the last on standard error (after any warnings)."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    errors = [line for line in lines if "error:" in line]
    assert errors == lines[-1:] and "Traceback" not in captured.err, captured.err
    assert lines[-1].startswith("skflow fit-sample: error: ") or lines[-1].startswith(
        "skflow demo: error: "
    )
    return lines[-1]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["plain", "overwrite"])
def test_output_naming_the_input_is_refused(mixed_csv, tmp_path, capsys, overwrite):
    path, _ = mixed_csv
    before = path.read_bytes()
    (tmp_path / "sub").mkdir()
    spelled = tmp_path / "sub" / ".." / path.name  # the input, spelled otherwise
    for output in [
        ["-o", str(path)],
        ["-o", str(spelled)],
        ["--save-model", str(path)],
    ]:
        status = main(["fit-sample", str(path), *output, *overwrite, *FAST])
        assert status == 2
        assert "is the input file" in _one_error_line(capsys)
    assert path.read_bytes() == before


def test_a_hard_link_to_the_input_is_the_input(mixed_csv, tmp_path, capsys):
    path, _ = mixed_csv
    link = tmp_path / "link.csv"
    try:
        os.link(path, link)
    except OSError:
        pytest.skip("no hard links here")
    args = ["fit-sample", str(path), "-o", str(link), "--overwrite", *FAST]
    assert main(args) == 2
    assert "is the input file" in _one_error_line(capsys)


def test_existing_outputs_need_overwrite(mixed_csv, tmp_path, capsys):
    path, frame = mixed_csv
    out, model = tmp_path / "synthetic.csv", tmp_path / "model.joblib"
    args = ["fit-sample", str(path), "-o", str(out), "--save-model", str(model)]
    for existing in (out, model):
        existing.write_text("keep me")
        assert main([*args, *FAST]) == 2
        message = _one_error_line(capsys)
        assert f"{existing} exists; pass --overwrite" in message
        assert existing.read_text() == "keep me"
        other = model if existing == out else out
        assert not other.exists()
        existing.unlink()
    out.write_text("keep me")
    model.write_text("keep me")
    assert main([*args, "--overwrite", "-n", "5", *FAST]) == 0
    assert list(pd.read_csv(out).columns) == list(frame.columns)
    assert len(joblib.load(model).sample(2, random_state=0)) == 2


@pytest.mark.parametrize(
    "make_outputs, message",
    [
        (lambda p: ["-o", str(p / "no" / "s.csv")], "the folder of --output"),
        (lambda p: ["--save-model", str(p / "no" / "m.joblib")], "of --save-model"),
        (lambda p: ["-o", str(p)], "is a directory"),
        (
            lambda p: ["-o", str(p / "x"), "--save-model", str(p / "x")],
            "both name",
        ),
    ],
    ids=["output-folder", "model-folder", "directory", "same-twice"],
)
def test_output_paths_are_checked_before_the_fit(
    mixed_csv, tmp_path, capsys, monkeypatch, make_outputs, message
):
    import skflow.cli

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before the output paths were checked")

    monkeypatch.setattr(skflow.cli, "read_table", no_fit)
    path, _ = mixed_csv
    assert main(["fit-sample", str(path), *make_outputs(tmp_path)]) == 2
    line = _one_error_line(capsys)
    assert message in line
    if "folder" in message:
        assert str(tmp_path / "no") in line and "mkdir -p" in line


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere"
)
def test_a_read_only_folder_is_refused_before_the_fit(mixed_csv, tmp_path, capsys):
    path, _ = mixed_csv
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["fit-sample", str(path), "-o", str(folder / "s.csv")]) == 2
    finally:
        folder.chmod(0o700)
    assert "is not writable" in _one_error_line(capsys)


def test_a_failed_write_leaves_no_file(mixed_csv, tmp_path, capsys, monkeypatch):
    # The rows and the model are written together: when the model cannot be
    # saved, the rows are not written either, and no temporary file stays.
    path, _ = mixed_csv
    out = tmp_path / "out"
    out.mkdir()

    def full_disk(model, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(joblib, "dump", full_disk)
    args = ["-o", str(out / "s.csv"), "--save-model", str(out / "m.joblib")]
    assert main(["fit-sample", str(path), *args, *FAST]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_demo_refuses_an_existing_figure_before_fitting(tmp_path, capsys):
    figure = tmp_path / "figure.png"
    figure.write_bytes(b"mine")
    assert main(["demo", "--output", str(figure), "--device", "cpu"]) == 2
    assert "pass --overwrite" in _one_error_line(capsys)
    assert figure.read_bytes() == b"mine"
    assert main(["demo", "--output", str(tmp_path / "no" / "f.png")]) == 2
    assert "the folder of --output" in _one_error_line(capsys)


def test_demo_replaces_its_own_default_figure(tmp_path, monkeypatch):
    # The README's demo command must work on a second run too.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("skflow.cli.run_demo", lambda *args: args)
    assert main(["demo"])[1:] == ("skflow_demo.png", 0, "auto", True)
    assert main(["demo", "--output", "mine.png"])[1:] == ("mine.png", 0, "auto", False)


@pytest.mark.parametrize("sep", [";", "\t", "|"], ids=["semicolon", "tab", "pipe"])
def test_the_delimiter_is_detected_and_kept(mixed_csv, tmp_path, capsys, sep):
    _, frame = mixed_csv
    path = tmp_path / "table.txt"
    frame.to_csv(path, sep=sep, index=False)
    out = tmp_path / "synthetic.csv"
    assert main(["fit-sample", str(path), "-o", str(out), "-n", "9", *FAST]) == 0
    synthetic = pd.read_csv(out, sep=sep)
    assert list(synthetic.columns) == list(frame.columns) and len(synthetic) == 9
    assert synthetic["visits"].dtype.kind == "i"
    printed = capsys.readouterr().out
    name = "tab" if sep == "\t" else repr(sep)
    assert f"Read with the delimiter {name} (detected" in printed


def test_sep_reads_what_detection_cannot(tmp_path, capsys):
    # A semicolon only in the header: the rows look like one column, so
    # detection falls back to the comma, and the header's ';' is refused
    # with the remedy; --sep reads it as asked.
    text = "a;b\n" + "".join(f"{i % 7}.5\n" for i in range(30))
    path = _write(tmp_path, text)
    out = tmp_path / "out.csv"
    assert main(["fit-sample", path, "-o", str(out)]) == 2
    assert "pass --sep ';'" in _one_error_line(capsys)
    assert not out.exists()
    assert main(["fit-sample", path, "-o", str(out), "--sep", ";"]) == 2
    assert "line 2: 1 fields but the header has 2" in _one_error_line(capsys)


def test_an_undecodable_file_names_the_byte_and_encoding(tmp_path, capsys):
    path = tmp_path / "latin.csv"
    rows = b"".join(b"Z\xfcrich,%d.%d\n" % (i, i * 7 % 10) for i in range(30))
    path.write_bytes(b"city,x\n" + rows)
    out = tmp_path / "out.csv"
    assert main(["fit-sample", str(path), "-o", str(out), *FAST]) == 2
    line = _one_error_line(capsys)
    assert str(path) in line and "byte 0xfc at offset 8 (line 2)" in line
    assert "--encoding" in line
    args = ["fit-sample", str(path), "-o", str(out), "--encoding", "latin-1"]
    assert main([*args, "-n", "4", *FAST]) == 0
    assert set(pd.read_csv(out)["city"]) == {"Zürich"}


@pytest.mark.parametrize(
    "argv",
    [["--sep", ";;"], ["--encoding", "klingon"]],
    ids=["sep", "encoding"],
)
def test_bad_reading_options_are_usage_errors(tmp_path, capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit-sample", _write(tmp_path, "a,b\n1,2\n"), *argv])
    assert exit_info.value.code == 2
    assert f"argument {argv[0]}" in capsys.readouterr().err


def test_a_pipe_as_input_is_not_a_regular_file(tmp_path, capsys):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["fit-sample", str(fifo), "-o", str(tmp_path / "out.csv")]) == 2
    assert "is not a regular file" in _one_error_line(capsys)


def test_rows_that_copy_the_input_are_not_written(tmp_path, capsys):
    # A semicolon table forced through --sep ',' is one text column: every
    # synthetic row can only be an input row verbatim. That is refused (the
    # output would be the private rows), unless --allow-copies.
    text = "a;b\n" + "".join(f"{i % 4};{'xy'[i % 2]}\n" for i in range(40))
    path = _write(tmp_path, text, "semicolon.csv")
    out = tmp_path / "out.csv"
    args = ["fit-sample", path, "-o", str(out), "--sep", ",", "-n", "20", *FAST]
    assert main(args) == 2
    line = _one_error_line(capsys)
    assert "20 of the 20 synthetic rows (100%) equal an input row" in line
    assert "nothing was written" in line and "--allow-copies" in line
    assert not out.exists()
    assert main([*args, "--allow-copies"]) == 0
    assert set(pd.read_csv(out)["a;b"]) <= {"0;x", "1;y", "2;x", "3;y"}
    printed = capsys.readouterr().out
    assert "warning: 20 of the 20 synthetic rows (100%)" in printed


def test_copy_share_compares_rows_as_written():
    from skflow.cli import copy_share

    real = pd.DataFrame({"x": [1.5, np.nan, 3.0], "c": ["a", None, "b"]})
    synthetic = pd.DataFrame(
        {"c": ["a", np.nan, "b", "a"], "x": [1.5, np.nan, 3.5, 3.0]}
    )
    # Rows 0 and 1 are input rows (missing cells alike, column order aside).
    assert copy_share(synthetic, real) == 0.5


@pytest.mark.parametrize("where", ["in-the-loop", "after-the-fit"])
def test_ctrl_c_writes_nothing_and_exits_130(
    mixed_csv, tmp_path, capsys, monkeypatch, where
):
    # skflow's loop keeps a partial model on Ctrl-C (with a warning); the
    # command must not write rows from it. An interrupt elsewhere (here in the
    # draw) must not leave a file either.
    import skflow._base
    import skflow.cli
    from skflow._testing import interrupting_progress_bar

    if where == "in-the-loop":
        monkeypatch.setattr(skflow._base, "tqdm", interrupting_progress_bar(1))
    else:

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(skflow.cli, "_draw", interrupted)
    path, _ = mixed_csv
    out, model = tmp_path / "s.csv", tmp_path / "m.joblib"
    args = ["fit-sample", str(path), "-o", str(out), "--save-model", str(model)]
    assert main([*args, *FAST]) == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        "skflow fit-sample: interrupted (Ctrl-C); nothing was written."
    )
    assert "Traceback" not in err and "UserWarning" not in err
    assert sorted(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-p", "device='meta'", "--device", "cpu"], "disagree"),
        (["-p", "device=gpu"], "device='gpu'"),  # honoured, so refused by the sampler
        (["-p", "random_state=3", "--seed", "4"], "-p random_state=3 and --seed 4"),
        (["-p", "random_state=-1"], "-p random_state must be an integer"),
    ],
    ids=["device-disagrees", "device-honoured", "seed-disagrees", "bad-seed"],
)
def test_param_and_option_for_one_setting(mixed_csv, tmp_path, capsys, argv, message):
    path, _ = mixed_csv
    out = tmp_path / "s.csv"
    assert main(["fit-sample", str(path), "-o", str(out), *FAST, *argv]) == 2
    assert message in _one_error_line(capsys)
    assert not out.exists()


def test_param_and_option_that_agree_are_one_setting(mixed_csv, tmp_path):
    path, _ = mixed_csv
    model = tmp_path / "m.joblib"
    args = ["fit-sample", str(path), "-o", str(tmp_path / "s.csv"), "-m", "gmm"]
    args += ["--save-model", str(model), "-p", "device=cpu", "--device", "cpu"]
    assert main([*args, "-p", "random_state=7", "-n", "5"]) == 0
    assert joblib.load(model)[-1].get_params()["random_state"] == 7


@pytest.mark.parametrize("command", ["fit-sample", "demo"])
@pytest.mark.parametrize("seed", ["-1", str(2**32), "1.5"])
def test_seed_out_of_range_is_a_usage_error(tmp_path, capsys, command, seed):
    argv = [command] + (
        [_write(tmp_path, "a\n1\n2\n")] if command == "fit-sample" else []
    )
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--seed", seed])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --seed: expected an integer from 0 to {2**32 - 1}" in err


def test_fit_sample_writes_parquet_in_partitions(mixed_csv, tmp_path, monkeypatch):
    # A .parquet --output is drawn and written partition by partition: the
    # partitions of skflow.dask.sample_dataframe for the same model and seed
    # (tiny partitions here, so that there are several).
    pytest.importorskip("pyarrow")
    import skflow._partitions

    monkeypatch.setattr(skflow._partitions, "PARTITION_BYTES", 4096)
    path, frame = mixed_csv
    out, model_path = tmp_path / "rows.parquet", tmp_path / "m.joblib"
    args = ["fit-sample", str(path), "-o", str(out), "-n", "2000", "--seed", "3"]
    args += ["--target", "label", "--save-model", str(model_path), *FAST]
    assert main(args) == 0
    written = pd.read_parquet(out)
    assert list(written.columns) == list(frame.columns) and len(written) == 2000
    assert written["visits"].dtype == np.int64 and written["member"].dtype == bool
    assert set(written["label"]) <= {"a", "b"}
    import pyarrow.parquet as pq

    assert pq.ParquetFile(out).num_row_groups > 1
    dask_module = pytest.importorskip("skflow.dask")
    model = joblib.load(model_path)
    expected = dask_module.sample_dataframe(
        model, 2000, random_state=3, target_name="label"
    )
    expected = expected.compute(scheduler="sync")[list(frame.columns)]
    pd.testing.assert_frame_equal(written, expected.reset_index(drop=True))


def test_many_csv_rows_are_written_partition_by_partition(
    mixed_csv, tmp_path, monkeypatch, capsys
):
    # More rows than one partition (about 64 MiB; 4 KiB here) go to a CSV
    # file partition by partition, memory bounded by one: the same rows as the
    # Parquet output for the same seed, under one header.
    pytest.importorskip("pyarrow")
    import skflow._partitions

    monkeypatch.setattr(skflow._partitions, "PARTITION_BYTES", 4096)
    path, frame = mixed_csv
    rows = {}
    for name in ("rows.csv", "rows.parquet"):
        out = tmp_path / name
        args = ["fit-sample", str(path), "-o", str(out), "-n", "2000", "--seed", "3"]
        assert main([*args, "--target", "label", *FAST]) == 0
        rows[name] = pd.read_csv(out) if name.endswith("csv") else pd.read_parquet(out)
    log = capsys.readouterr().out
    assert "partition(s) of CSV" in log and "partition(s) of Parquet" in log
    written = rows["rows.csv"]
    assert list(written.columns) == list(frame.columns) and len(written) == 2000
    assert (tmp_path / "rows.csv").read_text().count("height,visits") == 1
    pd.testing.assert_frame_equal(
        written, rows["rows.parquet"], check_dtype=False, atol=1e-9
    )


def test_parquet_rows_that_copy_the_input_are_not_written(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    text = "a;b\n" + "".join(f"{i % 4};{'xy'[i % 2]}\n" for i in range(40))
    path = _write(tmp_path, text, "semicolon.csv")
    out = tmp_path / "out.parquet"
    args = ["fit-sample", path, "-o", str(out), "--sep", ",", "-n", "20", *FAST]
    assert main(args) == 2
    line = _one_error_line(capsys)
    assert "20 of the 20 synthetic rows (100%) equal an input row" in line
    assert not out.exists() and list(tmp_path.glob(".out*")) == []


# ------------------------------------------------------------- private fits
@pytest.fixture
def domains_json(mixed_csv, tmp_path):
    import json

    domains = {
        "height": [120.0, 220.0],
        "visits": [0, 20],
        "colour": ["red", "green", "blue"],
        "member": [False, True],
        "label": ["a", "b"],
    }
    path = tmp_path / "domains.json"
    path.write_text(json.dumps(domains))
    return path


def test_epsilon_fits_privately_within_the_declared_domains(
    mixed_csv, domains_json, tmp_path, capsys
):
    path, frame = mixed_csv
    out = tmp_path / "private.csv"
    args = ["fit-sample", str(path), "-o", str(out), "-n", "30", "--device", "cpu"]
    status = main([*args, *FAST, "--epsilon", "2", "--domains", str(domains_json)])
    assert status == 0
    captured = capsys.readouterr()
    # The budget spent is reported, and within what was asked.
    report = re.search(r"epsilon ([0-9.]+) \(asked 2\)", captured.out + captured.err)
    spent = float(report.group(1))
    assert 0 < spent <= 2.0
    synthetic = pd.read_csv(out)
    assert len(synthetic) == 30 and list(synthetic.columns) == list(frame.columns)
    assert synthetic["height"].between(120.0, 220.0).all()
    assert synthetic["visits"].between(0, 20).all()
    assert set(synthetic["colour"]) <= {"red", "green", "blue"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--epsilon", "2", "-n", "10"], "--epsilon needs --domains"),
        (["--epsilon", "2", "--domains", "{domains}"], "--epsilon needs --n-samples"),
        (
            ["--epsilon", "2", "--domains", "{domains}", "-n", "5", "-m", "sliced"],
            "lipschitz, proximal",
        ),
        (
            [
                "--epsilon",
                "2",
                "--domains",
                "{domains}",
                "-n",
                "5",
                "--target",
                "label",
            ],
            "--epsilon with --target",
        ),
        (["--delta", "1e-6"], "--delta is the delta of --epsilon"),
        (["--epsilon", "2", "--domains", "{missing}", "-n", "5"], "no such file"),
        (["--epsilon", "2", "--domains", "{table}", "-n", "5"], "not a JSON file"),
    ],
)
def test_private_options_are_checked_before_any_work(
    mixed_csv, domains_json, tmp_path, capsys, extra, message
):
    path, _ = mixed_csv
    out = tmp_path / "never.csv"
    places = {"domains": domains_json, "missing": tmp_path / "no.json", "table": path}
    extra = [arg.format(**places) for arg in extra]
    status = main(["fit-sample", str(path), "-o", str(out), "-m", "lipschitz", *extra])
    assert status == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_domains_alone_build_the_encoder_from_them(mixed_csv, domains_json, tmp_path):
    path, _ = mixed_csv
    out, model = tmp_path / "rows.csv", tmp_path / "model.joblib"
    status = main(
        ["fit-sample", str(path), "-o", str(out), "--domains", str(domains_json)]
        + ["--save-model", str(model), "--device", "cpu", *FAST]
    )
    assert status == 0
    assert joblib.load(model)[0].fits_without_data_


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_folder_that_takes_no_files_is_refused_before_fitting(mixed_csv, capsys):
    # /proc exists and root may "write" there by its permissions, but no file
    # can be created: the probe file says so before the fit.
    path, _ = mixed_csv
    assert main(["fit-sample", str(path), "-o", "/proc/out.csv", *FAST]) == 2
    assert "cannot write --output /proc/out.csv" in _one_error_line(capsys)


def test_a_parquet_name_on_a_csv_file_is_named(mixed_csv, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    path, _ = mixed_csv
    fake = tmp_path / "table.parquet"
    fake.write_bytes(path.read_bytes())
    assert main(["fit-sample", str(fake), "-o", str(tmp_path / "o.csv"), *FAST]) == 2
    line = _one_error_line(capsys)
    assert "cannot read" in line and "as Parquet" in line and ".csv name" in line


def test_an_output_the_disk_cannot_hold_is_refused_before_drawing(
    mixed_csv, tmp_path, monkeypatch, capsys
):
    import shutil

    path, _ = mixed_csv
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: usage._replace(free=1000))
    out = tmp_path / "rows.csv"
    args = ["fit-sample", str(path), "-o", str(out), "-n", "100000", *FAST]
    assert main(args) == 2
    line = _one_error_line(capsys)
    assert "100000 rows would need about" in line and "free; ask for fewer" in line
    assert not out.exists()
