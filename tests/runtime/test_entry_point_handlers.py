"""Service-task handlers installed as a package (entry point group `flowdesk.handlers`): a tiny
distribution (a module and a dist-info folder with entry_points.txt) on the path is loaded by
the runtime the API builds and by `flowdesk serve`, `flowdesk worker` logs what it loaded, and a
broken entry point stops the command with an error naming it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.test_service_api import make_api
from tests.cli.test_serve_worker import store_with_admin
from tests.web.servers import running

from flowdesk.core.clock import FixedClock
from flowdesk.core.errors import ConfigurationError
from flowdesk.engine.testing import wrap
from flowdesk.runtime.handlers import load_handlers, reload_handlers
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port

MODULE = '''
"""A customer's integration package: greets whoever the task is about."""


def greet(call):
    return {"greeting": "hello " + str(call.variables["name"]), "greeted_by": call.topic}
'''

GREET = wrap(
    """
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="hello" name="Say hello">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="acme-greet"/>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="hello"/>
    <bpmn:sequenceFlow id="f1" sourceRef="hello" targetRef="e"/>
    """,
    process_id="greet",
)


def make_distribution(root: Path, entry_points: str) -> Path:
    """`acme-flows` 1.0 as an installer would leave it: the module and its dist-info."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "acme_flows.py").write_text(MODULE)
    info = root / "acme_flows-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-flows\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[flowdesk.handlers]\n{entry_points}\n")
    return root


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    root = make_distribution(tmp_path / "site", "acme-greet = acme_flows:greet")
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("acme_flows", None)
        importlib.invalidate_caches()
        reload_handlers()


def _env(site: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    env["FLOWDESK_DATABASE_URL"] = database_url
    return env


FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))


def test_the_api_runtime_calls_an_installed_handler(
    installed: Path, sqlite_url: str, clock: FixedClock
) -> None:
    assert sorted(reload_handlers()) == ["acme-greet"]
    store = Store.open(sqlite_url)
    store.upgrade()
    try:
        for api in make_api(store, clock, sqlite_url):
            assert api.deploy(("greet.bpmn", GREET)).status_code == 201
            started = api.start("greet", {"name": "Ada"})
            assert started["status"] == "completed"
            assert started["variables"]["greeting"] == "hello Ada"
            assert started["variables"]["greeted_by"] == "acme-greet"
    finally:
        store.close()


def test_without_the_package_the_task_waits_for_an_external_worker(
    sqlite_url: str, clock: FixedClock
) -> None:
    assert reload_handlers() == {}
    store = Store.open(sqlite_url)
    store.upgrade()
    try:
        for api in make_api(store, clock, sqlite_url):
            assert api.deploy(("greet.bpmn", GREET)).status_code == 201
            assert api.start("greet", {"name": "Ada"})["status"] == "active"
    finally:
        store.close()


def test_flowdesk_serve_loads_and_calls_the_installed_handler(tmp_path: Path) -> None:
    site = make_distribution(tmp_path / "site", "acme-greet = acme_flows:greet")
    url, key = store_with_admin(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [FLOWDESK, "serve", "--no-demo", "--port", str(port)]
    env = {**_env(site, url), "FLOWDESK_EMBEDDED_WORKER": "false"}
    with running(command, base, env=env, cwd=tmp_path):
        headers = {"Authorization": f"Bearer {key}"}
        deployed = httpx.post(
            f"{base}/api/v1/deployments",
            files=[("files", ("greet.bpmn", GREET.encode(), "application/xml"))],
            headers=headers,
        )
        assert deployed.status_code == 201, deployed.text
        started = httpx.post(
            f"{base}/api/v1/process-instances",
            json={"processKey": "greet", "variables": {"name": "Grace"}},
            headers=headers,
        )
        assert started.status_code == 201, started.text
        assert started.json()["status"] == "completed"
        assert started.json()["variables"]["greeting"] == "hello Grace"


def test_flowdesk_worker_logs_the_handlers_it_loaded(tmp_path: Path) -> None:
    site = make_distribution(tmp_path / "site", "acme-greet = acme_flows:greet")
    url, _ = store_with_admin(tmp_path)
    done = subprocess.run(
        [FLOWDESK, "worker", "--until-idle"],
        env=_env(site, url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "service-task handlers loaded" in output and "acme-greet" in output


def test_a_broken_entry_point_is_a_startup_error_naming_it(tmp_path: Path) -> None:
    site = make_distribution(tmp_path / "site", "acme-broken = acme_flows:no_such_function")
    url, _ = store_with_admin(tmp_path)
    done = subprocess.run(
        [FLOWDESK, "worker", "--until-idle"],
        env=_env(site, url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "acme-broken = acme_flows:no_such_function" in done.stderr
    assert "flowdesk.handlers" in done.stderr and "acme-flows" in done.stderr
    assert "Traceback" not in done.stderr


def test_load_handlers_names_a_missing_module_and_a_non_callable(tmp_path: Path) -> None:
    root = make_distribution(
        tmp_path / "site", "acme-missing = acme_gone:handler\nacme-name = acme_flows:__doc__"
    )
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        with pytest.raises(ConfigurationError) as info:
            load_handlers()
        assert "acme-missing = acme_gone:handler" in str(info.value)
        assert "ModuleNotFoundError" in str(info.value)
        (info_dir,) = root.glob("*.dist-info")
        (info_dir / "entry_points.txt").write_text(
            "[flowdesk.handlers]\nacme-name = acme_flows:__doc__\n"
        )
        importlib.invalidate_caches()
        with pytest.raises(ConfigurationError, match="acme-name .* is not callable"):
            load_handlers()
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("acme_flows", None)
        importlib.invalidate_caches()
