// Command replay puts notifications recorded as failed (dead in the DLQ) back on the main
// queue and marks them replayed. `go run mage.go replay` runs it against the local stack or
// a deployed environment.
//
//	go run ./services/replay -table payhook-dev -queue-url https://sqs... [-limit 100]
//
// Endpoints and credentials come from the AWS SDK's environment, as in the functions.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/relay"
	"github.com/payhook/payhook/services/internal/store"
)

func main() {
	table := flag.String("table", os.Getenv("TABLE_NAME"), "DynamoDB table (default $TABLE_NAME)")
	queue := flag.String("queue-url", os.Getenv("QUEUE_URL"), "main queue URL (default $QUEUE_URL)")
	limit := flag.Int("limit", 1000, "most records to replay")
	flag.Parse()
	if err := run(*table, *queue, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func run(table, queue string, limit int) error {
	if table == "" || queue == "" {
		return fmt.Errorf("-table and -queue-url are required (or TABLE_NAME and QUEUE_URL)")
	}
	ctx := context.Background()
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		return err
	}
	r := &relay.Relay{Store: &store.Store{DB: config.DynamoDB(awsCfg), Table: table}, Queue: config.SQS(awsCfg), QueueURL: queue}
	res, err := r.Replay(ctx, limit)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return err
}
