package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// chartDir is the vendored official chart (see its VENDORED file).
const chartDir = "helm/testdata/fluent-bit"

// strict decodes Kubernetes YAML into the typed API structs, failing on
// unknown and duplicate fields and on wrong types: what kubectl's
// client-side dry run checks, offline.
var strict = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// rendered is one rendering (a kustomization or a chart with values),
// decoded.
type rendered struct {
	where   string
	objects []runtime.Object
	// external are Secrets referenced but created outside the rendering,
	// with the keys they must hold.
	external map[string][]string
}

func decodeAll(t *testing.T, where, yaml string) []runtime.Object {
	t.Helper()
	var out []runtime.Object
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(yaml, -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		obj, gvk, err := strict.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Errorf("%s: document %d: %v\n%s", where, i, err, firstLines(doc, 6))
			continue
		}
		if gvk.Kind == "" {
			t.Errorf("%s: document %d has no kind", where, i)
		}
		out = append(out, obj)
	}
	return out
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

func kustomize(t *testing.T, dir string) string {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	y, err := m.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return string(y)
}

// kustomizations are the directories to render: every overlay and example.
func kustomizations(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob("kubernetes/overlays/*")
	ex, _ := filepath.Glob("kubernetes/examples/*")
	dirs = append(dirs, ex...)
	if len(dirs) < 3 {
		t.Fatalf("found %v: want the overlays and the sidecar example", dirs)
	}
	sort.Strings(dirs)
	return dirs
}

// devSecrets are the keys of the Secrets the dev overlay generates: the
// declaration of what the clusters' own Secrets of those names hold.
func devSecrets(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, o := range decodeAll(t, "overlays/dev", kustomize(t, "kubernetes/overlays/dev")) {
		if s, ok := o.(*corev1.Secret); ok {
			// Generated names carry a hash suffix; a Secret made outside
			// kustomize has the plain name.
			name := regexp.MustCompile(`-[a-z0-9]{10}$`).ReplaceAllString(s.Name, "")
			for k := range s.Data {
				out[name] = append(out[name], k)
			}
		}
	}
	if len(out["whirlpool-db"]) == 0 {
		t.Fatal("overlays/dev generates no Secret whirlpool-db: it declares the keys the database Secret holds")
	}
	return out
}

// TestKustomizeBuildsValidManifests: every overlay and example renders,
// every object decodes strictly into its Kubernetes type, and the
// workloads hold together (see checkWorkloads).
func TestKustomizeBuildsValidManifests(t *testing.T) {
	secrets := devSecrets(t)
	for _, dir := range kustomizations(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := rendered{where: dir, objects: decodeAll(t, dir, kustomize(t, dir)), external: secrets}
			checkWorkloads(t, r)
			checkConfConfigMap(t, r)
			if strings.Contains(dir, "overlays") {
				checkEdgeService(t, r)
			}
			if strings.HasSuffix(dir, "sidecar") {
				checkSidecar(t, r)
			}
		})
	}
}

// checkConfConfigMap: the pipelines' ConfigMap holds conf/'s files,
// byte for byte, and the pods mount it where the image has them.
func checkConfConfigMap(t *testing.T, r rendered) {
	t.Helper()
	var cm *corev1.ConfigMap
	for _, o := range r.objects {
		if c, ok := o.(*corev1.ConfigMap); ok && strings.HasPrefix(c.Name, "whirlpool-conf") {
			cm = c
		}
	}
	if cm == nil {
		t.Fatalf("%s: no ConfigMap whirlpool-conf", r.where)
	}
	for _, f := range []string{"edge.conf", "edge.yaml", "processor.conf", "processor.yaml"} {
		want, err := os.ReadFile(filepath.Join("..", "conf", f))
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data[f] != string(want) {
			t.Errorf("%s: ConfigMap %s key %s differs from conf/%s", r.where, cm.Name, f, f)
		}
	}
}

// confVars returns the ${VAR}s a shipped pipeline file uses, and its Grace.
func confVars(t *testing.T, file string) (vars []string, grace int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "conf", file))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	// Comments (a line of its own, in both formats) may name ${VAR} too.
	text := regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(string(b), "")
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`).FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			vars = append(vars, m[1])
		}
	}
	m := regexp.MustCompile(`(?mi)^\s*grace\s*:?\s+(\d+)\s*$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("conf/%s sets no Grace", file)
	}
	grace, _ = strconv.Atoi(m[1])
	return vars, grace
}

// entryFile is the image's entry file of a tier (scripts/image-tree).
var entryFile = regexp.MustCompile(`^/fluent-bit/plugins/(edge|processor)\.(conf|yaml)$`)

