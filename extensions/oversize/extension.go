package oversize

import (
	"context"
	"errors"
	"io"
	"net/http"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
)

type oversize struct {
	component.StartFunc
	component.ShutdownFunc
}

var (
	_ extension.Extension            = (*oversize)(nil)
	_ extensionmiddleware.HTTPServer = (*oversize)(nil)
)

// GetHTTPHandler wraps a handler: when reading the request body failed
// because it passed the server's limit (*http.MaxBytesError) and the
// handler then answers 400, the status sent is 413; the handler's body
// (its error message) is kept.
func (*oversize) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return func(_ context.Context, base http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				base.ServeHTTP(w, r)
				return
			}
			body := &watchedBody{ReadCloser: r.Body}
			r.Body = body
			base.ServeHTTP(&statusWriter{ResponseWriter: w, body: body}, r)
		}), nil
	}, nil
}

// watchedBody remembers whether a read hit the body size limit. A handler
// reads its body on the request's goroutine before it answers, so no
// synchronisation is needed.
type watchedBody struct {
	io.ReadCloser
	tooLarge bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.tooLarge {
		var mbe *http.MaxBytesError
		b.tooLarge = errors.As(err, &mbe)
	}
	return n, err
}

// statusWriter turns a 400 into 413 when the body was too large.
type statusWriter struct {
	http.ResponseWriter
	body *watchedBody
}

func (w *statusWriter) WriteHeader(code int) {
	if code == http.StatusBadRequest && w.body.tooLarge {
		code = http.StatusRequestEntityTooLarge
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
