"""Real deliveries from a running hub, verified by the reference `standardwebhooks` package.

Run by scripts/webhook-check with the crossdock binary's path. It starts `crossdock serve` on
a fresh SQLite file, subscribes an endpoint of its own to `item.created`, adds items, and
checks every delivery that arrives with `standardwebhooks`: the signature, the body's shape,
and that the endpoint's one refusal (a 500 to the first delivery) comes back under the same
`webhook-id`, signed anew.
"""
import http.server
import shutil
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

binary = sys.argv[1]
ITEMS = 25


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


received = []
lock = threading.Lock()
secret = {}


class Endpoint(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(secret["value"]).verify(body, headers)
            verdict = "ok"
        except WebhookVerificationError as e:
            verdict = f"refused: {e}"
        with lock:
            first = not received
            received.append((headers.get("webhook-id"), verdict, body))
        self.send_response(500 if first else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read() or "null")


endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
threading.Thread(target=endpoint.serve_forever, daemon=True).start()
hook_url = f"http://127.0.0.1:{endpoint.server_address[1]}/hook"

work = tempfile.mkdtemp()
port = free_port()
config = subprocess.run([binary, "print-config"], capture_output=True, text=True, check=True).stdout
lines = []
for line in config.splitlines():
    if line.startswith("url = \"sqlite://"):
        line = f'url = "sqlite://{work}/hub.db"'
    elif line.startswith("listen = "):
        line = f'listen = "127.0.0.1:{port}"'
    lines.append(line)
lines += ["", "[subscriptions]", "schedule_secs = [0, 1, 1]"]
with open(f"{work}/hub.toml", "w") as f:
    f.write("\n".join(lines) + "\n")
log = open(f"{work}/serve.log", "w")
server = subprocess.Popen([binary, "serve", "--config", f"{work}/hub.toml"], stdout=log, stderr=log)
base = f"http://127.0.0.1:{port}"
failures = []
try:
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/readyz", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    sub = call(base, "POST", "/v1/subscriptions", {"url": hook_url, "event_types": ["item.created"]})
    secret["value"] = sub["secret"]
    call(base, "POST", "/v1/items", {"items": [{"sku": f"CHECK-{i}"} for i in range(ITEMS)]})
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            if len(received) >= ITEMS + 1:
                break
        time.sleep(0.05)
    with lock:
        got = list(received)
    if len(got) != ITEMS + 1:
        failures.append(f"{len(got)} deliveries came, {ITEMS + 1} were due")
    for webhook_id, verdict, body in got:
        if verdict != "ok":
            failures.append(f"{webhook_id}: {verdict}")
        doc = json.loads(body)
        if sorted(doc) != ["data", "timestamp", "type"] or doc["type"] != "item.created":
            failures.append(f"{webhook_id}: body {body}")
    ids = [g[0] for g in got]
    if got and ids.count(got[0][0]) != 2:
        failures.append(f"the refused delivery {got[0][0]} came {ids.count(got[0][0])} times, not twice")
    skus = {json.loads(b)["data"]["sku"] for _, _, b in got}
    if skus != {f"CHECK-{i}" for i in range(ITEMS)}:
        failures.append(f"the items delivered were {sorted(skus)}")
    # Each attempt is recorded once its answer is in: the last may land a moment later.
    for _ in range(100):
        attempts = call(base, "GET", f"/v1/subscriptions/{sub['id']}/attempts?limit=1000")["attempts"]
        if len(attempts) >= len(got):
            break
        time.sleep(0.05)
    outcomes = sorted(a["outcome"] for a in attempts)
    if outcomes != ["delivered"] * ITEMS + ["retrying"]:
        failures.append(f"the attempts recorded were {outcomes}")
finally:
    server.terminate()
    server.wait(timeout=30)
    endpoint.shutdown()

for f in failures:
    print(f"subscription-check: {f}", file=sys.stderr)
if failures:
    with open(f"{work}/serve.log") as f:
        print(f.read()[-2000:], file=sys.stderr)
shutil.rmtree(work, ignore_errors=True)
print(f"subscription-check: {len(received)} deliveries from a running hub verified by standardwebhooks "
      f"(one refused and sent again under its id); {len(failures)} failures")
sys.exit(1 if failures else 0)
