package store_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/store"
)

// TestSynthesizedTableMatchesTheStore reads the synthesized templates (the golden files in
// tests/testdata, kept current by the golden test) and checks that the CDK table declares
// exactly the keys and index the store uses.
func TestSynthesizedTableMatchesTheStore(t *testing.T) {
	files, err := filepath.Glob("../../../tests/testdata/*.template.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	want := store.CreateTableInput("x")
	for _, f := range files {
		if filepath.Base(f) == "pipeline.template.json" {
			continue // the delivery stack holds no table
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var tmpl struct {
			Resources map[string]struct {
				Type       string
				Properties struct {
					KeySchema              []struct{ AttributeName, KeyType string }
					AttributeDefinitions   []struct{ AttributeName, AttributeType string }
					GlobalSecondaryIndexes []struct {
						IndexName  string
						KeySchema  []struct{ AttributeName, KeyType string }
						Projection struct{ ProjectionType string }
					}
				}
			}
		}
		require.NoError(t, json.Unmarshal(b, &tmpl))
		found := 0
		for _, r := range tmpl.Resources {
			if r.Type != "AWS::DynamoDB::Table" {
				continue
			}
			found++
			p := r.Properties
			require.Len(t, p.KeySchema, len(want.KeySchema), f)
			for i, k := range want.KeySchema {
				assert.Equal(t, aws.ToString(k.AttributeName), p.KeySchema[i].AttributeName, f)
				assert.Equal(t, string(k.KeyType), p.KeySchema[i].KeyType, f)
			}
			got := map[string]string{}
			for _, a := range p.AttributeDefinitions {
				got[a.AttributeName] = a.AttributeType
			}
			for _, a := range want.AttributeDefinitions {
				assert.Equal(t, string(a.AttributeType), got[aws.ToString(a.AttributeName)], f)
			}
			require.Len(t, p.GlobalSecondaryIndexes, 1, f)
			g := p.GlobalSecondaryIndexes[0]
			assert.Equal(t, store.IndexGSI1, g.IndexName)
			assert.Equal(t, store.AttrGSI1PK, g.KeySchema[0].AttributeName)
			assert.Equal(t, store.AttrGSI1SK, g.KeySchema[1].AttributeName)
			assert.Equal(t, "ALL", g.Projection.ProjectionType)
		}
		assert.Equal(t, 1, found, f)
	}
}
