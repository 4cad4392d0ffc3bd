package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/suppress"
	"github.com/payhook/payhook/stacks/payments"
)

// Stage is one env as the pipeline deploys it: its payments stage, plus the role the
// pipeline's smoke step of the env assumes in the env's account.
type Stage struct {
	*payments.Stage
	// SmokeRole is what the pipeline's smoke step of this env assumes (SmokeStatements).
	SmokeRole awsiam.Role
}

// NewStage builds env's stage for a pipeline in pipelineAccount: payments.NewStage, plus
// the env's smoke role, trusted by that pipeline's smoke step alone. `mage synth ENV=…`
// builds a deployable env this way too, so what `deploy` and `diff` see is what the
// pipeline deploys.
func NewStage(scope constructs.Construct, env envs.Env, assetsDir, pipelineAccount string) *Stage {
	st := &Stage{Stage: payments.NewStage(scope, env, assetsDir)}
	addSmokeRole(st, pipelineAccount)
	suppress.Apply(st.Payments.Stack, smokeNagSuppressions)
	return st
}
