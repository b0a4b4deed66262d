//go:build !js

package mail

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

var defaultWebhookClient = &http.Client{Timeout: 10 * time.Second}

// clientPost makes one post with w.Client (see Webhook.Post).
func (w *Webhook) clientPost(ctx context.Context, url string, header http.Header, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = header
	client := w.Client
	if client == nil {
		client = defaultWebhookClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}
