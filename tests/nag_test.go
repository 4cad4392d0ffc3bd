package tests

import "github.com/payhook/payhook/pipeline"

func applyNag(b *pipeline.Built) {}
