"""Signs requests with botocore's own SigV4 signers.

stdin: a JSON list of requests (see botocore.ts); stdout: the same list signed, each as
botocore's transport sends it (the prepared URL goes on the wire verbatim).
"""
import base64
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

# (presigned, s3) -> the class botocore's clients pick for that case.
SIGNERS = {
    (False, False): botocore.auth.SigV4Auth,
    (False, True): botocore.auth.S3SigV4Auth,
    (True, False): botocore.auth.SigV4QueryAuth,
    (True, True): botocore.auth.S3SigV4QueryAuth,
}


def pin_clock(compact_utc):
    at = datetime.datetime.strptime(compact_utc, "%Y%m%dT%H%M%SZ")
    # botocore reads the clock through this one function; its own tests pin time the same way.
    botocore.auth.get_current_datetime = lambda *args, **kwargs: at


def make_signer(spec):
    expires = spec.get("presignExpires")
    signer_class = SIGNERS[(expires is not None, spec["service"] == "s3")]
    credentials = Credentials(spec["accessKeyId"], spec["secret"], spec.get("sessionToken"))
    if expires is None:
        return signer_class(credentials, spec["service"], spec["region"])
    return signer_class(credentials, spec["service"], spec["region"], expires=expires)


def make_request(spec):
    url = spec["url"]
    if spec["query"]:
        # As botocore's serializers do: the query travels in the URL and is signed from there.
        url += "?" + percent_encode_sequence(spec["query"])
    body = base64.b64decode(spec["body"]) or None
    request = AWSRequest(method=spec["method"], url=url, headers=dict(spec["headers"]), data=body)
    if spec.get("unsignedPayload"):
        # The switches botocore's clients set: per operation for most services, in the s3 config for S3.
        request.context["payload_signing_enabled"] = False
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    return request


def sign(spec):
    pin_clock(spec["time"])
    request = make_request(spec)
    make_signer(spec).add_auth(request)
    prepared = request.prepare()
    headers = list(prepared.headers.items())
    if "host" not in prepared.headers:
        # botocore signs the Host header it derives from the URL and leaves sending it to urllib3.
        headers.insert(0, ("Host", botocore.auth._host_from_url(prepared.url)))
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return {
        "method": prepared.method,
        "url": prepared.url,
        "headers": headers,
        "body": base64.b64encode(body).decode("ascii"),
    }


def main():
    json.dump([sign(spec) for spec in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
