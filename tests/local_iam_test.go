package tests

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/iam"
	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localrun/payhook"
)

// Local mode enforces the template's IAM: the end-to-end tests above run with it on, and
// leastPrivilege checks, once they all ran, that none of their calls was denied and that
// every action a payhook function is granted was used (or is justified next to its grant).

// leastPrivilege returns the report of the shared local stack's run when every end-to-end
// test ran (a -run filter exercises only part of the grants), and an error when a function
// was denied a call or holds an unused, unjustified grant.
func leastPrivilege(workDir string) (string, error) {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f == nil || f.Value.String() != "" {
			return "", nil
		}
	}
	var b strings.Builder
	unclean, err := localrun.LeastPrivilege(workDir, &b)
	if err == nil && len(unclean) > 0 {
		err = fmt.Errorf("least privilege: %v have unused grants or denied calls", unclean)
	}
	return b.String(), err
}

// withoutGrant returns the template with action removed from the policies of the function
// whose PAYHOOK_SERVICE is service.
func withoutGrant(t *testing.T, tmpl map[string]any, service, action string) map[string]any {
	t.Helper()
	b, err := json.Marshal(tmpl)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	resources := out["Resources"].(map[string]any)
	role := ""
	for r, svc := range serviceRoles(out) {
		if svc == service {
			role = r
		}
	}
	require.NotEmpty(t, role, "no function runs %s", service)
	removed := 0
	for _, r := range resources {
		r := r.(map[string]any)
		if r["Type"] != "AWS::IAM::Policy" {
			continue
		}
		props := r["Properties"].(map[string]any)
		if fmt.Sprint(props["Roles"]) != fmt.Sprint([]any{map[string]any{"Ref": role}}) {
			continue
		}
		doc := props["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			st := st.(map[string]any)
			actions := iam.Values(st["Action"])
			kept := slices.DeleteFunc(slices.Clone(actions), func(a any) bool { return a == action })
			removed += len(actions) - len(kept)
			st["Action"] = kept
		}
	}
	require.Equal(t, 1, removed, "%s's role grants %s once", service, action)
	return out
}

