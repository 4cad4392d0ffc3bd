package localrun_test

import (
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/examples/ordersapp"
	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/apigw"
	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
	"github.com/payhook/payhook/internal/nodebin"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestRunsAnAppItKnowsNothingAbout runs the example app of another team
// (examples/ordersapp), which follows none of payhook's conventions, with DefaultApp: its
// queues and topic are provisioned, its three functions run the bootstraps of their code
// assets, and its API routes reach them as API Gateway would.
func TestRunsAnAppItKnowsNothingAbout(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes the example app with the CDK")
	}
	tmpl, err := cfn.ParseTemplate(synthOrdersApp(t))
	require.NoError(t, err)
	app := localrun.DefaultApp{}
	st := testenv.ProvisionTemplate(t, tmpl, provision.Options{Hooks: app.ProvisionHooks(nil)})

	assert.Len(t, st.Queues, 2, "the shipments queue and its dead-letter queue")
	shipments := st.Queues[0]
	if shipments.DeadLetterQueue == "" {
		shipments = st.Queues[1]
	}
	require.NotEmpty(t, shipments.DeadLetterQueue)
	assert.Equal(t, 3, shipments.MaxReceiveCount)
	assert.Len(t, st.Topics, 1, "the alerts topic")
	require.Len(t, st.Functions, 3)
	require.Len(t, st.EventSources, 1)
	assert.Equal(t, shipments.URL, st.EventSources[0].QueueURL)
	assert.Equal(t, 5, st.EventSources[0].BatchSize)
	require.Len(t, st.Schedules, 1)
	assert.Equal(t, "cron(0 2 * * ? *)", st.Schedules[0].Expression)
	require.Len(t, st.APIs, 1)
	api := st.APIs[0]
	require.Len(t, api.Routes, 1)
	route := api.Routes[0]
	assert.Equal(t, "POST /carrier", route.Method+" "+route.Path)
	assert.True(t, route.APIKeyRequired)
	receiver, ok := st.Function(route.Function)
	require.True(t, ok)
	assert.Equal(t, shipments.URL, receiver.Env["QUEUE_URL"], "the receiver's environment names the local queue")

	// Each function runs the bootstrap of its code asset, and the API serves the route.
	l := &localrun.Local{Template: tmpl}
	invokers := map[string]lambdarie.Invoker{}
	for _, spec := range st.Functions {
		bootstrap, err := app.Bootstrap(context.Background(), l, spec)
		require.NoError(t, err, spec.LogicalID)
		invokers[spec.LogicalID] = testenv.StartFunction(t, spec, bootstrap, 1)
	}
	srv := apigw.NewServer(api, invokers, st.Region, st.Account)
	srv.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	req, err := http.NewRequest("POST", srv.StageURL(api.Stages[0].Name)+"/carrier", strings.NewReader(`{"order":"o-1"}`))
	require.NoError(t, err)
	req.Header.Set("x-api-key", api.UsagePlans[0].Keys[0].Value)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, 200, resp.StatusCode, string(body))
	var echoed struct {
		Event events.APIGatewayProxyRequest `json:"event"`
	}
	require.NoError(t, json.Unmarshal(body, &echoed))
	assert.Equal(t, "/carrier", echoed.Event.Resource)
	assert.Equal(t, `{"order":"o-1"}`, echoed.Event.Body)
}

// synthOrdersApp synthesizes the example app with the echo test function as the
// bootstrap of its three functions, and returns its template.
func synthOrdersApp(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		dir, err := nodebin.Dir(testenv.Root())
		require.NoError(t, err)
		t.Setenv("JSII_NODE", filepath.Join(dir, "node"))
	}
	echo, err := os.ReadFile(testenv.EchoBootstrap())
	require.NoError(t, err)
	code := t.TempDir()
	for _, fn := range []string{"receiver", "shipper", "report"} {
		require.NoError(t, os.MkdirAll(filepath.Join(code, fn), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(code, fn, "bootstrap"), echo, 0o755))
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	s := ordersapp.NewStack(app, "Orders", code)
	asm := app.Synth(nil)
	return filepath.Join(*asm.Directory(), *s.TemplateFile())
}

// TestRunnerKnowsNothingOfPayhook checks that no package of the runner but the payhook
// App imports payhook's own packages.
func TestRunnerKnowsNothingOfPayhook(t *testing.T) {
	const mod = "github.com/payhook/payhook/"
	forbidden := []string{mod + "internal/localrun/payhook", mod + "internal/contract", mod + "services", mod + "stacks",
		mod + "envs", mod + "app"}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "payhook" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				assert.False(t, strings.HasPrefix(p, bad), "%s imports %s", path, p)
			}
		}
		return nil
	})
	require.NoError(t, err)
}

func TestDefaultAppRunsOnlyCustomRuntimes(t *testing.T) {
	hook := localrun.DefaultApp{}.ProvisionHooks(nil).Function
	assert.Empty(t, hook(&lambdarie.FunctionSpec{Runtime: "provided.al2023"}))
	for _, rt := range []string{"nodejs22.x", "python3.12", ""} {
		assert.Contains(t, hook(&lambdarie.FunctionSpec{Runtime: rt}), "only custom runtimes", "runtime %q is listed, not run", rt)
	}
}

// TestRefusesATransform: a template with a Transform needs its macro run, which local
// mode cannot do; it says so before starting anything.
func TestRefusesATransform(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "App.template.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"Transform": "AWS::Serverless-2016-10-31", "Resources": {"A": {"Type": "AWS::SQS::Queue"}}}`), 0o644))
	l, err := localrun.Start(context.Background(), localrun.Config{Template: file, Root: dir, WorkDir: dir})
	require.Error(t, err)
	assert.Nil(t, l)
	assert.Contains(t, err.Error(), "transforms are not supported locally")
}
