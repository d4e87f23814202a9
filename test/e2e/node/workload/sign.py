"""Signs a GET to TARGET_URL with SigV4 every 200 ms and prints one JSON line per answer."""
import json
import os
import time
import urllib.error
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

URL = os.environ["TARGET_URL"]
SERVICE = os.environ.get("SIGNING_SERVICE", "execute-api")
REGION = os.environ.get("SIGNING_REGION", "eu-west-1")

session = botocore.session.get_session()


def call():
    credentials = session.get_credentials()
    if credentials is None:
        return 0, "NoCredentials"
    request = AWSRequest(method="GET", url=URL)
    SigV4Auth(credentials.get_frozen_credentials(), SERVICE, REGION).add_auth(request)
    prepared = request.prepare()
    try:
        with urllib.request.urlopen(urllib.request.Request(URL, headers=dict(prepared.headers), method="GET"), timeout=5) as answer:
            return answer.status, answer.read().decode()[:300]
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError as error:
        return 0, type(error).__name__


while True:
    status, body = call()
    print(json.dumps({"at": int(time.time() * 1000), "status": status, "body": body}), flush=True)
    time.sleep(0.2)
