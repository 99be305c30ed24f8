package stacks

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/meshsplit/meshsplit/bench/greeter"
)

// TestSampleDocSizeGRPC pins the 4k payload's protobuf size near 4 KB.
func TestSampleDocSizeGRPC(t *testing.T) {
	n := proto.Size(DocToPB(greeter.SampleDoc()))
	if n < 3500 || n > 4600 {
		t.Errorf("protobuf size of the sample document = %d bytes, want about 4 KB (3500..4600)", n)
	}
	t.Logf("protobuf size of the sample document: %d bytes", n)
}
