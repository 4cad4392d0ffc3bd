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
	"time"

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

// checkPython returns nil when interpreter can import boto3 (the benchmark's only Python
// dependency), and otherwise an error naming what to install: bench installs nothing itself.
func checkPython(ctx context.Context, interpreter string) error {
	if _, err := os.Stat(interpreter); err != nil {
		return fmt.Errorf("bench needs Python 3 at %s with boto3 for the reference design's module: "+
			"on Debian/Ubuntu `apt-get install python3 python3-boto3`; on macOS `xcode-select --install`, "+
			"then `%s -m pip install --user boto3`: %w", interpreter, interpreter, err)
	}
	out, err := exec.CommandContext(ctx, interpreter, "-c", "import boto3").CombinedOutput()
	if err != nil {
		return fmt.Errorf("bench needs boto3 for %s (the reference design's module imports it): "+
			"on Debian/Ubuntu `apt-get install python3-boto3`; on macOS `%s -m pip install --user boto3`: "+
			"import boto3: %w: %s", interpreter, interpreter, err, bytes.TrimSpace(out))
	}
	return nil
}

// measurePython measures the reference design's ingest module: the import (boto3, the table
// resource and the SQS client) in `launches` fresh interpreters, with their peak memory, and
// `warm` handler calls against the emulators in one of them.
func measurePython(ctx context.Context, w *world, launches, warm int) (cost.FunctionFigures, error) {
	var fig cost.FunctionFigures
	if err := checkPython(ctx, python); err != nil {
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
	if version, err := exec.CommandContext(ctx, python, "--version").Output(); err == nil {
		w.python = strings.TrimSpace(string(version))
	}
	if out, err := pyRun(ctx, dir, env, pyPrepare); err != nil {
		return fig, fmt.Errorf("reference module: prepare the SQS model: %w: %s", err, out)
	}
	env = append(env, "AWS_DATA_PATH="+filepath.Join(dir, "models"))
	// Start: a fresh interpreter importing the module (boto3, the table resource, the SQS
	// client), timed from exec to exit, as the Go INIT is timed from the process's spawn.
	var starts []float64
	for i := 0; i < launches; i++ {
		t0 := time.Now()
		if out, err := pyRun(ctx, dir, env, "import reference_ingest"); err != nil {
			return fig, fmt.Errorf("reference module: %w: %s", err, out)
		}
		starts = append(starts, ms(time.Since(t0)))
	}
	out, err := pyRun(ctx, dir, env, pyWarm, fmt.Sprint(warm))
	if err != nil {
		return fig, fmt.Errorf("reference module: %w: %s", err, out)
	}
	var r struct {
		RSSKB    float64   `json:"rss_kb"`
		WarmMs   []float64 `json:"warm_ms"`
		LogBytes float64   `json:"log_bytes"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return fig, fmt.Errorf("reference module output %q: %w", out, err)
	}
	fig.InitMs, fig.InitP90Ms, fig.WarmMs = quantile(starts, 0.5), quantile(starts, 0.9), quantile(r.WarmMs, 0.5)
	fig.RSSMB, fig.LogBytes = r.RSSKB/1024, r.LogBytes
	return fig, nil
}

// pyRun runs a Python snippet in dir and returns its standard output (its standard error
// when it fails).
func pyRun(ctx context.Context, dir string, env []string, code string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, python, append([]string{"-c", code}, args...)...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return stderr.Bytes(), err
	}
	return out, nil
}

// pyPrepare writes SQS's model with the JSON protocol into ./models: Debian's botocore speaks
// SQS's old query protocol, the local SQS emulator the JSON protocol that current botocore
// uses (same operations and shapes).
const pyPrepare = `
import json, os, botocore
src = os.path.join(os.path.dirname(botocore.__file__), "data", "sqs", "2012-11-05", "service-2.json")
model = json.load(open(src))
model["metadata"].update({"protocol": "json", "jsonVersion": "1.0", "targetPrefix": "AmazonSQS"})
os.makedirs("models/sqs/2012-11-05", exist_ok=True)
json.dump(model, open("models/sqs/2012-11-05/service-2.json", "w"))
`

// pyWarm imports the module, calls its handler argv[1] times (capturing what it prints), and
// reports the calls' durations, the peak memory after them and the log bytes per call.
const pyWarm = `
import io, json, resource, sys, time, contextlib
import reference_ingest
warm, logged = [], io.StringIO()
for i in range(int(sys.argv[1])):
    body = json.dumps({"transaction_id": "ref-%d-%d" % (i, time.time_ns()), "amount": "12.34", "currency": "EUR", "provider": "acme"})
    t = time.perf_counter()
    with contextlib.redirect_stdout(logged):
        r = reference_ingest.lambda_handler({"body": body}, None)
    warm.append((time.perf_counter() - t) * 1000)
    assert r["statusCode"] == 200, r
n = max(1, int(sys.argv[1]))
print(json.dumps({"rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "warm_ms": warm, "log_bytes": len(logged.getvalue()) / n}))
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
