package provision

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/payhook/payhook/internal/localrun/apigw"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/schedule"
	"github.com/payhook/payhook/internal/localrun/sqspoll"
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
	Functions     []lambdarie.FunctionSpec
	EventSources  []sqspoll.EventSource
	Schedules     []schedule.Schedule
	APIs          []apigw.API
	// Outputs are the stack outputs resolved against the local resources (API Gateway
	// URLs still name execute-api: the runner's state rewrites them to the local server).
	Outputs map[string]string
	// Access is the template's access control (roles, policies, keys), resolved, for the
	// local IAM proxy to enforce.
	Access *iamproxy.Model
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

// Function returns the function with the logical id.
func (s *Stack) Function(logicalID string) (lambdarie.FunctionSpec, bool) {
	for _, f := range s.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return lambdarie.FunctionSpec{}, false
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
