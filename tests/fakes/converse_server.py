"""A scripted fake of Amazon Bedrock's Converse API, served over TLS on 127.0.0.1.

boto3 reaches it through ``endpoint_url`` over real HTTPS (botocore sends a Bedrock API key
only over https), trusting the fake's self-signed certificate through ``AWS_CA_BUNDLE``. A
test scripts replies with ``push`` (consumed in order) or sets ``handler`` to compute a reply
from the request body; with neither, it echoes the last user text. Replies can carry tool uses, usage, a latency or an error (status and Bedrock error
code). Every request is recorded with its model id and headers.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.openai_server import _bound_socket

#: The Bedrock error code a status stands for when a reply names none.
DEFAULT_CODES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


@dataclass
class ConverseReply:
    text: str = ""
    tool_uses: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "input"}]
    status: int = 200
    error_code: str | None = None
    #: The error's message; ``{authorization}`` becomes the request's Authorization header.
    error_message: str = "injected error"
    latency: float = 0.0
    input_tokens: int = 11
    output_tokens: int = 7


@dataclass
class ConverseCall:
    model_id: str
    body: dict[str, Any]
    headers: dict[str, str]


class FakeConverse:
    def __init__(self) -> None:
        self.script: deque[ConverseReply] = deque()
        self.handler: Callable[[dict[str, Any]], ConverseReply] | None = None
        self.calls: list[ConverseCall] = []
        self._lock = threading.Lock()
        self.url = ""  # https://127.0.0.1:PORT once served
        self.ca_file = ""  # the PEM certificate to trust

    def push(self, *replies: ConverseReply | str) -> None:
        for reply in replies:
            self.script.append(ConverseReply(text=reply) if isinstance(reply, str) else reply)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/model/{model_id:path}/converse")
        async def converse(model_id: str, request: Request) -> JSONResponse:
            body = await request.json()
            headers = dict(request.headers)
            with self._lock:
                self.calls.append(ConverseCall(model_id, body, headers))
                reply = self.script.popleft() if self.script else None
            if reply is None and self.handler is not None:
                reply = self.handler(body)
            if reply is None:
                reply = ConverseReply(text=f"echo: {last_user_text(body)}")
            if reply.latency:
                await asyncio.sleep(reply.latency)
            if reply.status != 200:
                code = reply.error_code or DEFAULT_CODES.get(reply.status, "UnknownException")
                message = reply.error_message.replace(
                    "{authorization}", headers.get("authorization", "")
                )
                return JSONResponse(
                    {"message": message},
                    status_code=reply.status,
                    headers={"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/"},
                )
            return JSONResponse(converse_body(reply))

        return app


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            return " ".join(b["text"] for b in message.get("content", []) if "text" in b)
    return ""


def converse_body(reply: ConverseReply) -> dict[str, Any]:
    """The documented Converse answer shape."""
    content: list[dict[str, Any]] = [{"text": reply.text}] if reply.text else []
    for i, use in enumerate(reply.tool_uses):
        content.append(
            {"toolUse": {"toolUseId": f"tooluse_{i}", "name": use["name"], "input": use["input"]}}
        )
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use" if reply.tool_uses else "end_turn",
        "usage": {
            "inputTokens": reply.input_tokens,
            "outputTokens": reply.output_tokens,
            "totalTokens": reply.input_tokens + reply.output_tokens,
        },
        "metrics": {"latencyMs": int(reply.latency * 1000)},
    }


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "fake-cert.pem", directory / "fake-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def isolate_aws(monkeypatch: pytest.MonkeyPatch, directory: Path, ca_file: str) -> None:
    """No AWS setting of the developer's reaches botocore; it trusts the fake's certificate.

    Only the environment is patched (botocore's standard chain reads it), never our code.
    """
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(directory / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(directory / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CA_BUNDLE", ca_file)


@contextmanager
def serve_fake_converse(directory: Path) -> Iterator[FakeConverse]:
    """Serve a FakeConverse over TLS in a thread; its certificate is written to ``directory``.

    Close the clients first: an idle TLS connection left open holds the shutdown until the
    thread join gives up (10 s).
    """
    fake = FakeConverse()
    cert_file, key_file = self_signed_certificate(directory)
    sock = _bound_socket()
    config = uvicorn.Config(
        fake.app(),
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(cert_file),
        ssl_keyfile=str(key_file),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake Converse server did not start")
        time.sleep(0.01)
    fake.url = f"https://127.0.0.1:{sock.getsockname()[1]}"
    fake.ca_file = str(cert_file)
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
