// Package localstack runs a synthesized payhook CloudFormation template on this machine.
//
// It is the engine behind `mage local` (cmd/payhook-local): the template that CDK writes
// for the local environment is read as it is (ParseTemplate), its intrinsic functions are
// resolved against locally created resources (Resolver), and the emulators are
// provisioned from it (Provision): DynamoDB tables on DynamoDB Local, SQS queues and SNS
// topics on fauxqs, secrets on payhook's Secrets Manager endpoint. The result, a Stack,
// describes what runs: every Lambda function with its resolved environment, memory and
// timeout, the SQS event source mappings, the EventBridge schedules and the REST API.
//
// The functions themselves are the payhook services built for the host and run under the
// AWS Lambda Runtime Interface Emulator (Runtime, Function); the API is served as API
// Gateway serves a REST API with a Lambda proxy integration (APIServer); SQS event source
// mappings are polled as Lambda polls them (Poller); schedules invoke their targets with
// EventBridge's scheduled event (Scheduler).
//
// Nothing that cannot be emulated is dropped silently: Stack.Unsupported lists every
// resource (and every setting of an emulated resource) that has no local effect, and
// SummarizeUnsupported groups that list by type for printing once at start.
package localstack