func TestLocalMissingGrantFailsAsInAWS(t *testing.T) {
	// GIVEN the local template with ingest's sqs:SendMessage grant removed
	tmpl := withoutGrant(t, synthesized.templates["local"], "ingest", "sqs:SendMessage")
	dir := t.TempDir()
	path := filepath.Join(dir, "payhook-local-Payments.template.json")
	b, err := json.Marshal(tmpl)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	region := ""
	for _, e := range synthesized.envs {
		if e.Name == "local" {
			region = e.Region
		}
	}
	// WHEN it runs locally (IAM enforced, the default) and a provider posts a webhook
	l, err := localrun.Start(context.Background(), localrun.Config{Template: path, App: payhook.App{}, Region: region,
		WorkDir: filepath.Join(dir, "work"), Root: "..", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer l.Stop()
	s := newSender(t, l)
	p := s.provider("acme")
	id := "nogrant-" + runID()
	code, ans := s.post(p, body(p.Name, id, "10.00", "EUR"))

	// THEN SQS refuses the send as AWS would, ingest answers 503 (the provider retries) and
	// the notification waits on the outbox
	assert.Equal(t, 503, code, "%v", ans)
	rec := record(t, l, p.Name, id)
	require.NotNil(t, rec, "the notification is stored before the send")
	assert.True(t, strings.HasPrefix(str(rec, "gsi1pk"), "OUTBOX#"), "it stays on the outbox for the reconciler: %v", rec["gsi1pk"])
	calls, err := iamproxy.ReadCalls(filepath.Join(dir, "work", localrun.CallsFile))
	require.NoError(t, err)
	var denied []string
	for _, c := range calls {
		if !c.Allowed {
			denied = append(denied, c.Action)
			assert.Contains(t, c.Why, "no identity-based policy allows the sqs:SendMessage action")
		}
	}
	assert.Contains(t, denied, "sqs:SendMessage")
	assert.NotContains(t, denied, "dynamodb:PutItem", "only the missing grant is denied")

	// AND each function writes only its own items: ingest may put a transaction record but
	// not a daily total, and the reconciler may read gsi1's work lists but not the table.
	itemsOfTheirOwn(t, l)
}

// itemsOfTheirOwn calls DynamoDB through the IAM proxy as ingest and as the reconciler.
func itemsOfTheirOwn(t *testing.T, l *localrun.Local) {
	t.Helper()
	ctx := context.Background()
	fn := map[string]string{}
	for _, f := range l.Stack.Functions {
		fn[f.Env[contract.EnvPayhookService]] = f.LogicalID
	}
	table := l.Stack.Tables[0].Name
	ingest, err := l.ClientsAs(fn["ingest"])
	require.NoError(t, err)
	put := func(pk string) error {
		_, err := ingest.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: "CUR#EUR"}}})
		return err
	}
	err = put(contract.KeyTotal + "acme#2026-12-07")
	require.Error(t, err, "ingest wrote a daily total")
	assert.Contains(t, err.Error(), "AccessDeniedException")
	assert.Contains(t, err.Error(), "dynamodb:PutItem")
	assert.NoError(t, put(contract.KeyTransaction+"acme#own-"+runID()), "ingest writes transaction records")

	rec, err := l.ClientsAs(fn["reconciler"])
	require.NoError(t, err)
	query := func(index *string, pk, value string) error {
		_, err := rec.DynamoDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), IndexName: index,
			KeyConditionExpression: aws.String("#pk = :v"), ExpressionAttributeNames: map[string]string{"#pk": pk},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: value}}})
		return err
	}
	assert.NoError(t, query(aws.String("gsi1"), "gsi1pk", "OUTBOX#0"), "the reconciler reads the work lists")
	err = query(nil, "pk", contract.KeyTotal+"acme#2026-12-07")
	require.Error(t, err, "the reconciler read the table")
	assert.Contains(t, err.Error(), "AccessDeniedException")
}

// TestFunctionsAreGrantedTheSameInEveryEnv: the least-privilege report is measured on the
// local template; it holds for staging and prod because every env grants each service
// exactly the same actions (deployment groups, retention and approvals aside).
func TestFunctionsAreGrantedTheSameInEveryEnv(t *testing.T) {
	grants := func(tmpl map[string]any) map[string][]string {
		res := tmpl["Resources"].(map[string]any)
		service := serviceRoles(tmpl)
		out := map[string][]string{}
		for _, r := range res {
			r := r.(map[string]any)
			if r["Type"] != "AWS::IAM::Policy" {
				continue
			}
			props := r["Properties"].(map[string]any)
			for _, role := range props["Roles"].([]any) {
				svc, ok := service[role.(map[string]any)["Ref"].(string)]
				if !ok {
					continue
				}
				for _, st := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					for _, a := range iam.Values(st.(map[string]any)["Action"]) {
						out[svc] = append(out[svc], a.(string))
					}
				}
			}
		}
		for svc := range out {
			slices.Sort(out[svc])
		}
		return out
	}
	want := grants(synthesized.templates["local"])
	require.Len(t, want, 4, "the four services")
	for name, tmpl := range synthesized.templates {
		assert.Equal(t, want, grants(tmpl), "%s grants each service what local does", name)
	}
}

// serviceRoles maps the logical id of each payhook function's role to the function's
// PAYHOOK_SERVICE.
func serviceRoles(tmpl map[string]any) map[string]string {
	out := map[string]string{}
	for _, r := range tmpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		vars, _ := props["Environment"].(map[string]any)
		env, _ := vars["Variables"].(map[string]any)
		if svc, ok := env["PAYHOOK_SERVICE"].(string); ok && r["Type"] == "AWS::Lambda::Function" {
			out[props["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)] = svc
		}
	}
	return out
}
