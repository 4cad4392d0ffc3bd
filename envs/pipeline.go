package envs

import (
	"slices"
	"strings"
)

// Pipeline is the CDK Pipelines configuration, read from envs/pipeline.yaml:
// where the source comes from and where the pipeline itself is deployed.
type Pipeline struct {
	// Source repository as owner/name.
	Repository string `yaml:"repository" schema:"required;pattern=^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"`
	// Branch the pipeline follows. Default: main.
	Branch string `yaml:"branch" schema:"minLength=1;maxLength=255"`
	// ARN of the AWS CodeConnections (formerly CodeStar Connections) connection to the repository host.
	ConnectionARN string `yaml:"connection_arn" schema:"required;pattern=^arn:aws:(codeconnections|codestar-connections):(us|eu|ap|sa|ca|me|af|il|mx)-(north|south|east|west|central|northeast|southeast|northwest|southwest)-[1-9]:[0-9]{12}:connection/[A-Za-z0-9-]+$"`
	// AWS account id of the pipeline (12 digits, quoted in YAML).
	Account string `yaml:"account" schema:"required;pattern=^[0-9]{12}$"`
	// AWS region of the pipeline, for example us-east-1.
	Region string `yaml:"region" schema:"required;pattern=^(us|eu|ap|sa|ca|me|af|il|mx)-(north|south|east|west|central|northeast|southeast|northwest|southwest)-[1-9]$"`
	// E-mail addresses notified of pipeline failures and pending approvals.
	NotificationEmails []string `yaml:"notification_emails" schema:"format=email"`
	// IAM roles or users (ARNs) that may assume the pipeline's approver role, the only role the pipeline stack lets approve a promotion; at least one. Commit authors should not be among them.
	Approvers []string `yaml:"approvers" schema:"required;minItems=1;pattern=^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$"`
}

// ApproverAccounts are the accounts of Approvers, each once, in order.
func (p Pipeline) ApproverAccounts() []string {
	var out []string
	for _, a := range p.Approvers {
		parts := strings.Split(a, ":")
		if len(parts) > 4 && !slices.Contains(out, parts[4]) {
			out = append(out, parts[4])
		}
	}
	return out
}

// PipelineDefaults returns a Pipeline holding the default of every optional
// field (branch main); it is the value LoadPipeline decodes the file into.
func PipelineDefaults() Pipeline {
	return Pipeline{Branch: "main"}
}
