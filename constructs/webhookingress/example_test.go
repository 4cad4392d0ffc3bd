package webhookingress_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/queuedworker"
	"github.com/payhook/payhook/constructs/webhookingress"
)

// ExampleNewWebhookIngress builds a webhook endpoint whose handler queues what it receives
// for a queuedworker.QueuedWorker, and outputs the endpoint's URL.
func ExampleNewWebhookIngress() {
	// Each CodeDir must hold a prebuilt executable "bootstrap" (in a real app, e.g.
	// build/ingest holding build/ingest/bootstrap); here one temporary stand-in.
	codeDir, err := os.MkdirTemp("", "ingest")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(codeDir)
	if err := os.WriteFile(filepath.Join(codeDir, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		log.Fatal(err)
	}

	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Example"), nil)
	topic := awssns.NewTopic(stack, jsii.String("Alerts"), nil)
	worker := queuedworker.NewQueuedWorker(stack, "Accounting", &queuedworker.QueuedWorkerProps{
		Consumer:   alarmedfunction.AlarmedFunctionProps{CodeDir: jsii.String(codeDir)},
		AlarmTopic: topic,
	})

	ingress := webhookingress.NewWebhookIngress(stack, "Ingress", &webhookingress.WebhookIngressProps{
		Handler: alarmedfunction.AlarmedFunctionProps{
			CodeDir:     jsii.String(codeDir),
			Environment: map[string]*string{"QUEUE_URL": worker.Queue.QueueUrl()},
		},
		ThrottleRateLimit: jsii.Number(100),
		AlarmTopic:        topic,
	})
	worker.Queue.GrantSendMessages(ingress.Handler.Function)
	awscdk.NewCfnOutput(stack, jsii.String("WebhookUrl"), &awscdk.CfnOutputProps{Value: ingress.URL()})

	// Two API alarms, then the handler's four.
	fmt.Println("alarms:", len(ingress.Alarms))
	// Output:
	// alarms: 6
}
