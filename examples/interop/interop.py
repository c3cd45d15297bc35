"""Interop checks: real Temporal clients against the `frontend` binary.

Sets up certificates (pki.py) and a token issuer with a JWKS endpoint (issuer.py), writes a
Temporal-shaped config for mutual TLS + JWT + the default authorizer, starts the frontend with
it, then runs every check with the `temporal` CLI, the Python SDK and grpcio, for a system
admin, a namespace writer, a namespace reader, a token for another namespace, no token, an
expired token, a token for another audience and a client without a certificate. Then the
same frontend in proxy mode in front of a real Temporal dev server (proxy.py).
"""

import argparse
import asyncio
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import grpc
from temporalio.api.common.v1 import grpc_status_pb2
from temporalio.api.errordetails.v1 import message_pb2 as errordetails
from temporalio.api.workflowservice.v1 import request_response_pb2 as rr
from temporalio.api.workflowservice.v1 import service_pb2_grpc
from temporalio.client import Client, TLSConfig
from temporalio.service import RPCError, RPCStatusCode

from issuer import Issuer
from pki import make_pki
from proxy import run_proxy_checks

UNAUTHORIZED = "Request unauthorized."
DENIED_DETAIL = "type.googleapis.com/temporal.api.errordetails.v1.PermissionDeniedFailure"
AUDIENCE = "interop-frontend"
ISSUER = "https://interop.issuer.example/"


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        if ok:
            self.passed += 1
            print(f"ok    {name}")
        else:
            self.failed += 1
            print(f"FAIL  {name}: {detail}")


