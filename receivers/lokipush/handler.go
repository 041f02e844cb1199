package lokipush

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"
)

const (
	contentTypeProtobuf = "application/x-protobuf"
	contentTypeJSON     = "application/json"
	tenantHeader        = "X-Scope-OrgID"

	formatProtobuf = "loki_protobuf"
	formatJSON     = "loki_json"
)

// httpError is a whole-request failure with its status and counter reason.
type httpError struct {
	status int
	reason string
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }

func malformed(err error) *httpError {
	if errors.Is(err, errTooLarge) {
		return &httpError{status: http.StatusRequestEntityTooLarge, reason: requestTooLarge, err: err}
	}
	return &httpError{status: http.StatusBadRequest, reason: requestMalformed, err: err}
}

// pushHandler serves POST /loki/api/v1/push.
type pushHandler struct {
	limit      int64
	retryAfter string
	maxErrors  int
	next       consumer.Logs
	obsrecv    *receiverhelper.ObsReport
	tel        *telemetry
	logger     *zap.Logger
	buffers    sync.Pool // *bytes.Buffer, for raw and gunzipped bodies
	snappyBufs sync.Pool // *[]byte, for snappy-decoded bodies
	now        func() time.Time
}

func newPushHandler(cfg *Config, next consumer.Logs, obsrecv *receiverhelper.ObsReport, tel *telemetry, logger *zap.Logger) *pushHandler {
	return &pushHandler{
		limit:      cfg.bodyLimit(),
		retryAfter: strconv.Itoa(int(cfg.RetryAfter / time.Second)),
		maxErrors:  cfg.MaxStreamErrors,
		next:       next,
		obsrecv:    obsrecv,
		tel:        tel,
		logger:     logger,
		buffers:    sync.Pool{New: func() any { return new(bytes.Buffer) }},
		snappyBufs: sync.Pool{New: func() any { return new([]byte) }},
		now:        time.Now,
	}
}

func (h *pushHandler) getBuffer() *bytes.Buffer { return h.buffers.Get().(*bytes.Buffer) }

func (h *pushHandler) putBuffer(b *bytes.Buffer) {
	if b.Cap() > 4*int(h.limit) {
		return
	}
	b.Reset()
	h.buffers.Put(b)
}

