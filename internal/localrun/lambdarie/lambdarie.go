// Package lambdarie runs Lambda functions on this machine under the AWS Lambda Runtime
// Interface Emulator (RIE), as Lambda runs them.
//
// InstallRIE builds the pinned RIE (internal/lambdabuild builds the functions for the
// host). A Runtime starts a Function from its FunctionSpec (what the template
// configures: environment, memory, timeout, reserved concurrency): a pool of RIE
// processes, each one execution environment serving one invocation at a time. Invoke
// runs one synchronous invocation and reports a function error as Lambda does; Invoker is
// what the API server, the SQS poller and the scheduler call.
package lambdarie

import "time"

// FunctionSpec is a Lambda function as the template configures it.
type FunctionSpec struct {
	// LogicalID is the function's logical id.
	LogicalID string
	// Name and ARN are the function's (generated when the template names none).
	Name, ARN string
	// Service names the code the function runs as its application calls it (payhook:
	// its PAYHOOK_SERVICE, e.g. ingest); "" when the application names none.
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
	// Role is the ARN of the function's execution role.
	Role string
	// Runtime is the Runtime property ("" for an image function); only provided.* custom
	// runtimes run a bootstrap.
	Runtime string
}
