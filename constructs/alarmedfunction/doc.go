// Package alarmedfunction provides AlarmedFunction, an AWS CDK L3 construct
// for a Go Lambda function (provided.al2023 on arm64, X-Ray tracing on) with
// its own log group (retention and removal policy set; no deprecated
// logRetention custom resource), a "live" alias, and alarms on that alias:
// errors, error rate (safe at zero invocations), throttles and p99 duration
// against the timeout. With a DeploymentConfig, new versions reach the alias
// through CodeDeploy and roll back on any of those alarms.
//
// The construct knows nothing of the code it runs: CodeDir must hold a
// prebuilt executable named "bootstrap". Defaults live in defaults.go;
// props are validated before any resource is created, and every problem is
// reported in one panic.
//
// Usage: see ExampleNewAlarmedFunction, a compiled and tested example of a
// function that writes a table, alarms to a topic and reaches new versions
// through a CodeDeploy canary.
package alarmedfunction
