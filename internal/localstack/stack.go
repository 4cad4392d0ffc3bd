package localstack

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Stack is what a template became locally: the created resources and the specification
// of everything that runs (functions, event source mappings, schedules, APIs).
type Stack struct {
	// Name is the stack name (AWS::StackName).
	Name string
	// Region and Account are the pseudo parameters the template was resolved with.
	Region, Account string

	Tables        []Table
	Queues        []Queue
	Topics        []Topic
	Subscriptions []Subscription
	Secrets       []Secret
	Functions     []FunctionSpec
	EventSources  []EventSource
	Schedules     []Schedule
	APIs          []API
	// Outputs are the stack outputs resolved against the local resources (API Gateway
	// URLs still name execute-api: Local.State rewrites them to the local server).
	Outputs map[string]string
	// Providers are the webhook providers of the functions' PROVIDERS variables, with
	// the signing secret generated for each locally.
	Providers []Provider
	// Unsupported lists every resource, or setting of an emulated resource, that has
	// no local effect, in template order of logical id.
	Unsupported []Unsupported

	// recreate re-creates the emulated tables, queues, topics and subscriptions (see
	// Reprovision), in creation order.
	recreate []recreateStep
}

type recreateStep struct {
	emulator string // EmulatorDynamoDB or EmulatorQueues
	do       func(ctx context.Context, c Clients) error
}

// The emulators whose state Reprovision restores.
const (
	// EmulatorDynamoDB is DynamoDB Local (tables).
	EmulatorDynamoDB = "dynamodb"
	// EmulatorQueues is fauxqs (queues, topics, subscriptions).
	EmulatorQueues = "queues"
)

// Reprovision re-creates, with the same names and attributes, what the stack has on the
// given emulator after that emulator lost its state (a restart of one that keeps it in
// memory; local mode runs fauxqs with persistence, so its queues usually survive). Existing
// tables and queues are left as they are; lost data is not restored.
func (s *Stack) Reprovision(ctx context.Context, c Clients, emulator string) error {
	for _, step := range s.recreate {
		if step.emulator != emulator {
			continue
		}
		if err := step.do(ctx, c); err != nil {
			return fmt.Errorf("reprovision %s on %s: %w", s.Name, emulator, err)
		}
	}
	return nil
}

// Table is a DynamoDB table created on DynamoDB Local.
type Table struct {
	LogicalID, Name, ARN string
	// StreamARN is the table's latest stream ARN ("" without a stream).
	StreamARN string
}

// Queue is an SQS queue created on the queue emulator.
type Queue struct {
	LogicalID, Name, URL, ARN string
	// VisibilityTimeout is the queue's visibility timeout.
	VisibilityTimeout time.Duration
	// DeadLetterQueue is the logical id of the redrive target ("" without one).
	DeadLetterQueue string
	// MaxReceiveCount is the redrive policy's maxReceiveCount (0 without one).
	MaxReceiveCount int
	// Attributes are the attributes the queue was created with.
	Attributes map[string]string
}

// Topic is an SNS topic created on the queue emulator.
type Topic struct {
	LogicalID, Name, ARN string
	// Attributes are the attributes the topic was created with.
	Attributes map[string]string
}

// Subscription is an SNS subscription created on the queue emulator.
type Subscription struct {
	LogicalID, TopicARN, Protocol, Endpoint, ARN string
	// Attributes are the subscription attributes (RawMessageDelivery, FilterPolicy...).
	Attributes map[string]string
}

// Secret is a Secrets Manager secret created on the local endpoint.
type Secret struct {
	LogicalID, Name, ARN string
	// Generated reports whether the value was generated locally (GenerateSecretString).
	Generated bool
}

