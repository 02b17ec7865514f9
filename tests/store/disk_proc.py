"""Runs infertui commands against a store on a small tmpfs that is then made
full or read-only, inside a user and mount namespace (`unshare -rm`), so it
works for any user and never touches a real disk. For test_disk_errors; not
a test module.

    unshare -rm python -m tests.store.disk_proc DIR full|readonly

Prints one JSON object: each command's exit status, stdout and stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infertui.store.repository import Store

from tests.store.factories import mixed_session


def infertui(db: Path, *argv: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "infertui", "--db", str(db), *argv],
                          capture_output=True, text=True, timeout=120)
    return {"code": done.returncode, "out": done.stdout, "err": done.stderr}


def fill(directory: Path) -> None:
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def main() -> int:
    mount, how = Path(sys.argv[1]), sys.argv[2]
    mount.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "none", str(mount)], check=True)
    db = mount / "results.db"
    with Store.open(db) as store:  # a healthy store, closed cleanly
        s = mixed_session("0190disk", prompt="Explain Rayleigh scattering")
        store.create_session(s)
        for probe in s.probes:
            store.save_probe(s.session_id, probe)
        store.finish_session(s.session_id, "2025-06-01T12:01:00Z", False)
    export = Path("/tmp") / f"infertui-disk-{os.getpid()}.json"
    export.write_text(json.dumps(mixed_session("0190other").to_json()))
    if how == "full":
        fill(mount)
    else:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    results = {name: infertui(db, *argv) for name, argv in (
        ("history", ["history"]), ("show", ["show", "last", "--json"]),
        ("search", ["search", "scattering"]), ("export", ["export", "0190disk"]),
        ("import", ["import", str(export)]),
        ("probe", ["probe", "-t", "sim-alpha/fast", "--max-tokens", "4"]))}
    # A data directory still to be made under the read-only or full mount.
    results["new_dir"] = infertui(mount / "data" / "infertui.db", "probe", "-t",
                                  "sim-alpha/fast", "--max-tokens", "4")
    export.unlink()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
