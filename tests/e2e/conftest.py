"""Session fixtures of the e2e suite: the servers are built or reused once
(tests/e2e/prepare), the model is made once, and each server starts once and
is shared by the tests that only read from it."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e import servers


@pytest.fixture(scope="session")
def tools() -> dict[str, str]:
    return servers.prepare()


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def model(tools: dict[str, str], e2e_dir: Path) -> Path:
    """The tiny Llama (hidden 512, 8 layers): slow enough per token (8 to 25
    ms here on one thread) that timings are well above the clock's and the
    loop's noise."""
    return servers.make_model(tools["MODEL_PYTHON"], e2e_dir / "model")


@pytest.fixture(scope="session")
def llama_server(tools: dict[str, str], model: Path, e2e_dir: Path) -> Iterator[servers.Server]:
    server = servers.start_llama_server(tools["LLAMA_SERVER"], model, e2e_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llama_cpp_python(tools: dict[str, str], model: Path, e2e_dir: Path) -> Iterator[servers.Server]:
    server = servers.start_llama_cpp_python(tools["LLAMA_CPP_PYTHON"], model, e2e_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def litellm(tools: dict[str, str], llama_server: servers.Server,
            e2e_dir: Path) -> Iterator[servers.Server]:
    server = servers.start_litellm(tools["LITELLM"], llama_server, e2e_dir)
    yield server
    server.stop()
