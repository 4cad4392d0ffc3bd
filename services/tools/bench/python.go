package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/payhook/payhook/internal/cost"
)

//go:embed reference_ingest.py
var referenceIngest []byte

// python is Debian's interpreter, where Debian's python3-boto3 lives.
const python = "/usr/bin/python3"

// ensureBoto3 installs Debian's python3-boto3 when it is missing (the benchmark's only
// Python dependency).
func ensureBoto3(ctx context.Context) error {
	if exec.CommandContext(ctx, python, "-c", "import boto3").Run() == nil {
		return nil
	}
	fmt.Println("bench: installing Debian's python3-boto3 for the reference design's module")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "python3-boto3"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// measurePython measures the reference design's ingest module: the import (boto3, the table
// resource and the SQS client) in `launches` fresh interpreters, with their peak memory, and
// `warm` handler calls against the emulators in one of them.
func measurePython(ctx context.Context, w *world, launches, warm int) (cost.FunctionFigures, error) {
	var fig cost.FunctionFigures
	if err := ensureBoto3(ctx); err != nil {
		return fig, err
	}
	dir, err := os.MkdirTemp("", "payhook-bench-py-")
	if err != nil {
		return fig, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "reference_ingest.py"), referenceIngest, 0o644); err != nil {
		return fig, err
	}
	if err := referenceTable(ctx, w); err != nil {
		return fig, err
	}
	q, err := w.env.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench-reference")})
	if err != nil {
		return fig, err
	}
	// boto3 refuses an empty AWS_PROFILE or AWS_SESSION_TOKEN, which the Go SDK's emulator
	// settings use to block shared configuration.
	var env []string
	for _, kv := range os.Environ() {
		if kv != "AWS_PROFILE=" && kv != "AWS_SESSION_TOKEN=" {
			env = append(env, kv)
		}
	}
	env = append(env, "TABLE_NAME=bench-reference", "QUEUE_URL="+*q.QueueUrl,
		"BENCH_DYNAMODB_URL="+os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), "BENCH_SQS_URL="+os.Getenv("AWS_ENDPOINT_URL_SQS"))
	var imports, rss []float64
	var warmMs []float64
	var logBytes float64
	for i := 0; i < launches; i++ {
		n := 0
		if i == 0 {
			n = warm
		}
		var r struct {
			ImportMs float64   `json:"import_ms"`
			RSSKB    float64   `json:"rss_kb"`
			WarmMs   []float64 `json:"warm_ms"`
			LogBytes float64   `json:"log_bytes"`
		}
		cmd := exec.CommandContext(ctx, python, "-c", pyDriver, fmt.Sprint(n))
		cmd.Dir, cmd.Env = dir, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return fig, fmt.Errorf("reference module: %w: %s", err, stderr.String())
		}
		if err := json.Unmarshal(out, &r); err != nil {
			return fig, fmt.Errorf("reference module output %q: %w", out, err)
		}
		imports, rss = append(imports, r.ImportMs), append(rss, r.RSSKB/1024)
		if i == 0 {
			warmMs, logBytes = r.WarmMs, r.LogBytes
		}
	}
	fig.InitMs, fig.InitP90Ms, fig.WarmMs = quantile(imports, 0.5), quantile(imports, 0.9), quantile(warmMs, 0.5)
	fig.RSSMB, fig.LogBytes = quantile(rss, 0.5), logBytes
	return fig, nil
}

// pyDriver imports the module (timed), then calls its handler argv[1] times, capturing
// what the handler prints, and reports as JSON on the real stdout.
const pyDriver = `
import io, json, os, resource, sys, time, contextlib
# Debian's botocore speaks SQS's old query protocol; the local SQS emulator speaks the JSON
# protocol that current botocore uses. Give it SQS's model with the JSON protocol (same
# operations and shapes), as current botocore ships it, before the module creates its client.
import botocore
src = os.path.join(os.path.dirname(botocore.__file__), "data", "sqs", "2012-11-05", "service-2.json")
model = json.load(open(src))
model["metadata"].update({"protocol": "json", "jsonVersion": "1.0", "targetPrefix": "AmazonSQS"})
os.makedirs("models/sqs/2012-11-05", exist_ok=True)
json.dump(model, open("models/sqs/2012-11-05/service-2.json", "w"))
os.environ["AWS_DATA_PATH"] = os.path.abspath("models")
t = time.perf_counter()
import reference_ingest
imp = (time.perf_counter() - t) * 1000
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
warm, logged = [], io.StringIO()
for i in range(int(sys.argv[1])):
    body = json.dumps({"transaction_id": "ref-%d-%d" % (i, time.time_ns()), "amount": "12.34", "currency": "EUR", "provider": "acme"})
    t = time.perf_counter()
    with contextlib.redirect_stdout(logged):
        r = reference_ingest.lambda_handler({"body": body}, None)
    warm.append((time.perf_counter() - t) * 1000)
    assert r["statusCode"] == 200, r
n = max(1, int(sys.argv[1]))
print(json.dumps({"import_ms": imp, "rss_kb": rss, "warm_ms": warm, "log_bytes": len(logged.getvalue()) / n}))
`

// referenceTable creates the reference design's table: transaction_id and arrival time.
func referenceTable(ctx context.Context, w *world) error {
	s := ddbtypes.ScalarAttributeTypeS
	_, err := w.env.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String("bench-reference"),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("transaction_id"), AttributeType: s}, {AttributeName: aws.String("timestamp"), AttributeType: s},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("transaction_id"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("timestamp"), KeyType: ddbtypes.KeyTypeRange},
		},
	})
	if err != nil {
		return fmt.Errorf("create the reference table: %w", err)
	}
	return nil
}
