package k8smeta

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/processors/k8smeta/internal/pods"
)

// Resource attributes the processor reads and writes (OTel semantic
// conventions).
const (
	attrNode      = "k8s.node.name"
	attrNamespace = "k8s.namespace.name"
	attrPod       = "k8s.pod.name"
	attrPodUID    = "k8s.pod.uid"
	attrPodIP     = "k8s.pod.ip"
	attrContainer = "k8s.container.name"
	attrService   = "service.name"
	// unknownService prefixes the service.name the OTel SDKs make up when
	// the app set none; the fallback replaces it.
	unknownService = "unknown_service"
)

// k8sProcessor is one pipeline's instance; the pod source is shared (its
// start and shutdown are the factory's business).
type k8sProcessor struct {
	cfg   *Config
	src   *source
	assoc []int
	opts  *lookupOpts
}

func newProcessor(cfg *Config, src *source, signal string) *k8sProcessor {
	p := &k8sProcessor{cfg: cfg, src: src, opts: src.tel.lookupOpts(signal)}
	for _, a := range cfg.Association {
		for i, name := range assocNames {
			if a == name {
				p.assoc = append(p.assoc, i)
			}
		}
	}
	return p
}

func (p *k8sProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	e := p.enricher(ctx)
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		e.enrich(rss.At(i).Resource().Attributes())
	}
	e.flush()
	return td, nil
}

func (p *k8sProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	e := p.enricher(ctx)
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		e.enrich(rms.At(i).Resource().Attributes())
	}
	e.flush()
	return md, nil
}

func (p *k8sProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	e := p.enricher(ctx)
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		e.enrich(rls.At(i).Resource().Attributes())
	}
	e.flush()
	return ld, nil
}

// enricher holds one request's state: the index snapshot, the sender's
// address (resolved once, lazily) and the lookup counts.
type enricher struct {
	p        *k8sProcessor
	ctx      context.Context
	idx      *pods.Index
	lookup   bool
	peer     netip.Addr
	peerDone bool
	c        counts
}

func (p *k8sProcessor) enricher(ctx context.Context) enricher {
	return enricher{p: p, ctx: ctx, idx: p.src.index.Load(), lookup: p.cfg.Source.Kind != SourceNone}
}

func (e *enricher) flush() {
	if e.lookup {
		e.p.src.tel.flush(e.ctx, e.p.opts, &e.c)
	}
}

// enrich writes the node and pod attributes a resource does not already
// carry: what the app or an upstream agent set wins.
func (e *enricher) enrich(attrs pcommon.Map) {
	if n := e.p.cfg.NodeName; n != "" {
		putIfAbsent(attrs, attrNode, n)
	}
	if !e.lookup {
		return
	}
	pod, how := e.find(attrs)
	if pod == nil {
		e.c.miss++
		return
	}
	e.c.hit[how]++
	putIfAbsent(attrs, attrNamespace, pod.Namespace)
	putIfAbsent(attrs, attrPod, pod.Name)
	putIfAbsent(attrs, attrPodUID, pod.UID)
	if pod.Container != "" {
		putIfAbsent(attrs, attrContainer, pod.Container)
	}
	if e.p.cfg.ServiceNameFallback && pod.ServiceName != "" {
		if v, ok := attrs.Get(attrService); !ok || v.Str() == "" || strings.HasPrefix(v.Str(), unknownService) {
			attrs.PutStr(attrService, pod.ServiceName)
		}
	}
}

// find tries the configured associations in order.
func (e *enricher) find(attrs pcommon.Map) (*pods.Pod, int) {
	if e.idx == nil {
		return nil, 0
	}
	for _, a := range e.p.assoc {
		var pod *pods.Pod
		switch a {
		case assocUID:
			if v, ok := attrs.Get(attrPodUID); ok && v.Str() != "" {
				pod = e.idx.ByUID(v.Str())
			}
		case assocIP:
			if v, ok := attrs.Get(attrPodIP); ok {
				if ip, err := netip.ParseAddr(v.Str()); err == nil {
					pod = e.idx.ByIP(ip)
				}
			}
		case assocConnection:
			if ip := e.peerIP(); ip.IsValid() {
				pod = e.idx.ByIP(ip)
			}
		}
		if pod != nil {
			return pod, a
		}
	}
	return nil, 0
}

// peerIP is the sender's IP from the receiver's client.Info. The OTLP
// receivers set it for every request (gRPC: the peer's *net.TCPAddr; HTTP:
// the remote *net.IPAddr), without include_metadata.
func (e *enricher) peerIP() netip.Addr {
	if !e.peerDone {
		e.peerDone = true
		e.peer = addrIP(client.FromContext(e.ctx).Addr)
	}
	return e.peer
}

func addrIP(addr net.Addr) netip.Addr {
	var ip net.IP
	switch a := addr.(type) {
	case nil:
		return netip.Addr{}
	case *net.TCPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	default:
		s := addr.String()
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap()
		}
		if ip, err := netip.ParseAddr(s); err == nil {
			return ip.Unmap()
		}
		return netip.Addr{}
	}
	out, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return out.Unmap()
}

func putIfAbsent(attrs pcommon.Map, key, value string) {
	if _, ok := attrs.Get(key); !ok {
		attrs.PutStr(key, value)
	}
}