func (h *pushHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	tenant := req.Header.Get(tenantHeader)
	d, format, herr := h.decodeRequest(req)
	if herr == nil {
		herr = checkTenant(tenant)
	}
	if herr != nil {
		h.tel.requestRejected(ctx, herr.reason)
		http.Error(w, herr.Error(), herr.status)
		return
	}
	for _, r := range d.rejected {
		h.tel.streamRejected(ctx, r)
	}
	if len(d.streams) > 0 {
		if status, err := h.consume(ctx, d, format, tenant); err != nil {
			h.tel.requestRejected(ctx, requestPipelineRefused)
			if status != http.StatusBadRequest {
				w.Header().Set("Retry-After", h.retryAfter)
			}
			http.Error(w, err.Error(), status)
			return
		}
	}
	if len(d.rejected) > 0 {
		http.Error(w, h.describeRejections(d), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// consume hands accepted streams to the pipeline and maps its error to a
// status: permanent errors are 400, others 429 or 503 (with Retry-After).
func (h *pushHandler) consume(ctx context.Context, d decoded, format, tenant string) (int, error) {
	logs := toLogs(d.streams, tenant, h.now())
	ctx = h.obsrecv.StartLogsOp(ctx)
	err := h.next.ConsumeLogs(ctx, logs)
	h.obsrecv.EndLogsOp(ctx, format, d.entries, err)
	switch {
	case err == nil:
		return 0, nil
	case consumererror.IsPermanent(err):
		return http.StatusBadRequest, fmt.Errorf("the pipeline refused the data permanently: %w", err)
	case consumererror.ToHTTPStatus(err) == http.StatusTooManyRequests:
		return http.StatusTooManyRequests, fmt.Errorf("the pipeline is over capacity, retry later: %w", err)
	default:
		return http.StatusServiceUnavailable, fmt.Errorf("the pipeline refused the data, retry later: %w", err)
	}
}

// describeRejections lists the rejected streams, at most maxErrors one by one.
func (h *pushHandler) describeRejections(d decoded) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d streams rejected (%d accepted entries were kept):\n",
		len(d.rejected), len(d.rejected)+len(d.streams), d.entries)
	for i, r := range d.rejected {
		if i == h.maxErrors {
			fmt.Fprintf(&b, "... and %d more\n", len(d.rejected)-i)
			break
		}
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// decodeRequest checks the content type, reads the body within the limit and
// decodes it. The decoded streams own their strings: no pooled buffer is
// referenced once it returns.
func (h *pushHandler) decodeRequest(req *http.Request) (decoded, string, *httpError) {
	mediaType, herr := checkContentType(req.Header.Get("Content-Type"))
	if herr != nil {
		return decoded{}, "", herr
	}
	raw := h.getBuffer()
	defer h.putBuffer(raw)
	if err := readLimited(raw, req.Body, h.limit); err != nil {
		return decoded{}, "", malformed(err)
	}
	body := raw.Bytes()
	if enc := strings.ToLower(req.Header.Get("Content-Encoding")); enc != "" && enc != "identity" {
		// confighttp normally undoes gzip itself; this covers
		// compression_algorithms: [] and direct use of the handler.
		if enc != "gzip" {
			return decoded{}, "", &httpError{http.StatusUnsupportedMediaType, requestUnsupportedMedia,
				fmt.Errorf("unsupported Content-Encoding %q", truncate(enc, 40))}
		}
		gz := h.getBuffer()
		defer h.putBuffer(gz)
		if err := gunzipLimited(gz, body, h.limit); err != nil {
			return decoded{}, "", malformed(err)
		}
		body = gz.Bytes()
	}
	if mediaType == contentTypeJSON {
		d, err := decodeJSON(body)
		if err != nil {
			return decoded{}, "", malformed(err)
		}
		return d, formatJSON, nil
	}
	scratch := h.snappyBufs.Get().(*[]byte)
	defer h.snappyBufs.Put(scratch)
	plain, err := decodeSnappy(*scratch, body, h.limit)
	if err != nil {
		return decoded{}, "", malformed(err)
	}
	if cap(plain) <= 4*int(h.limit) {
		*scratch = plain[:0]
	}
	d, err := decodeProtobuf(plain)
	if err != nil {
		return decoded{}, "", malformed(err)
	}
	return d, formatProtobuf, nil
}

// maxTenantLength is Loki's limit on tenant ids.
const maxTenantLength = 150

// checkTenant applies Loki's tenant id rules: at most 150 characters among
// letters, digits and !-_.*'(); not "." or "..".
func checkTenant(tenant string) *httpError {
	bad := func(why string) *httpError {
		return &httpError{http.StatusBadRequest, requestMalformed,
			fmt.Errorf("invalid %s header %q: %s", tenantHeader, truncate(tenant, 40), why)}
	}
	if len(tenant) > maxTenantLength {
		return bad(fmt.Sprintf("longer than %d characters", maxTenantLength))
	}
	if tenant == "." || tenant == ".." {
		return bad("not a tenant name")
	}
	for i := 0; i < len(tenant); i++ {
		c := tenant[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!-_.*'()", c) >= 0) {
			return bad("only letters, digits and !-_.*'() are allowed")
		}
	}
	return nil
}

// checkContentType returns the media type, or 415. Like Loki, a missing
// Content-Type means protobuf.
func checkContentType(ct string) (string, *httpError) {
	if ct == "" {
		return contentTypeProtobuf, nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", &httpError{http.StatusUnsupportedMediaType, requestUnsupportedMedia,
			fmt.Errorf("unparsable Content-Type %q: %w", truncate(ct, 80), err)}
	}
	if mediaType != contentTypeProtobuf && mediaType != contentTypeJSON {
		return "", &httpError{http.StatusUnsupportedMediaType, requestUnsupportedMedia,
			fmt.Errorf("unsupported Content-Type %q: send %s (snappy-compressed) or %s", truncate(ct, 80), contentTypeProtobuf, contentTypeJSON)}
	}
	return mediaType, nil
}

// gunzipLimited decompresses body into dst, failing with errTooLarge past
// limit decompressed bytes (a zip bomb stops there).
func gunzipLimited(dst *bytes.Buffer, body []byte, limit int64) error {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not valid gzip: %w", err)
	}
	if err := readLimited(dst, zr, limit); err != nil {
		return fmt.Errorf("gzip body: %w", err)
	}
	return nil
}

// readLimited reads r into buf, failing with errTooLarge past limit bytes.
func readLimited(buf *bytes.Buffer, r io.Reader, limit int64) error {
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return fmt.Errorf("%w of %d bytes", errTooLarge, limit)
	}
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if int64(buf.Len()) > limit {
		return fmt.Errorf("%w of %d bytes", errTooLarge, limit)
	}
	return nil
}