var secretLike = regexp.MustCompile(`PASSWORD|DSN|SECRET|ACCESS_KEY|TOKEN`)

// checkWorkloads checks every container that runs a Whirlpool tier
// (args -c /fluent-bit/plugins/<tier>.conf|yaml):
//   - its image is a registry image with a tag or digest (by digest in prod);
//   - its tier's pipeline file exists in conf/, and every ${VAR} it uses is
//     set by the container's env or envFrom (a ConfigMap or Secret of the
//     rendering, or a Secret made outside it with the keys dev declares);
//   - secret-like variables (DSNs, passwords, keys) come only from Secrets;
//   - terminationGracePeriodSeconds exceeds the pipeline's Grace plus any
//     preStop sleep;
//   - liveness/readiness/startup probes ask /healthz on a port the
//     container declares; a container has a liveness probe;
//   - its storage path variable names a mounted volume;
//   - the pod's ServiceAccount has an IRSA role (eks.amazonaws.com/role-arn).
func checkWorkloads(t *testing.T, r rendered) {
	t.Helper()
	cms, secs, sas := map[string]map[string]string{}, map[string]map[string]bool{}, map[string]*corev1.ServiceAccount{}
	var pods []struct {
		name string
		spec corev1.PodSpec
	}
	for _, o := range r.objects {
		switch v := o.(type) {
		case *corev1.ConfigMap:
			cms[v.Name] = v.Data
		case *corev1.Secret:
			secs[v.Name] = map[string]bool{}
			for k := range v.Data {
				secs[v.Name][k] = true
			}
			for k := range v.StringData {
				secs[v.Name][k] = true
			}
		case *corev1.ServiceAccount:
			sas[v.Name] = v
		case *appsv1.Deployment:
			pods = append(pods, struct {
				name string
				spec corev1.PodSpec
			}{"Deployment " + v.Name, v.Spec.Template.Spec})
		}
	}
	tiers := 0
	for _, p := range pods {
		var all []corev1.Container
		all = append(all, p.spec.InitContainers...)
		all = append(all, p.spec.Containers...)
		for i, c := range all {
			where := fmt.Sprintf("%s: %s container %s", r.where, p.name, c.Name)
			var m []string
			for _, a := range c.Args {
				if mm := entryFile.FindStringSubmatch(a); mm != nil {
					m = mm
				}
			}
			if m == nil {
				continue // not a Whirlpool container (the sidecar example's app)
			}
			tiers++
			// The image: a registry path with a tag or digest (the kustomize
			// images: entries replaced the placeholder name).
			if !regexp.MustCompile(`^[a-z0-9.-]+\.[a-z]+/[a-z0-9./_-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$`).MatchString(c.Image) ||
				!strings.ContainsAny(strings.TrimPrefix(c.Image, strings.SplitN(c.Image, "/", 2)[0]), ":@") {
				t.Errorf("%s: image %q is not a registry image with a tag or digest", where, c.Image)
			}
			if strings.Contains(r.where, "prod") && !strings.Contains(c.Image, "@sha256:") {
				t.Errorf("%s: image %q is not pinned by digest", where, c.Image)
			}
			vars, grace := confVars(t, m[1]+"."+m[2])
			env := map[string]string{} // name -> where it comes from
			values := map[string]string{}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					env[e.Name] = "secret"
				} else if e.ValueFrom == nil {
					env[e.Name] = "literal"
					values[e.Name] = e.Value
				} else {
					env[e.Name] = "other"
				}
			}
			// A tier run as a Deployment's own container is a loaded tier:
			// it sets the GODEBUG the engine tests run it with. A sidecar
			// (an initContainer) is idle most of the day and leaves it out.
			if sidecar := i < len(p.spec.InitContainers); !sidecar && values["GODEBUG"] != testenv.TierGODEBUG {
				t.Errorf("%s: GODEBUG is %q, want %q (testenv.TierGODEBUG)", where, values["GODEBUG"], testenv.TierGODEBUG)
			}
			for _, ef := range c.EnvFrom {
				switch {
				case ef.ConfigMapRef != nil:
					data, ok := cms[ef.ConfigMapRef.Name]
					if !ok {
						t.Errorf("%s: envFrom ConfigMap %s is not in the rendering", where, ef.ConfigMapRef.Name)
					}
					for k, v := range data {
						env[k], values[k] = "configmap", v
					}
				case ef.SecretRef != nil:
					keys, ok := secs[ef.SecretRef.Name]
					if !ok {
						ext, known := r.external[ef.SecretRef.Name]
						if !known {
							t.Errorf("%s: envFrom Secret %s is neither rendered nor declared by overlays/dev", where, ef.SecretRef.Name)
						}
						keys = map[string]bool{}
						for _, k := range ext {
							keys[k] = true
						}
					}
					for k := range keys {
						env[k] = "secret"
					}
				}
			}
			for _, v := range vars {
				if env[v] == "" {
					t.Errorf("%s: conf/%s.%s uses ${%s}, which the container's environment does not set", where, m[1], m[2], v)
				}
			}
			for name, from := range env {
				if secretLike.MatchString(name) && from != "secret" && name != "WHIRLPOOL_SQS_ENDPOINT" {
					t.Errorf("%s: %s comes from a %s, not a Secret", where, name, from)
				}
			}
			// Grace, preStop, termination.
			pause := int64(0)
			if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
				pause = c.Lifecycle.PreStop.Sleep.Seconds
			}
			term := int64(30) // the Kubernetes default
			if p.spec.TerminationGracePeriodSeconds != nil {
				term = *p.spec.TerminationGracePeriodSeconds
			}
			if term <= int64(grace)+pause {
				t.Errorf("%s: terminationGracePeriodSeconds %d must exceed conf/%s.%s's Grace %d plus the preStop sleep %d",
					where, term, m[1], m[2], grace, pause)
			}
			// Probes.
			ports := map[string]bool{}
			for _, cp := range c.Ports {
				ports[cp.Name] = true
				ports[strconv.Itoa(int(cp.ContainerPort))] = true
			}
			if c.LivenessProbe == nil {
				t.Errorf("%s: no liveness probe", where)
			}
			for kind, pr := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
				if pr == nil {
					continue
				}
				if pr.HTTPGet == nil || pr.HTTPGet.Path != "/healthz" {
					t.Errorf("%s: %s probe is not an HTTP GET of /healthz", where, kind)
					continue
				}
				if !ports[pr.HTTPGet.Port.String()] {
					t.Errorf("%s: %s probe port %s is not a port of the container", where, kind, pr.HTTPGet.Port.String())
				}
			}
			// Storage.
			storageVar := "WHIRLPOOL_" + strings.ToUpper(m[1]) + "_STORAGE_PATH"
			mounted := false
			for _, vm := range c.VolumeMounts {
				if vm.MountPath == values[storageVar] && !vm.ReadOnly {
					mounted = true
				}
			}
			if !mounted {
				t.Errorf("%s: %s=%q is not a writable volume mount", where, storageVar, values[storageVar])
			}
			// IRSA.
			sa := sas[p.spec.ServiceAccountName]
			if sa == nil {
				t.Errorf("%s: ServiceAccount %q is not in the rendering", where, p.spec.ServiceAccountName)
			} else if !regexp.MustCompile(`^arn:aws:iam::\d{12}:role/.+`).MatchString(sa.Annotations["eks.amazonaws.com/role-arn"]) {
				t.Errorf("%s: ServiceAccount %s has no IRSA role annotation (eks.amazonaws.com/role-arn: %q)", where, sa.Name, sa.Annotations["eks.amazonaws.com/role-arn"])
			}
		}
	}
	if tiers == 0 {
		t.Errorf("%s: no container runs a Whirlpool tier (-c /fluent-bit/plugins/<tier>.conf)", r.where)
	}
}

