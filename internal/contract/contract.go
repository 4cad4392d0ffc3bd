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
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Environment variables the payments stack sets on its functions.
const (
	EnvTableName        = "TABLE_NAME"         // DynamoDB table (every function)
	EnvQueueURL         = "QUEUE_URL"          // accounting queue (ingest, reconciler)
	EnvSigningSecretARN = "SIGNING_SECRET_ARN" // providers' signing secrets (ingest)
	// EnvSmokeSigningSecretARN is the smoke provider's own signing secret (ingest).
	EnvSmokeSigningSecretARN = "SMOKE_SIGNING_SECRET_ARN"
	EnvProviders             = "PROVIDERS"         // provider:scheme list, see ProvidersSpec (ingest)
	EnvMaxBodyBytes          = "MAX_BODY_BYTES"    // body limit, 413 above (ingest)
	EnvAlertTopicARN         = "ALERT_TOPIC_ARN"   // alerts topic (notify-failures)
	EnvUnaccountedAfter      = "UNACCOUNTED_AFTER" // re-send bound, a Go duration (reconciler)
	EnvOutboxGrace           = "OUTBOX_GRACE"      // how long a record waits on the outbox, a Go duration (reconciler)
	EnvPayhookEnv            = "PAYHOOK_ENV"       // env name, a metric dimension (every function)
	EnvPayhookService        = "PAYHOOK_SERVICE"   // service directory, for local mode (every function)
	// EnvAPIKeys binds each keyed provider to its API key: "acme:<key id>,payhook-smoke:<key
	// id>" (ingest). A provider absent from it is keyless.
	EnvAPIKeys = "API_KEYS"
)

// Outputs of the payments stack, read by smoke, replay and the pipeline's post-steps.
const (
	OutputAPIURL = "ApiUrl"
	// OutputSmokeAPIKeyID is the smoke provider's API key, the only one the smoke step reads;
	// OutputAPIKeyIDs every keyed provider's, as JSON {"<provider>": "<key id>"}.
	OutputSmokeAPIKeyID = "SmokeApiKeyId"
	OutputAPIKeyIDs     = "ApiKeyIds"
	OutputTableName     = "TableName"
	OutputQueueURL      = "QueueUrl"
	OutputDLQURL        = "DlqUrl"
	OutputTopicARN      = "AlertTopicArn"
	OutputSecretARN     = "SigningSecretArn"
	// OutputSmokeSecretARN is the smoke provider's signing secret, the only one the
	// pipeline's smoke step may read.
	OutputSmokeSecretARN = "SmokeSigningSecretArn"
	// OutputProviderURLs is each provider's own endpoint, as JSON {"<provider>": "<url>"};
	// OutputLogGroups each part's log group, as JSON {"<part>": "<log group name>"}.
	OutputProviderURLs = "ProviderUrls"
	OutputLogGroups    = "LogGroups"
)

// Variables the probes (smoke, loadtest, replay: services/internal/probe) read a deployed
// env's outputs from; the pipeline's smoke step sets them from the stage's outputs
// (ProbeOutputs), and PAYHOOK_PROVIDERS, PAYHOOK_PAYLOAD_FORMATS and PAYHOOK_LIVE describe
// the providers to sign as.
const (
	ProbeAPIURL         = "PAYHOOK_API_URL"
	ProbeAPIKeyID       = "PAYHOOK_API_KEY_ID"
	ProbeTable          = "PAYHOOK_TABLE"
	ProbeSmokeSecretARN = "PAYHOOK_SECRET_ARN"
	ProbeQueueURL       = "PAYHOOK_QUEUE_URL"
	ProbeProviders      = "PAYHOOK_PROVIDERS"
	ProbePayloadFormats = "PAYHOOK_PAYLOAD_FORMATS"
	ProbeLive           = "PAYHOOK_LIVE"
)

// Variables the CDK app (cmd/cdk) reads, set by `mage synth`, the bench and the tests.
// SynthEnv is spelled as EnvPayhookEnv, a function's variable, but is the app's own.
const (
	SynthEnv       = "PAYHOOK_ENV"        // synthesize this env alone, without the pipeline
	SynthPipeline  = "PAYHOOK_PIPELINE"   // "0": no pipeline, every env's stage at the top level
	SynthEnvsDir   = "PAYHOOK_ENVS_DIR"   // the env files' directory (default envs)
	SynthAssetsDir = "PAYHOOK_ASSETS_DIR" // the built services' directory (default build)
	// SynthSuffix, with SynthEnv, synthesizes the preview copy of that env with this suffix.
	SynthSuffix = "PAYHOOK_SUFFIX"
)

// ProbeOutputs maps each output-carrying probe variable to the stack output it carries.
func ProbeOutputs() map[string]string {
	return map[string]string{ProbeAPIURL: OutputAPIURL, ProbeAPIKeyID: OutputSmokeAPIKeyID, ProbeTable: OutputTableName,
		ProbeSmokeSecretARN: OutputSmokeSecretARN, ProbeQueueURL: OutputQueueURL}
}

// The smoke provider: every environment accepts it besides its own providers, with its own
// signing secret, so that a smoke test signs as it and is accounted in its own totals,
// never in a real provider's.
const (
	SmokeProvider = "payhook-smoke"
	SmokeScheme   = "standard-webhooks"
)

// SmokeProvidersSpec is the PROVIDERS form of the smoke provider alone.
func SmokeProvidersSpec() string { return SmokeProvider + ":" + SmokeScheme }

// SmokeRoleName is the role, in an env's own account, that the pipeline's smoke step of that
// env assumes when the env is in another account than the pipeline's.
func SmokeRoleName(env string) string { return "payhook-" + env + "-smoke" }

