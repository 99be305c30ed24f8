package deploy

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

// testKey is the cluster key of the tests' cluster.env.
var testKey = bytes.Repeat([]byte{0xab}, 32)

// copyShop copies the split shop fixture into a temporary directory.
func copyShop(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "shop")
	if err := os.CopyFS(dst, os.DirFS("testdata/shop")); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestScanShop(t *testing.T) {
	m, err := Scan("testdata/shop", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []Piece{
		{Name: "inventory-svc", Dir: "cmd/inventory-svc", Service: "example.com/shop/inventory.Service"},
		{Name: "payments-gateway-svc", Dir: "cmd/payments-gateway-svc", Service: "example.com/shop/payments.Gateway"},
	}
	if m.Path != "example.com/shop" || m.GoVersion != "1.26" || m.Main != (Piece{Name: "shop", Dir: "cmd/shop"}) || len(m.Services) != 2 || m.Services[0] != want[0] || m.Services[1] != want[1] || len(m.Unserved) != 0 {
		t.Fatalf("Scan = %+v", m)
	}
}

// TestGolden pins every file deploy writes for the split shop, in both
// Dockerfile forms.
func TestGolden(t *testing.T) {
	m, err := Scan("testdata/shop", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, prebuilt := range []bool{false, true} {
		form := map[bool]string{false: "builder", true: "prebuilt"}[prebuilt]
		files, err := Render(m, Options{OutRel: "deploy", Prebuilt: prebuilt, Key: testKey})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			golden := filepath.Join("testdata", "golden", form, filepath.FromSlash(f.Path)+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(f.Data, want) {
				t.Errorf("%s (%s) differs from %s: run go test ./internal/deploy -update and review the diff\n%s", f.Path, form, golden, f.Data)
			}
		}
	}
}

// TestRenderIsDeterministic renders twice and compares.
func TestRenderIsDeterministic(t *testing.T) {
	m, err := Scan("testdata/shop", "")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Render(m, Options{Key: testKey})
	b, _ := Render(m, Options{Key: testKey})
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("%s differs between two renders", a[i].Path)
		}
	}
	// Without a given key, cluster.env gets a fresh random one.
	c, _ := Render(m, Options{})
	d, _ := Render(m, Options{})
	for i := range c {
		if c[i].Path == keyFile && bytes.Equal(c[i].Data, d[i].Data) {
			t.Fatal("two renders made the same random cluster key")
		}
	}
}

