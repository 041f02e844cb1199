package k8smeta

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Pod sources the processor can poll.
const (
	// SourceAPIServer lists this node's pods from the API server
	// (/api/v1/pods?fieldSelector=spec.nodeName=<node_name>); RBAC: pods list.
	SourceAPIServer = "apiserver"
	// SourceKubelet reads the local kubelet's /pods; RBAC: nodes/proxy get.
	SourceKubelet = "kubelet"
	// SourceNone attaches k8s.node.name only.
	SourceNone = "none"
)

// Ways a resource is associated with a pod, tried in the configured order.
const (
	// AssociatePodUID uses an existing k8s.pod.uid resource attribute.
	AssociatePodUID = "k8s.pod.uid"
	// AssociatePodIP uses an existing k8s.pod.ip resource attribute.
	AssociatePodIP = "k8s.pod.ip"
	// AssociateConnection uses the sender's peer IP (client.Info.Addr).
	AssociateConnection = "connection"
)

// Service account files every pod gets mounted.
const (
	serviceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	serviceAccountCA    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
)

// Config configures the k8smeta processor.
type Config struct {
	// NodeName is this node's name (set it from the downward API:
	// ${env:K8S_NODE_NAME}). It becomes k8s.node.name and selects the
	// node's pods from the API server. Empty: k8s.node.name is not set.
	NodeName string `mapstructure:"node_name"`
	// Association lists how a resource finds its pod, in order: the
	// attributes "k8s.pod.uid" and "k8s.pod.ip", and "connection" (the
	// sender's peer IP).
	Association []string `mapstructure:"association"`
	// ServiceNameFallback sets service.name from the pod's labels or owner
	// when the resource has none (or only the SDKs' "unknown_service...").
	ServiceNameFallback bool `mapstructure:"service_name_fallback"`
	// Source is where pod metadata comes from.
	Source SourceConfig `mapstructure:"source"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// SourceConfig says where and how often the node's pods are listed.
type SourceConfig struct {
	// Kind is apiserver, kubelet or none.
	Kind string `mapstructure:"kind"`
	// Endpoint is the base URL: for apiserver, empty means in-cluster
	// (https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT); for
	// kubelet, e.g. https://${env:K8S_NODE_IP}:10250 (required).
	Endpoint string `mapstructure:"endpoint"`
	// PollInterval is how often the pod list is fetched.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Timeout bounds one fetch.
	Timeout time.Duration `mapstructure:"timeout"`
	// TokenFile holds the bearer token, re-read at every fetch (projected
	// tokens rotate). Empty: no Authorization header.
	TokenFile string `mapstructure:"token_file"`
	// CAFile is the CA bundle that signs the endpoint's certificate.
	// Empty: the system roots.
	CAFile string `mapstructure:"ca_file"`
	// InsecureSkipVerify skips TLS certificate verification. Kubelets
	// often serve self-signed certificates; prefer ca_file when you can.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
	// MaxPods bounds the cache; pods past it are left out and counted.
	MaxPods int `mapstructure:"max_pods"`
	// MaxResponseBytes bounds one response body.
	MaxResponseBytes int64 `mapstructure:"max_response_bytes"`
}

var _ component.Config = (*Config)(nil)

func createDefaultConfig() component.Config {
	return &Config{
		Association:         []string{AssociatePodUID, AssociatePodIP, AssociateConnection},
		ServiceNameFallback: true,
		Source: SourceConfig{
			Kind:             SourceAPIServer,
			PollInterval:     15 * time.Second,
			Timeout:          5 * time.Second,
			TokenFile:        serviceAccountToken,
			CAFile:           serviceAccountCA,
			MaxPods:          1000,
			MaxResponseBytes: 32 << 20,
		},
	}
}

// Validate checks the configuration, reporting every problem at once.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, a := range c.Association {
		switch a {
		case AssociatePodUID, AssociatePodIP, AssociateConnection:
		default:
			errs = append(errs, fmt.Errorf("'association[%d]' %q must be k8s.pod.uid, k8s.pod.ip or connection", i, a))
		}
		if seen[a] {
			errs = append(errs, fmt.Errorf("'association[%d]' %q is listed twice", i, a))
		}
		seen[a] = true
	}
	if len(c.Association) == 0 && c.Source.Kind != SourceNone {
		errs = append(errs, errors.New("'association' must list at least one of k8s.pod.uid, k8s.pod.ip, connection (or set 'source.kind: none')"))
	}
	errs = append(errs, c.Source.validate(c.NodeName)...)
	return errors.Join(errs...)
}

// validate returns the problems of the source settings.
func (s *SourceConfig) validate(nodeName string) []error {
	var errs []error
	switch s.Kind {
	case SourceNone:
		return nil
	case SourceAPIServer:
		if nodeName == "" {
			errs = append(errs, errors.New("'node_name' is required with 'source.kind: apiserver' (without it every pod of the cluster would be listed)"))
		}
	case SourceKubelet:
		if s.Endpoint == "" {
			errs = append(errs, errors.New("'source.endpoint' is required with 'source.kind: kubelet'"))
		}
	default:
		errs = append(errs, fmt.Errorf("'source.kind' %q must be apiserver, kubelet or none", s.Kind))
	}
	if s.Endpoint != "" {
		if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("'source.endpoint' %q must be an http or https URL", s.Endpoint))
		}
	}
	if s.PollInterval <= 0 {
		errs = append(errs, errors.New("'source.poll_interval' must be greater than zero"))
	}
	if s.Timeout <= 0 {
		errs = append(errs, errors.New("'source.timeout' must be greater than zero"))
	}
	if s.MaxPods <= 0 {
		errs = append(errs, errors.New("'source.max_pods' must be greater than zero"))
	}
	if s.MaxResponseBytes <= 0 {
		errs = append(errs, errors.New("'source.max_response_bytes' must be greater than zero"))
	}
	return errs
}
