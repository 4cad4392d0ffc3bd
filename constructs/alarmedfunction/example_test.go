package alarmedfunction_test

import (
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	tu "github.com/payhook/payhook/constructs/constructstest"
)

// ExampleNewAlarmedFunction builds a Go Lambda function that reads and writes a table,
// sends its alarms to a topic and reaches new versions through a CodeDeploy canary.
func ExampleNewAlarmedFunction() {
	// CodeDir must hold a prebuilt executable "bootstrap" (in a real app, e.g. build/ingest
	// holding build/ingest/bootstrap); here a temporary stand-in.
	codeDir, err := tu.TempCodeDir()
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(codeDir)

	// In an app of your own: stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Example"), nil).
	// Here the test binary's one App serves.
	stack := tu.NewStack(app, "Examplealarmedfunction")
	topic := awssns.NewTopic(stack, jsii.String("Alerts"), nil)
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
	})

	fn := alarmedfunction.NewAlarmedFunction(stack, "Ingest", &alarmedfunction.AlarmedFunctionProps{
		CodeDir:          jsii.String(codeDir),
		MemorySize:       jsii.Number(512),
		Timeout:          awscdk.Duration_Seconds(jsii.Number(15)),
		Environment:      map[string]*string{"TABLE_NAME": table.TableName()},
		AlarmTopic:       topic,
		DeploymentConfig: awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_5MINUTES(),
	})
	table.GrantReadWriteData(fn.Function)
	// Invoke fn.Alias (not fn.Function) from integrations and event sources.

	fmt.Println("alarms:", len(fn.Alarms))
	fmt.Println("deployment group:", fn.DeploymentGroup != nil)
	// Output:
	// alarms: 4
	// deployment group: true
}
