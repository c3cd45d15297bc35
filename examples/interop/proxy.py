"""Interop checks of proxy mode: a real Temporal dev server (`temporal server start-dev`)
behind the `frontend` binary configured with mutual TLS + JWT + the default authorizer and an
`upstream` section pointing at the dev server.

Through the frontend, with the unmodified Python SDK: a namespace writer runs a worker that
polls through the frontend, and a real workflow with an activity runs to completion; a reader
lists it but is refused a start; another namespace's token and no token are refused. The
`temporal` CLI works through it, and the dev server's own NotFound text comes back unchanged.
"""

import asyncio
import socket
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.api.workflowservice.v1 import request_response_pb2 as rr
from temporalio.client import Client, TLSConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

UNAUTHORIZED = "Request unauthorized."


@activity.defn
async def compose_greeting(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class GreetingWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            compose_greeting, name, start_to_close_timeout=timedelta(seconds=30))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevServer:
    """`temporal server start-dev --headless` on free loopback ports; stops on close."""

    def __init__(self, temporal: str, log: Path):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [temporal, "server", "start-dev", "--headless", "--ip", "127.0.0.1",
             "--port", str(self.port), "--http-port", str(free_port()),
             "--metrics-port", str(free_port()), "--namespace", "payments",
             "--log-level", "error"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"interop: the dev server exited (see {log})")
            try:
                asyncio.run(self._ready())
                return
            except Exception:  # noqa: BLE001 (not up yet)
                time.sleep(0.5)
        self.close()
        raise SystemExit(f"interop: the dev server did not start in 60 s (see {log})")

    async def _ready(self) -> None:
        client = await Client.connect(self.address, namespace="payments")
        await client.workflow_service.describe_namespace(
            rr.DescribeNamespaceRequest(namespace="payments"))

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


async def sdk_checks(r, dev: DevServer, address: str, pki: dict, tokens: dict) -> str:
    """Returns the id of the workflow the worker completed ("" if none)."""
    tls = TLSConfig(
        server_root_ca_cert=pki["ca"].read_bytes(),
        client_cert=pki["client_cert"].read_bytes(),
        client_private_key=pki["client_key"].read_bytes(),
        domain="localhost",
    )

    async def connect(token, namespace="default"):
        return await Client.connect(address, namespace=namespace, tls=tls, api_key=token)

    def denied(e: Exception) -> bool:
        return (isinstance(e, RPCError) and e.status == RPCStatusCode.PERMISSION_DENIED
                and e.message == UNAUTHORIZED)

    workflow_id = f"proxy-{uuid.uuid4()}"
    task_queue = f"proxy-{uuid.uuid4()}"
    writer = await connect(tokens["writer"])
    try:
        async with Worker(writer, task_queue=task_queue, workflows=[GreetingWorkflow],
                          activities=[compose_greeting],
                          workflow_runner=UnsandboxedWorkflowRunner()):
            result = await asyncio.wait_for(
                writer.execute_workflow(GreetingWorkflow.run, "proxy", id=workflow_id,
                                        task_queue=task_queue,
                                        execution_timeout=timedelta(seconds=60)),
                timeout=90)
        r.check("proxy sdk worker runs a workflow with an activity to completion",
                result == "Hello, proxy!", repr(result))
    except Exception as e:  # noqa: BLE001
        r.check("proxy sdk worker runs a workflow with an activity to completion", False,
                f"{type(e).__name__}: {e}")
        workflow_id = ""

    reader = await connect(tokens["reader"])
    if workflow_id:
        found = False
        deadline = time.monotonic() + 15
        while not found and time.monotonic() < deadline:
            async for execution in reader.list_workflows(f"WorkflowId = '{workflow_id}'"):
                found = found or execution.id == workflow_id
            if not found:
                await asyncio.sleep(0.5)
        r.check("proxy sdk reader lists the completed workflow", found, "not listed")
    try:
        await reader.start_workflow("GreetingWorkflow", "x", id=f"proxy-{uuid.uuid4()}",
                                    task_queue=task_queue)
        r.check("proxy sdk reader start refused", False, "started")
    except Exception as e:  # noqa: BLE001
        r.check("proxy sdk reader start refused", denied(e), f"{type(e).__name__}: {e}")

    for label, token in (("other-namespace token", tokens["other"]), ("no token", None)):
        try:
            client = await connect(token)
            await client.workflow_service.describe_namespace(
                rr.DescribeNamespaceRequest(namespace="default"))
            r.check(f"proxy sdk {label} refused", False, "allowed")
        except Exception as e:  # noqa: BLE001
            r.check(f"proxy sdk {label} refused", denied(e), f"{type(e).__name__}: {e}")

    # The dev server's own NotFound, directly and through the frontend: the same text.
    missing = f"missing-{uuid.uuid4()}"
    texts = []
    for client in (await Client.connect(dev.address, namespace="default"), writer):
        try:
            await client.get_workflow_handle(missing).describe()
            texts.append("found")
        except RPCError as e:
            texts.append(f"{e.status.name}: {e.message}")
    r.check("proxy NotFound text unchanged",
            texts[0] == texts[1] and texts[0].startswith("NOT_FOUND: "), repr(texts))
    return workflow_id


def cli_checks(r, temporal: str, address: str, pki: dict, tokens: dict, workflow_id: str):
    def run(token, *args):
        command = [temporal, *args, "--address", address, "--tls",
                   "--tls-ca-path", str(pki["ca"]), "--tls-server-name", "localhost",
                   "--tls-cert-path", str(pki["client_cert"]),
                   "--tls-key-path", str(pki["client_key"]),
                   "--client-connect-timeout", "10s"]
        if token:
            command += ["--api-key", token]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout + done.stderr

    if workflow_id:
        code, out = run(tokens["reader"], "workflow", "describe", "-n", "default",
                        "-w", workflow_id)
        r.check("proxy cli reader describes the workflow",
                code == 0 and "COMPLETED" in out and "Hello, proxy!" in out, out.strip()[-300:])
    code, out = run(tokens["writer"], "workflow", "start", "-n", "default", "--type", "Hello",
                    "--task-queue", "proxy-cli", "--workflow-id", f"cli-{uuid.uuid4()}")
    r.check("proxy cli writer starts a workflow", code == 0 and "RunId" in out,
            out.strip()[-300:])
    code, out = run(tokens["reader"], "workflow", "start", "-n", "default", "--type", "Hello",
                    "--task-queue", "proxy-cli", "--workflow-id", f"cli-{uuid.uuid4()}")
    r.check("proxy cli reader start refused", code != 0 and UNAUTHORIZED in out,
            out.strip()[-300:])


def run_proxy_checks(r, frontend_cls, write_config, frontend_bin: str, temporal: str,
                     work: Path, pki: dict, jwks_uri: str, tokens: dict) -> None:
    dev = DevServer(temporal, work / "dev-server.log")
    frontend = None
    try:
        config = work / "proxy.yaml"
        write_config(config, pki, jwks_uri, upstream=dev.address)
        frontend = frontend_cls(frontend_bin, config, work / "proxy.log")
        print(f"interop: proxy on {frontend.address} in front of the dev server on "
              f"{dev.address}")
        workflow_id = asyncio.run(sdk_checks(r, dev, frontend.address, pki, tokens))
        cli_checks(r, temporal, frontend.address, pki, tokens, workflow_id)
    finally:
        if frontend:
            frontend.close()
        dev.close()