// FunctionSpec is a Lambda function as the template configures it.
type FunctionSpec struct {
	// LogicalID is the function's logical id.
	LogicalID string
	// Name and ARN are the function's (generated when the template names none).
	Name, ARN string
	// Service is the payhook service the function runs (its PAYHOOK_SERVICE variable:
	// ingest, accounting, notify-failures or reconciler).
	Service string
	// Env is the resolved Environment.Variables.
	Env map[string]string
	// MemoryMB is MemorySize (128 when unset, as in Lambda).
	MemoryMB int
	// Timeout is Timeout (3 s when unset, as in Lambda).
	Timeout time.Duration
	// ReservedConcurrency is ReservedConcurrentExecutions (0 when unset).
	ReservedConcurrency int
	// Aliases maps alias name to alias ARN.
	Aliases map[string]string
}

// ServiceDir returns the service's package directory under services/ (the service name
// without dashes: notify-failures lives in services/notifyfailures).
func (f FunctionSpec) ServiceDir() string { return strings.ReplaceAll(f.Service, "-", "") }

// EventSource is an SQS event source mapping.
type EventSource struct {
	LogicalID string
	// Function is the logical id of the function invoked.
	Function string
	// Queue is the logical id of the queue polled.
	Queue              string
	QueueURL, QueueARN string
	// BatchSize is the most records per invocation (10 when unset).
	BatchSize int
	// Window is MaximumBatchingWindowInSeconds.
	Window time.Duration
	// ReportBatchItemFailures is set when FunctionResponseTypes holds it.
	ReportBatchItemFailures bool
	// MaxConcurrency is ScalingConfig.MaximumConcurrency (0 when unset).
	MaxConcurrency int
}

// Schedule is an EventBridge rule with a schedule expression and a Lambda target.
type Schedule struct {
	LogicalID, Name, ARN string
	// Expression is the rule's ScheduleExpression: rate(...) or cron(...).
	Expression string
	// Function is the logical id of the target function.
	Function string
	// TargetID is the target's Id.
	TargetID string
	// Input is the target's constant Input (JSON), "" to send the scheduled event.
	Input string
}

// API is a REST API (API Gateway v1) with its routes, stages, keys and usage plans.
type API struct {
	LogicalID, ID, Name string
	// RootResourceID is the id of the "/" resource.
	RootResourceID string
	// Stages are the API's deployment stages.
	Stages []Stage
	// Routes are the methods with a Lambda proxy integration.
	Routes []Route
	// UsagePlans are the usage plans covering a stage of this API.
	UsagePlans []UsagePlan
	// BinaryMediaTypes is the API's binaryMediaTypes.
	BinaryMediaTypes []string
}

// Stage is a deployment stage.
type Stage struct {
	LogicalID, Name string
	// Throttle is the stage's default method throttle (MethodSettings for /* *), nil
	// when unset.
	Throttle *Throttle
	// Variables are the stage variables (the proxy event's stageVariables).
	Variables map[string]string
}

// Route is one method of the API with a Lambda proxy integration.
type Route struct {
	// LogicalID is the AWS::ApiGateway::Method's logical id.
	LogicalID string
	// ResourceID is the id of the method's resource.
	ResourceID string
	// Path is the resource path, e.g. /webhooks or /items/{id}.
	Path string
	// Method is the HTTP method (ANY matches every method).
	Method string
	// Function is the logical id of the integrated function.
	Function string
	// APIKeyRequired is the method's ApiKeyRequired.
	APIKeyRequired bool
}

// UsagePlan is an API Gateway usage plan.
type UsagePlan struct {
	LogicalID, ID, Name string
	// Stages are the names of this API's stages the plan covers.
	Stages []string
	// Keys are the plan's API keys.
	Keys []APIKey
	// Throttle is the per-key throttle (nil when unset).
	Throttle *Throttle
	// Quota is the per-key quota (nil when unset).
	Quota *Quota
}

// APIKey is an API Gateway API key with its (locally generated) value.
type APIKey struct {
	LogicalID, ID, Name, Value string
	// Enabled is the key's Enabled property (CloudFormation's default is false).
	Enabled bool
}

// Throttle is a token bucket: RateLimit requests per second, BurstLimit capacity.
type Throttle struct {
	RateLimit  float64
	BurstLimit int
}

