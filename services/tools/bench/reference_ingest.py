# The reference design's ingest module, rewritten for `mage bench` with the same shape: boto3
# imported, its DynamoDB table resource and SQS client created at import, then a handler that
# validates loosely, puts the item (keyed by arrival time) and sends the message. Endpoints
# come from BENCH_* variables, since Debian's boto3 predates AWS_ENDPOINT_URL.
import json
import os
from datetime import datetime
from decimal import Decimal

import boto3

_region = os.environ.get("AWS_REGION", "us-east-1")
dynamodb = boto3.resource("dynamodb", region_name=_region, endpoint_url=os.environ.get("BENCH_DYNAMODB_URL"))
table = dynamodb.Table(os.environ.get("TABLE_NAME", "bench-reference"))
sqs = boto3.client("sqs", region_name=_region, endpoint_url=os.environ.get("BENCH_SQS_URL"))


def lambda_handler(event, context):
    body = json.loads(event["body"])
    for field in ("transaction_id", "amount", "currency", "provider"):
        if field not in body:
            return {"statusCode": 400, "body": json.dumps({"error": "missing " + field})}
    if float(body["amount"]) <= 0 or len(body["currency"]) != 3:
        return {"statusCode": 400, "body": json.dumps({"error": "invalid"})}
    timestamp = datetime.utcnow().isoformat()
    table.put_item(Item={
        "transaction_id": body["transaction_id"], "timestamp": timestamp,
        "amount": Decimal(str(body["amount"])), "currency": body["currency"],
        "provider": body["provider"], "status": "received", "metadata": body.get("metadata", {}),
    })
    sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps({
        "transaction_id": body["transaction_id"], "timestamp": timestamp,
        "amount": float(body["amount"]), "currency": body["currency"], "provider": body["provider"],
    }))
    print(json.dumps({"message": "Payment processed", "transaction_id": body["transaction_id"]}))
    return {"statusCode": 200, "body": json.dumps({"transaction_id": body["transaction_id"]})}
