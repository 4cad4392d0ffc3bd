package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cdk-nag's report: a header, then one row per rule and resource; the third column is the
// compliance (Compliant, Non-Compliant, Suppressed, ...).
const report = `Rule ID,Resource ID,Compliance,Exception Reason,Rule Level,Rule Info
"AwsSolutions-IAM5","payhook-dev/Payments/Role/DefaultPolicy/Resource","Suppressed","X-Ray","Error","..."
"AwsSolutions-SQS3","payhook-dev/Payments/Queue/Resource","Compliant","N/A","Error","..."
"AwsSolutions-S1","payhook-dev/Payments/Bucket/Resource","Non-Compliant","N/A","Error","..."
"AwsSolutions-S1","payhook-dev/Payments/Other/Resource","Non-Compliant","N/A","Error","..."
`

func TestReadReportsCountsOpenAndSuppressedPerStackAndPack(t *testing.T) {
	dir := t.TempDir()
	nested := filepath.Join(dir, "assembly-x")
	require.NoError(t, os.MkdirAll(nested, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "AwsSolutions-payhook-dev-payhook-dev-NagReport.csv"), []byte(report), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(nested, "NIST.800.53.R5--payhook-pipeline-NagReport.csv"),
		[]byte(strings.SplitN(report, "\n", 2)[0]+"\n\"NIST.800.53.R5-X\",\"r\",\"Non-Compliant\",\"N/A\",\"Error\",\"...\"\n"), 0o644))

	got, err := readReports(dir, "payhook-dev")
	require.NoError(t, err)
	assert.Equal(t, []count{
		{stack: "payhook-dev", pack: "AwsSolutions", open: 2, suppressed: 1},
		{stack: "payhook-dev", pack: "NIST.800.53.R5", open: 1},
	}, got)

	var b strings.Builder
	require.NoError(t, print(&b, got))
	assert.Contains(t, b.String(), "payhook-dev  AwsSolutions    2     1")
}

func TestReadReportsWithoutAnyIsAnError(t *testing.T) {
	_, err := readReports(t.TempDir(), "x")
	assert.ErrorContains(t, err, "no report")
}
