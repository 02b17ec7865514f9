"""`infertui config check` says which providers can be used now, and calls a
keyless local server running only when its port answers."""

from __future__ import annotations

import socket

from infertui.cli import main
from infertui.store import paths


def test_local_servers_are_running_only_when_their_port_answers(capsys):
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    try:
        up, down = listening.getsockname()[1], closed.getsockname()[1]
        config = paths.config_file()
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            f'[providers.upbox]\napi = "openai"\nbase_url = "http://127.0.0.1:{up}/v1"\n\n'
            f'[providers.downbox]\napi = "openai"\nbase_url = "http://127.0.0.1:{down}/v1"\n\n'
            '[providers.farbox]\napi = "openai"\nbase_url = "http://192.0.2.7:8000/v1"\n')
        assert main(["config", "check"]) == 0
        out = capsys.readouterr().out
    finally:
        listening.close()
        closed.close()
    lines = {line.split(":", 1)[0].strip(): line for line in out.splitlines()[1:]}
    assert f"upbox (127.0.0.1:{up})" in lines["local, answering"]
    assert f"downbox (127.0.0.1:{down})" in lines["local, not answering now"]
    assert "downbox" not in lines["local, answering"]
    assert "farbox" in lines["no key needed (not checked)"]
    assert "sim-alpha" in lines["simulated (built in)"]
    assert "ready" not in out
    assert "1 provider," not in out and "23 providers" in out
