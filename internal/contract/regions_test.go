package contract_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/contract/regionsrc"
)

// TestRegionsAreTheSDKs: regions_gen.go is what the AWS SDK go.mod requires lists; after an
// SDK upgrade, `go run mage.go gen` rewrites it.
func TestRegionsAreTheSDKs(t *testing.T) {
	want, err := regionsrc.Generate("../..")
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join("..", "..", regionsrc.File))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "regions_gen.go is stale: run go run mage.go gen")
}

func TestPartitionAndKnownRegions(t *testing.T) {
	for region, partition := range map[string]string{
		"us-east-1": "aws", "eu-central-2": "aws", "cn-northwest-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
		"us-isob-east-1": "aws-iso-b", "eusc-de-east-1": "aws-eusc",
	} {
		assert.Equal(t, partition, contract.Partition(region), region)
		assert.True(t, contract.KnownRegion(region), region)
	}
	for _, region := range []string{"us-east-7", "eu-middle-1", "aws-global", ""} {
		assert.False(t, contract.KnownRegion(region), region)
	}
	assert.Contains(t, contract.Regions(), "ap-southeast-7")
	assert.NotContains(t, contract.Regions(), "aws-global", "the partitions' global endpoints are not regions")
}
