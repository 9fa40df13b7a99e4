"""Drives a local Proton endpoint with boto3, a client written outside this project.

    python3 test/boto3-driver.py ENDPOINT REGION STEPS_JSON

STEPS_JSON is a list of {"op": "get_service" | "cancel_service_pipeline_deployment" | ...,
"args": {...}, "key": ACCESS_KEY_ID (optional), "repeat": N (optional)}. Each call's outcome is
printed as one JSON list on stdout: {"ok": response} or {"error": code, "status": N, "message": ...},
or {"unparsed": ...} when botocore could not parse the answer. botocore's parser is lenient (a body
that is not JSON becomes a message), so each answer is also checked here: its body must be JSON,
and a success must pass botocore's own validator against the operation's output shape (required
members, types, lengths); what fails is listed in "issues". Retries are off: one request a call.
"""
import datetime
import json
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from botocore.validate import ParamValidator


def plain(value):
    """Response values as JSON: botocore's datetimes as ISO 8601 strings."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def main():
    endpoint, region, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=5)
    clients = {}
    issues = []

    def check(http_response, parsed, model, **_):
        try:
            json.loads(http_response.content)
        except ValueError:
            issues.append(f"body is not JSON: {http_response.content[:80]!r}")
            return
        if http_response.status_code < 300 and model.output_shape is not None:
            output = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
            report = ParamValidator().validate(output, model.output_shape)
            if report.has_errors():
                issues.append(report.generate_report())

    def client(key):
        if key not in clients:
            clients[key] = boto3.session.Session().client(
                "proton", endpoint_url=endpoint, region_name=region, config=config,
                aws_access_key_id=key, aws_secret_access_key="local-secret")
            clients[key].meta.events.register("after-call.proton", check)
        return clients[key]

    results = []
    for step in steps:
        for _ in range(step.get("repeat", 1)):
            issues.clear()
            try:
                response = getattr(client(step.get("key", "AKIDBOTO3")), step["op"])(**step.get("args", {}))
                results.append({"ok": plain(response), "status": response["ResponseMetadata"]["HTTPStatusCode"]})
            except ClientError as e:
                results.append({
                    "error": e.response["Error"]["Code"],
                    "message": e.response["Error"]["Message"],
                    "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                })
            except (botocore.exceptions.BotoCoreError, ResponseParserError) as e:
                results.append({"unparsed": type(e).__name__, "message": str(e)})
            results[-1]["issues"] = list(issues)
    print(json.dumps({"botocore": botocore.__version__, "botocorePath": botocore.__file__, "results": results}))


if __name__ == "__main__":
    main()
