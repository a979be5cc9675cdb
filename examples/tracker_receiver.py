"""A small partner-tracker receiver for the exchange's webhooks.

It verifies every message with the ``standardwebhooks`` library (Standard Webhooks v1:
``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), ignores a message it has
already seen (same ``webhook-id``), and records each case event with its ``sequence``,
so a tracker can apply them in order. Events are kept in memory and appended to a JSON
Lines file, which is read back at start so a restart does not re-apply anything. A
``case.note_redacted`` message makes it remove the note's text from every message it
kept, in memory and in the file (the exchange cannot call back what it delivered).

    pip install standardwebhooks
    python examples/tracker_receiver.py --secret whsec_... --port 9000 --log events.jsonl

Answers: 204 for a new message, 200 for a duplicate, 401 for a bad signature, 400 for a
body that is not JSON. ``forced_status`` (``--fail-with``) makes it answer that status
instead, to watch the exchange retry and catch up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class TrackerStore:
    """What the tracker received: messages by id, and the last sequence per case."""

    def __init__(self, log_path: Path | None = None):
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.seen: set[str] = set()
        self.log_path = log_path
        if log_path and log_path.exists():
            for line in log_path.read_text().splitlines():
                message = json.loads(line)
                self.messages.append(message)
                self.seen.add(message["id"])

    def add(self, message: dict) -> bool:
        """Record ``message``; False when it was a duplicate."""
        with self.lock:
            if message["id"] in self.seen:
                return False
            self.seen.add(message["id"])
            self.messages.append(message)
            if message["type"] == "case.note_redacted":
                self._redact(message["data"]["event"]["data"]["note"])
            if self.log_path:
                with self.log_path.open("a") as log:
                    log.write(json.dumps(message) + "\n")
            return True

    def _redact(self, tombstone: dict) -> None:
        """Replace every kept copy of the note with its tombstone (lock held)."""
        for kept in self.messages:
            note = kept.get("data", {}).get("event", {}).get("data", {}).get("note")
            if isinstance(note, dict) and note.get("id") == tombstone["id"]:
                note.update(body=tombstone["body"], redacted_at=tombstone["redacted_at"])
        if self.log_path and self.log_path.exists():
            lines = [json.dumps(kept) + "\n" for kept in self.messages[:-1]]
            fresh = self.log_path.with_name(self.log_path.name + ".new")
            fresh.write_text("".join(lines))
            fresh.replace(self.log_path)

    def case_events(self, case_id: int) -> list[dict]:
        """The case's events as received: (sequence, type) of each."""
        with self.lock:
            return [
                m["data"]["event"]
                for m in self.messages
                if m["type"].startswith("case.") and m["data"]["case"]["id"] == case_id
            ]


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, secret: str, store: TrackerStore):
        super().__init__(address, _Handler)
        self.verifier = Webhook(secret)
        self.store = store
        self.forced_status: int | None = None
        self.requests = 0


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self):
        with self.server.store.lock:
            self.server.requests += 1
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.forced_status:
            return self._answer(self.server.forced_status)
        try:
            message = self.server.verifier.verify(body, dict(self.headers.items()))
        except WebhookVerificationError:
            return self._answer(401)
        except ValueError:
            return self._answer(400)
        self._answer(204 if self.server.store.add(message) else 200)

    def _answer(self, status: int):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # quiet: the store is the record
        pass


def serve(
    secret: str, host: str = "127.0.0.1", port: int = 0, log_path: Path | None = None
) -> Receiver:
    """Start a receiver in a background thread; ``server.server_port`` is its port."""
    server = Receiver((host, port), secret, TrackerStore(log_path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret", required=True, help="The endpoint's whsec_ secret.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--log", type=Path, default=Path("tracker-events.jsonl"))
    parser.add_argument(
        "--fail-with",
        type=int,
        default=None,
        help="Answer every message with this status (to test retries).",
    )
    args = parser.parse_args()
    server = Receiver((args.host, args.port), args.secret, TrackerStore(args.log))
    server.forced_status = args.fail_with
    print(f"tracker receiver on http://{args.host}:{server.server_port}/ logging to {args.log}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
