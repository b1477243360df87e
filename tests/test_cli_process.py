"""The `tarifrules` process itself (not `main(argv)` in the test process): it ends without
Python's teardown (`cli.common._end_process`), so everything it prints must still arrive,
with the documented exit codes and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples" / "deliberations").glob("*.tarif"))
CLI = [sys.executable, "-m", "tarifrules.cli"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_a_long_output_through_a_pipe_arrives_whole() -> None:
    done = _run("test", *map(str, EXAMPLES))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(EXAMPLES) + 1
    assert lines[-1].endswith(" passed, 0 failed")


def test_exit_codes_and_french_errors_survive_the_quick_ending() -> None:
    missing = _run("eval", "absent.tarif")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert "fichier introuvable" in missing.stderr and "Traceback" not in missing.stderr
    usage = _run("eval")
    assert usage.returncode == 2 and "argument manquant" in usage.stderr
    assert _run("--version").stdout == "tarifrules 0.1.0\n"


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    producer = subprocess.Popen([*CLI, "test", *map(str, EXAMPLES)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert producer.stdout is not None and producer.stderr is not None
    producer.stdout.read(10)
    producer.stdout.close()  # like `| head -c 10`
    errors = producer.stderr.read().decode()
    assert producer.wait(timeout=120) in (0, 1)
    assert "Traceback" not in errors and "Exception ignored" not in errors


def test_main_with_arguments_returns_to_its_caller() -> None:
    code = ("from tarifrules.cli import main\n"
            "for argv in (['--version'], ['eval', 'absent.tarif']):\n"
            "    try: main(argv)\n"
            "    except SystemExit as exit: print('exit', exit.code)\n"
            "print('still running')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["tarifrules 0.1.0", "exit 1", "still running"]


def test_batch_checks_its_rule_files_in_child_processes(tmp_path: Path) -> None:
    """The rules cache off: both files checked by child processes while the population is read."""
    cantine = EXAMPLES[[p.name for p in EXAMPLES].index("restauration-scolaire.tarif")]
    other = tmp_path / "autre.tarif"
    other.write_text(cantine.read_text(encoding="utf-8").replace("2,10 €", "2,50 €").replace("4,10 €", "4,00 €"),
                     encoding="utf-8")
    source = tmp_path / "menages.csv"
    source.write_text("quotient_familial,demandeur_emploi\n100,non\n500,non\n1000,non\n2000,non\n", encoding="utf-8")
    env = {**os.environ, "TARIFRULES_CACHE": "non"}
    args = [*CLI, "batch", str(cantine), str(source), "-o", str(tmp_path / "t.csv"), "--date", "01/09/2025",
            "--compare", str(other)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "paient plus : 1 foyer ; paient moins : 1 foyer ; même montant : 2 foyers" in done.stdout
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "100,non,1.00,ok,", "500,non,2.10,ok,", "1000,non,4.10,ok,", "2000,non,5.40,ok,"]
    other.write_text(other.read_text(encoding="utf-8").replace("tarif_repas : tarif_base", "tarif_repas : x"),
                     encoding="utf-8")
    broken = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert broken.returncode == 1 and "autre.tarif:" in broken.stderr and "T0" in broken.stderr
    assert "Traceback" not in broken.stderr
