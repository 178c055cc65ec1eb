package models

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
)

// Default servers; the environment variables HF_ENDPOINT (Hugging Face's own, for mirrors)
// and LLMBENCH_PYPI_URL override them, and options override both.
const (
	defaultEndpoint  = "https://huggingface.co"
	defaultPyPIIndex = "https://pypi.org"
	defaultRevision  = "main"
	maxRedirects     = 10
)

// Option configures [Pull] and [FetchPyPI].
type Option func(*config)

type config struct {
	endpoint string
	revision string
	token    string
	pypi     string
	client   *http.Client
	log      *slog.Logger
}

// WithEndpoint sets the Hugging Face base URL, for a mirror or a test server.
// The default is $HF_ENDPOINT, else https://huggingface.co.
func WithEndpoint(url string) Option {
	return func(c *config) { c.endpoint = url }
}

// WithRevision pins the Hugging Face revision (branch, tag or commit) to download from.
// The default is "main".
func WithRevision(rev string) Option {
	return func(c *config) { c.revision = rev }
}

// WithToken sets the Hugging Face access token sent as a bearer token. The default is
// $HF_TOKEN. The token goes to the endpoint's host only, never to the host of a redirect, and
// never into errors or logs.
func WithToken(token string) Option {
	return func(c *config) { c.token = token }
}

// WithPyPIIndex sets the base URL of the PyPI index (the server answering the Simple API at
// /simple/<package>/). The default is $LLMBENCH_PYPI_URL, else https://pypi.org.
func WithPyPIIndex(url string) Option {
	return func(c *config) { c.pypi = url }
}

// WithHTTPClient sets the HTTP client; nil means http.DefaultClient, the default. Its redirect
// policy is kept, wrapped by one that drops the token when a redirect leaves the endpoint's host.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) { c.client = client }
}

// WithLogger sets the logger for debug and progress messages. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}

func newConfig(opts []Option) *config {
	c := &config{
		endpoint: envOr("HF_ENDPOINT", defaultEndpoint),
		revision: defaultRevision,
		token:    os.Getenv("HF_TOKEN"),
		pypi:     envOr("LLMBENCH_PYPI_URL", defaultPyPIIndex),
		client:   http.DefaultClient,
		log:      slog.Default(),
	}
	for _, o := range opts {
		o(c)
	}
	c.endpoint = strings.TrimRight(c.endpoint, "/")
	c.pypi = strings.TrimRight(c.pypi, "/")
	c.token = strings.TrimSpace(c.token)
	if c.client == nil {
		c.client = http.DefaultClient
	}
	c.client = dropAuthOnRedirect(c.client)
	return c
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// dropAuthOnRedirect returns a copy of client that removes the Authorization header from any
// redirected request to a host other than the first one. Go's client drops it only when the
// redirect leaves the domain: it would send the token on to a subdomain (huggingface.co →
// cdn-lfs.huggingface.co) or to another port of the same host, and signed CDN URLs need none.
func dropAuthOnRedirect(client *http.Client) *http.Client {
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != via[0].URL.Host {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}
