package hostpolicy

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// TransportConfig configures NewTransport.
type TransportConfig struct {
	// Dialer dials every connection. Defaults to NewDialer(DialerConfig{})
	// (guarded, no connect-to).
	Dialer *Dialer
	// CAFile, if set, is a PEM file whose certificates are trusted in
	// addition to the system pool (--ca-file). Verification is always on.
	CAFile string
	// MaxConnsPerHost caps connections per host:port. Defaults to 0 (no
	// cap here; the Policy limits concurrency per host).
	MaxConnsPerHost int
	// MaxIdleConnsPerHost keeps connections for reuse; set it at least to
	// the per-host concurrency. Defaults to 8.
	MaxIdleConnsPerHost int
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request is written. Defaults to 30s.
	ResponseHeaderTimeout time.Duration
	// MaxResponseHeaderBytes caps the response header size. Defaults to
	// 64 KiB.
	MaxResponseHeaderBytes int64
}

// NewTransport returns an *http.Transport that dials through cfg.Dialer,
// verifies TLS against the system pool plus cfg.CAFile, and never uses an
// environment proxy (a proxy would dial addresses the guard never saw).
// The error names the CA file when it cannot be read or holds no PEM
// certificate.
func NewTransport(cfg TransportConfig) (*http.Transport, error) {
	d := cfg.Dialer
	if d == nil {
		d = NewDialer(DialerConfig{})
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("hostpolicy: ca file %s: %w", cfg.CAFile, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("hostpolicy: ca file %s: no PEM certificate found", cfg.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        tlsCfg,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           256,
		MaxConnsPerHost:        cfg.MaxConnsPerHost,
		MaxIdleConnsPerHost:    cmp.Or(cfg.MaxIdleConnsPerHost, 8),
		ResponseHeaderTimeout:  cmp.Or(cfg.ResponseHeaderTimeout, 30*time.Second),
		MaxResponseHeaderBytes: cmp.Or(cfg.MaxResponseHeaderBytes, 64<<10),
	}, nil
}
