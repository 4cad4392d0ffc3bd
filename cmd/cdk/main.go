// Command cdk is payhook's CDK app: one Stage per envs/*.yaml (payhook-<name>), built from
// the services compiled into build/ by `go run mage.go build`. cdk.json runs it; so does
// `go run mage.go synth`, which writes cdk.out without the CDK CLI.
//
// Environment: PAYHOOK_ENV limits the app to one environment (no pipeline);
// PAYHOOK_PIPELINE=0 leaves the pipeline out and puts every environment's stage at the top
// level; PAYHOOK_ENVS_DIR and PAYHOOK_ASSETS_DIR override envs/
// and build/. By default (cdk.json, the pipeline's own synth) the deployable environments
// are stages of the pipeline stack and local-only ones stay top-level.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/pipeline"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "payhook cdk:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	if _, err := pipeline.Build(app, pipeline.AppConfig{
		EnvsDir:      getenv("PAYHOOK_ENVS_DIR", "envs"),
		AssetsDir:    getenv("PAYHOOK_ASSETS_DIR", "build"),
		Only:         os.Getenv("PAYHOOK_ENV"),
		WithPipeline: os.Getenv("PAYHOOK_PIPELINE") != "0",
	}); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
