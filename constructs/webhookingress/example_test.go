package webhookingress_test

import (
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	tu "github.com/payhook/payhook/constructs/constructstest"
	"github.com/payhook/payhook/constructs/queuedworker"
	"github.com/payhook/payhook/constructs/webhookingress"
)

// ExampleNewWebhookIngress builds a webhook endpoint whose handler queues what it receives
// for a queuedworker.QueuedWorker, and outputs the endpoint's URL.
func ExampleNewWebhookIngress() {
	// Each CodeDir must hold a prebuilt executable "bootstrap" (in a real app, e.g.
	// build/ingest holding build/ingest/bootstrap); here one temporary stand-in.
	codeDir, err := tu.TempCodeDir()
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(codeDir)

	// In an app of your own: stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Example"), nil).
	// Here the test binary's one App serves.
	stack := tu.NewStack(app, "Examplewebhookingress")
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

	// Two API alarms and WAF's, then the handler's four.
	fmt.Println("alarms:", len(ingress.Alarms))
	// Output:
	// alarms: 7
}