// checkEdgeService: the overlays' edge has a Service, a PDB and an HPA
// that all select or target it.
func checkEdgeService(t *testing.T, r rendered) {
	t.Helper()
	var edge *appsv1.Deployment
	var svc *corev1.Service
	var pdb *policyv1.PodDisruptionBudget
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	for _, o := range r.objects {
		switch v := o.(type) {
		case *appsv1.Deployment:
			if v.Name == "whirlpool-edge" {
				edge = v
			}
		case *corev1.Service:
			svc = v
		case *policyv1.PodDisruptionBudget:
			pdb = v
		case *autoscalingv2.HorizontalPodAutoscaler:
			hpa = v
		}
	}
	if edge == nil || svc == nil || pdb == nil || hpa == nil {
		t.Fatalf("%s: want the edge Deployment, a Service, a PodDisruptionBudget and an HPA; have %v %v %v %v", r.where, edge != nil, svc != nil, pdb != nil, hpa != nil)
	}
	labels := edge.Spec.Template.Labels
	selects := func(sel map[string]string) bool {
		for k, v := range sel {
			if labels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !selects(svc.Spec.Selector) {
		t.Errorf("%s: Service %s selector %v does not select the edge pods %v", r.where, svc.Name, svc.Spec.Selector, labels)
	}
	if pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels) {
		t.Errorf("%s: PodDisruptionBudget %s does not select the edge pods", r.where, pdb.Name)
	}
	if edge.Spec.Replicas != nil {
		t.Errorf("%s: Deployment %s sets replicas (%d) although HPA %s owns the count: every apply would reset it", r.where, edge.Name, *edge.Spec.Replicas, hpa.Name)
	}
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != edge.Name {
		t.Errorf("%s: HPA %s targets %s %s, not the edge", r.where, hpa.Name, hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name)
	}
	for _, p := range svc.Spec.Ports {
		found := false
		for _, cp := range edge.Spec.Template.Spec.Containers[0].Ports {
			if cp.Name == p.TargetPort.String() {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: Service port %s targets %s, which the edge container does not declare", r.where, p.Name, p.TargetPort.String())
		}
	}
}

// checkSidecar: the example runs the edge as a native sidecar (an
// initContainer with restartPolicy Always) beside an app container.
func checkSidecar(t *testing.T, r rendered) {
	t.Helper()
	for _, o := range r.objects {
		d, ok := o.(*appsv1.Deployment)
		if !ok {
			continue
		}
		for _, c := range d.Spec.Template.Spec.InitContainers {
			if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways && strings.Contains(strings.Join(c.Args, " "), "/fluent-bit/plugins/edge.") {
				if len(d.Spec.Template.Spec.Containers) == 0 {
					t.Errorf("%s: Deployment %s has the sidecar but no app container", r.where, d.Name)
				}
				return
			}
		}
	}
	t.Errorf("%s: no Deployment runs the edge as an initContainer with restartPolicy: Always", r.where)
}

// TestHelmValuesRenderAndLint: the official chart (vendored) with each of
// deploy/helm/*-values.yaml passes helm lint, renders (helm template), and
// every rendered object decodes strictly; the workloads pass the same
// checks as the kustomize ones.
func TestHelmValuesRenderAndLint(t *testing.T) {
	secrets := devSecrets(t)
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart %s: %v", chartDir, err)
	}
	files, _ := filepath.Glob("helm/*-values.yaml")
	if len(files) != 2 {
		t.Fatalf("helm/ has %v, want edge-values.yaml and processor-values.yaml", files)
	}
	// The chart runs the Fluent Bit the image is built on.
	df, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	fb := regexp.MustCompile(`(?m)^ARG FLUENT_BIT_IMAGE=\S+:(\d+\.\d+\.\d+)`).FindSubmatch(df)
	if fb == nil || string(fb[1]) != chrt.Metadata.AppVersion {
		t.Errorf("the vendored chart %s is for Fluent Bit %s; the Dockerfile's FLUENT_BIT_IMAGE is %q: vendor the chart release for the image's Fluent Bit", chrt.Metadata.Version, chrt.Metadata.AppVersion, fb)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(text), "--version "+chrt.Metadata.Version+" ") {
				t.Errorf("%s: its helm install command does not name the tested chart version (--version %s)", file, chrt.Metadata.Version)
			}
			vals, err := chartutil.ReadValuesFile(file)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			// helm lint -f FILE
			linter := lint.All(chartDir, vals, "whirlpool", false)
			for _, msg := range linter.Messages {
				if msg.Severity >= support.ErrorSev {
					t.Errorf("helm lint %s -f %s: %s", chartDir, file, msg)
				} else {
					t.Logf("helm lint: %s", msg)
				}
			}
			// helm template whirlpool CHART -f FILE -n whirlpool
			name := strings.TrimSuffix(filepath.Base(file), "-values.yaml")
			rv, err := chartutil.ToRenderValues(chrt, vals, chartutil.ReleaseOptions{Name: "whirlpool-" + name, Namespace: "whirlpool", IsInstall: true}, chartutil.DefaultCapabilities)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			out, err := engine.Render(chrt, rv)
			if err != nil {
				t.Fatalf("helm template with %s: %v", file, err)
			}
			var names []string
			for n := range out {
				names = append(names, n)
			}
			sort.Strings(names)
			var yaml strings.Builder
			for _, n := range names {
				if strings.HasSuffix(n, ".yaml") && !strings.Contains(n, "/tests/") {
					yaml.WriteString("\n---\n" + out[n])
				}
			}
			r := rendered{where: file, objects: decodeAll(t, file, yaml.String()), external: secrets}
			checkWorkloads(t, r)
			deployments := 0
			for _, o := range r.objects {
				if d, ok := o.(*appsv1.Deployment); ok {
					deployments++
					if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, "ghcr.io/whirlpool-events/whirlpool:") {
						t.Errorf("%s: Deployment %s runs %s, not the Whirlpool image", file, d.Name, img)
					}
				}
			}
			if deployments != 1 {
				t.Errorf("%s: renders %d Deployments, want 1 (kind: Deployment)", file, deployments)
			}
		})
	}
}