// SmokeProjectRoleName is the role of an env's smoke step in the pipeline's account: the one
// principal SmokeRoleName trusts.
func SmokeProjectRoleName(env string) string { return "payhook-pipeline-smoke-" + env }

// SmokeProjectName is the CodeBuild project of an env's smoke step: the only source
// CodeBuild may assume SmokeProjectRoleName for.
func SmokeProjectName(env string) string { return "payhook-pipeline-smoke-" + env }

// VerifyProjectName is the CodeBuild project that checks, after an env's approval, that the
// assembly about to deploy is the approved one.
func VerifyProjectName(env string) string { return "payhook-pipeline-verify-" + env }

// Roles of the pipeline's account that the target accounts' bootstrap roles trust, and
// nothing else there (pipeline/bootstrap): CodePipeline's role, which runs the deploy actions
// through each target's deploy role; the asset project's, which publishes through each
// target's file-publishing role; and the permissions check's, which diffs through the
// deploy role before an env that retains data.
const (
	PipelineRoleName         = "payhook-pipeline-codepipeline"
	PipelineAssetsRoleName   = "payhook-pipeline-assets"
	PipelineCheckRoleName    = "payhook-pipeline-permissions-check"
	PipelineApproverRoleName = "payhook-pipeline-approver"
	PipelineName             = "payhook"
	PipelineStackName        = "payhook-pipeline"
)

// SmokeSecretName is the Secrets Manager name of an env's smoke signing secret.
func SmokeSecretName(env string) string { return "payhook/" + env + "/smoke-signing-secret" }

// DecodeSigningSecrets reads a signing secret's value: a JSON object from provider name to
// its secrets, a list (several during a rotation) or one string (what CloudFormation's
// GenerateSecretString writes for the smoke secret).
func DecodeSigningSecrets(value string) (map[string][]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(value), &raw); err != nil {
		return nil, errors.New("not a JSON object of provider name to secrets")
	}
	out := make(map[string][]string, len(raw))
	for name, v := range raw {
		var one string
		if err := json.Unmarshal(v, &one); err == nil {
			out[name] = []string{one}
			continue
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil {
			// Name the provider, never the value: it is secret.
			return nil, fmt.Errorf("provider %q: want a secret or a list of secrets", name)
		}
		out[name] = list
	}
	return out, nil
}

// Partition-key prefixes of the table's items (services/internal/store): the stack grants
// each function the items it writes by them (dynamodb:LeadingKeys).
const (
	KeyTransaction = "TXN#"     // TXN#<provider>#<transaction or event id>: records and ledgers
	KeyTotal       = "TOTAL#"   // TOTAL#<provider>#<day>: daily totals
	KeyFailure     = "FAILURE#" // FAILURE#<message id>: dead messages that named no transaction
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
	// ProviderTag is the tag of an API key, valued with its provider's name; the smoke step's
	// permission to read a key requires the smoke provider's.
	ProviderTag = "payhook:provider"
	// PreviewTag is the tag every resource of a preview copy carries, valued with the name
	// of the env it copies.
	PreviewTag = "payhook:preview-of"
)

// Functions are the payments stack's Lambda functions, by the name part after
// payhook-<env>-.
var Functions = []string{"ingest", "accounting", "notify-failures", "reconciler"}

// PhysicalName is one explicit name an env's stack claims, with the longest AWS accepts.
type PhysicalName struct {
	// What names the kind of resource, as a message says it ("Lambda function name").
	What string
	// Name is the name.
	Name string
	// Max is AWS's limit on its length.
	Max int
}

// PhysicalNames lists the names derived from env's name with an AWS length limit that a
// longer name could reach: the stack, functions, queues, topic, table, dashboard, secrets
// and smoke role. Names with room to spare (log groups, API keys) are left out.
func PhysicalNames(env string) []PhysicalName {
	s := StageName(env)
	out := []PhysicalName{
		{"CloudFormation stack name", s, 128},
		{"DynamoDB table name", s, 255},
		{"CloudWatch dashboard name", s, 255},
		{"SQS queue name", s + "-queue", 80},
		{"SQS queue name", s + "-dlq", 80},
		{"SNS topic name", s + "-alerts", 256},
		{"IAM role name", SmokeRoleName(env), 64},
		{"Secrets Manager secret name", SigningSecretName(env), 512},
		{"Secrets Manager secret name", SmokeSecretName(env), 512},
	}
	for _, f := range Functions {
		out = append(out, PhysicalName{"Lambda function name", s + "-" + f, 64})
	}
	return out
}

// APIKeyName is the name of a provider's API key in an env: payhook-<env>-<provider>.
func APIKeyName(env, provider string) string { return StageName(env) + "-" + provider }

// LocalAccount is the account of local mode: the emulators', and a local-only env's stack's.
const LocalAccount = "000000000000"

// StageName is the name of an env's stage and stack, and the prefix of its resources' names.
func StageName(env string) string { return "payhook-" + env }

// SigningSecretName is the Secrets Manager name of an env's signing secrets.
func SigningSecretName(env string) string { return "payhook/" + env + "/signing-secrets" }

// Partition is the AWS partition of a region, from the AWS SDK's partition metadata
// (regions_gen.go); "aws" for a region the SDK does not know.
func Partition(region string) string {
	if p, ok := regionPartition(region); ok {
		return p
	}
	return "aws"
}

// KnownRegion reports whether the AWS SDK's partition metadata lists region.
func KnownRegion(region string) bool {
	_, ok := regionPartition(region)
	return ok
}

// Regions are the regions the AWS SDK's partition metadata lists, sorted.
func Regions() []string { return regionNames() }

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
