package cfnrules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stackSpec is one stack of a test assembly: its environment and its resources.
type stackSpec struct {
	id, env   string
	resources map[string]any
	stackName string // default: id
}

// writeAssembly writes a cloud assembly of stacks to a new directory and returns it.
func writeAssembly(t *testing.T, stacks ...stackSpec) string {
	t.Helper()
	dir := t.TempDir()
	artifacts := map[string]any{}
	for _, s := range stacks {
		file := s.id + ".template.json"
		body, err := json.Marshal(map[string]any{"Resources": s.resources})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), body, 0o644); err != nil {
			t.Fatal(err)
		}
		name := s.stackName
		if name == "" {
			name = s.id
		}
		artifacts[s.id] = map[string]any{"type": "aws:cloudformation:stack", "environment": s.env,
			"properties": map[string]any{"templateFile": file, "stackName": name}}
	}
	body, err := json.Marshal(map[string]any{"artifacts": artifacts})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func table(name string) map[string]any {
	return map[string]any{"Type": "AWS::DynamoDB::Table", "Properties": map[string]any{"TableName": name},
		"Metadata": map[string]any{"aws:cdk:path": "stack/Table/Resource"}}
}

func role(name string) map[string]any {
	return map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"RoleName": name}}
}

func TestCheckNames(t *testing.T) {
	cases := []struct {
		name   string
		stacks []stackSpec
		want   []string // substrings of the one finding; nil: no finding
	}{
		{"distinct names in one account", []stackSpec{
			{"payhook-dev", "aws://111111111111/us-east-1", map[string]any{"Table": table("payhook-dev")}, ""},
			{"payhook-dev-pr-1", "aws://111111111111/us-east-1", map[string]any{"Table": table("payhook-dev-pr-1")}, ""},
		}, nil},
		{"a fixed name in one account and region", []stackSpec{
			{"payhook-dev", "aws://111111111111/us-east-1", map[string]any{"Table": table("payhook")}, ""},
			{"payhook-dev-pr-1", "aws://111111111111/us-east-1", map[string]any{"Table": table("payhook")}, ""},
		}, []string{`TableName "payhook"`, "stack payhook-dev: Table (stack/Table/Resource)", "stack payhook-dev-pr-1: Table"}},
		{"one stack with no account may land in the other's", []stackSpec{
			{"a", "aws://111111111111/us-east-1", map[string]any{"Table": table("payhook")}, ""},
			{"b", "aws://unknown-account/us-east-1", map[string]any{"Table": table("payhook")}, ""},
		}, []string{`"payhook"`, "in any account/us-east-1"}},
		{"separate accounts", []stackSpec{
			{"a", "aws://111111111111/us-east-1", map[string]any{"Table": table("payhook")}, ""},
			{"b", "aws://222222222222/us-east-1", map[string]any{"Table": table("payhook")}, ""},
		}, nil},
		{"separate regions, regional name", []stackSpec{
			{"a", "aws://111111111111/us-east-1", map[string]any{"Table": table("payhook")}, ""},
			{"b", "aws://111111111111/eu-west-1", map[string]any{"Table": table("payhook")}, ""},
		}, nil},
		{"separate regions, account-wide name", []stackSpec{
			{"a", "aws://111111111111/us-east-1", map[string]any{"Role": role("payhook-smoke")}, ""},
			{"b", "aws://111111111111/eu-west-1", map[string]any{"Role": role("payhook-smoke")}, ""},
		}, []string{`AWS::IAM::Role RoleName "payhook-smoke"`}},
		{"two stacks of one name", []stackSpec{
			{"assembly-a", "aws://111111111111/us-east-1", map[string]any{"Table": table("a")}, "payhook-dev"},
			{"assembly-b", "aws://unknown-account/unknown-region", map[string]any{"Table": table("b")}, "payhook-dev"},
		}, []string{`stack name "payhook-dev"`, "stack payhook-dev: its name in 111111111111/us-east-1", "stack payhook-dev: its name in any account/any region"}},
		{"names of different kinds", []stackSpec{
			{"a", "aws://111111111111/us-east-1", map[string]any{"Table": table("payhook-x")}, ""},
			{"b", "aws://111111111111/us-east-1", map[string]any{"Role": role("payhook-x")}, ""},
		}, nil},
		{"an intrinsic name is not compared", []stackSpec{
			{"a", "aws://111111111111/us-east-1", map[string]any{"Table": map[string]any{"Type": "AWS::DynamoDB::Table",
				"Properties": map[string]any{"TableName": map[string]any{"Ref": "AWS::StackName"}}}}, ""},
			{"b", "aws://111111111111/us-east-1", map[string]any{"Table": map[string]any{"Type": "AWS::DynamoDB::Table",
				"Properties": map[string]any{"TableName": map[string]any{"Ref": "AWS::StackName"}}}}, ""},
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckAssemblyNames(writeAssembly(t, c.stacks...))
			if c.want == nil {
				if err != nil {
					t.Fatalf("want no collision, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want a collision naming %q, got none", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("collision %q does not say %q", err, w)
				}
			}
		})
	}
}