// splitDocs splits a multi-document YAML file.
func splitDocs(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// TestK8sManifestsDecodeStrictly decodes every manifest into the
// Kubernetes API types, refusing unknown fields, and checks what the
// deployment relies on.
func TestK8sManifestsDecodeStrictly(t *testing.T) {
	m, err := Scan("testdata/shop", "")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(m, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	key := "abababab"
	deployments := map[string]*appsv1.Deployment{}
	services := map[string]*corev1.Service{}
	var secret *corev1.Secret
	for _, f := range files {
		if strings.Contains(string(f.Data), key) && f.Path != keyFile {
			t.Errorf("%s holds the cluster key", f.Path)
		}
		if !strings.HasPrefix(f.Path, k8sDir+"/") {
			continue
		}
		for _, doc := range splitDocs(f.Data) {
			var meta struct{ Kind string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			var obj any
			switch meta.Kind {
			case "Deployment":
				d := new(appsv1.Deployment)
				obj, deployments[path.Base(f.Path)] = d, d
			case "Service":
				s := new(corev1.Service)
				obj, services[path.Base(f.Path)] = s, s
			case "Secret":
				secret = new(corev1.Secret)
				obj = secret
			default:
				t.Fatalf("%s: unexpected kind %q", f.Path, meta.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s: %s does not decode strictly: %v", f.Path, meta.Kind, err)
			}
		}
	}
	if secret == nil || secret.Name != "shop-mesh" || secret.StringData[keyVar] != "" || len(secret.Data) != 0 {
		t.Fatalf("secret template = %+v, want shop-mesh with an empty %s", secret, keyVar)
	}
	for _, p := range pieces(m) {
		file := p.Name + ".yaml"
		d, s := deployments[file], services[file]
		if d == nil || s == nil {
			t.Fatalf("%s: want a Deployment and a Service, got %v %v", file, d != nil, s != nil)
		}
		if s.Spec.ClusterIP != corev1.ClusterIPNone || s.Name != p.Name || s.Spec.Ports[0].Port != meshPort {
			t.Errorf("%s: Service not headless on %d: %+v", file, meshPort, s.Spec)
		}
		for k, v := range s.Spec.Selector {
			if d.Spec.Template.Labels[k] != v || d.Spec.Selector.MatchLabels[k] != v {
				t.Errorf("%s: Service selector %s=%s does not select the pods", file, k, v)
			}
		}
		pod := d.Spec.Template.Spec
		if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: pod may run as root", file)
		}
		c := pod.Containers[0]
		if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
			t.Errorf("%s: root filesystem not read-only", file)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s: no resource requests", file)
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.Exec == nil || c.ReadinessProbe.Exec.Command[0] != "/meshprobe" ||
			c.LivenessProbe == nil || c.LivenessProbe.Exec == nil || c.LivenessProbe.Exec.Command[0] != "/meshprobe" {
			t.Errorf("%s: want readiness and liveness probes running /meshprobe", file)
		}
		if p.Service != "" && !strings.Contains(strings.Join(c.ReadinessProbe.Exec.Command, " "), "-serving "+p.Service) {
			t.Errorf("%s: readiness does not require %s", file, p.Service)
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		if k := env[keyVar]; k.Value != "" || k.ValueFrom == nil || k.ValueFrom.SecretKeyRef == nil || k.ValueFrom.SecretKeyRef.Name != secret.Name || k.ValueFrom.SecretKeyRef.Key != keyVar {
			t.Errorf("%s: %s not from the Secret's key: %+v", file, keyVar, k)
		}
		if ip := env["POD_IP"]; ip.ValueFrom == nil || ip.ValueFrom.FieldRef == nil || ip.ValueFrom.FieldRef.FieldPath != "status.podIP" || env[advertVar].Value != "$(POD_IP):11999" {
			t.Errorf("%s: %s not from the pod IP", file, advertVar)
		}
		if env[nodesVar].Value != "shop:11999,inventory-svc:11999,payments-gateway-svc:11999" {
			t.Errorf("%s: %s = %q", file, nodesVar, env[nodesVar].Value)
		}
		wantRemote := map[string]string{
			"shop":                 "example.com/shop/inventory.Service,example.com/shop/payments.Gateway",
			"inventory-svc":        "example.com/shop/payments.Gateway",
			"payments-gateway-svc": "example.com/shop/inventory.Service",
		}[p.Name]
		if env[remoteVar].Value != wantRemote {
			t.Errorf("%s: %s = %q, want %q (every served interface but the piece's own)", file, remoteVar, env[remoteVar].Value, wantRemote)
		}
	}
}

// TestComposeConfigAccepted runs 'docker compose config' (or
// docker-compose) on the generated compose.yaml of both forms: it needs
// the Compose client, not an engine.
func TestComposeConfigAccepted(t *testing.T) {
	compose := ComposeCommand()
	if compose == nil {
		t.Skip("no docker compose plugin and no docker-compose on PATH")
	}
	for _, prebuilt := range []bool{false, true} {
		root := copyShop(t)
		m, err := Scan(root, "")
		if err != nil {
			t.Fatal(err)
		}
		files, _ := Render(m, Options{OutRel: "deploy", Prebuilt: prebuilt, Key: testKey})
		if _, err := Write(root, "deploy", files); err != nil {
			t.Fatal(err)
		}
		args := append(compose[1:], "-f", filepath.Join(root, "deploy", "compose.yaml"), "-p", "meshsplit-config-test", "config")
		out, err := exec.Command(compose[0], args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(compose, " "), err, out)
		}
		for _, want := range []string{"inventory-svc", "payments-gateway-svc", "MESHRPC_CLUSTER_KEY: " + strings.Repeat("ab", 32)} {
			if !strings.Contains(string(out), want) {
				t.Errorf("compose config output lacks %q:\n%s", want, out)
			}
		}
	}
}

// TestWriteIsIdempotentAndKeepsTheUsersFiles writes twice, edits the
// user's cluster.env between, and checks the second run changes nothing.
func TestWriteIsIdempotentAndKeepsTheUsersFiles(t *testing.T) {
	root := copyShop(t)
	m, err := Scan(root, "")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := Render(m, Options{OutRel: "deploy"})
	acts, err := Write(root, "deploy", files)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if a.Verb != "create" {
			t.Fatalf("first run: %s %s, want create", a.Verb, a.Path)
		}
	}
	envPath := filepath.Join(root, "deploy", keyFile)
	if fi, err := os.Stat(envPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cluster.env: %v, mode %v; want 0600", err, fi.Mode())
	}
	mine := []byte("MESHRPC_CLUSTER_KEY=mine-and-long-enough-0123456789\n")
	os.WriteFile(envPath, mine, 0o600)
	files, _ = Render(m, Options{OutRel: "deploy"}) // another random key
	acts, err = Write(root, "deploy", files)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		want := "unchanged"
		if a.Path == "deploy/"+keyFile {
			want = "keep"
		}
		if a.Verb != want {
			t.Errorf("second run: %s %s, want %s", a.Verb, a.Path, want)
		}
	}
	if got, _ := os.ReadFile(envPath); !bytes.Equal(got, mine) {
		t.Fatalf("cluster.env overwritten: %q", got)
	}

	// A piece that is gone: its generated manifest is removed, a file of
	// the user's in k8s/ is left.
	os.WriteFile(filepath.Join(root, "deploy", "k8s", "old-svc.yaml"), []byte(Header+"\nkind: Service\n"), 0o644)
	os.WriteFile(filepath.Join(root, "deploy", "k8s", "ingress.yaml"), []byte("kind: Ingress\n"), 0o644)
	acts, err = Write(root, "deploy", files)
	if err != nil {
		t.Fatal(err)
	}
	removed := ""
	for _, a := range acts {
		if a.Verb == "remove" {
			removed += a.Path
		}
	}
	if removed != "deploy/k8s/old-svc.yaml" {
		t.Fatalf("removed %q, want deploy/k8s/old-svc.yaml only", removed)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy", "k8s", "ingress.yaml")); err != nil {
		t.Fatalf("the user's ingress.yaml: %v", err)
	}
}

// TestUsersFileRefusedAndNothingWritten puts a hand-written compose.yaml
// where deploy writes its own: deploy refuses naming it, and writes
// nothing at all.
func TestUsersFileRefusedAndNothingWritten(t *testing.T) {
	root := copyShop(t)
	os.MkdirAll(filepath.Join(root, "deploy"), 0o755)
	os.WriteFile(filepath.Join(root, "deploy", "compose.yaml"), []byte("services: {}\n"), 0o644)
	m, err := Scan(root, "")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := Render(m, Options{OutRel: "deploy"})
	_, err = Write(root, "deploy", files)
	if err == nil || !strings.Contains(err.Error(), "deploy/compose.yaml exists and meshsplit did not generate it") || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("Write = %v, want the refusal naming deploy/compose.yaml", err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "deploy"))
	if len(entries) != 1 {
		t.Fatalf("deploy/ holds %d entries after a refusal, want only the user's compose.yaml", len(entries))
	}
}

