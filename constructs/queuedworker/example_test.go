package queuedworker_test

import (
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	tu "github.com/payhook/payhook/constructs/constructstest"
	"github.com/payhook/payhook/constructs/queuedworker"
)

// ExampleNewQueuedWorker builds a queue, its dead-letter queue and the function that
// consumes it; the consumer writes a table and another function produces the messages.
func ExampleNewQueuedWorker() {
	// Each CodeDir must hold a prebuilt executable "bootstrap" (in a real app, e.g.
	// build/accounting holding build/accounting/bootstrap); here one temporary stand-in.
	codeDir, err := tu.TempCodeDir()
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(codeDir)

	// In an app of your own: stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Example"), nil).
	// Here the test binary's one App serves.
	stack := tu.NewStack(app, "Examplequeuedworker")
	topic := awssns.NewTopic(stack, jsii.String("Alerts"), nil)
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
	})
	producer := alarmedfunction.NewAlarmedFunction(stack, "Producer", &alarmedfunction.AlarmedFunctionProps{
		CodeDir:    jsii.String(codeDir),
		AlarmTopic: topic,
	})

	worker := queuedworker.NewQueuedWorker(stack, "Accounting", &queuedworker.QueuedWorkerProps{
		Consumer: alarmedfunction.AlarmedFunctionProps{
			CodeDir: jsii.String(codeDir),
			Timeout: awscdk.Duration_Seconds(jsii.Number(30)),
		},
		MaxReceiveCount: jsii.Number(5),
		AlarmTopic:      topic,
	})
	table.GrantReadWriteData(worker.Consumer.Function)
	worker.Queue.GrantSendMessages(producer.Function)

	// Two queue alarms, then the consumer's four.
	fmt.Println("alarms:", len(worker.Alarms))
	// Output:
	// alarms: 6
}
