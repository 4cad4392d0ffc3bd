// Package localrun runs a synthesized CloudFormation template on this machine: it is the
// engine behind `mage local` (cmd/payhook-local).
//
// Start reads the template (cfn), starts the emulators (DynamoDB Local, fauxqs for SQS
// and SNS, a Secrets Manager endpoint) while the functions build, provisions the emulators
// from the template (provision), starts every Lambda function under the Lambda Runtime
// Interface Emulator (lambdarie), serves each REST API as API Gateway does (apigw), polls
// the SQS event source mappings as Lambda does (sqspoll) and fires the EventBridge
// schedules (schedule). The result, a Local, is stopped with Stop; its State is what
// tools read from the state file.
//
// The runner knows CloudFormation and AWS, not the application: an App supplies what the
// template does not say (how the functions are built, what generated secrets hold, the
// application's facts in the state). DefaultApp knows nothing of any application;
// internal/localrun/payhook is payhook's.
//
// Nothing that cannot be emulated is dropped silently: Stack.Unsupported lists every
// resource (and every setting of an emulated resource) that has no local effect, and
// provision.FormatUnsupported prints that list once, grouped by type.
package localrun