// Quota caps the requests per key in a period (DAY, WEEK or MONTH).
type Quota struct {
	Limit  int
	Period string
	Offset int
}

// Provider is a webhook provider configured through a function's PROVIDERS variable.
type Provider struct {
	// Name is the provider's name ("acme").
	Name string
	// Scheme is its signature scheme (standard-webhooks, stripe or none).
	Scheme string
	// Secret is its local signing secret ("" for scheme none).
	Secret string
	// SecretARN is the ARN of the Secrets Manager secret holding it.
	SecretARN string
}

// Unsupported is a resource, or a setting of an emulated resource, without local effect.
type Unsupported struct {
	// LogicalID names the resource (for outputs, their names).
	LogicalID string `json:"logical_id"`
	// Type is the resource type, followed by the property for a setting.
	Type string `json:"type"`
	// Reason says what is not emulated and what that means locally.
	Reason string `json:"reason"`
}

// Function returns the function with the logical id.
func (s *Stack) Function(logicalID string) (FunctionSpec, bool) {
	for _, f := range s.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return FunctionSpec{}, false
}

// FunctionByService returns the first function running the service; dashes do not
// count ("notify-failures" finds PAYHOOK_SERVICE=notifyfailures and the reverse).
func (s *Stack) FunctionByService(service string) (FunctionSpec, bool) {
	for _, f := range s.Functions {
		if f.ServiceDir() == strings.ReplaceAll(service, "-", "") {
			return f, true
		}
	}
	return FunctionSpec{}, false
}

// Queue returns the queue with the logical id, URL, ARN or name.
func (s *Stack) Queue(key string) (Queue, bool) {
	for _, q := range s.Queues {
		if q.LogicalID == key || q.URL == key || q.ARN == key || q.Name == key {
			return q, true
		}
	}
	return Queue{}, false
}

// ResolveFunction maps what an integration, event source or target names (a function
// name, a function, version or alias ARN, or name:qualifier) to the function's logical id.
func (s *Stack) ResolveFunction(ref string) (string, bool) {
	for _, f := range s.Functions {
		if ref == f.Name || ref == f.ARN || strings.HasPrefix(ref, f.ARN+":") || strings.HasPrefix(ref, f.Name+":") {
			return f.LogicalID, true
		}
	}
	return "", false
}

// UnsupportedGroup is the Unsupported entries of one type.
type UnsupportedGroup struct {
	Type    string
	Entries []Unsupported
}

// SummarizeUnsupported groups the unsupported list by type, types sorted.
func SummarizeUnsupported(list []Unsupported) []UnsupportedGroup {
	byType := map[string][]Unsupported{}
	for _, u := range list {
		byType[u.Type] = append(byType[u.Type], u)
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	out := make([]UnsupportedGroup, 0, len(types))
	for _, t := range types {
		out = append(out, UnsupportedGroup{Type: t, Entries: byType[t]})
	}
	return out
}

// FormatUnsupported renders the unsupported list once, grouped by type with counts: one
// line per type with its common reason, then the resources whose reason differs.
func FormatUnsupported(list []Unsupported) string {
	if len(list) == 0 {
		return "Everything in the template is emulated.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Not emulated locally (%d):\n", len(list))
	for _, g := range SummarizeUnsupported(list) {
		reasons := map[string][]string{}
		var order []string
		for _, e := range g.Entries {
			if _, ok := reasons[e.Reason]; !ok {
				order = append(order, e.Reason)
			}
			reasons[e.Reason] = append(reasons[e.Reason], e.LogicalID)
		}
		fmt.Fprintf(&b, "  %-40s %3d", g.Type, len(g.Entries))
		if len(order) == 1 {
			fmt.Fprintf(&b, "  %s\n", order[0])
			continue
		}
		b.WriteString("\n")
		for _, r := range order {
			fmt.Fprintf(&b, "      %s: %s\n", strings.Join(reasons[r], ", "), r)
		}
	}
	return b.String()
}
