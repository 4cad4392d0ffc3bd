package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestZZDumpPipelineNag(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join(synthesized.outdir, "PayhookPipeline.metadata.json"))
	if len(b) == 0 {
		files, _ := filepath.Glob(filepath.Join(synthesized.outdir, "*"))
		t.Fatal(files)
	}
	var md map[string][]struct {
		Type string
		Data any
	}
	json.Unmarshal(b, &md)
	counts := map[string]int{}
	for path, es := range md {
		for _, e := range es {
			msg, _ := e.Data.(string)
			if e.Type == "aws:cdk:error" {
				rule := strings.SplitN(msg, ":", 2)[0]
				counts[rule]++
				fmt.Println(path, "|", strings.SplitN(msg, "\n", 2)[0][:min(160, len(strings.SplitN(msg, "\n", 2)[0]))])
			}
		}
	}
	var ks []string
	for k := range counts {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		fmt.Println(counts[k], k)
	}
}