class Frontend:
    """The frontend binary started with a config; stops on close."""

    def __init__(self, binary: str, config: Path, log: Path):
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [binary, "--config", str(config), "--namespace", "payments"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.close()
            raise SystemExit(f"interop: frontend did not start (see {log}): {line!r}")
        self.address = line.removeprefix("listening on ")
        # Keep draining stdout so the frontend never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def write_config(path: Path, pki: dict, jwks_uri: str, upstream: str = "") -> None:
    # Proxy mode: forward allowed calls to a real Temporal frontend at `upstream`.
    section = f"upstream:\n  address: {upstream}\n" if upstream else ""
    path.write_text(
        f"""global:
  tls:
    frontend:
      server:
        certFile: {pki['server_cert']}
        keyFile: {pki['server_key']}
        clientCaFiles: [{pki['ca']}]
        requireClientAuth: true
  authorization:
    jwtKeyProvider:
      keySourceURIs: [{jwks_uri}]
      refreshInterval: 1m
    permissionsClaimName: permissions
    authorizer: default
    claimMapper: default
    audience: {AUDIENCE}
    issuer: {ISSUER}
services:
  frontend:
    rpc:
      grpcPort: 0
      bindOnIP: 127.0.0.1
"""
        + section
    )


# ---------------------------------------------------------------------------------------------
# The temporal CLI (Go SDK, grpc-go)


def cli_checks(r: Results, temporal: str, address: str, pki: dict, tokens: dict) -> None:
    def run(token, *args, cert=True):
        command = [temporal, *args, "--address", address, "--tls",
                   "--tls-ca-path", str(pki["ca"]), "--tls-server-name", "localhost",
                   "--client-connect-timeout", "10s"]
        if cert:
            command += ["--tls-cert-path", str(pki["client_cert"]),
                        "--tls-key-path", str(pki["client_key"])]
        if token:
            command += ["--api-key", token]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout + done.stderr

    def allowed(name, token, *args, expect=None, cert=True):
        code, out = run(token, *args, cert=cert)
        r.check(f"cli {name}", code == 0 and (expect is None or expect in out), out.strip()[-300:])

    def denied(name, token, *args):
        code, out = run(token, *args)
        r.check(f"cli {name} denied", code != 0 and UNAUTHORIZED in out, out.strip()[-300:])

    describe = ("operator", "namespace", "describe", "-n", "default")

    def start(namespace="default"):
        return ("workflow", "start", "-n", namespace, "--type", "Hello", "--task-queue", "hello",
                "--workflow-id", f"cli-{uuid.uuid4()}")

    wf_list = ("workflow", "list", "-n", "default")
    allowed("admin describe", tokens["admin"], *describe, expect="NamespaceInfo.Name")
    allowed("admin namespace list", tokens["admin"], "operator", "namespace", "list",
            expect="payments")
    allowed("admin workflow start", tokens["admin"], *start(), expect="RunId")
    allowed("admin workflow list", tokens["admin"], *wf_list, expect="Hello")
    allowed("writer describe", tokens["writer"], *describe, expect="default")
    allowed("writer workflow start", tokens["writer"], *start(), expect="RunId")
    allowed("writer workflow list", tokens["writer"], *wf_list, expect="Running")
    denied("writer namespace list (cluster scope)", tokens["writer"],
           "operator", "namespace", "list")
    allowed("reader describe", tokens["reader"], *describe, expect="default")
    allowed("reader workflow list", tokens["reader"], *wf_list, expect="Hello")
    denied("reader workflow start", tokens["reader"], *start())
    denied("other-namespace describe", tokens["other"], *describe)
    denied("other-namespace workflow start", tokens["other"], *start())
    allowed("other-namespace workflow start in its namespace", tokens["other"],
            *start("payments"), expect="RunId")
    denied("no token describe", None, *describe)
    denied("expired token describe", tokens["expired"], *describe)
    denied("wrong audience describe", tokens["wrong_audience"], *describe)
    code, out = run(tokens["admin"], *describe, cert=False)
    r.check("cli without a client certificate is refused",
            code != 0 and UNAUTHORIZED not in out and "NamespaceInfo" not in out,
            out.strip()[-300:])


# ---------------------------------------------------------------------------------------------
# The Python SDK (Rust core, tonic)


async def sdk_checks(r: Results, address: str, pki: dict, tokens: dict) -> None:
    def tls(cert=True):
        return TLSConfig(
            server_root_ca_cert=pki["ca"].read_bytes(),
            client_cert=pki["client_cert"].read_bytes() if cert else None,
            client_private_key=pki["client_key"].read_bytes() if cert else None,
            domain="localhost",
        )

    async def connect(token, namespace="default", cert=True):
        return await Client.connect(address, namespace=namespace, tls=tls(cert), api_key=token)

    async def attempt(name, call, allow):
        try:
            await call()
        except RPCError as e:
            exact = e.status == RPCStatusCode.PERMISSION_DENIED and e.message == UNAUTHORIZED
            r.check(f"sdk {name}", not allow and exact,
                    f"RPCError status={e.status!r} message={e.message!r}")
            return
        except Exception as e:  # noqa: BLE001 (any other failure fails the check)
            r.check(f"sdk {name}", False, f"{type(e).__name__}: {e}")
            return
        r.check(f"sdk {name}", allow, "allowed, expected PERMISSION_DENIED")

    def describe(client, namespace="default"):
        return lambda: client.workflow_service.describe_namespace(
            rr.DescribeNamespaceRequest(namespace=namespace))

    def start(client):
        return lambda: client.start_workflow("Hello", id=f"sdk-{uuid.uuid4()}",
                                             task_queue="hello")

    cases = [
        ("admin", True, True),
        ("writer", True, True),
        ("reader", True, False),
        ("other", False, False),
        (None, False, False),
    ]
    for name, can_describe, can_start in cases:
        label = name or "no token"
        try:
            client = await connect(tokens[name] if name else None)
        except Exception as e:  # noqa: BLE001
            r.check(f"sdk {label} connect", False, f"{type(e).__name__}: {e}")
            continue
        r.check(f"sdk {label} connect", True)
        await attempt(f"{label} describe_namespace", describe(client), can_describe)
        await attempt(f"{label} start_workflow", start(client), can_start)

    # A present but invalid token is refused on every call, GetSystemInfo included (as in
    # Temporal: the claim mapper fails before the always-allowed list is consulted), so the
    # SDK's connect itself fails with the denial.
    for name in ("expired", "wrong_audience"):
        try:
            await connect(tokens[name])
            r.check(f"sdk {name} token refused at connect", False, "connected")
        except Exception as e:  # noqa: BLE001
            text = str(e)
            r.check(f"sdk {name} token refused at connect",
                    "PermissionDenied" in text and UNAUTHORIZED in text, text[:300])

    other = await connect(tokens["other"], namespace="payments")
    await attempt("other-namespace start_workflow in its namespace", start(other), True)

    try:
        client = await connect(tokens["admin"], cert=False)
        await client.workflow_service.describe_namespace(
            rr.DescribeNamespaceRequest(namespace="default"))
        r.check("sdk without a client certificate is refused", False, "call succeeded")
    except RPCError as e:
        r.check("sdk without a client certificate is refused",
                e.message != UNAUTHORIZED, f"got {e.status!r} {e.message!r}")
    except Exception:  # noqa: BLE001 (connect failed: the handshake was refused)
        r.check("sdk without a client certificate is refused", True)


# ---------------------------------------------------------------------------------------------
# grpcio (C core): exact codes and the PermissionDeniedFailure detail


def grpc_checks(r: Results, address: str, pki: dict, tokens: dict) -> None:
    def channel(cert=True):
        credentials = grpc.ssl_channel_credentials(
            root_certificates=pki["ca"].read_bytes(),
            private_key=pki["client_key"].read_bytes() if cert else None,
            certificate_chain=pki["client_cert"].read_bytes() if cert else None,
        )
        return grpc.secure_channel(
            address, credentials, options=[("grpc.ssl_target_name_override", "localhost")])

    stub = service_pb2_grpc.WorkflowServiceStub(channel())

    def call(method, request, token, compression=None):
        metadata = [("authorization", f"Bearer {token}")] if token else []
        return method(request, metadata=metadata, timeout=15, compression=compression)

    def describe_request():
        return rr.DescribeNamespaceRequest(namespace="default")

    def start_request(namespace="default"):
        workflow_id = f"grpc-{uuid.uuid4()}"
        return rr.StartWorkflowExecutionRequest(
            namespace=namespace, workflow_id=workflow_id, request_id=workflow_id,
            workflow_type={"name": "Hello"}, task_queue={"name": "hello"})

    def allowed(name, method, request, token, compression=None):
        try:
            call(method, request, token, compression)
            r.check(f"grpc {name}", True)
        except grpc.RpcError as e:
            r.check(f"grpc {name}", False, f"{e.code()} {e.details()!r}")

    def denied(name, method, request, token):
        try:
            call(method, request, token)
        except grpc.RpcError as e:
            detail = denial_detail(e)
            r.check(
                f"grpc {name} denied",
                e.code() == grpc.StatusCode.PERMISSION_DENIED
                and e.details() == UNAUTHORIZED
                and detail == "ok",
                f"{e.code()} {e.details()!r} detail: {detail}",
            )
            return
        r.check(f"grpc {name} denied", False, "allowed")

    allowed("admin DescribeNamespace", stub.DescribeNamespace, describe_request(), tokens["admin"])
    allowed("admin DescribeNamespace gzip", stub.DescribeNamespace, describe_request(),
            tokens["admin"], grpc.Compression.Gzip)
    allowed("admin StartWorkflowExecution", stub.StartWorkflowExecution, start_request(),
            tokens["admin"])
    allowed("writer StartWorkflowExecution gzip", stub.StartWorkflowExecution, start_request(),
            tokens["writer"], grpc.Compression.Gzip)
    allowed("reader DescribeNamespace", stub.DescribeNamespace, describe_request(),
            tokens["reader"])
    denied("reader StartWorkflowExecution", stub.StartWorkflowExecution, start_request(),
           tokens["reader"])
    denied("other-namespace DescribeNamespace", stub.DescribeNamespace, describe_request(),
           tokens["other"])
    allowed("other-namespace StartWorkflowExecution in its namespace",
            stub.StartWorkflowExecution, start_request("payments"), tokens["other"])
    denied("no token DescribeNamespace", stub.DescribeNamespace, describe_request(), None)
    denied("expired token DescribeNamespace", stub.DescribeNamespace, describe_request(),
           tokens["expired"])
    denied("wrong audience DescribeNamespace", stub.DescribeNamespace, describe_request(),
           tokens["wrong_audience"])
    allowed("no token GetSystemInfo (always allowed)", stub.GetSystemInfo,
            rr.GetSystemInfoRequest(), None)

    no_cert = service_pb2_grpc.WorkflowServiceStub(channel(cert=False))
    try:
        call(no_cert.DescribeNamespace, describe_request(), tokens["admin"])
        r.check("grpc without a client certificate is refused", False, "allowed")
    except grpc.RpcError as e:
        r.check("grpc without a client certificate is refused",
                e.code() == grpc.StatusCode.UNAVAILABLE, f"{e.code()} {e.details()!r}")


# ---------------------------------------------------------------------------------------------
# API keys: `frontend api-key create` writes the key file, the temporal CLI sends a key with
# --api-key and the Python SDK with api_key=; a second frontend reads the file.


def api_key_checks(r: Results, binary: str, temporal: str, work: Path, pki: dict,
                   jwks_uri: str) -> None:
    keys_file = work / "api-keys.yaml"
    keys_file.unlink(missing_ok=True)

    def create(*flags):
        done = subprocess.run([binary, "api-key", "create", "--file", str(keys_file), *flags],
                              capture_output=True, text=True, timeout=60)
        r.check(f"api-key create {' '.join(flags)}", done.returncode == 0, done.stderr[-300:])
        return done.stdout.strip()

    keys = {
        "writer": create("--permission", "default:write", "--ttl", "90d"),
        "reader": create("--permission", "default:read", "--subject", "interop-reader"),
        "expired": create("--permission", "default:write", "--ttl", "0s"),
        "unknown": "tak_not_a_key",
    }
    config = work / "frontend-api-keys.yaml"
    write_config(config, pki, jwks_uri)
    text = config.read_text().replace(
        "    claimMapper: default\n",
        f"    claimMapper: default\n    apiKeys:\n      file: {keys_file}\n")
    config.write_text(text)
    frontend = Frontend(binary, config, work / "frontend-api-keys.log")
    try:
        def cli(key, *args):
            command = [temporal, *args, "--address", frontend.address, "--tls",
                       "--tls-ca-path", str(pki["ca"]), "--tls-server-name", "localhost",
                       "--tls-cert-path", str(pki["client_cert"]),
                       "--tls-key-path", str(pki["client_key"]),
                       "--client-connect-timeout", "10s", "--api-key", key]
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
            return done.returncode, done.stdout + done.stderr

        def start():
            return ("workflow", "start", "-n", "default", "--type", "Hello",
                    "--task-queue", "hello", "--workflow-id", f"key-{uuid.uuid4()}")

        code, out = cli(keys["writer"], *start())
        r.check("cli --api-key writer workflow start", code == 0 and "RunId" in out, out[-300:])
        for name in ("reader", "expired", "unknown"):
            code, out = cli(keys[name], *start())
            r.check(f"cli --api-key {name} workflow start denied",
                    code != 0 and UNAUTHORIZED in out, out[-300:])

        async def sdk():
            tls = TLSConfig(server_root_ca_cert=pki["ca"].read_bytes(),
                            client_cert=pki["client_cert"].read_bytes(),
                            client_private_key=pki["client_key"].read_bytes(),
                            domain="localhost")
            for name, allow in [("writer", True), ("reader", False), ("expired", False),
                                ("unknown", False)]:
                try:
                    client = await Client.connect(frontend.address, namespace="default",
                                                  tls=tls, api_key=keys[name])
                    await client.start_workflow("Hello", id=f"sdk-key-{uuid.uuid4()}",
                                                task_queue="hello")
                    r.check(f"sdk api_key {name} start_workflow", allow,
                            "allowed, expected PERMISSION_DENIED")
                except RPCError as e:
                    exact = e.status == RPCStatusCode.PERMISSION_DENIED and e.message == UNAUTHORIZED
                    r.check(f"sdk api_key {name} start_workflow", not allow and exact,
                            f"status={e.status!r} message={e.message!r}")
                except Exception as e:  # noqa: BLE001 (any other failure fails the check)
                    # An expired or unknown key is refused on every call, GetSystemInfo
                    # included, so the SDK's connect itself fails with the denial.
                    text = str(e)
                    refused = "PermissionDenied" in text and UNAUTHORIZED in text
                    r.check(f"sdk api_key {name} start_workflow", not allow and refused,
                            f"{type(e).__name__}: {text[:300]}")

        asyncio.run(sdk())
    finally:
        frontend.close()


def denial_detail(error: grpc.RpcError) -> str:
    """Checks the `grpc-status-details-bin` trailer: "ok" or what is wrong with it."""
    raw = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
    if raw is None:
        return "no grpc-status-details-bin trailer"
    status = grpc_status_pb2.GrpcStatus.FromString(raw)
    if status.code != grpc.StatusCode.PERMISSION_DENIED.value[0] or status.message != UNAUTHORIZED:
        return f"status {status.code} {status.message!r}"
    if len(status.details) != 1 or status.details[0].type_url != DENIED_DETAIL:
        return f"details {[d.type_url for d in status.details]}"
    failure = errordetails.PermissionDeniedFailure()
    if not status.details[0].Unpack(failure):
        return "detail does not unpack"
    # The reason stays in the server's logs, never in the client-facing detail.
    return "ok" if failure.reason == "" else f"reason {failure.reason!r}"


async def cedar_checks(r: Results, args, pki: dict, issuer: Issuer) -> None:
    """`authorizer: cedar` with the sample policies: a worker allowed one task queue polls it
    and is refused another; a starter allowed one workflow type is refused another."""
    from datetime import timedelta
    from temporalio.api.taskqueue.v1 import TaskQueue

    policies = args.work / "policies.cedar"
    samples = Path(__file__).resolve().parent.parent / "policies"
    policies.write_text("\n".join((samples / f).read_text() for f in
                                  ("temporal-default.cedar", "task-queues.cedar", "workflow-types.cedar")))
    config = args.work / "frontend-cedar.yaml"
    write_config(config, pki, issuer.jwks_uri)
    text = config.read_text().replace("authorizer: default", "authorizer: cedar\n"
                                      f"    cedar:\n      policyFile: {policies}")
    config.write_text(text)
    frontend = Frontend(args.frontend, config, args.work / "frontend-cedar.log")
    try:
        tls = TLSConfig(server_root_ca_cert=pki["ca"].read_bytes(),
                        client_cert=pki["client_cert"].read_bytes(),
                        client_private_key=pki["client_key"].read_bytes(), domain="localhost")

        async def outcome(call):
            try:
                await call()
                return "allowed"
            except RPCError as e:
                if e.status == RPCStatusCode.PERMISSION_DENIED and e.message == UNAUTHORIZED:
                    return "denied"
                return f"RPCError {e.status!r} {e.message!r}"

        worker = await Client.connect(frontend.address, namespace="default", tls=tls,
                                      api_key=issuer.token("orders-worker", ["default:write"]))
        for queue, expected in (("orders-eu", "allowed"), ("payroll", "denied")):
            got = await outcome(lambda: worker.workflow_service.poll_workflow_task_queue(
                rr.PollWorkflowTaskQueueRequest(namespace="default",
                                                task_queue=TaskQueue(name=queue),
                                                identity="interop-worker"),
                timeout=timedelta(seconds=1)))
            r.check(f"cedar worker polls task queue {queue}: {expected}", got == expected, got)

        starter = await Client.connect(frontend.address, namespace="default", tls=tls,
                                       api_key=issuer.token("orders-team", ["default:write"]))
        for workflow_type, expected in (("OrderWorkflow", "allowed"), ("PayrollWorkflow", "denied")):
            got = await outcome(lambda: starter.start_workflow(
                workflow_type, id=f"cedar-{uuid.uuid4()}", task_queue="orders"))
            r.check(f"cedar team starts {workflow_type}: {expected}", got == expected, got)
    finally:
        frontend.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frontend", required=True)
    parser.add_argument("--temporal", required=True)
    parser.add_argument("--work", required=True, type=Path)
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    pki = make_pki(args.work / "pki")
    issuer = Issuer(ISSUER, AUDIENCE)
    tokens = {
        "admin": issuer.token("interop-admin", ["temporal-system:admin"], alg="RS256"),
        "writer": issuer.token("interop-writer", ["default:write"], alg="ES256"),
        "reader": issuer.token("interop-reader", ["default:read"], alg="RS256"),
        "other": issuer.token("interop-other", ["payments:write"], alg="ES256"),
        "expired": issuer.token("interop-expired", ["default:write"], alg="ES256", ttl=-600),
        "wrong_audience": issuer.token("interop-aud", ["default:write"], audience="elsewhere"),
    }
    config = args.work / "frontend.yaml"
    write_config(config, pki, issuer.jwks_uri)
    frontend = Frontend(args.frontend, config, args.work / "frontend.log")
    print(f"interop: frontend on {frontend.address}, JWKS at {issuer.jwks_uri}")

    r = Results()
    try:
        cli_checks(r, args.temporal, frontend.address, pki, tokens)
        asyncio.run(sdk_checks(r, frontend.address, pki, tokens))
        grpc_checks(r, frontend.address, pki, tokens)
        frontend.close()
        run_proxy_checks(r, Frontend, write_config, args.frontend, args.temporal, args.work,
                         pki, issuer.jwks_uri, tokens)
        api_key_checks(r, args.frontend, args.temporal, args.work, pki, issuer.jwks_uri)
    finally:
        frontend.close()
    try:
        asyncio.run(cedar_checks(r, args, pki, issuer))
    finally:
        issuer.close()
    print(f"{r.passed} passed, {r.failed} failed")
    return 1 if r.failed or r.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
