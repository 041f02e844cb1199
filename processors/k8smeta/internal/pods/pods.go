// Package pods turns a Kubernetes PodList (as served by the API server's
// /api/v1/pods or the kubelet's /pods) into a read-only index of the
// metadata obsd attaches to telemetry: pod name, namespace, uid, the
// container when the pod has only one, and a service name fallback. It has
// no collector imports; the k8smeta processor is the glue around it.
package pods

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Pod is the metadata of one pod. Every field is a plain string so that the
// processor can write them without conversion.
type Pod struct {
	Name      string
	Namespace string
	UID       string
	// Container is the pod's only container, or "" when it has several
	// (the container a span came from is then ambiguous).
	Container string
	// ServiceName is the fallback service name: the pod label
	// app.kubernetes.io/name, else app, else the controlling owner's name
	// (Deployment, StatefulSet, DaemonSet, Job); "" when none applies.
	ServiceName string
}

// Index finds pods by IP and by uid. An Index is immutable once built and
// safe for concurrent use; a refresh builds a new one.
type Index struct {
	byIP  map[netip.Addr]*Pod
	byUID map[string]*Pod
	// Ambiguous counts IPs that several live pods claimed; such IPs are
	// left out of the index rather than attributed to the wrong pod.
	Ambiguous int
	// Truncated counts pods left out because the list exceeded maxPods.
	Truncated int
}

// Len is the number of pods in the index.
func (x *Index) Len() int {
	if x == nil {
		return 0
	}
	return len(x.byUID)
}

// ByIP returns the pod that owns ip, or nil. Pods on the host network share
// the node's IP and are never returned here.
func (x *Index) ByIP(ip netip.Addr) *Pod {
	if x == nil {
		return nil
	}
	return x.byIP[ip.Unmap()]
}

// ByUID returns the pod with that uid, or nil.
func (x *Index) ByUID(uid string) *Pod {
	if x == nil {
		return nil
	}
	return x.byUID[uid]
}

// The subset of the PodList JSON obsd reads; everything else is skipped by
// the decoder.
type podList struct {
	Kind  string    `json:"kind"`
	Items []podJSON `json:"items"`
}

type podJSON struct {
	Metadata struct {
		Name            string            `json:"name"`
		Namespace       string            `json:"namespace"`
		UID             string            `json:"uid"`
		Labels          map[string]string `json:"labels"`
		OwnerReferences []struct {
			Kind       string `json:"kind"`
			Name       string `json:"name"`
			Controller *bool  `json:"controller"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
	Spec struct {
		HostNetwork bool `json:"hostNetwork"`
		Containers  []struct {
			Name string `json:"name"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		Phase  string `json:"phase"`
		PodIP  string `json:"podIP"`
		PodIPs []struct {
			IP string `json:"ip"`
		} `json:"podIPs"`
	} `json:"status"`
}

// ErrNotPodList is returned for a JSON document that is not a PodList.
var ErrNotPodList = errors.New("not a PodList")

// Decode reads a PodList and indexes at most maxPods of its pods. Pods
// without a uid are skipped. Pods that finished (phase Succeeded or Failed)
// are indexed by uid only: their IPs may already belong to a new pod.
func Decode(r io.Reader, maxPods int) (*Index, error) {
	var list podList
	if err := json.NewDecoder(r).Decode(&list); err != nil {
		return nil, fmt.Errorf("could not decode pod list: %w", err)
	}
	if list.Kind != "PodList" {
		return nil, fmt.Errorf("%w: kind %q", ErrNotPodList, list.Kind)
	}
	x := &Index{byIP: make(map[netip.Addr]*Pod, len(list.Items)), byUID: make(map[string]*Pod, len(list.Items))}
	ambiguous := map[netip.Addr]bool{}
	for i := range list.Items {
		item := &list.Items[i]
		if item.Metadata.UID == "" {
			continue
		}
		if len(x.byUID) >= maxPods {
			x.Truncated++
			continue
		}
		p := newPod(item)
		x.byUID[p.UID] = p
		if item.Spec.HostNetwork || item.Status.Phase == "Succeeded" || item.Status.Phase == "Failed" {
			continue
		}
		for _, ip := range podIPs(item) {
			if ambiguous[ip] {
				continue
			}
			if other, ok := x.byIP[ip]; ok && other != p {
				delete(x.byIP, ip)
				ambiguous[ip] = true
				x.Ambiguous++
				continue
			}
			x.byIP[ip] = p
		}
	}
	return x, nil
}

func newPod(item *podJSON) *Pod {
	p := &Pod{Name: item.Metadata.Name, Namespace: item.Metadata.Namespace, UID: item.Metadata.UID}
	if len(item.Spec.Containers) == 1 {
		p.Container = item.Spec.Containers[0].Name
	}
	labels := item.Metadata.Labels
	switch {
	case labels["app.kubernetes.io/name"] != "":
		p.ServiceName = labels["app.kubernetes.io/name"]
	case labels["app"] != "":
		p.ServiceName = labels["app"]
	default:
		for _, o := range item.Metadata.OwnerReferences {
			if o.Controller != nil && *o.Controller {
				p.ServiceName = OwnerName(o.Kind, o.Name, labels["pod-template-hash"])
				break
			}
		}
	}
	return p
}

// OwnerName is the workload name behind a pod's controlling owner: a
// ReplicaSet's Deployment (its name without the pod-template-hash suffix),
// a Job's CronJob (its name without the scheduled-minute suffix), or the
// StatefulSet, DaemonSet or Job itself. Other kinds give "". Names stay
// bounded: a new ReplicaSet or CronJob run gives the same name.
func OwnerName(kind, name, templateHash string) string {
	switch kind {
	case "ReplicaSet":
		if templateHash != "" {
			if base, ok := strings.CutSuffix(name, "-"+templateHash); ok && base != "" {
				return base
			}
		}
		// A ReplicaSet not made by a Deployment (or no hash label):
		// strip a trailing "-<hash>" only when it looks like one.
		if i := strings.LastIndexByte(name, '-'); i > 0 && looksLikeHash(name[i+1:]) {
			return name[:i]
		}
		return name
	case "Job":
		// A CronJob names its Jobs <cronjob>-<minutes since the epoch>.
		if i := strings.LastIndexByte(name, '-'); i > 0 && len(name)-i-1 >= 8 && allDigits(name[i+1:]) {
			return name[:i]
		}
		return name
	case "StatefulSet", "DaemonSet":
		return name
	}
	return ""
}

// looksLikeHash reports whether s could be a pod-template-hash: 5 to 10
// characters of the alphabet Kubernetes encodes hashes in (no vowels, no
// 0, 1 or 3).
func looksLikeHash(s string) bool {
	if len(s) < 5 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("bcdfghjklmnpqrstvwxz2456789", s[i]) < 0 {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func podIPs(item *podJSON) []netip.Addr {
	var out []netip.Addr
	add := func(s string) {
		if ip, err := netip.ParseAddr(s); err == nil {
			ip = ip.Unmap()
			for _, o := range out {
				if o == ip {
					return
				}
			}
			out = append(out, ip)
		}
	}
	add(item.Status.PodIP)
	for _, ip := range item.Status.PodIPs {
		add(ip.IP)
	}
	return out
}
