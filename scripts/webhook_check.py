"""Our Standard Webhooks signatures against the reference package, both ways.

Run by scripts/webhook-check with the example binary's path: 200 random deliveries signed by
us must verify with `standardwebhooks`, 200 signed by it must verify with us, and a changed
body must be refused by both.
"""
import base64
import datetime
import json
import random
import string
import subprocess
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

binary = sys.argv[1]
rng = random.Random(7)


def case():
    secret = "whsec_" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(rng.randint(16, 64)))).decode()
    msg_id = "msg_" + "".join(rng.choices(string.ascii_letters + string.digits, k=24))
    body = json.dumps({"n": rng.randint(0, 2**53), "s": "".join(rng.choices(string.printable, k=rng.randint(0, 80))), "u": "é✓"})
    return {"secret": secret, "id": msg_id, "timestamp": int(datetime.datetime.now().timestamp()), "body": body}


def run(mode, cases):
    text = "".join(json.dumps(c) + "\n" for c in cases)
    done = subprocess.run([binary, mode], input=text, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


failures = 0
ours = [case() for _ in range(200)]
for c, signature in zip(ours, run("sign", ours)):
    headers = {"webhook-id": c["id"], "webhook-timestamp": str(c["timestamp"]), "webhook-signature": signature}
    try:
        Webhook(c["secret"]).verify(c["body"], headers)
    except WebhookVerificationError as e:
        failures += 1
        print(f"reference refused ours: {e}: {c}", file=sys.stderr)
    try:
        Webhook(c["secret"]).verify(c["body"] + " ", headers)
        failures += 1
        print(f"reference took a changed body: {c}", file=sys.stderr)
    except WebhookVerificationError:
        pass

theirs = [case() for _ in range(200)]
for c in theirs:
    at = datetime.datetime.fromtimestamp(c["timestamp"], tz=datetime.timezone.utc)
    c["signature"] = Webhook(c["secret"]).sign(c["id"], at, c["body"])
changed = [dict(c, body=c["body"] + " ") for c in theirs]
for c, answer in zip(theirs, run("verify", theirs)):
    if answer != "ok":
        failures += 1
        print(f"we refused the reference's: {answer}: {c}", file=sys.stderr)
for c, answer in zip(changed, run("verify", changed)):
    if answer == "ok":
        failures += 1
        print(f"we took a changed body: {c}", file=sys.stderr)

print(f"webhook-check: {len(ours)} of ours verified by standardwebhooks, {len(theirs)} of its verified by us, changed bodies refused both ways; {failures} failures")
sys.exit(1 if failures else 0)
