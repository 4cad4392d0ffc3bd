// Command ordersapp synthesizes the example app: CODE_DIR names the directory of the team's
// prebuilt functions (receiver/, shipper/, report/ each holding a bootstrap).
//
//	CODE_DIR=./build CDK_OUTDIR=cdk.out go run ./examples/ordersapp/cmd/ordersapp
package main

import (
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/examples/ordersapp"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	ordersapp.NewStack(app, "Orders", os.Getenv("CODE_DIR"))
	app.Synth(nil)
}