// TestScanRefusals: bad input gives one line naming what is wrong and what
// to do.
func TestScanRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(root string)
		main    string
		want    string
	}{
		{"no extracted interface", func(root string) {
			os.RemoveAll(filepath.Join(root, "inventory"))
			os.RemoveAll(filepath.Join(root, "payments"))
		}, "", "no extracted interface"},
		{"no main", func(root string) { os.RemoveAll(filepath.Join(root, "cmd", "shop")) }, "", "the monolith's main cannot be found; pass -main"},
		{"two mains", func(root string) {
			os.MkdirAll(filepath.Join(root, "cmd", "admin"), 0o755)
			os.WriteFile(filepath.Join(root, "cmd", "admin", "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
		}, "", "2 main packages (./cmd/admin, ./cmd/shop): pass -main"},
		{"-main not a main", nil, "./inventory", "-main ./inventory: no main package there"},
		{"-main a service command", nil, "cmd/inventory-svc", "that is a generated service command"},
		{"no go.mod", func(root string) { os.Remove(filepath.Join(root, "go.mod")) }, "", "no go.mod"},
		{"no service command", func(root string) {
			os.RemoveAll(filepath.Join(root, "cmd", "inventory-svc"))
			os.RemoveAll(filepath.Join(root, "cmd", "payments-gateway-svc"))
		}, "", "have no generated service command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := copyShop(t)
			if tc.prepare != nil {
				tc.prepare(root)
			}
			_, err := Scan(root, tc.main)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Scan = %v, want one line containing %q", err, tc.want)
			}
		})
	}
	// With -main, two mains are fine.
	root := copyShop(t)
	os.MkdirAll(filepath.Join(root, "cmd", "admin"), 0o755)
	os.WriteFile(filepath.Join(root, "cmd", "admin", "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	if m, err := Scan(root, "./cmd/admin"); err != nil || m.Main.Name != "admin" {
		t.Fatalf("Scan -main ./cmd/admin = %+v, %v", m, err)
	}
}

// TestUnservedInterfaceStaysInProcess: an extracted interface without a
// service command is reported and not made remote.
func TestUnservedInterfaceStaysInProcess(t *testing.T) {
	root := copyShop(t)
	os.RemoveAll(filepath.Join(root, "cmd", "payments-gateway-svc"))
	m, err := Scan(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Unserved) != 1 || m.Unserved[0] != "example.com/shop/payments.Gateway" || remoteFor(m, m.Main) != "example.com/shop/inventory.Service" {
		t.Fatalf("Unserved = %v, remote = %q", m.Unserved, remoteFor(m, m.Main))
	}
}

func TestOutRel(t *testing.T) {
	for _, tc := range []struct{ out, want, err string }{
		{"deploy", "deploy", ""},
		{"ops/deploy", "ops/deploy", ""},
		{"/mod/x", "x", ""},
		{".", "", "must be inside the module"},
		{"../elsewhere", "", "must be inside the module"},
	} {
		got, err := OutRel("/mod", tc.out)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("OutRel(%q) = %q, %v; want an error with %q", tc.out, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("OutRel(%q) = %q, %v; want %q", tc.out, got, err, tc.want)
		}
	}
	if upFrom("ops/deploy") != "../.." || upFrom("deploy") != ".." {
		t.Errorf("upFrom: %q %q", upFrom("ops/deploy"), upFrom("deploy"))
	}
}

// TestGeneratedHeader keeps the header deploy looks for equal to the
// generator's.
func TestGeneratedHeader(t *testing.T) {
	data, err := os.ReadFile("testdata/shop/inventory/service_mesh.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), generatedHeader+"\n") || "# "+strings.TrimPrefix(generatedHeader, "// ") != Header {
		t.Fatal("the generated header changed: update generatedHeader and Header")
	}
}
