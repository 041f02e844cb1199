package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/obsd-dev/obsd/slo/contract"
)

// drillSpan is what every span of one batch of a drill looks like.
type drillSpan struct {
	service, name, route string
	// failed sets status Error; httpStatus is http.response.status_code.
	failed     bool
	httpStatus int64
	duration   time.Duration
}

// drillTraces builds n server spans like s, ending at end, on a resource
// marked with the drill id (contract.AttrGamedayDrill); seq numbers the
// first span so that batches of one drill have distinct span ids.
func drillTraces(drill string, s drillSpan, seq, n int, end time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	res.PutStr("service.name", s.service)
	res.PutStr(contract.AttrGamedayDrill, drill)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("obsd gameday")
	spans := ss.Spans()
	spans.EnsureCapacity(n)
	for k := range n {
		i := seq + k
		sp := spans.AppendEmpty()
		var tid [16]byte
		var sid [8]byte
		copy(tid[:], drill)
		tid[12], tid[13], tid[14], tid[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		sid[4], sid[5], sid[6], sid[7] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)|1
		sp.SetTraceID(pcommon.TraceID(tid))
		sp.SetSpanID(pcommon.SpanID(sid))
		sp.SetName(s.name)
		sp.SetKind(ptrace.SpanKindServer)
		if s.route != "" {
			sp.Attributes().PutStr("http.route", s.route)
		}
		sp.Attributes().PutInt("http.response.status_code", s.httpStatus)
		if s.failed {
			sp.Status().SetCode(ptrace.StatusCodeError)
			sp.Status().SetMessage("obsd gameday: synthetic failure")
		}
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-s.duration)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	}
	return td
}

// otlpSender sends spans to obsd's OTLP receiver: OTLP/HTTP protobuf to
// url, or OTLP/gRPC to grpcAddr when url is empty.
type otlpSender struct {
	url, grpcAddr string
	headers       map[string]string
	client        *http.Client
}

// where names the endpoint for messages.
func (o *otlpSender) where() string {
	if o.url != "" {
		return o.url
	}
	return "grpc://" + o.grpcAddr
}

// send exports td and returns an error unless every span was accepted.
func (o *otlpSender) send(ctx context.Context, td ptrace.Traces) error {
	req := ptraceotlp.NewExportRequestFromTraces(td)
	var resp ptraceotlp.ExportResponse
	if o.url == "" {
		conn, err := grpc.NewClient(o.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return fmt.Errorf("OTLP/gRPC %s: %w", o.grpcAddr, err)
		}
		defer conn.Close()
		md := metadata.New(o.headers)
		if resp, err = ptraceotlp.NewGRPCClient(conn).Export(metadata.NewOutgoingContext(ctx, md), req); err != nil {
			return fmt.Errorf("OTLP/gRPC %s: %w", o.grpcAddr, err)
		}
	} else {
		body, err := req.MarshalProto()
		if err != nil {
			return err
		}
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		hreq.Header.Set("Content-Type", "application/x-protobuf")
		for k, v := range o.headers {
			hreq.Header.Set(k, v)
		}
		hresp, err := o.client.Do(hreq)
		if err != nil {
			return fmt.Errorf("OTLP/HTTP %s: %w", o.url, err)
		}
		data, _ := io.ReadAll(io.LimitReader(hresp.Body, 1<<20))
		_ = hresp.Body.Close()
		if hresp.StatusCode != http.StatusOK {
			return fmt.Errorf("OTLP/HTTP %s answered %s: %s", o.url, hresp.Status, strings.TrimSpace(string(data)))
		}
		resp = ptraceotlp.NewExportResponse()
		if err := resp.UnmarshalProto(data); err != nil {
			return fmt.Errorf("OTLP/HTTP %s: unreadable answer: %w", o.url, err)
		}
	}
	if ps := resp.PartialSuccess(); ps.RejectedSpans() > 0 {
		return fmt.Errorf("%s rejected %d of %d spans: %s", o.where(), ps.RejectedSpans(), td.SpanCount(), ps.ErrorMessage())
	}
	return nil
}

// exampleOf returns a string re (a fully anchored spec pattern) matches,
// or def when re is nil: literals as written, the first branch of an
// alternation, the lowest character of a class, the minimum repetitions.
func exampleOf(re *regexp.Regexp, def string) (string, error) {
	if re == nil {
		return def, nil
	}
	p, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	writeExample(&b, p.Simplify())
	if s := b.String(); re.MatchString(s) {
		return s, nil
	}
	return "", fmt.Errorf("no example found for %s", re)
}

func writeExample(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) > 0 {
			r := re.Rune[0]
			// Prefer a letter or digit within the class: a route reads better.
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if lo, hi := re.Rune[i], re.Rune[i+1]; lo <= 'a' && 'a' <= hi {
					r = 'a'
					break
				}
			}
			b.WriteRune(r)
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('x')
	case syntax.OpCapture, syntax.OpPlus:
		writeExample(b, re.Sub[0])
	case syntax.OpRepeat:
		for range re.Min {
			writeExample(b, re.Sub[0])
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			writeExample(b, s)
		}
	case syntax.OpAlternate:
		writeExample(b, re.Sub[0])
	}
	// OpStar, OpQuest, OpEmptyMatch and the anchors add nothing.
}
