// Package contract holds the names and limits that more than one side of payhook must spell
// the same way: the CDK stacks that set them, the Lambda services that read them, local
// mode that emulates them and the tools (smoke, replay, loadtest, mage) that look them up.
// Each is defined here once; the other packages refer to these constants instead of
// repeating a literal, and tests tie the few places that cannot (struct tags, pinned tool
// versions in go.mod and package.json) back to them.
//
// It imports nothing outside the standard library, so any package may depend on it.
package contract

import (
	"fmt"
	"strings"
)

// Environment variables the payments stack sets on its functions.
const (
	EnvTableName        = "TABLE_NAME"         // DynamoDB table (every function)
	EnvQueueURL         = "QUEUE_URL"          // accounting queue (ingest, reconciler)
	EnvSigningSecretARN = "SIGNING_SECRET_ARN" // providers' signing secrets (ingest)
	EnvProviders        = "PROVIDERS"          // provider:scheme list, see ProvidersSpec (ingest)
	EnvMaxBodyBytes     = "MAX_BODY_BYTES"     // body limit, 413 above (ingest)
	EnvAlertTopicARN    = "ALERT_TOPIC_ARN"    // alerts topic (notify-failures)
	EnvUnaccountedAfter = "UNACCOUNTED_AFTER"  // re-send bound, a Go duration (reconciler)
	EnvPayhookEnv       = "PAYHOOK_ENV"        // env name, a metric dimension (every function)
	EnvPayhookService   = "PAYHOOK_SERVICE"    // service directory, for local mode (every function)
)

// Outputs of the payments stack, read by smoke, replay and the pipeline's post-steps.
const (
	OutputAPIURL    = "ApiUrl"
	OutputAPIKeyID  = "ApiKeyId"
	OutputTableName = "TableName"
	OutputQueueURL  = "QueueUrl"
	OutputDLQURL    = "DlqUrl"
	OutputTopicARN  = "AlertTopicArn"
	OutputSecretARN = "SigningSecretArn"
)

// Names of deployed things.
const (
	// MetricsNamespace is the CloudWatch namespace of the services' EMF metrics.
	MetricsNamespace = "payhook"
	// PipelineStackID is the CDK id (and stack name) of the delivery pipeline stack.
	PipelineStackID = "PayhookPipeline"
	// EnvTag is the tag every resource of a payments stack carries, valued with the env's
	// name; the smoke step's permission to read the API key is conditioned on it.
	EnvTag = "payhook:env"
)

// StageName is the name of an env's stage and stack, and the prefix of its resources' names.
func StageName(env string) string { return "payhook-" + env }

// SigningSecretName is the Secrets Manager name of an env's signing secrets.
func SigningSecretName(env string) string { return "payhook/" + env + "/signing-secrets" }

// Partition is the AWS partition of a region ("aws" for a commercial or unknown one).
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

// AWS limits that payhook's validation and its constructs both rely on.
const (
	// APIGatewayIntegrationTimeoutSeconds is API Gateway's (default) integration timeout.
	APIGatewayIntegrationTimeoutSeconds = 29
	// SQSVisibilityFactor is AWS's guidance for Lambda SQS event sources: the queue's
	// visibility timeout at least this many times the function's timeout.
	SQSVisibilityFactor = 6
)

// Pinned tool versions: the CDK CLI must match package.json and ci/cdk-cli/package.json,
// cdk-assets ci/cdk-cli/package.json, Go the go directive of go.mod (tests check all).
const (
	GoToolchain      = "go1.26.8"
	CDKCLIVersion    = "2.1148.1"
	CDKAssetsVersion = "4.7.3"
)

// PipelineCLIDir is where the pipeline's lockfile of the CDK CLI and cdk-assets lives in the
// repository (ci/cdk-cli) and, copied by the synth step, in the cloud assembly (cdk-cli).
const (
	PipelineCLISource = "ci/cdk-cli"
	PipelineCLIDir    = "cdk-cli"
)

// Provider is one configured webhook provider and its signature scheme.
type Provider struct {
	Name, Scheme string
}

// ProvidersSpec encodes providers as "name:scheme,name:scheme", the value of PROVIDERS.
func ProvidersSpec(providers []Provider) string {
	parts := make([]string, len(providers))
	for i, p := range providers {
		parts[i] = p.Name + ":" + p.Scheme
	}
	return strings.Join(parts, ",")
}

// ParseProvidersSpec decodes a ProvidersSpec, in order; a malformed entry or a repeated name
// is an error naming it.
func ParseProvidersSpec(spec string) ([]Provider, error) {
	var out []Provider
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, scheme, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || name == "" || scheme == "" {
			return nil, fmt.Errorf("providers %q: entry %q is not name:scheme", spec, part)
		}
		if seen[name] {
			return nil, fmt.Errorf("providers %q: provider %q given twice", spec, name)
		}
		seen[name] = true
		out = append(out, Provider{Name: name, Scheme: scheme})
	}
	return out, nil
}
