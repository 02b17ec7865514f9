"""`infertui serve`'s guards, over HTTP (no browser): the token, the Host and
Origin checks, what a spawned app's environment keeps, loopback by default."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from infertui.cli import main
from infertui.cli.serve_access import Access, child_environment
from tests.helpers.serving import start_serve


async def _status(http: aiohttp.ClientSession, url: str, **kwargs) -> tuple[int, str]:
    async with http.get(url, **kwargs) as response:
        return response.status, await response.text()


async def _ws_refused(http: aiohttp.ClientSession, url: str, **kwargs) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with http.ws_connect(url, **kwargs):
            pass
    return refused.value.status


async def test_page_and_websocket_need_the_token_the_host_and_the_origin(tmp_path):
    server = start_serve(tmp_path)
    try:
        ws = f"ws://127.0.0.1:{server.port}/ws/"
        async with aiohttp.ClientSession() as http:
            assert (await _status(http, server.base + "/"))[0] == 403
            assert (await _status(http, server.base + "/?token=" + server.token[:-1] + "A"))[0] == 403
            code, page = await _status(http, server.url)
            assert code == 200 and f"{ws}{server.token}" in page
            # The same page reached by another name (DNS rebinding) is refused.
            code, _ = await _status(http, server.url, headers={"Host": f"evil.example:{server.port}"})
            assert code == 403
            # localhost is this machine too.
            code, page = await _status(http, server.url, headers={"Host": f"localhost:{server.port}"})
            assert code == 200 and f"ws://localhost:{server.port}/ws/{server.token}" in page

            assert await _ws_refused(http, ws + "not-the-token", origin=server.base) == 403
            assert await _ws_refused(http, ws + server.token, origin="http://evil.example") == 403
            assert await _ws_refused(http, ws + server.token,
                                     origin=f"http://127.0.0.1:{server.port + 1}") == 403
            assert await _ws_refused(http, ws + server.token) == 403  # no Origin at all
            assert server.descendants() == {}  # none of these started an app

            # The right token from the right origin starts the app.
            async with http.ws_connect(ws + server.token + "?width=100&height=30",
                                       origin=server.base) as conn:
                message = await asyncio.wait_for(conn.receive(), 60)
                assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT)
            # No download route, no directory listing.
            assert (await _status(http, server.base + "/download/anything"))[0] == 404
            assert (await _status(http, server.base + "/static/"))[0] in (403, 404)
    finally:
        err = server.stop()
    assert server.token not in err and "Traceback" not in err


def test_access_rules():
    access = Access.build("127.0.0.1", 8000, token="t0k")
    assert access.token_ok("t0k") and not access.token_ok("t0K") and not access.token_ok(None)
    assert not access.token_ok("t0k\udc80")  # never an exception from the comparison
    assert access.host_ok("127.0.0.1:8000") and access.host_ok("localhost:8000")
    assert access.host_ok("[::1]:8000")
    assert not access.host_ok("127.0.0.1:8001") and not access.host_ok("evil.example:8000")
    assert not access.host_ok(None) and not access.host_ok("a@127.0.0.1:8000")
    assert access.origin_ok("http://localhost:8000", "127.0.0.1:8000")
    for origin in ("http://evil.example", "null", "https://127.0.0.1:8000", "", None,
                   "http://127.0.0.1:8000/path", "file://"):
        assert not access.origin_ok(origin, "127.0.0.1:8000"), origin

    # Behind a proxy: the public origin is the one a browser sends.
    proxied = Access.build("127.0.0.1", 8000, "https://infer.example.org", token="t")
    assert proxied.origin_ok("https://infer.example.org", "infer.example.org")
    assert proxied.host_ok("infer.example.org") and proxied.host_ok("127.0.0.1:8000")
    assert not proxied.origin_ok("http://infer.example.org", "infer.example.org")

    # Every address, no public URL: any Host, but the Origin must be that Host.
    anywhere = Access.build("0.0.0.0", 8000, token="t")
    assert anywhere.host_ok("10.1.2.3:8000")
    assert anywhere.origin_ok("http://10.1.2.3:8000", "10.1.2.3:8000")
    assert not anywhere.origin_ok("http://evil.example:8000", "10.1.2.3:8000")
    assert anywhere.refuse_websocket("t", "http://evil.example", "10.1.2.3:8000")
    assert anywhere.refuse_websocket("t", "http://10.1.2.3:8000", "10.1.2.3:8000") is None
    assert len(Access.build("127.0.0.1", 1).token) >= 40


def test_a_served_app_keeps_only_what_it_needs():
    environ = {
        "PATH": "/usr/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "TERM": "xterm", "INFERTUI_DATA_DIR": "/d", "HTTPS_PROXY": "http://proxy:3128",
        "GROQ_API_KEY": "gsk", "MYBOX_API_KEY": "mk",
        "AWS_SECRET_ACCESS_KEY": "aws", "GITHUB_TOKEN": "gh", "OPENAI_API_KEY": "sk",
        "SSH_AUTH_SOCK": "/tmp/agent", "LD_PRELOAD": "/evil.so", "PYTHONPATH": "/src",
        "DATABASE_URL": "postgres://u:pw@db/x", "VIRTUAL_ENV": "/v",
    }
    env = child_environment(environ, {"GROQ_API_KEY", "MYBOX_API_KEY", "UNSET_KEY"},
                            {"INFERTUI_CONFIG_DIR": "/c"})
    assert env == {
        "PATH": "/usr/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "TERM": "xterm", "INFERTUI_DATA_DIR": "/d", "HTTPS_PROXY": "http://proxy:3128",
        "GROQ_API_KEY": "gsk", "MYBOX_API_KEY": "mk", "INFERTUI_CONFIG_DIR": "/c",
        "PYTHONPATH": "/src",
    }


def test_listening_beyond_this_machine_warns_first(capsys, monkeypatch):
    from infertui.cli import serve as serve_module

    started = []
    monkeypatch.setattr(serve_module.GuardedServer, "serve",
                        lambda self, debug=False: started.append(self.host))
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 0
    err = capsys.readouterr().err
    assert started == ["0.0.0.0"]
    assert "warning: listening on 0.0.0.0, not only on this machine" in err
    assert main(["serve"]) == 0  # the default: loopback, no warning
    assert started[-1] == "127.0.0.1" and "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["serve", "--port", "70000"], "argument --port: must be between 0 and 65535"),
    (["serve", "--port", "http"], "argument --port: not a port number: 'http'"),
    (["serve", "--public-url", "ftp://x"], "--public-url must start with http"),
])
def test_bad_serve_arguments_are_one_line(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own checks exit from inside parse_args
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
