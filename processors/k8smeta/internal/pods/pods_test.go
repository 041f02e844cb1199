package pods

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func loadIndex(t testing.TB, maxPods int) *Index {
	t.Helper()
	data, err := os.ReadFile("testdata/podlist.json")
	if err != nil {
		t.Fatal(err)
	}
	x, err := Decode(bytes.NewReader(data), maxPods)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestDecodeRecordedPodList(t *testing.T) {
	x := loadIndex(t, 1000)
	tests := []struct {
		name string
		ip   string
		want *Pod // nil: no pod for that IP
	}{
		{"a Deployment's pod is named after app.kubernetes.io/name, with its only container", "10.244.1.17",
			&Pod{Name: "checkout-7d9f8b6c5d-x2x4q", Namespace: "shop", UID: "0b1c2d3e-0000-4000-8000-000000000001", Container: "checkout", ServiceName: "checkout"}},
		{"a pod's second IP (dual stack) finds the same pod", "fd00:10:244:1::11",
			&Pod{Name: "checkout-7d9f8b6c5d-x2x4q", Namespace: "shop", UID: "0b1c2d3e-0000-4000-8000-000000000001", Container: "checkout", ServiceName: "checkout"}},
		{"the app label is the second choice, and two containers leave the container unset", "10.244.1.18",
			&Pod{Name: "cart-5b6c7d8f9-abcde", Namespace: "shop", UID: "0b1c2d3e-0000-4000-8000-000000000002", ServiceName: "cart"}},
		{"without labels a Deployment's pod is named after the ReplicaSet minus its hash", "10.244.1.19",
			&Pod{Name: "payments-6f7b8c9d4-qwrtz", Namespace: "payments", UID: "0b1c2d3e-0000-4000-8000-000000000003", Container: "api", ServiceName: "payments"}},
		{"a StatefulSet's pod is named after the StatefulSet", "10.244.1.20",
			&Pod{Name: "postgres-0", Namespace: "db", UID: "0b1c2d3e-0000-4000-8000-000000000004", Container: "postgres", ServiceName: "postgres"}},
		{"a bare pod has no service name fallback", "10.244.1.22",
			&Pod{Name: "debug", Namespace: "default", UID: "0b1c2d3e-0000-4000-8000-000000000007", Container: "shell"}},
		{"a host-network pod shares the node IP and is never found by it", "192.168.0.10", nil},
		{"a finished pod's IP may already be reused and is not indexed", "10.244.1.21", nil},
		{"an IPv4-mapped IPv6 address finds the IPv4 pod", "::ffff:10.244.1.20",
			&Pod{Name: "postgres-0", Namespace: "db", UID: "0b1c2d3e-0000-4000-8000-000000000004", Container: "postgres", ServiceName: "postgres"}},
		{"an unknown IP finds nothing", "10.244.9.9", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := x.ByIP(netip.MustParseAddr(tt.ip))
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("ByIP(%s) = %+v, want %+v", tt.ip, got, tt.want)
			}
		})
	}
	if x.Len() != 8 {
		t.Errorf("Len = %d, want 8 (every pod with a uid)", x.Len())
	}
	if p := x.ByUID("0b1c2d3e-0000-4000-8000-000000000005"); p == nil || p.ServiceName != "kube-proxy" {
		t.Errorf("a host-network DaemonSet pod is found by uid and named after the DaemonSet, got %+v", p)
	}
	if p := x.ByUID("0b1c2d3e-0000-4000-8000-000000000006"); p == nil || p.ServiceName != "migrate-28371" {
		t.Errorf("a Job's pod is found by uid and named after the Job, got %+v", p)
	}
}

func TestDecodeBounds(t *testing.T) {
	x := loadIndex(t, 3)
	if x.Len() != 3 || x.Truncated != 5 {
		t.Fatalf("max 3 pods: Len %d Truncated %d, want 3 and 5", x.Len(), x.Truncated)
	}
}

func TestDecodeAmbiguousIP(t *testing.T) {
	doc := `{"kind":"PodList","items":[
	 {"metadata":{"name":"a","namespace":"n","uid":"1"},"status":{"phase":"Running","podIP":"10.0.0.1"}},
	 {"metadata":{"name":"b","namespace":"n","uid":"2"},"status":{"phase":"Running","podIP":"10.0.0.1"}},
	 {"metadata":{"name":"c","namespace":"n","uid":"3"},"status":{"phase":"Running","podIP":"10.0.0.1"}}]}`
	x, err := Decode(strings.NewReader(doc), 10)
	if err != nil {
		t.Fatal(err)
	}
	if p := x.ByIP(netip.MustParseAddr("10.0.0.1")); p != nil {
		t.Errorf("an IP claimed by several live pods must not be attributed, got %s", p.Name)
	}
	if x.Ambiguous != 1 {
		t.Errorf("Ambiguous = %d, want 1", x.Ambiguous)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		notList   bool
	}{
		{"truncated JSON is an error", `{"kind":"PodList","items":[`, false},
		{"a Status object (e.g. 403 Forbidden) is not a pod list", `{"kind":"Status","status":"Failure","code":403}`, true},
		{"an empty body is an error", ``, false},
		{"a wrongly typed field is an error", `{"kind":"PodList","items":[{"metadata":{"name":7}}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.doc), 10)
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, ErrNotPodList) != tt.notList {
				t.Errorf("errors.Is(err, ErrNotPodList) = %v, want %v (%v)", !tt.notList, tt.notList, err)
			}
		})
	}
}

func TestOwnerName(t *testing.T) {
	tests := []struct {
		name, kind, owner, hash, want string
	}{
		{"a ReplicaSet with its pod-template-hash label loses the hash", "ReplicaSet", "web-api-6d4cf56db6", "6d4cf56db6", "web-api"},
		{"a ReplicaSet without the label loses a suffix that looks like a hash", "ReplicaSet", "web-api-6d4cf56db6", "", "web-api"},
		{"a ReplicaSet whose suffix is a word keeps its name", "ReplicaSet", "web-frontend", "", "web-frontend"},
		{"a StatefulSet is its own name", "StatefulSet", "postgres", "", "postgres"},
		{"a DaemonSet is its own name", "DaemonSet", "node-exporter", "", "node-exporter"},
		{"a CronJob's Job loses its scheduled-minute suffix", "Job", "nightly-report-29384710", "", "nightly-report"},
		{"a Job with a short numeric suffix keeps its name", "Job", "migrate-28371", "", "migrate-28371"},
		{"a Job not made by a CronJob keeps its name", "Job", "backfill", "", "backfill"},
		{"an unknown owner kind gives nothing", "Node", "node-a", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OwnerName(tt.kind, tt.owner, tt.hash); got != tt.want {
				t.Errorf("OwnerName(%s, %s, %s) = %q, want %q", tt.kind, tt.owner, tt.hash, got, tt.want)
			}
		})
	}
}

func TestNilIndexFindsNothing(t *testing.T) {
	var x *Index
	if x.ByIP(netip.MustParseAddr("10.0.0.1")) != nil || x.ByUID("1") != nil || x.Len() != 0 {
		t.Error("a nil index must find nothing")
	}
}

func BenchmarkByIP(b *testing.B) {
	x := loadIndex(b, 1000)
	ip := netip.MustParseAddr("10.244.1.19")
	b.ReportAllocs()
	for b.Loop() {
		if x.ByIP(ip) == nil {
			b.Fatal("miss")
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile("testdata/podlist.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data), 1000); err != nil {
			b.Fatal(err)
		}
	}
}
