// Command replay puts notifications recorded as failed (dead in the DLQ) back on the main
// queue and marks them replayed; accounting then takes them again. Run it once the cause of
// the failures is fixed.
//
//	go run ./services/tools/replay -env local        # the local stack (.payhook/local.json)
//	go run ./services/tools/replay -env prod         # a deployed env (its stack outputs)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/probe"
	"github.com/payhook/payhook/services/internal/relay"
)

func main() {
	env, state := probe.TargetFlags(flag.CommandLine)
	limit := flag.Int("limit", 1000, "most records to replay")
	flag.Parse()
	if err := run(*env, *state, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func run(env, state string, limit int) error {
	ctx := context.Background()
	// The table and the queue only: replay reads no API key and no signing secret.
	t, err := probe.FindTable(ctx, env, state)
	if err != nil {
		return err
	}
	if t.QueueURL == "" {
		return fmt.Errorf("no queue URL for %s", env)
	}
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		return err
	}
	r := &relay.Relay{Store: t.Store, Queue: config.SQS(awsCfg), QueueURL: t.QueueURL}
	res, err := r.Replay(ctx, limit)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return err
}
